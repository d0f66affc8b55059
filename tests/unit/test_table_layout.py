"""Tables without colour are laid out by ``output._plain_table`` when no cell wraps (Rich lays out
every cell as a renderable, which grows slow on long tables): the text is Rich's own, character for
character, for any cells (wide CJK characters, right-aligned amounts, long text columns, tables on
the edge of the width); where a cell would wrap, or is of a kind Rich lays out its own way, Rich
lays it out."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from commands import output

_CLEAN = st.text(alphabet=st.sampled_from(list("ab yz09,.-_") + ["十", "堰", "区", "—", "é"]), max_size=40).map(str.strip)
_ANY = st.text(alphabet=st.sampled_from(list("ab yz09,.-_") + ["十", "堰", "区", "—", "\t", "\n", "é"]), max_size=40)
CELL = st.one_of(_CLEAN, _CLEAN, _CLEAN, _ANY)  # mostly cells the plain way takes, some it leaves to Rich


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]], tuple[int, ...], int]:
    columns = draw(st.integers(min_value=1, max_value=5))
    heads = draw(st.lists(CELL, min_size=columns, max_size=columns))
    rows = draw(st.lists(st.lists(CELL, min_size=columns, max_size=columns), max_size=6))
    right = tuple(i for i in range(columns) if draw(st.booleans()))
    return heads, rows, right, draw(st.integers(min_value=20, max_value=160))


@settings(max_examples=400, deadline=None)
@given(tables())
def test_a_plain_table_is_the_text_rich_lays_out(table):
    heads, rows, right, width = table
    heads, cells = [output.safe(h) for h in heads], [[output.safe(c) for c in row] for row in rows]
    plain = output._plain_table(heads, cells, right, width)
    if plain is not None:
        with_width = {"COLUMNS": str(width)}
        assert plain == _rich(heads, cells, right, with_width)


def test_long_tables_and_tables_of_text_take_the_plain_way_and_wrapping_ones_go_to_rich():
    rows = [[f"SY-2023-{n:04d}", "十堰数智科技有限公司", output.yuan(n * 100)] for n in range(2000)]
    assert output._plain_table(["ref", "name", "amount"], rows, (2,), 120) is not None
    assert output._plain_table(["message"], [["x " * 100]], (), 120) is None  # wraps: Rich's way
    wide = output._plain_table(["message", "n"], [["x " * 99 + "x", "1"]] * (output.LONG + 1), (1,), None)
    assert wide is not None and wide.splitlines()[2] == "x " * 99 + "x  1"  # long: one line a row
    assert len(output.table(["message", "n"], [["x " * 99 + "x", "1"]] * (output.LONG + 1), right=(1,)).splitlines()) \
        == output.LONG + 3


def _rich(heads: list[str], cells: list[list[str]], right: tuple[int, ...], env: dict[str, str]) -> str:
    import os

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return output._rich_table(heads, cells, cells, right, False)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
