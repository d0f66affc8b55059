"""Unified social credit codes: the check character catches typing errors."""

import pytest

from ledger.domain.uscc import check_character, make_uscc, uscc_problem


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
