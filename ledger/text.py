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
  trimmed of surrounding spaces (Unicode Zs: the space, the no-break and the
  ideographic space; nothing else);
- a value that still holds a control character (Unicode Cc: C0 with NUL, ESC,
  CR, LF, TAB, DEL, C1), a format character (Cf: zero-width space and joiners,
  BOM, bidi marks, embeddings, overrides and isolates), a lone surrogate (Cs) or
  a line or paragraph separator (Zl, Zp) is refused, naming the field and the
  character, wherever it is: at either end as inside (a TAB or U+2028 at the
  end is not trimmed away, it is refused);
- a key also may not hold a character that shows as nothing or as a blank
  (``invisible``): Unicode's Default_Ignorable_Code_Point (the Hangul fillers
  U+115F, U+1160, U+3164, U+FFA0, variation selectors, tags, ...), the braille
  blank U+2800 and every space but the plain one. Five vouchers that all print
  as ``SZ-0001`` would otherwise be five keys. Names and other free text keep
  the variation selectors Chinese text needs (an ideographic variant).
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


# Default_Ignorable_Code_Point of DerivedCoreProperties.txt, Unicode 14.0 (the unicodedata of Python 3.11), as
# ranges (first, last).
DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F),
    (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)
BLANKS = frozenset({0x2800})  # BRAILLE PATTERN BLANK: a symbol that prints as nothing
_SPACES = " \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"  # Zs


def invisible(ch: str) -> bool:
    """Is ``ch`` a character that shows as nothing or as a blank, so that no key may hold it?
    (Default_Ignorable_Code_Point, the braille blank, any space but U+0020.)"""
    code = ord(ch)
    if code < 0xA0:
        return False
    if code in BLANKS or (ch != " " and unicodedata.category(ch) == "Zs"):
        return True
    return any(first <= code <= last for first, last in DEFAULT_IGNORABLE)


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
    return unicodedata.normalize("NFC", value).strip(_SPACES)


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
    if key and not text.isascii():
        for position, ch in enumerate(text, 1):
            if invisible(ch):
                raise invalid(field, _("contains {character} at character {position}, which shows as nothing or as "
                                       "a blank: a key (a filing number, voucher, receipt, USCC, project or "
                                       "operator) may not hold invisible characters or spaces other than the "
                                       "plain space").format(character=describe(ch), position=position))
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
