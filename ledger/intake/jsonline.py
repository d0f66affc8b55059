"""One line of JSON, read defensively: raw bytes in, a dict out, or a refusal naming the field.

Limits are checked before the parser goes deeper, so no line can exhaust the
stack, the integer-conversion limit or memory, and no line stops the lines
after it: the line's length in bytes, then its nesting depth (scanned in the
text before it is parsed), then, while parsing, the digits of every integer.
Floats (and NaN, Infinity) are refused anywhere, and so is a key given twice
in one object and a lone surrogate (``"\\ud800"``) in any string.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ledger.errors import invalid
from ledger.i18n import _
from ledger.text import forbidden, shown

MAX_LINE_BYTES = 64 * 1024
MAX_DEPTH = 4  # a command is an object (1) holding facts (2); two levels to spare
MAX_INT_DIGITS = 18  # any integer a command needs (amount_fen is at most 14 digits) fits
MAX_KEY_CHARS = 100

_TOKENS = re.compile(r'["\\\[\]{}]')  # what the nesting scan looks at: quotes, backslashes, brackets


class _Float(str):
    """A float literal, kept as its text until it can be refused with its field."""


class _LongInt(str):
    """An integer literal with too many digits, kept as its text."""


class _Pairs(dict[str, Any]):
    """An object whose key ``duplicate`` was given more than once."""

    duplicate: str


def _int(text: str) -> Any:
    return _LongInt(text) if len(text.lstrip("-")) > MAX_INT_DIGITS else int(text)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            dup = _Pairs(data)
            dup.duplicate = key
            return dup
        data[key] = value
    return data


def depth(text: str) -> int:
    """How deeply arrays and objects nest in ``text`` (brackets inside strings do not count).

    One pass over the quotes, backslashes and brackets, in order: linear in the length of
    the line whatever it holds (a regular expression for strings backtracks on an unclosed
    one, quadratic on a line of escaped quotes that never closes). A string left open runs to
    the end.
    """
    deepest = level = 0
    in_string = False
    escaped = -1  # the position of the character a backslash in a string escapes
    for token in _TOKENS.finditer(text):
        position, ch = token.start(), token.group()
        if in_string:
            if position == escaped:
                continue
            if ch == "\\":
                escaped = position + 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            level += 1
            deepest = max(deepest, level)
        elif ch in "]}":
            level -= 1
    return deepest


def decode(raw: bytes | str, *, field: str = "line", expected: str | None = None) -> dict[str, Any]:
    """The JSON object in ``raw`` (one import line, or an option's value); refuses anything else.
    ``expected`` says what it should be, in the current language (by default: a command)."""
    if expected is None:
        expected = _("a JSON object with an “op” field")
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
    if size > MAX_LINE_BYTES:
        raise invalid(field, _("is {size} bytes long; at most {most} are allowed").format(
            size=f"{size:,}", most=f"{MAX_LINE_BYTES:,}"))
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise invalid(field, _("is not UTF-8 text (byte {byte} at byte {position})").format(
                byte=f"0x{raw[exc.start]:02x}", position=exc.start + 1)) from None
    else:
        text = raw
    if depth(text) > MAX_DEPTH:
        raise invalid(field, _("nests arrays or objects more than {depth} deep; expected {expected}").format(
            depth=MAX_DEPTH, expected=expected))
    try:
        data = json.loads(text, parse_float=_Float, parse_int=_int, parse_constant=_Float, object_pairs_hook=_pairs)
    except ValueError as exc:
        raise invalid(field, _("is not valid JSON ({detail})").format(detail=exc)) from None
    except RecursionError:  # pragma: no cover - the depth scan comes first
        raise invalid(field, _("nests arrays or objects more than {depth} deep").format(depth=MAX_DEPTH)) from None
    if not isinstance(data, dict):
        raise invalid(field, _("must be {expected}").format(expected=expected))
    _check(data, field if field != "line" else "")
    return data


def _check(value: Any, path: str) -> None:
    """Refuse floats, long integers, repeated keys, odd keys and lone surrogates, naming where they are."""
    where = path or "line"
    if isinstance(value, _Float):
        raise invalid(where, _("{value} is a float; write money as integer amount_fen and decimals as strings "
                               "(“0.02”)").format(value=value))
    if isinstance(value, _LongInt):
        raise invalid(where, _("is an integer of {digits} digits; at most {most} digits are allowed").format(
            digits=len(value.lstrip("-")), most=MAX_INT_DIGITS))
    if isinstance(value, str):
        for ch in "" if value.isprintable() else value:  # printable text holds no surrogate
            if "\ud800" <= ch <= "\udfff":
                raise invalid(where, _("contains a lone surrogate {code}, which is not a character; write the text "
                                       "as UTF-8").format(code=f"U+{ord(ch):04X}"))
        return
    if isinstance(value, list):
        for n, item in enumerate(value):
            _check(item, f"{where}[{n}]")
        return
    if isinstance(value, dict):
        if isinstance(value, _Pairs):
            name = f"{path}.{value.duplicate}" if path else value.duplicate
            raise invalid(name if _plain(value.duplicate) else where,
                          _("the key {key} is given twice; give each field once").format(key=shown(value.duplicate)))
        for key, item in value.items():
            if not _plain(key):
                raise invalid(where, _("has a key {key} that is not a field name: at most {most} characters, none of "
                                       "them control, format or bidi characters").format(key=shown(key),
                                                                                        most=MAX_KEY_CHARS))
            _check(item, f"{path}.{key}" if path else key)


def _plain(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_CHARS and (key.isprintable() or not any(forbidden(ch) for ch in key))
