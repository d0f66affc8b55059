"""A large import finishes on PostgreSQL, and a chunk is bounded by the bytes of its events.

Before: a chunk was bounded by lines and input bytes only, and the library wrote it with one
pipelined insert, which never returns above about 6 MB (psycopg 3.3, PostgreSQL 15). Now the
recorder writes without the pipeline, and a chunk whose events exceed ``max_bytes`` is split.
Each import runs in a thread with a deadline, so a hang fails the test instead of blocking CI.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from bench.generate import dumps, generate
from commands import imports
from ledger.service.application import GrantsLedger
from ledger.service.importing import import_file
from ledger.store.recorders import TooLarge
from ledger.store.storage import parse_store
from tests.conftest import memory_ledger

DEADLINE = 300  # seconds: a loaded 2-core machine takes about a tenth of it


def _within_deadline(work: Any) -> Any:
    done: dict[str, Any] = {}

    def run() -> None:
        try:
            done["result"] = work()
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            done["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(DEADLINE)
    if thread.is_alive():
        pytest.fail(f"still writing after {DEADLINE} s: the write hangs")
    if "error" in done:
        raise done["error"]
    return done["result"]


def _import(ledger: GrantsLedger, lines: list[bytes], **limits: Any) -> dict[str, Any]:
    chunks = imports._Chunks("t")
    return import_file(ledger, lines, digest=uuid.uuid4().hex * 2, name="big", operator="t",
                       apply_line=chunks.apply, prepare=chunks.prepare, **limits)


@pytest.mark.postgres
def test_an_import_of_more_than_6_mb_of_events_in_what_used_to_be_one_chunk_finishes_on_postgresql(pg_url):
    lines = [dumps(line).encode() for line in generate(700, 1)]
    ledger = GrantsLedger(parse_store(pg_url))
    written: list[int] = []
    original = ledger.recorder.insert_events

    def insert_events(stored_events: Any, **kwargs: Any) -> Any:
        ids = original(stored_events, **kwargs)
        written.append(sum(len(s.state) for s in stored_events))
        return ids

    ledger.recorder.insert_events = insert_events
    # The whole file as one chunk by lines and input bytes; only the bytes of its events split it.
    result = _within_deadline(lambda: _import(ledger, lines, chunk=len(lines), chunk_bytes=10**9))
    assert result["accepted"] + len(result["refused"]) == len(lines) and result["accepted"] > 0.9 * len(lines)
    assert sum(written) > 6_000_000 and len(written) > 1
    assert max(written) <= 4 * 1024 * 1024
    ledger.close()


@pytest.mark.postgres
def test_one_write_of_8_mb_of_events_finishes_on_postgresql(pg_url):
    from eventsourcing.persistence import StoredEvent

    ledger = GrantsLedger(parse_store(pg_url))
    state = b'{"note": "' + b"x" * 4000 + b'"}'
    events = [StoredEvent(originator_id=uuid.uuid4(), originator_version=1, topic="grants:Enterprise.Registered",
                          state=state) for _ in range(2000)]
    ids = _within_deadline(lambda: ledger.recorder.insert_events(events))
    assert len(ids) == 2000 and ledger.recorder.max_notification_id() == ids[-1]
    ledger.close()


def test_a_chunk_whose_events_exceed_the_limit_is_split_and_gives_the_same_ledger():
    lines = [dumps(line).encode() for line in generate(30, 1)]
    whole, split = memory_ledger(), memory_ledger()
    expected = _import(whole, lines, chunk=len(lines), chunk_bytes=10**9)
    sizes: list[int] = []
    original = split.recorder.insert_events

    def insert_events(stored_events: Any, **kwargs: Any) -> Any:
        try:
            return original(stored_events, **kwargs)
        except TooLarge as too_large:
            sizes.append(too_large.size)
            raise

    split.recorder.insert_events = insert_events
    assert _import(split, lines, chunk=len(lines), chunk_bytes=10**9, event_bytes=20_000) == expected
    assert sizes and min(sizes) > 20_000  # chunks were refused whole, then written in smaller ones
    assert _events(split) == _events(whole)


def _events(ledger: GrantsLedger) -> list[tuple[str, int, str]]:
    """Every event but the import's own bookkeeping (how its lines were cut into chunks), by stream and version."""
    return sorted((str(n.originator_id), n.originator_version, n.topic)
                  for n in ledger.recorder.select_notifications(start=1, limit=10**6)
                  if not n.topic.startswith("grants:ImportRun"))
