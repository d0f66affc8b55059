"""Money is integer fen inside the ledger.

Yuan are parsed only at the edges (import lines, CLI options, application facts).
Floats are refused everywhere: an accounting system never rounds by accident.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from ledger.i18n import _, language
from ledger.text import shown

FEN_PER_YUAN = 100
WAN = 10_000
YI = 100_000_000

_UNITS = {"": 1, "元": 1, "yuan": 1, "万": WAN, "万元": WAN, "亿": YI, "亿元": YI}
_YUAN_RE = re.compile(r"\s*([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]+))?\s*(万元|亿元|万|亿|元|yuan)?\s*")
MAX_WHOLE_DIGITS = 17  # 10^16 yuan is MAX_FACT_FEN; longer is refused before any arithmetic
MAX_DECIMAL_DIGITS = 10  # 1.2345678901亿 is 123,456,789.01 yuan; more decimals cannot be whole fen


MAX_FACT_FEN = 10**18  # 1,000亿亿 fen: a bound on any amount read from input, so nothing overflows


class MoneyError(ValueError):
    """A value that is not an exact amount of money; the message says why."""


def wan(amount: int) -> int:
    """万元 to fen, for amounts written in the catalogue (200万 -> wan(200))."""
    return amount * WAN * FEN_PER_YUAN


def yi(amount: int) -> int:
    """亿元 to fen."""
    return amount * YI * FEN_PER_YUAN


def parse_yuan(value: object) -> int:
    """Parse an amount of yuan into integer fen.

    Accepts an int (yuan), or a string such as ``"1234.56"``, ``"200万"``,
    ``"1.5亿"``, ``"1,000,000"``, ``"1,234.50 yuan"``. The result must be a whole
    number of fen: more than two decimals of yuan is refused, and so is a float.
    """
    if isinstance(value, bool):
        raise MoneyError(_("a yes/no value is not an amount of money"))
    if isinstance(value, float):
        raise MoneyError(_("floats are not accepted for money; write the amount as a string such as "
                           "\"1234.56\""))
    limit = f"{MAX_FACT_FEN // (YI * FEN_PER_YUAN):,}"
    if isinstance(value, int):
        if value < 0:
            raise MoneyError(_("amount must not be negative"))
        if value * FEN_PER_YUAN > MAX_FACT_FEN:
            raise MoneyError(_("{value} is more than {limit}亿元; check the amount").format(value=value, limit=limit))
        return value * FEN_PER_YUAN
    if not isinstance(value, str):
        raise MoneyError(_("expected an amount of yuan such as 1234.56, \"200万\" or \"1.5亿\""))
    match = _YUAN_RE.fullmatch(value)
    quoted = shown(value[:40])
    if not match:
        if "," in value:
            raise MoneyError(_("{value} is not an amount of yuan; grouping commas must separate groups of three "
                               "digits, as in 1,000,000 or 1,000万").format(value=quoted))
        raise MoneyError(_("{value} is not an amount of yuan; write digits with at most two decimals, optionally "
                           "followed by 万 or 亿 (for example 1234.56, 200万, 1.5亿)").format(value=quoted))
    whole, decimals, unit = match.group(1).replace(",", ""), match.group(2) or "", match.group(3) or ""
    if len(whole) > MAX_WHOLE_DIGITS or len(decimals) > MAX_DECIMAL_DIGITS:
        raise MoneyError(_("{value} has more digits than any amount of money ({whole} before the point, {decimals} "
                           "after it at most); check the amount").format(
            value=quoted, whole=MAX_WHOLE_DIGITS, decimals=MAX_DECIMAL_DIGITS))
    number = f"{whole}.{decimals}" if decimals else whole
    if unit in ("", "元", "yuan") and "." in number and len(number.split(".")[1]) > 2:
        raise MoneyError(_("{value} has more than two decimals; amounts of yuan are exact to the fen "
                           "(0.01)").format(value=quoted))
    try:
        amount = Decimal(number) * _UNITS[unit] * FEN_PER_YUAN
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only digits
        raise MoneyError(_("{value} is not a number").format(value=quoted)) from exc
    if amount > MAX_FACT_FEN:
        raise MoneyError(_("{value} is more than {limit}亿元; check the amount").format(value=quoted, limit=limit))
    if amount != amount.to_integral_value():
        raise MoneyError(_("{value} has fractions of a fen; at most two decimals of yuan are "
                           "allowed").format(value=quoted))
    return int(amount)


MAX_FEN = 10**13  # 1,000亿元: far above any award, far below what a 64-bit column holds


def parse_fen(value: object) -> int:
    """Parse a ledger amount given as integer fen (the machine contract's ``amount_fen``); the messages
    describe the field ("must be more than 0"), whose name the caller puts before them."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise MoneyError(_("must be a whole number of fen (an integer), not {kind}").format(
            kind=type(value).__name__))
    if value <= 0:
        raise MoneyError(_("must be more than 0"))
    if value > MAX_FEN:
        raise MoneyError(_("must be at most {fen} fen ({limit}); {value} fen is not a plausible award").format(
            fen=MAX_FEN, limit=amount(MAX_FEN), value=value))
    return value


def format_fen(fen: int) -> str:
    """Format fen as yuan with two decimals and thousands separators: 200,000.00."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{whole:,}.{part:02d}"


def format_fen_cn(fen: int) -> str:
    """Format fen the way the policy writes amounts: 200万元, 1,000元, 12.34元."""
    if fen % (WAN * FEN_PER_YUAN) == 0 and fen != 0:
        return f"{fen // (WAN * FEN_PER_YUAN):,}万元"
    return format_fen(fen) + "元"


def amount(fen: int) -> str:
    """An amount of fen for people, in the current language: ``2,000,000.00 yuan`` in English;
    ``200万元`` (a whole number of 万) or ``1,234.50元`` in Chinese. Exact (integer arithmetic only),
    and ``parse_yuan`` reads it back (its sign aside) to the same fen."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"an amount of money is integer fen, not {type(fen).__name__}")
    if language() == "zh":
        return format_fen_cn(fen)
    return format_fen(fen) + " yuan"


def split_shares(award_fen: int) -> tuple[int, int]:
    """Split an award into (city share, county share), 50% each.

    Rule for an odd fen: the county share is the award halved and rounded down,
    and the city treasury takes the odd fen. The two always add up to the award.
    """
    if award_fen < 0:
        raise MoneyError(_("an award cannot be negative"))
    county = award_fen // 2
    return award_fen - county, county


def percent_of(amount_fen: int, percent: int) -> int:
    """``percent``% of an amount, rounded down to the fen (a cap never rounds up)."""
    return amount_fen * percent // 100
