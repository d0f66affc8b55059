"""What a decision has read (``Unit``), and what an import keeps between its batches (``ImportCache``).

A decision reads aggregates and may append events to some of them. The store's version check
guards only the streams appended to; the ``Unit`` of a decision also remembers the version of
every stream it read (0 for one that did not exist), and the write passes them to the recorder
(``expected_versions``), which fails with ``StaleRead`` inside the write's transaction if any has
moved. An import runs its lines in batches (``GrantsLedger.batch``); what a successful batch read
or wrote is kept in the cache for the next one, and used again only under the same check.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

from ledger.domain.aggregates import (
    POLICY_BOOK_ID,
    ROSTER_ID,
    application_ref_id,
    enterprise_id,
    receipt_ref_id,
    voucher_ref_id,
)
from ledger.domain.areas import CITY
from ledger.intake import commands as intake

CACHE_SIZE = 20_000  # aggregates (and streams found absent) kept between the batches of an import ...
CACHE_EVENTS = 60_000  # ... holding at most this many events in all (a stream found absent counts as one)

# What replaying a stream raises when one of its events is not one the ledger writes (fields missing or of the
# wrong type): such a stream is refused malformed-event, never a crash.
UNREADABLE = (TypeError, AttributeError, ValueError, LookupError)
ABSENT = object()  # in the cache: a stream that did not exist when it was read (version 0)
UNCACHED = object()


def weight(cached: Any) -> int:
    """What a cached aggregate counts against ``CACHE_EVENTS``: the events it was built from (one when absent)."""
    return 1 if cached is ABSENT else max(1, cached.version)


class Unit:
    """What one decision has read: a copy of each aggregate and the version it was read at."""

    def __init__(self, max_bytes: int | None = None, command: intake.Command | None = None) -> None:
        self.command = command  # the command decided, when one decision is one command (not a batch)
        self.aggregates: dict[UUID, Any] = {}
        self.read: dict[UUID, int] = {}
        self.max_bytes = max_bytes  # of events in the write (ledger.store.recorders.TooLarge beyond), None: no limit


class ImportCache:
    """Aggregates (or ``ABSENT``) kept between the batches of an import, least recently used forgotten first,
    within ``CACHE_SIZE`` aggregates and ``CACHE_EVENTS`` events (an enterprise's memory grows with its
    history: each approval carries its computation trace)."""

    def __init__(self) -> None:
        self.aggregates: OrderedDict[UUID, Any] = OrderedDict()
        self.events = 0  # the events the cached aggregates were built from (weight)

    def __contains__(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self.aggregates

    def take(self, aggregate_id: UUID) -> Any:
        """Out of the cache (into a batch): the kept copy, ``ABSENT``, or ``UNCACHED`` when none is kept."""
        cached = self.aggregates.pop(aggregate_id, UNCACHED)
        if cached is not UNCACHED:
            self.events -= weight(cached)
        return cached

    def peek(self, aggregate_id: UUID) -> Any:
        """The kept copy, left in the cache (None when none is kept, or when absent)."""
        cached = self.aggregates.get(aggregate_id)
        return None if cached is ABSENT else cached

    def keep(self, aggregates: Iterable[tuple[UUID, Any]]) -> None:
        """Put aggregates in the cache as the most recently used; forget the least recently used beyond
        its bounds."""
        cache = self.aggregates
        for aggregate_id, aggregate in aggregates:
            kept = ABSENT if aggregate is None else aggregate
            before = cache.pop(aggregate_id, UNCACHED)
            if before is not UNCACHED:
                self.events -= weight(before)
            cache[aggregate_id] = kept
            self.events += weight(kept)
        while len(cache) > CACHE_SIZE or (self.events > CACHE_EVENTS and cache):
            self.events -= weight(cache.popitem(last=False)[1])

    def clear(self) -> None:
        self.aggregates.clear()
        self.events = 0


def prefetch(commands: Iterable[intake.Command], fetch: Callable[[Iterable[UUID]], None],
             peek: Callable[[UUID], Any]) -> None:
    """Read the streams a batch's commands will look up, stage by stage (a voucher's id needs the area of
    the enterprise that a filing number names): ``fetch`` reads streams in one query, ``peek`` gives what
    the batch or the cache holds. See ``GrantsLedger.prefetch``."""
    commands = list(commands)
    filed = {c.ref: c.uscc for c in commands if isinstance(c, intake.Apply)}
    areas = {c.uscc: c.area for c in commands if isinstance(c, intake.Register)}
    ids = {ROSTER_ID, POLICY_BOOK_ID}
    for c in commands:
        if isinstance(uscc := getattr(c, "uscc", None), str):
            ids.add(enterprise_id(uscc))
        if isinstance(ref := getattr(c, "ref", None), str):
            ids.add(application_ref_id(ref))
    fetch(ids)
    owners: dict[str, str] = {}  # ref -> uscc of the commands that name a filed application
    for c in commands:
        ref = getattr(c, "ref", None)
        if isinstance(ref, str) and not isinstance(c, intake.Apply):
            index = peek(application_ref_id(ref))
            uscc = filed.get(ref) or (index.uscc if index is not None else None)
            if uscc is not None:
                owners[ref] = uscc
    fetch(enterprise_id(uscc) for uscc in owners.values())
    ids = set()
    for c in commands:
        if isinstance(c, (intake.Pay, intake.Recover)) and c.ref in owners:
            uscc = owners[c.ref]
            enterprise = peek(enterprise_id(uscc))
            area = areas.get(uscc) or (enterprise.area if enterprise is not None else None)
            if area is not None:
                treasury = CITY if c.payer == CITY else area
                of = voucher_ref_id if isinstance(c, intake.Pay) else receipt_ref_id
                ids.add(of(treasury, c.voucher))
    fetch(ids)
