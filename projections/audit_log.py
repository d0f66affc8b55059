"""Reading the raw event log and its hash chain for ``grants audit``: pages of stored
rows in one read snapshot, hashed with hashlib, no aggregate reconstruction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, inspect

from ledger.i18n import _
from ledger.store import chain
from ledger.store.chain import CHAIN_TABLE, GENESIS
from ledger.text import shown

PAGE = 5000


class NoChain(Exception):
    """The ledger has no chain table yet (made before it existed): run `grants init`."""


@dataclass(frozen=True)
class Head:
    position: int
    hash: str

    def __str__(self) -> str:
        return f"{self.position}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Head:
        position, sep, digest = text.strip().partition(":")
        digest = digest.lower()
        if not sep or not position.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(_("{head}: write the head as POSITION:HASH, as `grants audit head` prints it").format(
                head=shown(text)))
        return cls(int(position), digest)


@contextmanager
def snapshot(engine: Engine) -> Iterator[Any]:
    """A raw DB-API connection inside one read-only snapshot of the whole database."""
    if not inspect(engine).has_table(CHAIN_TABLE):
        raise NoChain(_("this ledger has no hash chain yet; run `grants init` to seal its events"))
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            raw.rollback()
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        else:
            cursor.execute("BEGIN")  # deferred: the first read fixes the snapshot (WAL)
        try:
            yield raw
        finally:
            raw.rollback()
    finally:
        raw.close()


def _pages(cursor: Any, statement: str, param: str) -> Iterator[tuple[Any, ...]]:
    after = 0
    while True:
        cursor.execute(statement.format(p=param), (after, PAGE))
        rows = cursor.fetchall()
        if not rows:
            return
        yield from rows
        after = rows[-1][0]
        if len(rows) < PAGE:
            return


def event_rows(cursor: Any, events_table: str, postgres: bool) -> Iterator[chain.Row]:
    position = "notification_id" if postgres else "rowid"
    p = "%s" if postgres else "?"
    statement = (f"SELECT {position}, originator_id, originator_version, topic, state FROM {events_table} "  # noqa: S608
                 f"WHERE {position} > {p} ORDER BY {position} LIMIT {p}")
    return _pages(cursor, statement, p)


def link_rows(cursor: Any, postgres: bool) -> Iterator[tuple[Any, ...]]:
    p = "%s" if postgres else "?"
    statement = (f"SELECT position, prev_position, originator_id, originator_version, topic, state_sha256, hash "  # noqa: S608
                 f"FROM {CHAIN_TABLE} WHERE position > {p} ORDER BY position LIMIT {p}")
    return _pages(cursor, statement, p)


def verify_chain(engine: Engine, events_table: str, head: Head | None = None,
                 progress: Callable[[int], None] | None = None,
                 consume: Callable[[Iterator[chain.Row]], None] | None = None
                 ) -> tuple[chain.Walk, chain.Break | None]:
    """Walk the whole chain; with ``head``, also prove the log up to that noted head is unchanged.

    ``progress(walked)`` is told every ``PROGRESS_EVERY`` events how many are walked.

    ``consume(rows)``, when given, reads the stored event rows in the same pass, inside the same
    snapshot: each row as soon as its link holds, none from the first break on (what it made of
    them means nothing when the walk is broken).

    Returns the walk (events checked, the recomputed head, the first break) and, when a
    head was given and does not match, a head-mismatch break.
    """
    postgres = engine.dialect.name == "postgresql"
    walk = chain.Walk()
    with snapshot(engine) as raw:
        # two cursors over one snapshot: pages of events and of links, merged by position
        events = event_rows(raw.cursor(), events_table, postgres)
        links = link_rows(raw.cursor(), postgres)
        marks: dict[int, str] = {}
        rows = chain.sealed(_counting(_marking(chain.merge(events, links), head, marks), progress), walk)
        if consume is not None:
            consume(rows)
        for _row in rows:  # the rest of the walk, past what the consumer read (all of it without one)
            pass
    mismatch = None
    if head is not None and walk.broken is None and head.position > walk.head_position:
        mismatch = chain.removed_at_end(walk, head.position, _("the noted head {head}").format(head=head))
    elif head is not None and (walk.broken is None or walk.broken.position > head.position):
        found = marks.get(head.position)
        if found is None and head.position == 0:
            found = GENESIS
        if found != head.hash:
            mismatch = chain.Break(chain.HEAD_MISMATCH, head.position, None, None, None,
                                   _("the chain up to the noted head does not give the noted hash (recomputed "
                                     "{found}): the log before it was rewritten, chain and all").format(
                                       found=found or _("no event at that position")))
    return walk, mismatch


PROGRESS_EVERY = 1000


def _counting(pairs: Iterator[Any], progress: Callable[[int], None] | None) -> Iterator[Any]:
    """Pass pairs through, telling ``progress`` how many have passed (every PROGRESS_EVERY, and at the end)."""
    if progress is None:
        yield from pairs
        return
    walked = 0
    for pair in pairs:
        yield pair
        walked += 1
        if walked % PROGRESS_EVERY == 0:
            progress(walked)
    progress(walked)


def _marking(pairs: Iterator[Any], head: Head | None, marks: dict[int, str]) -> Iterator[Any]:
    """Pass pairs through; remember the stored hash at the noted head's position once the walk passes it."""
    if head is None:
        yield from pairs
        return
    for event, link in pairs:
        yield event, link
        if link is not None and link[0] == head.position:
            marks[head.position] = link[6]


def head(engine: Engine) -> Head:
    with snapshot(engine) as raw:
        cursor = raw.cursor()
        cursor.execute(f"SELECT position, hash FROM {CHAIN_TABLE} ORDER BY position DESC LIMIT 1")  # noqa: S608
        row = cursor.fetchone()
    return Head(0, GENESIS) if row is None else Head(row[0], row[1])
