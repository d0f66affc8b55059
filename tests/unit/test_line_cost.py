"""Every check of a line is linear in its length: the worst line of each shape, 64 KiB long, is refused in well
under a second (the nesting scan was quadratic: one line of escaped quotes took 17 s)."""

from __future__ import annotations

import time

import pytest

from commands.imports import import_lines
from ledger.intake.jsonline import MAX_LINE_BYTES
from tests.conftest import USCC_A, memory_ledger

HEAD = b'{"op": "pay", "ref": "'
APPLY = ('{"op": "apply", "ref": "R-1", "uscc": "' + USCC_A + '", "measure": "M10-edge", "project": "p", '
         '"date": "2023-05-01", "facts": ').encode()


def _fill(head: bytes, unit: bytes, tail: bytes = b"") -> bytes:
    """``head``, then ``unit`` repeated, then ``tail``: exactly MAX_LINE_BYTES long."""
    room = MAX_LINE_BYTES - len(head) - len(tail)
    body = (unit * (room // len(unit) + 1))[:room]
    return head + body + tail


SHAPES = {
    "escaped-quotes-never-closed": _fill(HEAD, b'\\"'),
    "quotes": _fill(b"", b'"'),
    "quote-then-backslashes": _fill(b'"', b"\\\\"),
    "open-brackets": _fill(b"", b"["),
    "open-braces-with-keys": _fill(b"", b'{"a":'),
    "brackets-in-an-unclosed-string": _fill(HEAD, b"[{"),
    "brackets-in-a-closed-string": _fill(HEAD, b"[{", b'"}'),
    "alternating-quote-bracket": _fill(b"", b'"['),
    "backslash-quote-bracket": _fill(HEAD, b'\\"['),
    "wide-list": _fill(APPLY + b'{"racks": [', b"1,", b"1]}}"),
    "many-keys": _fill(APPLY + b"{", b'"k":1,', b'"z":1}}'),
    "long-integer": _fill(APPLY + b'{"racks": ', b"9", b"}}"),
    "long-key": _fill(APPLY + b'{"', b"k", b'": 1}}'),
    "unicode-escapes": _fill(HEAD, b"\\u0041", b'"}'),
    "surrogate-escapes": _fill(HEAD, b"\\ud800", b'"}'),
    "control-escapes": _fill(HEAD, b"\\u001b", b'"}'),
    "combining-marks": _fill(HEAD, "e\u0301".encode(), b'"}'),
    "full-width": _fill(HEAD, "Ａ".encode(), b'"}'),
    "invisible-fillers": _fill(HEAD, "\u3164".encode(), b'"}'),
    "cjk-name": _fill(('{"op": "register", "uscc": "' + USCC_A + '", "area": "张湾区", "name": "').encode(),
                      "科".encode(), b'"}'),
    "floats": _fill(APPLY + b'{"racks": [', b"1.5,", b"1]}}"),
    "not-utf-8-at-the-end": _fill(HEAD, b"a", b"\xff"),
    "whitespace": _fill(b"{", b" ", b"}"),
}
BOUND = 1.0  # CPU seconds for one line: the quadratic scan took 17-19 s; a linear one takes a few milliseconds


@pytest.mark.parametrize("raw", list(SHAPES.values()), ids=list(SHAPES))
def test_the_worst_line_of_each_shape_is_refused_in_well_under_a_second(raw):
    assert len(raw) == MAX_LINE_BYTES
    ledger = memory_ledger()
    setup = [b'{"op": "adopt-policy", "effective": "2022-09-01"}',
             ('{"op": "register", "uscc": "' + USCC_A + '", "name": "n", "area": "张湾区", "date": "2022-06-01"}').encode()]
    import_lines(ledger, setup, "t")
    started = time.process_time()  # CPU time: the bound holds however loaded the machine is
    result = import_lines(ledger, [raw], "t")
    spent = time.process_time() - started
    assert [r["code"] for r in result["refused"]] == ["invalid-input"]
    assert spent < BOUND, f"{spent:.2f} s of CPU for one line"
