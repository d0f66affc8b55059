"""Unified social credit codes (统一社会信用代码, GB 32100-2015).

18 characters from a 31-character alphabet (digits and capitals without I, O, S,
V, Z). The 18th is a check character computed from the first 17 with the
weights of the standard; a code whose check fails is a typing error.
"""

from __future__ import annotations

from ledger.i18n import _
from ledger.text import shown

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_character(first17: str) -> str:
    """The check character for the first 17 characters of a code."""
    total = sum(ALPHABET.index(ch) * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: object) -> str | None:
    """Why ``code`` is not a valid USCC, or None when it is."""
    if not isinstance(code, str):
        return _("must be the 18-character unified social credit code as text")
    if len(code) != 18:
        return _("must be 18 characters long, got {length}").format(length=len(code))
    bad = sorted({ch for ch in code if ch not in ALPHABET})
    if bad:
        return _("contains {characters}; only digits and the capitals A-H, J-N, P-R, T, U, W-Y are allowed").format(
            characters=shown("".join(bad)))
    expected = check_character(code[:17])
    if code[17] != expected:
        return _("check character is {given} but the first 17 characters give {expected} (a typing error?)").format(
            given=shown(code[17]), expected=shown(expected))
    return None


def make_uscc(first17: str) -> str:
    """Complete 17 characters with their check character (for samples and tests)."""
    return first17 + check_character(first17)
