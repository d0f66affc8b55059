"""The facts an application carries, and how they are read.

Facts arrive as JSON values (or as strings from the command line). Each measure
declares its facts; they are checked, then kept in a canonical form (integers,
decimal strings, ISO dates, booleans, text) so that the recorded event is
reproducible byte for byte. Rules read them back as typed values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from ledger.domain.money import MoneyError, format_fen, parse_yuan
from ledger.errors import invalid
from ledger.i18n import N_, _
from ledger.text import canonical, clean, safe, shown


class FactKind(StrEnum):
    """The type of a fact; the printed value (`grants policy show --json`) is the string."""

    INT = "integer"
    DECIMAL = "decimal"
    YUAN = "yuan"
    DATE = "date"
    BOOL = "boolean"
    CHOICE = "choice"
    TEXT = "text"
    YEAR = "year"


INT = FactKind.INT
DECIMAL = FactKind.DECIMAL
YUAN = FactKind.YUAN
DATE = FactKind.DATE
BOOL = FactKind.BOOL
CHOICE = FactKind.CHOICE
TEXT = FactKind.TEXT
YEAR = FactKind.YEAR

_DECIMAL_RE = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,15})?")
_INT_RE = re.compile(r"[0-9]{1,15}")
# 2023-04-15, 2023/4/5, 2023年4月5日: month and day with or without a leading zero; ASCII digits only
_DATE_RES = tuple(re.compile(pattern) for pattern in (r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})",
                                                      r"([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})",
                                                      r"([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日"))
MAX_INT_DIGITS = 15  # counts and years; 999,999,999,999,999 is beyond any fact of the policy


@dataclass(frozen=True)
class Fact:
    """One fact a measure needs: its name, type, and words in both languages."""

    name: str
    kind: FactKind
    zh: str
    en: str
    choices: tuple[str, ...] = ()
    required: bool = True

    def describe(self) -> str:
        """What the fact accepts, in the current language."""
        if self.kind == CHOICE:
            return _("one of {choices}").format(choices=", ".join(self.choices))
        if self.kind == DATE:
            return _("a date such as {forms}").format(forms=date_forms())
        return _({
            INT: N_("a whole number, 0 or more"),
            DECIMAL: N_("a decimal number written as a string, e.g. \"0.02\""),
            YUAN: N_("an amount of yuan: an integer or a string such as \"1234.56\", \"500万\", \"1.5亿\""),
            BOOL: N_("true or false"),
            TEXT: N_("non-empty text"),
            YEAR: N_("a year such as 2023"),
        }[self.kind])


def _not_a(value: Any, fact: Fact) -> str:
    return _("{value} is not {expected}").format(value=shown(value), expected=fact.describe())


def _field(fact: Fact) -> str:
    return f"facts.{fact.name}"


def normalize_fact(fact: Fact, value: Any) -> Any:
    """Check one raw value and return its canonical form (raises invalid-input)."""
    field = _field(fact)
    if isinstance(value, float):
        raise invalid(field, _("floats are not accepted; expected {expected}").format(expected=fact.describe()))
    if fact.kind in (INT, YEAR):
        if isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
            value = int(value.strip())
        elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            raise invalid(field, _("has {digits} digits, more than {most}; expected {expected}").format(
                digits=len(value.strip()), most=MAX_INT_DIGITS, expected=fact.describe()))
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise invalid(field, _not_a(value, fact))
        if value >= 10**MAX_INT_DIGITS:
            raise invalid(field, _("has more than {most} digits; expected {expected}").format(
                most=MAX_INT_DIGITS, expected=fact.describe()))
        if fact.kind == YEAR and not 1900 <= value <= 2999:
            raise invalid(field, _not_a(value, fact))
        return value
    if fact.kind == DECIMAL:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not _DECIMAL_RE.fullmatch(value.strip()):
            raise invalid(field, _("{value} is not {expected} (at most 15 digits before and after the "
                                   "point)").format(value=shown(value), expected=fact.describe()))
        try:
            number = Decimal(value.strip())
        except InvalidOperation as exc:  # pragma: no cover - the regex admits only numbers
            raise invalid(field, _("{value} is not a number").format(value=shown(value))) from exc
        return str(number)
    if fact.kind == YUAN:
        try:
            fen = parse_yuan(value)
        except MoneyError as exc:
            raise invalid(field, str(exc)) from None
        return format_fen(fen).replace(",", "")
    if fact.kind == DATE:
        try:
            return parse_date(value).isoformat()
        except ValueError as exc:
            raise invalid(field, str(exc)) from None
    if fact.kind == BOOL:
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no"):
            return value.strip().lower() in ("true", "yes")
        if not isinstance(value, bool):
            raise invalid(field, _not_a(value, fact))
        return value
    if fact.kind == CHOICE:
        if isinstance(value, str):
            value = canonical(value, key=True)
        if value not in fact.choices:
            raise invalid(field, _not_a(value, fact))
        return value
    if fact.kind == TEXT:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # a task or field given as a number
        return clean(field, value)
    raise AssertionError(f"unknown fact kind {fact.kind}")  # pragma: no cover


def normalize_facts(facts: tuple[Fact, ...], raw: Any, measure_id: str) -> dict[str, Any]:
    """Check a whole fact set against a measure's declared facts."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise invalid("facts", _("must be an object of the measure's facts"))
    known = {f.name: f for f in facts}
    unknown = sorted(set(raw) - set(known), key=str)
    if unknown:
        allowed = ", ".join(known) or _("none")
        name = unknown[0]
        if isinstance(name, str) and safe(name) == name and len(name) <= 100:
            raise invalid(f"facts.{name}", _("is not a fact of {measure}; its facts are: {facts}").format(
                measure=measure_id, facts=allowed))
        raise invalid("facts", _("{name} is not a fact of {measure}; its facts are: {facts}").format(
            name=shown(name), measure=measure_id, facts=allowed))
    out: dict[str, Any] = {}
    for fact in facts:
        if fact.name not in raw or raw[fact.name] is None:
            if fact.required:
                raise invalid(_field(fact), _("is required for {measure} ({fact}); expected {expected}").format(
                    measure=measure_id, fact=fact.zh, expected=fact.describe()))
            continue
        out[fact.name] = normalize_fact(fact, raw[fact.name])
    return out


def date_forms() -> str:
    """The forms of a date people may write, for messages (in the current language)."""
    return _("2023-04-15, 2023/04/15 or 2023年4月15日")


def parse_date(value: Any) -> date:
    """A day, read from people: ``2023-04-15``, ``2023/04/15`` or ``2023年4月15日``, month and day with or
    without a leading zero (``2023/4/5``, ``2023年4月5日``); a ``date`` is returned as it is. Raises
    ValueError with a message that names the accepted forms. Stored and JSON dates stay ISO."""
    if isinstance(value, date):
        return value
    text = value.strip() if isinstance(value, str) else ""
    match = next((m for m in (r.fullmatch(text) for r in _DATE_RES) if m), None)
    if match is None:
        raise ValueError(_("{value} is not a date; write {forms}").format(value=shown(value), forms=date_forms()))
    year, month, day_of_month = (int(part) for part in match.groups())
    try:
        day = date(year, month, day_of_month)
    except ValueError:
        raise ValueError(_("{value} is not a day of the calendar").format(value=shown(value))) from None
    if not 1900 <= day.year <= 2999:
        raise ValueError(_("{value} is outside the years 1900-2999").format(value=shown(value)))
    return day


def anniversary(day: date, years: int) -> date:
    """The last day of a period of ``years`` years that starts on ``day`` (两年内 and the like).

    The corresponding day ``years`` later; when there is none (29 February), the
    end of that month (民法典 第二百零二条: 没有对应日的,月末日为期间的最后一日).
    """
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 2, 28)


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later; 29 February becomes 1 March.

    Used for windows such as 有效期为3年: [start, add_years(start, 3)) holds every
    day of the three years, and the day it returns is the first day outside.
    """
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)
