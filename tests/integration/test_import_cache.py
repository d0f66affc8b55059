"""What an import keeps between its chunks, and what it reads ahead, never decides a line on stale state.

Aggregates (and streams found absent) of committed chunks stay in a bounded cache, and a
chunk's streams are read ahead in a few queries (``GrantsLedger.prefetch``); both are used
only under the version check of the chunk's write. Another writer between two chunks makes
the next chunk run again on fresh reads, so each line's outcome is the one applying the
lines one by one, in commit order, gives.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from commands import imports
from commands.imports import import_lines
from ledger.domain.aggregates import enterprise_id
from ledger.intake.commands import parse_command
from ledger.service import unit_of_work as service
from ledger.service.application import GrantsLedger
from ledger.service.importing import import_file
from ledger.store.storage import parse_store
from tests.conftest import USCC_A, USCC_B

SETUP = [
    {"op": "adopt-policy", "effective": "2022-09-01"},
    {"op": "register", "uscc": USCC_A, "name": "十堰数智科技有限公司", "area": "张湾区"},
]


def _lines(*commands: dict[str, Any]) -> list[bytes]:
    return [json.dumps(c, ensure_ascii=False).encode() for c in commands]


def _events_held(cache: dict[Any, Any]) -> int:
    """The events the cached aggregates were built from, a stream found absent counting one."""
    return sum(1 if a is service.ABSENT else a.version for a in cache.values())


def _import_with_a_writer_between_chunks(ours: GrantsLedger, theirs: GrantsLedger, lines: list[bytes],
                                         after_chunks: int, interference: dict[str, Any]) -> dict[str, Any]:
    """Import one line a chunk; after `after_chunks` committed chunks, another writer records `interference`."""
    chunks = imports._Chunks("t")

    def progress(done: int) -> None:
        if done == after_chunks:
            theirs.execute(parse_command(interference, "other"))

    return import_file(ours, lines, digest="c" * 64, name="f", operator="t", apply_line=chunks.apply,
                       prepare=chunks.prepare, chunk=1, progress=progress)


def test_an_enterprise_kept_from_an_earlier_chunk_is_read_again_after_another_writer_changed_it(db_url):
    ours, theirs = GrantsLedger(parse_store(db_url)), GrantsLedger(parse_store(db_url))
    lines = _lines(*SETUP,
                   {"op": "apply", "ref": "B-1", "uscc": USCC_A, "measure": "M07-base", "project": "P",
                    "date": "2023-01-10", "facts": {"tier": "national"}},
                   {"op": "approve", "ref": "B-1", "date": "2023-02-01"})
    result = _import_with_a_writer_between_chunks(
        ours, theirs, lines, after_chunks=3,
        interference={"op": "external-award", "uscc": USCC_A, "project": "P", "policy": "其他",
                      "amount_fen": 20000000, "date": "2022-12-01"})
    assert result == {"accepted": 4, "refused": [], "warnings": [], "already": 0}
    assert ours.retries >= 1  # the kept copy of the enterprise was used, found stale at the write, read again
    assert ours.show("B-1")["awarded_fen"] == 30000000  # 50万 less the 20万 recorded before it (就高补差)
    ours.close()
    theirs.close()


def test_a_filing_number_found_absent_in_an_earlier_chunk_is_seen_once_another_writer_files_it(db_url):
    ours, theirs = GrantsLedger(parse_store(db_url)), GrantsLedger(parse_store(db_url))
    approve = {"op": "approve", "ref": "R-7", "date": "2023-02-01"}
    lines = _lines(*SETUP, approve, approve)
    result = _import_with_a_writer_between_chunks(
        ours, theirs, lines, after_chunks=3,
        interference={"op": "apply", "ref": "R-7", "uscc": USCC_A, "measure": "M03-platform", "project": "P1",
                      "date": "2023-01-10", "facts": {"route": "dual-cross"}})
    # Line 3 ran before the application existed; line 4 after it: it is approved, not refused again.
    assert [(r["line"], r["code"]) for r in result["refused"]] == [(3, "unknown-application")]
    assert result["accepted"] == 3
    assert ours.show("R-7")["status"] == "approved"
    ours.close()
    theirs.close()


@pytest.mark.parametrize("bound", [("CACHE_SIZE", 5), ("CACHE_EVENTS", 12)])
def test_the_cache_stays_within_its_bound_and_the_ledger_equals_one_imported_without_it(tmp_path, monkeypatch,
                                                                                       bound):
    lines = _lines(*SETUP,
                   *({"op": "register", "uscc": uscc, "name": f"企业{n}", "area": "茅箭区"}
                     for n, uscc in enumerate([USCC_B])),
                   *({"op": "apply", "ref": f"R-{n}", "uscc": (USCC_A, USCC_B)[n % 2], "measure": "M03-platform",
                      "project": f"P{n}", "date": "2023-01-10", "facts": {"route": "dual-cross"}} for n in range(40)),
                   *({"op": "approve", "ref": f"R-{n}", "date": "2023-02-01"} for n in range(40)),
                   *({"op": "pay", "ref": f"R-{n}", "payer": payer, "amount_fen": 100, "voucher": f"V-{n}",
                      "date": "2023-03-01"} for n in range(40) for payer in ("city", "county")))
    unbounded = GrantsLedger(parse_store(f"sqlite:///{tmp_path / 'a.db'}"))
    expected = import_lines(unbounded, lines, "t", chunk=7)
    name, limit = bound
    monkeypatch.setattr(service, name, limit)
    bounded = GrantsLedger(parse_store(f"sqlite:///{tmp_path / 'b.db'}"))
    assert import_lines(bounded, lines, "t", chunk=7) == expected
    weight = {"CACHE_SIZE": len, "CACHE_EVENTS": _events_held}
    assert weight[name](bounded.cache.aggregates) <= limit < weight[name](unbounded.cache.aggregates)
    for ledger in (bounded, unbounded):  # the running count the bound is kept by is the count of what is held
        assert ledger.cache.events == _events_held(ledger.cache.aggregates)
    for n in range(40):
        assert bounded.show(f"R-{n}") | {"history": None} == unbounded.show(f"R-{n}") | {"history": None}
    unbounded.close()
    bounded.close()


@pytest.mark.parametrize("chunk", [1, 500])
def test_a_chunk_reads_its_streams_ahead_in_a_few_queries(tmp_path, chunk):
    ledger = GrantsLedger(parse_store(f"sqlite:///{tmp_path / 'p.db'}"))
    lines = _lines(*SETUP,
                   *({"op": "apply", "ref": f"R-{n}", "uscc": USCC_A, "measure": "M03-platform", "project": f"P{n}",
                      "date": "2023-01-10", "facts": {"route": "dual-cross"}} for n in range(20)),
                   {"op": "approve", "ref": "R-0", "date": "2023-02-01"},
                   *({"op": "pay", "ref": "R-0", "payer": "county", "amount_fen": 100, "voucher": f"V-{n}",
                      "date": "2023-03-01"} for n in range(20)))
    loads: list[Any] = []
    original = GrantsLedger._load

    def counted(self: GrantsLedger, aggregate_id: Any) -> Any:
        loads.append(aggregate_id)
        return original(self, aggregate_id)

    GrantsLedger._load = counted  # type: ignore[method-assign]
    try:
        result = import_lines(ledger, lines, "t", chunk=chunk)
    finally:
        GrantsLedger._load = original  # type: ignore[method-assign]
    assert result["refused"] == [] and result["accepted"] == len(lines)
    # One by one only the file's own ImportRun: before its first chunk, and for the result at the end.
    assert len(loads) == 2 and len(set(loads)) == 1
    ledger.close()


def test_replayed_decisions_hold_their_trace_texts_once_and_unchanged(tmp_path):
    """Enterprises kept in memory hold each clause quote and rule of their decisions' traces once, however
    many decisions quote it (the import's cache is bounded by events; this keeps an event's share small),
    and each trace is the one recorded, step for step."""
    ledger = GrantsLedger(parse_store(f"sqlite:///{tmp_path / 'i.db'}"))
    usccs = (USCC_A, USCC_B)
    lines = _lines(*SETUP, {"op": "register", "uscc": USCC_B, "name": "企业B", "area": "茅箭区"},
                   *({"op": "apply", "ref": f"R-{n}", "uscc": uscc, "measure": "M03-platform", "project": "P",
                      "date": "2023-01-10", "facts": {"route": "dual-cross"}} for n, uscc in enumerate(usccs)),
                   *({"op": "approve", "ref": f"R-{n}", "date": "2023-02-01"} for n in range(2)))
    assert import_lines(ledger, lines, "t")["accepted"] == len(lines)
    traces = []
    for n, uscc in enumerate(usccs):
        enterprise = ledger.repository.get(enterprise_id(uscc))
        traces.append(enterprise.applications[f"R-{n}"].trace)
        recorded = [e.trace for e in ledger.repository.event_store.get(enterprise.id) if hasattr(e, "trace")]
        assert recorded == [traces[-1]] and len(traces[-1]) > 2
    first, second = traces
    shared = [(a[k], b[k]) for a, b in zip(first, second, strict=True) for k in a
              if isinstance(a[k], str) and len(a[k]) > 20 and a[k] == b[k]]
    assert shared and all(a is b for a, b in shared)
    ledger.close()
