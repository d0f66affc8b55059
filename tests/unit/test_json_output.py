"""``--json`` output is written in pieces (``output.emit_json``): the same text as ``json.dumps`` with
``indent=2``, every forbidden character escaped as ``safe`` escapes it, wherever the pieces are cut."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from commands import output
from ledger.text import safe
from tests.helpers import runner

TEXT = st.text(alphabet=st.sampled_from(list("ab 9\n\"\\") + ["十", "\u202e", "\x1b", "\u2028", "é"]), max_size=30)
VALUES = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), TEXT),
                      lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(TEXT, inner, max_size=5)),
                      max_leaves=20)


def _emitted(data: object) -> str:
    with runner.isolation() as (out, _err, _mixed):
        output.emit_json(data)
        return out.getvalue().decode("utf-8")


@settings(max_examples=200, deadline=None)
@given(VALUES)
def test_emitted_json_is_the_indented_dump_made_safe(data):
    assert _emitted(data) == safe(json.dumps(data, ensure_ascii=False, indent=2)) + "\n"


def test_a_long_result_is_written_in_pieces_that_read_back_as_the_data():
    rows = [{"line": n, "code": "invalid-input", "message": f"uscc: “{n}\u202e” 不对\x1b"} for n in range(20_000)]
    text = _emitted({"refused": rows})
    assert len(text) > 4 * 65_536 and "\u202e" not in text and "\x1b" not in text
    assert json.loads(text) == json.loads(safe(json.dumps({"refused": rows}, ensure_ascii=False)))
