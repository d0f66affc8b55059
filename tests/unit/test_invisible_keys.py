"""Keys hold no character that prints as nothing or as a blank: five vouchers that all print as ``SZ-0001`` are one
voucher, or refused naming the code point; names keep what Chinese text needs."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import INVALID_INPUT, Refused
from ledger.intake.commands import parse_command
from ledger.text import DEFAULT_IGNORABLE, clean, invisible
from tests.conftest import USCC_A

PAY = {"op": "pay", "ref": "R-1", "payer": "city", "amount_fen": 100, "voucher": "SZ-0001", "date": "2023-06-01"}
RECOVER = {"op": "recover", "ref": "R-1", "payer": "city", "amount_fen": 100, "voucher": "SK-0001",
           "date": "2023-06-01"}
EXT = {"op": "external-award", "uscc": USCC_A, "project": "P-1", "policy": "其他政策", "amount_fen": 100,
       "date": "2023-01-01"}
BLANKS = ["\u3164", "\uffa0", "\u115f", "\u1160", "\u2800", "\u00a0", "\u2007", "\u202f", "\u034f", "\u17b4",
          "\u180b", "\ufe0f", "\U000e0100", "\U000e0041", "\u00ad", "\u2060"]
KEYS = [(PAY, "voucher"), (PAY, "ref"), (RECOVER, "voucher"), (EXT, "uscc"), (EXT, "project"), (PAY, "by"),
        (EXT, "policy")]


@pytest.mark.parametrize("ch", BLANKS, ids=[f"U+{ord(c):04X}" for c in BLANKS])
@pytest.mark.parametrize(("template", "field"), KEYS, ids=[f"{t['op']}.{f}" for t, f in KEYS])
def test_an_invisible_character_in_a_key_is_refused_naming_its_code_point(ch, template, field):
    value = template.get(field, "li.wei")
    with pytest.raises(Refused) as caught:
        parse_command({**template, field: value[:2] + ch + value[2:]}, "t")
    assert (caught.value.code, caught.value.field) == (INVALID_INPUT, field)
    assert f"U+{ord(ch):04X}" in caught.value.message


def test_five_vouchers_that_print_alike_are_one_or_refused():
    looks_alike = ["SZ-0001", "SZ-0001\u3164", "SZ-0001\uffa0", "SZ-0001\u2800", "SZ-0001\u115f"]
    accepted = set()
    for voucher in looks_alike:
        try:
            accepted.add(parse_command({**PAY, "voucher": voucher}, "t").voucher)
        except Refused as refusal:
            assert refusal.field == "voucher" and "U+" in refusal.message
    assert accepted == {"SZ-0001"}


def test_names_and_reasons_keep_what_chinese_text_needs():
    name = "葛\U000e0100洲坝十堰 科技（集团）有限公司"  # an ideographic variation sequence, a space, full-width brackets
    cmd = parse_command({"op": "register", "uscc": USCC_A, "name": name, "area": "张湾区"}, "t")
    assert cmd.name == name
    assert parse_command({"op": "reject", "ref": "R-1", "date": "2023-06-01", "reason": "材料\u3000不全"},
                         "t").reason == "材料\u3000不全"


def test_the_default_ignorable_table_holds_the_hangul_fillers_and_joiners():
    for ch in "\u3164\uffa0\u115f\u1160\u200b\u200d\ufeff\ufe00":
        assert any(first <= ord(ch) <= last for first, last in DEFAULT_IGNORABLE)
    assert invisible("\u2800") and invisible("\u3000") and not invisible(" ") and not invisible("科")


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec=None, exclude_categories=()), max_size=20))
def test_no_accepted_key_holds_an_invisible_character(value):
    try:
        text = clean("voucher", value, key=True)
    except Refused:
        return
    assert not any(invisible(ch) for ch in text)
    assert unicodedata.is_normalized("NFC", text)
