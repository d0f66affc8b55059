"""Money is integer fen; yuan are parsed at the edges; floats are refused; people read amounts in yuan."""


import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger import i18n
from ledger.domain.money import (
    MAX_FACT_FEN,
    MoneyError,
    amount,
    format_fen,
    parse_fen,
    parse_yuan,
    percent_of,
    split_shares,
)


@pytest.mark.parametrize(("text", "fen"), [
    (0, 0),
    (5, 500),
    ("1234.56", 123456),
    ("1,000,000", 100_000_000),
    ("200万", 2_000_000_00),
    ("200万元", 2_000_000_00),
    ("1.5亿", 150_000_000_00),
    ("0.01", 1),
    ("30亿", 3_000_000_000_00),
    ("12.5万", 125_000_00),
])
def test_yuan_are_parsed_into_exact_fen(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("bad", [1.5, "1.234", "abc", "", "-5", True, None, "1e5", "0.0000001万"])
def test_inexact_or_non_numeric_amounts_are_refused(bad):
    with pytest.raises(MoneyError):
        parse_yuan(bad)


def test_a_float_is_refused_even_when_it_looks_whole():
    with pytest.raises(MoneyError, match="float"):
        parse_yuan(2.0)


@pytest.mark.parametrize("bad", [0, -1, 1.0, "100", True])
def test_ledger_amounts_must_be_positive_integer_fen(bad):
    with pytest.raises(MoneyError):
        parse_fen(bad)


def test_an_odd_fen_goes_to_the_city_and_the_halves_add_up():
    assert split_shares(3) == (2, 1)
    assert split_shares(200_000_000) == (100_000_000, 100_000_000)
    city, county = split_shares(8_600_001)
    assert city + county == 8_600_001 and city - county == 1


def test_a_percentage_is_rounded_down_to_the_fen():
    assert percent_of(100_005, 10) == 10_000  # 10% of 1,000.05 yuan = 100.005 -> 100.00


def test_fen_are_formatted_as_yuan_with_two_decimals():
    assert format_fen(200_000_000) == "2,000,000.00"
    assert format_fen(1) == "0.01"


# --- amounts for people: money.amount ---------------------------------------------------


@pytest.mark.parametrize(("fen", "en", "zh"), [
    (200_000_000, "2,000,000.00 yuan", "200万元"),
    (123_450, "1,234.50 yuan", "1,234.50元"),
    (0, "0.00 yuan", "0.00元"),
    (100, "1.00 yuan", "1.00元"),
    (1, "0.01 yuan", "0.01元"),
    (150_000_000, "1,500,000.00 yuan", "150万元"),
    (125_000_000_00, "125,000,000.00 yuan", "12,500万元"),
    (10_000_01, "10,000.01 yuan", "10,000.01元"),
    (-200_000_000, "-2,000,000.00 yuan", "-200万元"),
])
def test_amounts_are_shown_in_yuan_and_in_wan_where_whole(fen: int, en: str, zh: str, language: str) -> None:
    assert amount(fen) == {"en": en, "zh": zh}[language]


@given(st.integers(min_value=0, max_value=MAX_FACT_FEN))
def test_an_amount_as_shown_in_english_reads_back_to_the_same_fen(fen: int) -> None:
    assert parse_yuan(amount(fen)) == fen


@given(st.integers(min_value=0, max_value=MAX_FACT_FEN))
def test_an_amount_as_shown_in_chinese_reads_back_to_the_same_fen(fen: int) -> None:
    i18n.set_language("zh")
    try:
        shown = amount(fen)
    finally:
        i18n.set_language("en")
    assert parse_yuan(shown) == fen
    assert shown.endswith("元") and ("万" not in shown or fen % 1_000_000 == 0)


@given(st.integers(min_value=1, max_value=MAX_FACT_FEN))
def test_a_negative_amount_is_the_positive_one_with_a_minus_sign(fen: int) -> None:
    assert amount(-fen) == "-" + amount(fen)


@pytest.mark.parametrize("bad", [1.5, "100", True])
def test_only_integer_fen_are_shown_as_an_amount(bad: object) -> None:
    with pytest.raises(TypeError):
        amount(bad)  # type: ignore[arg-type]
