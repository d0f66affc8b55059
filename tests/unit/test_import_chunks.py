"""A chunk of an import is bounded by lines and by bytes (PostgreSQL's pipelined insert
hangs above about 6 MB in one call; see docs/benchmark.md)."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from ledger.service.importing import CHUNK, CHUNK_BYTES, _take, numbered_commands, read_lines


def command_lines(lines: list[bytes]) -> list[tuple[int, bytes]]:
    """The lines that hold a command, with their line numbers (blank lines and # comments skipped)."""
    return list(numbered_commands(lines))


def test_a_chunk_holds_at_most_the_line_limit():
    numbered = command_lines([b'{"op": "x"}'] * (CHUNK + 7))
    assert len(_take(numbered, CHUNK, CHUNK_BYTES)) == CHUNK
    assert len(_take(numbered[CHUNK:], CHUNK, CHUNK_BYTES)) == 7


def test_a_chunk_of_long_lines_stops_at_the_byte_limit_but_always_takes_one_line():
    long = b"x" * (CHUNK_BYTES // 3 + 1)
    numbered = command_lines([long] * 10)
    assert len(_take(numbered, CHUNK, CHUNK_BYTES)) == 2
    huge = command_lines([b"y" * (CHUNK_BYTES * 2), b"z"])
    assert [n for n, _ in _take(huge, CHUNK, CHUNK_BYTES)] == [1]


@given(st.lists(st.sampled_from([b"a", b"\xe5\x8d\x81", b"\n", b"\r", b"\r\n", b" ", b"#", b"{}"]), max_size=60),
       st.integers(min_value=1, max_value=9))
def test_a_file_read_a_block_at_a_time_gives_the_lines_its_bytes_split_into(pieces, block):
    """The import reads a file as it goes, in blocks; a line end may fall across two blocks (even
    a \r\n), and the lines are those of ``bytes.splitlines`` on the whole file."""
    data = b"".join(pieces)
    assert list(read_lines(io.BytesIO(data), block)) == data.splitlines()


def test_blank_lines_and_comments_are_not_commands_but_keep_their_line_numbers():
    assert [n for n, _ in command_lines([b"# c", b"", b"  ", b'{"op": 1}', b"  # x", b'{"op": 2}'])] == [4, 6]
