"""Canonical text: the one form in which any text enters the ledger.

Two strings that look the same on a screen must be the same key, and nothing
that can rewrite a terminal (escape sequences, bidi overrides, invisible
characters) may be recorded. So every text field goes through ``clean``:

- keys (filing numbers, vouchers, USCC, operators, measures, projects, policies,
  payers, areas, versions) have full-width ASCII folded to ASCII first
  (U+FF01-FF5E to U+0021-007E, the ideographic space U+3000 to a space), so
  ``Ａ-９`` is ``A-9``; nothing else is folded (not NFKC: it would also turn
  ``①``, ``²`` or ``㎡`` into other characters);
- all text is then NFC-normalised (``café`` typed as e + U+0301 is ``café``) and
  trimmed of surrounding white space;
- a value that still holds a control character (Unicode Cc: C0 with NUL, ESC,
  CR, LF, TAB inside the value, DEL, C1), a format character (Cf: zero-width
  space and joiners, BOM, bidi marks, embeddings, overrides and isolates), a
  lone surrogate (Cs) or a line or paragraph separator (Zl, Zp) is refused,
  naming the field and the character.
"""

from __future__ import annotations

import json
import unicodedata

from ledger.errors import invalid
from ledger.i18n import N_, _

MAX_TEXT = 500
FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20


def fold_fullwidth(value: str) -> str:
    """Full-width ASCII (Ａ-９, ！, ～) and the ideographic space as their ASCII characters."""
    return value.translate(_FULLWIDTH)


def forbidden(ch: str) -> bool:
    """Is ``ch`` a character no recorded text may hold (control, format, surrogate, line separator)?"""
    return unicodedata.category(ch) in FORBIDDEN_CATEGORIES


_KINDS = {"Cc": N_("a control character"), "Cf": N_("a format character"), "Cs": N_("a lone surrogate"),
          "Zl": N_("a line separator"), "Zp": N_("a paragraph separator")}


def describe(ch: str) -> str:
    """``U+200B ZERO WIDTH SPACE``, ``U+001B (a control character)``: named so that a reader can find it."""
    name = unicodedata.name(ch, "")
    if name:
        return f"U+{ord(ch):04X} {name}"
    kind = _KINDS.get(unicodedata.category(ch))
    return f"U+{ord(ch):04X} ({_(kind) if kind else _('unnamed')})"


def canonical(value: str, *, key: bool = False) -> str:
    """The canonical form of ``value`` (folded when a key, NFC, trimmed); no check is made."""
    if key:
        value = fold_fullwidth(value)
    return unicodedata.normalize("NFC", value).strip()


def clean(field: str, value: object, *, key: bool = False, max_len: int = MAX_TEXT) -> str:
    """Check text for ``field`` and return its canonical form; refuse it (invalid-input) otherwise."""
    if not isinstance(value, str):
        raise invalid(field, _("must be non-empty text, got {value}").format(value=shown(value)))
    if len(value) > 4 * max_len:  # before normalising a value that can only be refused
        raise invalid(field, _("is {length} characters long; at most {most} are allowed").format(
            length=len(value), most=max_len))
    text = canonical(value, key=key)
    if not text:
        raise invalid(field, _("must be non-empty text, got {value}").format(value=shown(value)))
    for position, ch in enumerate("" if text.isprintable() else text, 1):  # printable: none is forbidden
        if forbidden(ch):
            raise invalid(field, _("contains {character} at character {position}; control, format, bidi and "
                                   "invisible characters are not allowed in any field").format(
                character=describe(ch), position=position))
    if len(text) > max_len:
        raise invalid(field, _("is {length} characters long; at most {most} are allowed").format(
            length=len(text), most=max_len))
    return text


def safe(value: str) -> str:
    """``value`` with every forbidden character but the line break written as ``\\uXXXX``.

    For whatever reaches a screen: a stored value can then neither move the
    cursor, recolour the text nor reorder it. The escape is also valid inside a
    JSON string, so JSON output stays the same data.
    """
    if all(line.isprintable() for line in value.split("\n")):  # False for every Cc, Cf, Cs, Zl, Zp
        return value
    return "".join(f"\\u{ord(ch):04x}" if ch != "\n" and forbidden(ch) else ch for ch in value)


def shown(value: object) -> str:
    """A short, printable rendering of a wrong value for a message: text in quotation marks (“2023/13/01”),
    anything else as it is written in JSON (``12``, ``true``, ``null``, ``{"tier": 1}``); never a Python repr."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return _("a number of more than 30 digits")
    if isinstance(value, str):
        text = f"\u201c{value}\u201d"
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (ValueError, TypeError):  # pragma: no cover - a value no JSON holds (a circular container)
            text = str(value)
    text = safe(text)
    return text if len(text) <= 80 else text[:77] + "..."
