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

from ledger.errors import invalid
from ledger.money import MoneyError, format_fen, parse_yuan
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
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
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
        allowed = {
            INT: "a whole number, 0 or more",
            DECIMAL: 'a decimal number written as a string, e.g. "0.02"',
            YUAN: 'an amount of yuan: an integer or a string such as "1234.56", "500万", "1.5亿"',
            DATE: "a date YYYY-MM-DD",
            BOOL: "true or false",
            CHOICE: "one of " + ", ".join(self.choices),
            TEXT: "non-empty text",
            YEAR: "a year such as 2023",
        }[self.kind]
        return allowed


def _field(fact: Fact) -> str:
    return f"facts.{fact.name}"


def normalize_fact(fact: Fact, value: Any) -> Any:
    """Check one raw value and return its canonical form (raises invalid-input)."""
    field = _field(fact)
    if isinstance(value, float):
        raise invalid(field, f"floats are not accepted; expected {fact.describe()}")
    if fact.kind in (INT, YEAR):
        if isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
            value = int(value.strip())
        elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            raise invalid(field, f"has {len(value.strip())} digits, more than {MAX_INT_DIGITS}; "
                          f"expected {fact.describe()}")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise invalid(field, f"{shown(value)} is not {fact.describe()}")
        if value >= 10**MAX_INT_DIGITS:
            raise invalid(field, f"has more than {MAX_INT_DIGITS} digits; expected {fact.describe()}")
        if fact.kind == YEAR and not 1900 <= value <= 2999:
            raise invalid(field, f"{shown(value)} is not {fact.describe()}")
        return value
    if fact.kind == DECIMAL:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not _DECIMAL_RE.fullmatch(value.strip()):
            raise invalid(field, f"{shown(value)} is not {fact.describe()} (at most 15 digits before and after "
                          "the point)")
        try:
            number = Decimal(value.strip())
        except InvalidOperation as exc:  # pragma: no cover - the regex admits only numbers
            raise invalid(field, f"{value!r} is not a number") from exc
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
            raise invalid(field, f"{exc}; expected {fact.describe()}") from None
    if fact.kind == BOOL:
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no"):
            return value.strip().lower() in ("true", "yes")
        if not isinstance(value, bool):
            raise invalid(field, f"{shown(value)} is not {fact.describe()}")
        return value
    if fact.kind == CHOICE:
        if isinstance(value, str):
            value = canonical(value, key=True)
        if value not in fact.choices:
            raise invalid(field, f"{shown(value)} is not {fact.describe()}")
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
        raise invalid("facts", "must be an object of the measure's facts")
    known = {f.name: f for f in facts}
    unknown = sorted(set(raw) - set(known), key=str)
    if unknown:
        allowed = ", ".join(known) or "none"
        name = unknown[0]
        if isinstance(name, str) and safe(name) == name and len(name) <= 100:
            raise invalid(f"facts.{name}", f"is not a fact of {measure_id}; its facts are: {allowed}")
        raise invalid("facts", f"{shown(name)} is not a fact of {measure_id}; its facts are: {allowed}")
    out: dict[str, Any] = {}
    for fact in facts:
        if fact.name not in raw or raw[fact.name] is None:
            if fact.required:
                raise invalid(_field(fact), f"is required for {measure_id} ({fact.zh}); expected {fact.describe()}")
            continue
        out[fact.name] = normalize_fact(fact, raw[fact.name])
    return out


def parse_date(value: Any) -> date:
    """Parse a YYYY-MM-DD date (raises ValueError)."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value.strip()):
        raise ValueError(f"{shown(value)} is not a date YYYY-MM-DD")
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a day of the calendar") from None
    if not 1900 <= day.year <= 2999:
        raise ValueError(f"{value!r} is outside the years 1900-2999")
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
