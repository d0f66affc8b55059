"""Hostile input: every malformed line is refused on its own, naming the field, and the next line goes on;
text enters the ledger in one canonical form; nothing stored can rewrite a terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from datetime import date
from itertools import count
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands import clock
from commands.imports import import_lines
from ledger.domain import rules
from ledger.domain.aggregates import Enterprise
from ledger.domain.money import MoneyError, parse_yuan
from ledger.errors import CODES, INVALID_INPUT, Refused
from ledger.intake import commands as intake
from ledger.intake import jsonline
from ledger.intake.commands import parse_command
from ledger.service.application import GrantsLedger
from ledger.store.storage import parse_store
from ledger.text import FORBIDDEN_CATEGORIES, clean, safe
from tests.conftest import USCC_A, memory_ledger, new_ledger
from tests.helpers import cli, cli_json

REGISTERED = "2022-06-01"
SETUP = [
    {"op": "adopt-policy", "effective": "2022-09-01"},
    {"op": "register", "uscc": USCC_A, "name": "十堰数智科技有限公司", "area": "张湾区", "date": REGISTERED},
]
_serial = count()


def line(**fields) -> bytes:
    return json.dumps(fields, ensure_ascii=False).encode("utf-8")


def valid_line() -> bytes:
    """A line that is always accepted: an award under another policy on a project of its own."""
    return line(op="external-award", uscc=USCC_A, project=f"P-{next(_serial)}", policy="其他政策", amount_fen=100,
                date="2023-01-01")


def fresh() -> GrantsLedger:
    ledger = memory_ledger()
    assert import_lines(ledger, [line(**d) for d in SETUP], "t")["refused"] == []
    return ledger


def apply(**facts) -> dict:
    return {"op": "apply", "ref": "R-1", "uscc": USCC_A, "measure": "M10-edge", "project": "边缘节点",
            "date": "2023-05-01", "facts": {"people_served": 400000, "racks": 200, **facts}}


def raw_apply(facts: str, ref: str = '"R-1"') -> bytes:
    return (f'{{"op": "apply", "ref": {ref}, "uscc": "{USCC_A}", "measure": "M10-edge", "project": "p", '
            f'"date": "2023-05-01", "facts": {facts}}}').encode()


EXT = {"op": "external-award", "uscc": USCC_A, "project": "P", "policy": "其他政策", "amount_fen": 100,
       "date": "2023-01-01"}
PAY = {"op": "pay", "ref": "R-1", "payer": "city", "amount_fen": 100, "voucher": "V-1", "date": "2023-06-01"}
REJECT = {"op": "reject", "ref": "R-1", "date": "2023-06-01", "reason": "材料不全"}

# (the raw line, the field its refusal names)
CORPUS = [
    pytest.param(b'{"op": "apply", "facts": ' + b"[" * 5000 + b"]" * 5000 + b"}", "line", id="deep-nesting"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, "line", id="deep-nesting-too-long"),
    pytest.param(b'{"op": "apply", "facts": {"a": {"b": {"c": {}}}}}', "line", id="five-levels"),
    pytest.param(line(**{**EXT, "note": "x" * 70_000}), "line", id="line-longer-than-64KiB"),
    pytest.param(raw_apply('{"people_served": 400000, "racks": "\u00b2"}'.replace("\u00b2", "²")), "facts.racks",
                 id="superscript-digit"),
    pytest.param(line(**apply(racks="٣")), "facts.racks", id="arabic-indic-digit"),
    pytest.param(line(**apply(racks="２００")), "facts.racks", id="full-width-digits-in-a-number"),
    pytest.param(raw_apply('{"racks": 200}', ref='"R\\ud800"'), "ref", id="lone-surrogate-escape"),
    pytest.param(raw_apply('{"people_served": 1, "racks": "\\udfff"}'), "facts.racks", id="lone-surrogate-in-facts"),
    pytest.param(raw_apply('{"racks": ' + "9" * 4299 + "}"), "facts.racks", id="4299-digit-integer"),
    pytest.param(raw_apply('{"racks": ' + "9" * 5000 + "}"), "facts.racks", id="5000-digit-integer"),
    pytest.param(raw_apply('{"racks": "' + "9" * 4299 + '"}'), "facts.racks", id="4299-digit-string"),
    pytest.param(line(**apply(racks=10**15)), "facts.racks", id="16-digit-count"),
    pytest.param(line(**{**PAY, "amount_fen": 10**19}), "amount_fen", id="19-digit-amount"),
    pytest.param(raw_apply('{"racks": 1.5}'), "facts.racks", id="float"),
    pytest.param(raw_apply('{"racks": 1e3}'), "facts.racks", id="float-exponent"),
    pytest.param(raw_apply('{"racks": NaN}'), "facts.racks", id="nan"),
    pytest.param(b'{"op": "pay", "ref": "R-1", "ref": "R-2"}', "ref", id="duplicate-key"),
    pytest.param(raw_apply('{"racks": 1, "racks": 2000}'), "facts.racks", id="duplicate-fact"),
    pytest.param(b'{"op": "pay", "a\xe2\x80\xae": 1}', "line", id="bidi-in-a-key"),
    pytest.param(b"\xff\xfe{}", "line", id="not-utf-8"),
    pytest.param(b'{"op": "pay", "ref": "R-1", "payer": "city"', "line", id="truncated"),
    pytest.param(b'[{"op": "pay"}]', "line", id="not-an-object"),
    pytest.param(line(**{**PAY, "voucher": "V-1\u200b"}), "voucher", id="zero-width-space-after"),
    pytest.param(line(**{**PAY, "voucher": "\u200bV-1"}), "voucher", id="zero-width-space-before"),
    pytest.param(line(**{**PAY, "voucher": "V\u200d1"}), "voucher", id="zero-width-joiner"),
    pytest.param(line(**{**PAY, "by": "li.wei\x1b[32m"}), "by", id="esc-in-by"),
    pytest.param(line(**{**PAY, "by": "\u202eiew.il"}), "by", id="bidi-override-in-by"),
    pytest.param(line(**{**PAY, "ref": "R\u200e-1"}), "ref", id="lrm-in-ref"),
    pytest.param(line(**{**PAY, "payer": "city\x00"}), "payer", id="nul-in-payer"),
    pytest.param(line(**{**EXT, "policy": "其他\u2066政策\u2069"}), "policy", id="bidi-isolate-in-policy"),
    pytest.param(line(**{**EXT, "project": "P\x9b31m"}), "project", id="c1-csi-in-project"),
    pytest.param(line(**{**EXT, "note": "a\x7fb"}), "note", id="del-in-note"),
    pytest.param(line(**{**REJECT, "reason": "第一行\r第二行"}), "reason", id="cr-inside-reason"),
    pytest.param(line(**{**REJECT, "reason": "第一行\n第二行"}), "reason", id="lf-inside-reason"),
    pytest.param(line(**{**REJECT, "reason": "第一行\u2028第二行"}), "reason", id="line-separator"),
    pytest.param(line(op="register", uscc=USCC_A, name="十堰\ufeff科技", area="张湾区"), "name", id="bom-inside-name"),
    pytest.param(line(op="register", uscc=USCC_A, name="十堰\x00", area="张湾区"), "name", id="nul-in-name"),
    pytest.param(line(op="apply", ref="T-1", uscc=USCC_A, measure="M09-pilot", project="p", date="2023-05-01",
                      facts={"field": "smart\x1b[2J", "award_year": 2022}), "facts.field", id="esc-in-text-fact"),
    pytest.param(line(op="apply", ref="T-1", uscc=USCC_A, measure="M16-task", project="p", date="2023-05-01",
                      facts={"task": "\u202etask", "task_year": 2023}), "facts.task", id="bidi-in-text-fact"),
    pytest.param(line(**{**PAY, "ref": "R" * 101}), "ref", id="ref-too-long"),
    pytest.param(line(**{**EXT, "note": "注" * 501}), "note", id="note-too-long"),
    pytest.param(line(**{**PAY, "date": "2999-12-31"}), "date", id="payment-dated-2999"),
    pytest.param(line(op="adopt-policy", effective="2999-01-01"), "effective", id="policy-effective-in-future"),
    pytest.param(line(op="adopt-policy", effective="2022-01-01", date="2999-01-01"), "date",
                 id="adoption-dated-in-future"),
    pytest.param(line(op="register", uscc="91420302MA4F0C3D47", name="x", area="茅箭区", date="2999-01-01"), "date",
                 id="registration-in-future"),
    pytest.param(line(**{**PAY, "date": "２０２３-06-01"}), "date", id="full-width-date"),
    pytest.param(line(**{**EXT, "date": "2022-05-31"}), "date", id="external-award-before-registration"),
    pytest.param(line(**{**apply(), "date": "2022-05-31"}), "date", id="application-before-registration"),
    pytest.param(line(**apply(indirect_benefit_yuan="1,00")), "facts.indirect_benefit_yuan", id="comma-1,00"),
    pytest.param(line(**apply(indirect_benefit_yuan="6,2万")), "facts.indirect_benefit_yuan", id="comma-6,2万"),
    pytest.param(line(**apply(indirect_benefit_yuan="9" * 40)), "facts.indirect_benefit_yuan",
                 id="40-digit-yuan"),
    pytest.param(line(**{**PAY, "voucher": "V-1\t"}), "voucher", id="tab-at-the-end"),
    pytest.param(line(**{**PAY, "voucher": "\x85V-1"}), "voucher", id="nel-at-the-start"),
    pytest.param(line(**{**REJECT, "reason": "材料不全\u2028"}), "reason", id="line-separator-at-the-end"),
    pytest.param(line(**{**PAY, "voucher": "SZ-0001\u3164"}), "voucher", id="hangul-filler-in-voucher"),
    pytest.param(line(**{**PAY, "voucher": "SZ-0001\uffa0"}), "voucher", id="half-width-hangul-filler"),
    pytest.param(line(**{**PAY, "voucher": "SZ-0001\u2800"}), "voucher", id="braille-blank-in-voucher"),
    pytest.param(line(**{**PAY, "ref": "\u115fR-1"}), "ref", id="hangul-choseong-filler-in-ref"),
    pytest.param(line(**{**EXT, "project": "P\u1160"}), "project", id="hangul-jungseong-filler-in-project"),
    pytest.param(line(**{**PAY, "by": "li.wei\ufe0f"}), "by", id="variation-selector-in-by"),
    pytest.param(line(**{**PAY, "voucher": "SZ\u00a00001"}), "voucher", id="no-break-space-in-voucher"),
]


@pytest.mark.parametrize(("raw", "field"), CORPUS)
def test_a_hostile_line_is_refused_naming_its_field_and_the_next_line_is_applied(raw, field):
    ledger = fresh()
    result = import_lines(ledger, [raw, valid_line()], "t")
    assert [(r["line"], r["code"], r.get("field")) for r in result["refused"]] == [(1, INVALID_INPUT, field)]
    assert result["accepted"] == 1
    message = result["refused"][0]["message"]
    assert safe(message) == message and len(message) < 1000  # a message never carries the hostile text raw


def test_an_invalid_line_among_valid_ones_does_not_move_them():
    ledger = fresh()
    hostile = [raw for raw, _ in (p.values for p in CORPUS)]
    lines = [valid_line() if n % 2 else hostile[n // 2] for n in range(2 * len(hostile))]
    result = import_lines(ledger, lines, "t", chunk=7)
    assert {r["line"] for r in result["refused"]} == set(range(1, len(lines) + 1, 2))
    assert result["accepted"] == len(hostile)


# --- canonical keys and text ---------------------------------------------------

def run(ledger, **fields):
    return ledger.execute(parse_command(fields, "tester", today=date(2026, 11, 28)))


def test_a_ref_in_nfc_and_in_nfd_is_one_ref():
    ledger = fresh()
    run(ledger, **{**apply(), "ref": unicodedata.normalize("NFC", "café-1")})
    assert run(ledger, **{**apply(), "ref": unicodedata.normalize("NFD", "café-1")})["already_recorded"] is True
    with pytest.raises(Refused) as caught:
        run(ledger, **{**apply(), "ref": unicodedata.normalize("NFD", "café-1"), "project": "other"})
    assert caught.value.code == "conflicting-retry"
    assert ledger.show(intake.parse_ref(unicodedata.normalize("NFD", "café-1")))["ref"] == "café-1"


def test_full_width_ascii_in_keys_is_folded_to_ascii():
    ledger = fresh()
    run(ledger, **{**apply(), "ref": "Ａ-９", "measure": "Ｍ10-edge", "by": "ｌｉ．ｗｅｉ"})
    shown = ledger.show(intake.parse_ref("A-9"))
    assert shown["ref"] == "A-9" and shown["measure"] == "M10-edge"
    run(ledger, op="approve", ref="A-9", date="2023-06-01")
    run(ledger, **{**PAY, "ref": "A-9", "voucher": "V-1", "payer": "ｃｉｔｙ"})
    assert run(ledger, **{**PAY, "ref": "A-9", "voucher": "Ｖ-１"})["already_recorded"] is True  # one voucher
    with pytest.raises(Refused) as caught:
        run(ledger, **{**PAY, "ref": "A-9", "voucher": "Ｖ-１", "amount_fen": PAY["amount_fen"] + 1})
    assert caught.value.code == "conflicting-retry" and caught.value.field == "voucher"


def test_a_lower_case_or_full_width_uscc_is_the_same_enterprise():
    assert parse_command({**EXT, "uscc": USCC_A.lower()}, "t").uscc == USCC_A
    full_width = USCC_A.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    assert parse_command({**EXT, "uscc": full_width}, "t").uscc == USCC_A


def test_free_text_is_nfc_but_keeps_its_full_width_characters():
    cmd = parse_command({"op": "register", "uscc": USCC_A, "name": "ＡＢＣ cafe\u0301 科技", "area": "张湾区"}, "t")
    assert cmd.name == "ＡＢＣ café 科技"


def test_surrounding_spaces_are_trimmed():
    assert parse_command({**PAY, "voucher": " V-1\u3000"}, "t").voucher == "V-1"
    assert parse_command({"op": "register", "uscc": USCC_A, "name": "\u3000十堰科技 ", "area": "张湾区"},
                         "t").name == "十堰科技"


ENDS = ["\x85", "\x1e", "\x1f", "\t", "\u2028", "\u2029", "\n", "\r", "\x00", "\u200b", "\ufeff"]


@pytest.mark.parametrize("ch", ENDS, ids=[f"U+{ord(c):04X}" for c in ENDS])
@pytest.mark.parametrize(("template", "name", "value"), [(PAY, "voucher", "V-1"), (PAY, "ref", "R-1"),
                                                           (REJECT, "reason", "材料不全"),
                                                           (SETUP[1], "name", "十堰数智科技有限公司")],
                         ids=["voucher", "ref", "reason", "name"])
def test_a_control_or_separator_character_at_either_end_is_refused_like_one_inside(ch, template, name, value):
    code = f"U+{ord(ch):04X}"
    for text in (ch + value, value + ch, value[:1] + ch + value[1:]):
        with pytest.raises(Refused) as caught:
            parse_command({**template, name: text}, "t")
        assert (caught.value.code, caught.value.field) == (INVALID_INPUT, name)
        assert code in caught.value.message


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec=None, exclude_categories=())) | st.text(), st.booleans())
def test_canonical_text_is_idempotent_and_never_holds_control_or_format_characters(value, key):
    try:
        text = clean("f", value, key=key)
    except Refused as refusal:
        assert refusal.code == INVALID_INPUT and refusal.field == "f"
        return
    assert not any(unicodedata.category(ch) in FORBIDDEN_CATEGORIES for ch in text)
    assert unicodedata.is_normalized("NFC", text) and text == text.strip()
    assert clean("f", text, key=key) == text
    if key:
        assert not any(0xFF01 <= ord(ch) <= 0xFF5E or ch == "\u3000" for ch in text)


@given(st.text(st.sampled_from("V-1\u200b\u200d\u202e\u2066\x1b\x00\x7f\x85\r\n\ufeffａ\u3000 ")))
def test_look_alike_vouchers_are_one_voucher_or_refused(value):
    try:
        voucher = parse_command({**PAY, "voucher": value}, "t").voucher
    except Refused as refusal:
        assert refusal.code == INVALID_INPUT and refusal.field == "voucher"
        return
    assert voucher == voucher.strip() and all(ch in "V-1a " for ch in voucher)


# --- amounts ---------------------------------------------------------------------

@pytest.mark.parametrize(("text", "fen"), [("1,000,000", 100_000_000), ("1,000", 100_000), ("12,345.67", 1_234_567),
                                           ("1,000万", 1_000_000_000), ("100", 10_000), ("1.2345678901亿", 12345678901)])
def test_grouping_commas_in_threes_are_accepted(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["1,00", "1,,0", "6,2万", ",100", "100,", "1,0000", "1000,000", "1,000,00",
                                  "1,000.000,0", "9" * 18, "1." + "0" * 11])
def test_misplaced_commas_and_too_many_digits_are_refused(text):
    with pytest.raises(MoneyError) as caught:
        parse_yuan(text)
    if "," in text:
        assert "groups of three" in str(caught.value)


# --- dates --------------------------------------------------------------------

def test_a_date_after_the_day_of_recording_is_refused_and_the_day_itself_is_not():
    today = date(2026, 11, 28)
    assert parse_command({**PAY, "date": "2026-11-28"}, "t", today=today).date == today
    with pytest.raises(Refused) as caught:
        parse_command({**PAY, "date": "2026-11-29"}, "t", today=today)
    assert caught.value.field == "date" and "latest allowed day is 2026-11-28" in caught.value.message


def test_the_import_takes_the_day_of_recording_from_the_clock_at_the_edge(monkeypatch):
    ledger = fresh()
    monkeypatch.setattr(clock, "today", lambda: date(2023, 1, 5))
    result = import_lines(ledger, [line(**{**EXT, "date": "2023-01-05"}), line(**{**EXT, "date": "2023-01-06"})], "t")
    assert [(r["line"], r["field"]) for r in result["refused"]] == [(2, "date")]


def test_the_clock_is_china_time():
    assert str(clock.CHINA) in ("Asia/Shanghai", "CST")
    assert clock.today() >= date(2026, 11, 28)  # the suite's data are dated 2022-2025


def test_no_decision_or_payment_is_dated_before_the_registration():
    """Events recorded before the rule existed: a decision on them still may not predate the registration."""
    enterprise = Enterprise(uscc=USCC_A, name="x", area="张湾区", date=date(2023, 1, 1), by="t")
    enterprise.submit(ref="R-1", measure="M10-edge", project="p", facts={"racks": 1}, date=date(2022, 10, 1),
                      policy_version="v", by="t")
    reject = intake.Reject(ref="R-1", date=date(2022, 12, 31), by="t", reason="r")
    with pytest.raises(Refused) as caught:
        rules.decide_rejection(enterprise, reject)
    assert (caught.value.code, caught.value.field) == (INVALID_INPUT, "date")
    assert "2023-01-01" in caught.value.message
    rules.decide_rejection(enterprise, intake.Reject(ref="R-1", date=date(2023, 1, 1), by="t", reason="r"))


# --- properties: any line, then a valid one ---------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10)
_surrogate_text = st.lists(st.sampled_from(["a", "\ud800", "\udfff", "\x1b", "\u202e", "²", "9" * 30]),
                           max_size=5).map("".join)
_FIELDS = ["op", "ref", "uscc", "measure", "project", "date", "facts", "by", "payer", "voucher", "amount_fen",
           "policy", "note", "name", "area", "reason", "basis", "effective"]
_TEMPLATES = [apply(), PAY, EXT, REJECT, SETUP[1], {"op": "approve", "ref": "R-1", "date": "2023-06-01"}]


@st.composite
def hostile_lines(draw) -> bytes:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.binary(max_size=200))
    if kind == 1:
        return json.dumps(draw(_json)).encode()
    template = dict(draw(st.sampled_from(_TEMPLATES)))
    name = draw(st.sampled_from(_FIELDS))
    if kind == 2:
        template[name] = draw(_json | _surrogate_text)
        if name == "facts" and isinstance(template[name], dict):
            template[name] = {**apply()["facts"], **template[name]}
    else:
        fact = draw(st.sampled_from(["racks", "people_served", "indirect_benefit_yuan"]))
        template["facts"] = {**apply()["facts"], fact: draw(_json | _surrogate_text)}
    return json.dumps(template, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")


_shared = fresh()


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_lines())
def test_no_line_stops_the_import_or_the_line_after_it(raw):
    result = import_lines(_shared, [raw, valid_line()], "t")
    assert all(r["code"] in CODES for r in result["refused"])
    assert 2 not in {r["line"] for r in result["refused"]}
    for refusal in result["refused"]:
        assert safe(refusal["message"]) == refusal["message"]


def test_the_nesting_scan_ignores_brackets_inside_strings():
    assert jsonline.depth('{"a": "[[[[[[[[{{{{"}') == 1
    assert jsonline.decode(b'{"op": "[[[[[[[[[[[["}') == {"op": "[[[[[[[[[[[["}


# --- the command line -------------------------------------------------------------

FORGED = "\x1b[32mAPPROVED\x1b[0m \u202eevil\u202c \u2066x\u2069 \x9b2J \u200b"


def test_show_never_prints_escape_or_bidi_characters_even_for_values_stored_before_they_were_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'show.db'}"
    ledger = GrantsLedger(parse_store(url))
    ledger.execute(intake.AdoptPolicy(effective=date(2022, 9, 1), version=None, catalogue=None,
                                      date=date(2022, 9, 1), by="t"))
    ledger.execute(intake.Register(uscc=USCC_A, name="名" + FORGED, area="张湾区", date=None, by="t"))
    ledger.execute(intake.Apply(ref="R-1", uscc=USCC_A, measure="M10-edge", project=FORGED, date=date(2023, 5, 1),
                                facts={"people_served": 400000, "racks": 200}, by=FORGED))
    ledger.execute(intake.Apply(ref="R\x1b[2J-2", uscc=USCC_A, measure="M10-edge", project="p", date=date(2023, 5, 1),
                                facts={"people_served": 400000, "racks": 200}, by="t"))
    ledger.close()
    for args in (["show", "R-1"], ["show", "R-1", "--json"], ["report", "applications"],
                 ["report", "applications", "--json"], ["report", "enterprise"], ["show", "R\x1b[2J-2"]):
        result = cli(url, *args)
        out = result.stdout + result.stderr
        assert result.exit_code in (0, 2) and "Traceback" not in out
        assert "\x1b" not in out and "\x9b" not in out
        assert not any(unicodedata.category(ch) == "Cf" for ch in out)
    assert cli_json(url, "show", "R-1")["project"] == FORGED  # the JSON escapes them and still says the same


def test_hostile_options_are_refused_with_exit_2_and_nothing_written(tmp_path):
    url = new_ledger(tmp_path, "cli.db")
    assert cli(url, "policy", "adopt", "--effective", "2022-09-01").exit_code == 0
    assert cli(url, "register", "--uscc", USCC_A, "--name", "十堰数智", "--area", "张湾区").exit_code == 0
    before = cli_json(url, "projections", "status")["log_end"]
    other = "91420302MA4F0C3D47"
    for args in (["register", "--uscc", other, "--name", "x\x1b[31m", "--area", "张湾区"],
                 ["register", "--uscc", other, "--name", "x", "--area", "张湾区", "--date", "2999-01-01"],
                 ["register", "--uscc", other, "--name", "x", "--area", "张湾区", "--by", "\u202eli"],
                 ["apply", "--ref", "R-1", "--uscc", USCC_A, "--measure", "M10-edge", "--project", "p",
                  "--date", "2023-05-01", "--fact", "racks=²"],
                 ["apply", "--ref", "R-1", "--uscc", USCC_A, "--measure", "M10-edge", "--project", "p",
                  "--date", "2023-05-01", "--facts-json", '{"racks": 1, "racks": 2}'],
                 ["apply", "--ref", "R-1", "--uscc", USCC_A, "--measure", "M10-edge", "--project", "p",
                  "--date", "2023-05-01", "--facts-json", "[" * 50 + "]" * 50],
                 ["pay", "R-1", "--payer", "city", "--amount", "1,00", "--voucher", "V", "--date", "2023-01-01"]):
        result = cli(url, *args)
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        assert "invalid-input" in result.stderr and "Traceback" not in result.stderr
    assert cli_json(url, "projections", "status")["log_end"] == before


def test_a_non_utf8_argument_names_its_option_exits_2_and_writes_nothing(tmp_path):
    grants = Path(sys.executable).with_name("grants")
    url = f"sqlite:///{tmp_path / 'gbk.db'}"
    env = {**os.environ, "LC_ALL": "C.UTF-8", "GRANTS_LOG_LEVEL": "warning"}
    name_in_gbk = "十堰数智".encode("gbk")
    result = subprocess.run([str(grants), "--db", url, "register", "--uscc", USCC_A, b"--name", name_in_gbk,
                             "--area", "张湾区", "--json"], capture_output=True, env=env, timeout=60)
    assert result.returncode == 2 and b"Traceback" not in result.stderr
    error = json.loads(result.stderr.decode("utf-8").splitlines()[-1])["error"]
    assert (error["code"], error["field"]) == (INVALID_INPUT, "name") and "十堰数智" in error["message"]
    assert not (tmp_path / "gbk.db").exists()
