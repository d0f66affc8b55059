"""A chunk of an import is bounded by lines and by bytes (PostgreSQL's pipelined insert
hangs above about 6 MB in one call; see docs/benchmark.md)."""

from __future__ import annotations

from ledger.importing import CHUNK, CHUNK_BYTES, _take, command_lines


def test_a_chunk_holds_at_most_the_line_limit():
    numbered = command_lines([b'{"op": "x"}'] * (CHUNK + 7))
    assert len(_take(numbered, 0, CHUNK, CHUNK_BYTES)) == CHUNK
    assert len(_take(numbered, CHUNK, CHUNK, CHUNK_BYTES)) == 7


def test_a_chunk_of_long_lines_stops_at_the_byte_limit_but_always_takes_one_line():
    long = b"x" * (CHUNK_BYTES // 3 + 1)
    numbered = command_lines([long] * 10)
    assert len(_take(numbered, 0, CHUNK, CHUNK_BYTES)) == 2
    huge = command_lines([b"y" * (CHUNK_BYTES * 2), b"z"])
    assert [n for n, _ in _take(huge, 0, CHUNK, CHUNK_BYTES)] == [1]


def test_blank_lines_and_comments_are_not_commands_but_keep_their_line_numbers():
    assert [n for n, _ in command_lines([b"# c", b"", b"  ", b'{"op": 1}', b"  # x", b'{"op": 2}'])] == [4, 6]
