"""The shortcut of the text checks: a printable string is passed without looking at each character.

``ledger/text.py`` (``clean``) and ``ledger/intake/jsonline.py`` (strings and keys) skip the
character-by-character check when ``str.isprintable()`` holds. That is only right if no
printable character is one the ledger refuses; these tests hold Python's Unicode tables to it.
"""

from __future__ import annotations

import sys
import unicodedata

import pytest

from ledger import text
from ledger.errors import Refused
from ledger.intake import jsonline


def test_no_printable_character_is_a_forbidden_one() -> None:
    printable_and_forbidden = [f"U+{code:04X}" for code in range(sys.maxunicode + 1)
                               if chr(code).isprintable() and text.forbidden(chr(code))]
    assert printable_and_forbidden == []


@pytest.mark.parametrize("ch", ["\u200b", "\u202e", "\x1b", "\u2028", "\u2029", "\ufeff", "\x85"])
def test_a_forbidden_character_between_printable_ones_is_still_refused(ch: str) -> None:
    assert unicodedata.category(ch) in text.FORBIDDEN_CATEGORIES
    with pytest.raises(Refused, match=f"U\\+{ord(ch):04X}.* at character 4"):
        text.clean("name", f"十堰市{ch}科技")
    with pytest.raises(Refused, match="not a field name"):
        jsonline.decode(f'{{"op": "register", "na\\u{ord(ch):04x}me": "x"}}'.encode())


def test_a_lone_surrogate_in_a_value_is_still_refused() -> None:
    with pytest.raises(Refused, match="lone surrogate U\\+D800"):
        jsonline.decode(b'{"op": "register", "name": "ab\\ud800c"}')
