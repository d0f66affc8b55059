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
from ledger.text import forbidden, shown

MAX_LINE_BYTES = 64 * 1024
MAX_DEPTH = 4  # a command is an object (1) holding facts (2); two levels to spare
MAX_INT_DIGITS = 18  # any integer a command needs (amount_fen is at most 14 digits) fits
MAX_KEY_CHARS = 100

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


class _Float(str):
    """A float literal, kept as its text until it can be refused with its field."""


class _LongInt(str):
    """An integer literal with too many digits, kept as its text."""


class _Pairs(dict):  # type: ignore[type-arg]
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
    """How deeply arrays and objects nest in ``text`` (brackets inside strings do not count)."""
    deepest = level = 0
    for bracket in _BRACKETS.findall(_STRING.sub("", text)):
        level += 1 if bracket in "[{" else -1
        deepest = max(deepest, level)
    return deepest


def decode(raw: bytes | str, *, field: str = "line", expected: str = 'a JSON object with an "op" field'
           ) -> dict[str, Any]:
    """The JSON object in ``raw`` (one import line, or an option's value); refuses anything else."""
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
    if size > MAX_LINE_BYTES:
        raise invalid(field, f"is {size:,} bytes long; at most {MAX_LINE_BYTES:,} are allowed")
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise invalid(field, f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} at byte {exc.start + 1})") from None
    else:
        text = raw
    if depth(text) > MAX_DEPTH:
        raise invalid(field, f"nests arrays or objects more than {MAX_DEPTH} deep; expected {expected}")
    try:
        data = json.loads(text, parse_float=_Float, parse_int=_int, parse_constant=_Float, object_pairs_hook=_pairs)
    except ValueError as exc:
        raise invalid(field, f"is not valid JSON ({exc})") from None
    except RecursionError:  # pragma: no cover - the depth scan comes first
        raise invalid(field, f"nests arrays or objects more than {MAX_DEPTH} deep") from None
    if not isinstance(data, dict):
        raise invalid(field, f"must be {expected}")
    _check(data, field if field != "line" else "")
    return data


def _check(value: Any, path: str) -> None:
    """Refuse floats, long integers, repeated keys, odd keys and lone surrogates, naming where they are."""
    where = path or "line"
    if isinstance(value, _Float):
        raise invalid(where, f"{value} is a float; write money as integer amount_fen and decimals as strings "
                      "(\"0.02\")")
    if isinstance(value, _LongInt):
        raise invalid(where, f"is an integer of {len(value.lstrip('-'))} digits; at most {MAX_INT_DIGITS} "
                      "digits are allowed")
    if isinstance(value, str):
        for ch in "" if value.isprintable() else value:  # printable text holds no surrogate
            if "\ud800" <= ch <= "\udfff":
                raise invalid(where, f"contains a lone surrogate U+{ord(ch):04X}, which is not a character; "
                              "write the text as UTF-8")
        return
    if isinstance(value, list):
        for n, item in enumerate(value):
            _check(item, f"{where}[{n}]")
        return
    if isinstance(value, dict):
        if isinstance(value, _Pairs):
            name = f"{path}.{value.duplicate}" if path else value.duplicate
            raise invalid(name if _plain(value.duplicate) else where,
                          f"the key {shown(value.duplicate)} is given twice; give each field once")
        for key, item in value.items():
            if not _plain(key):
                raise invalid(where, f"has a key {shown(key)} that is not a field name: at most {MAX_KEY_CHARS} "
                              "characters, none of them control, format or bidi characters")
            _check(item, f"{path}.{key}" if path else key)


def _plain(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_CHARS and (key.isprintable() or not any(forbidden(ch) for ch in key))
