"""Unified social credit codes: the check character catches typing errors."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc

from ledger.domain.uscc import ALPHABET, check_character, make_uscc, uscc_problem


def test_a_published_code_passes_its_check():
    assert uscc_problem("91110000600037341L") is None


def test_one_changed_character_fails_the_check():
    assert "check character" in uscc_problem("91110000600037341M")


@pytest.mark.parametrize(("code", "why"), [
    ("9111000060003734", "18 characters"),
    ("91110000600037341I", "only digits"),
    ("91110000600O37341L", "only digits"),
    (12345, "text"),
])
def test_malformed_codes_say_what_is_wrong(code, why):
    assert why in uscc_problem(code)


def test_make_uscc_appends_the_check_character():
    code = make_uscc("91420303MA4F0A1B2")
    assert code[-1] == check_character(code[:17]) and uscc_problem(code) is None


# The standard's formula, as the ledger computed it by hand before it took python-stdnum's.
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def by_hand(first17: str) -> str:
    total = sum(ALPHABET.index(ch) * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


@given(st.text(alphabet=ALPHABET, min_size=17, max_size=17))
def test_the_check_character_is_the_standards_formula(first17):
    assert check_character(first17) == by_hand(first17)


@given(st.text(alphabet="0123456789", min_size=8, max_size=8), st.text(alphabet=ALPHABET, min_size=10, max_size=10))
def test_a_code_with_a_digit_prefix_is_valid_here_exactly_when_stdnum_says_so(prefix, rest):
    code = prefix + rest
    assert (uscc_problem(code) is None) == stdnum_uscc.is_valid(code)


def test_every_code_the_tests_use_is_judged_alike_by_stdnum():
    codes = ["91110000600037341L", "91110000600037341M", "9111000060003734", "91110000600037341I",
             "91110000600O37341L", "91420303MA4F0A1B2X", "91420300MA4A00001X", "91420300MA4A00001Y"]
    codes += [make_uscc(first17) for first17 in ("91420303MA4F0A1B2", "91420304MA4H1E6F7", "91420304MA4G1E6F7",
                                                 "91420303MA4H1A2B3", "91420303MA4G1A2B3", "91420303MA4F99999",
                                                 "91420302MA4H1C4D5", "91420302MA4G1C4D5", "91420302MA4F0C3D4",
                                                 "91420300MA4F0E5F6")]
    codes += [make_uscc(f"91420303MA4F{n:05d}") for n in range(0, 100_000, 97)]
    assert [uscc_problem(c) is None for c in codes] == [stdnum_uscc.is_valid(c) for c in codes]


def test_a_code_from_the_agriculture_authority_is_valid_though_stdnum_refuses_it():
    code = make_uscc("N2110000600037341")  # GB 32100-2015: N, agriculture; 2, a village collective
    assert uscc_problem(code) is None and not stdnum_uscc.is_valid(code)


def test_a_code_in_lower_case_is_refused_though_stdnum_compacts_it():
    assert "only digits" in uscc_problem("91110000600037341l")
    assert stdnum_uscc.is_valid("91110000600037341l")
