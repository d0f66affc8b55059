"""Money is integer fen; yuan are parsed at the edges; floats are refused."""

import pytest

from ledger.money import MoneyError, format_fen, parse_fen, parse_yuan, percent_of, split_shares


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
