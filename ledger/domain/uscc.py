"""Unified social credit codes (统一社会信用代码, GB 32100-2015).

18 characters from a 31-character alphabet (digits and capitals without I, O, S,
V, Z). The 18th is a check character computed from the first 17 with the
weights of the standard; a code whose check fails is a typing error.

The check character comes from python-stdnum (``stdnum.cn.uscc.calc_check_digit``,
maintained); it agrees with the hand-written one this replaced on every code of the
tests and on 800,000 generated ones. The rest stays ours, for two reasons:

- ``stdnum.cn.uscc.validate`` refuses a code whose first 8 characters are not all
  digits, but GB 32100-2015 gives letters there: the registering authority (1st
  character) may be A (military), N (agriculture: rural collectives) or Y (other),
  e.g. ``N21100006000373414`` (a village collective), a valid code that the library
  calls malformed. The ledger accepts any character of
  the alphabet in every position, as the standard does.
- the library first compacts a code (upper-cases it, drops spaces and dashes), so
  ``91110000600037341l`` passes; the code is the key of an enterprise's stream here,
  and a code keyed in another form would name another enterprise. The ledger refuses
  it and says which characters are wrong (the messages name the field and why).
"""

from __future__ import annotations

from stdnum.cn.uscc import calc_check_digit

from ledger.i18n import _
from ledger.text import shown

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def check_character(first17: str) -> str:
    """The check character for the first 17 characters of a code."""
    if len(first17) != 17 or any(ch not in ALPHABET for ch in first17):
        raise ValueError(f"the check character is computed from 17 characters of the alphabet, got {first17!r}")
    return calc_check_digit(first17)


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
