"""Dates read from people: 2023-04-15, 2023/04/15 and 2023年4月15日 (month and day with or without a leading
zero), through the one parser every edge uses (ledger.policy.facts.parse_date); stored dates stay ISO."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import Refused
from ledger.intake.commands import Reject, parse_command
from ledger.policy.facts import DATE, Fact, normalize_fact, parse_date

DAYS = st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31))


@pytest.mark.parametrize("text", ["2023-04-15", "2023/04/15", "2023/4/15", "2023年4月15日", "2023年04月15日",
                                  " 2023-04-15 ", "2023-4-15"])
def test_the_three_forms_of_a_date_are_read(text: str) -> None:
    assert parse_date(text) == date(2023, 4, 15)


@pytest.mark.parametrize("text", ["2023/4/5", "2023年4月5日", "2023-04-05"])
def test_month_and_day_need_no_leading_zero(text: str) -> None:
    assert parse_date(text) == date(2023, 4, 5)


@given(DAYS)
def test_every_day_written_in_each_form_reads_back_to_itself(day: date) -> None:
    for text in (day.isoformat(), f"{day.year}/{day.month:02d}/{day.day:02d}", f"{day.year}/{day.month}/{day.day}",
                 f"{day.year}年{day.month}月{day.day}日", f"{day.year}年{day.month:02d}月{day.day:02d}日"):
        assert parse_date(text) == day, text


@pytest.mark.parametrize("text", ["2023-04/15", "2023年4月15", "2023.04.15", "15/04/2023", "2023/4/155", "20230415",
                                  "２０２３-04-15", "2023年4月15日 12:00", "", "2023-02-29", "1899-12-31"])
def test_anything_else_is_not_a_date(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text)


def test_a_wrong_date_is_refused_naming_the_field_and_the_accepted_forms(language: str) -> None:
    with pytest.raises(Refused) as caught:
        parse_command({"op": "reject", "ref": "R-1", "date": "04/15/2023", "reason": "x"}, "tester")
    assert (caught.value.code, caught.value.field) == ("invalid-input", "date")
    assert caught.value.message == {
        "en": "date: “04/15/2023” is not a date; write 2023-04-15, 2023/04/15 or 2023年4月15日",
        "zh": "date：“04/15/2023”不是日期；请写作 2023-04-15、2023/04/15 或 2023年4月15日",
    }[language]


def test_an_import_line_and_a_date_fact_take_any_form_and_keep_the_day_as_iso() -> None:
    command = parse_command({"op": "reject", "ref": "R-1", "date": "2023年4月5日", "reason": "x"}, "tester")
    assert isinstance(command, Reject) and command.date == date(2023, 4, 5)
    assert normalize_fact(Fact("since", DATE, "起始日", "since"), "2023/4/5") == "2023-04-05"
    assert normalize_fact(Fact("since", DATE, "起始日", "since"), "2023年4月5日") == "2023-04-05"


@given(DAYS)
def test_a_date_given_in_chinese_is_recorded_as_the_same_iso_day(day: date) -> None:
    command = parse_command({"op": "reject", "ref": "R-1", "date": f"{day.year}年{day.month}月{day.day}日",
                             "reason": "x"}, "tester")
    assert isinstance(command, Reject) and command.date == day
