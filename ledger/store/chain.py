"""The tamper-evident hash chain over the event log (see docs/decisions/0007-tamper-evidence.md).

Each stored event, in the global order of its notification id (its *position*), gets a
link: ``hash = SHA-256(previous hash ‖ header ‖ SHA-256(state))``, where the header is
the position, the originator id (32 lowercase hex digits), the originator version and
the topic. The state is stored bytes as written; eventsourcing keeps the event's
recording time (``timestamp``) inside it, so the recording time is covered too.

A link row also keeps the fields it covers (originator id, version, topic, the state's
digest) and the position of the link before it, so a check can say *what* differs and
*which* event went missing, not only that something did. Pure functions: no database.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ledger.i18n import _

GENESIS = "0" * 64  # the "previous hash" of the first link
CHAIN_TABLE = "audit_chain"

# a stored event as read from the store: (position, originator id, version, topic, state)
Row = tuple[int, Any, int, str, bytes]


@dataclass(frozen=True)
class Link:
    position: int
    prev_position: int
    originator_id: str
    originator_version: int
    topic: str
    state_sha256: str
    hash: str

    def as_row(self) -> tuple[int, int, str, int, str, str, str]:
        return (self.position, self.prev_position, self.originator_id, self.originator_version, self.topic,
                self.state_sha256, self.hash)


_CANONICAL_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


def canonical_id(originator_id: Any) -> str:
    """32 lowercase hex digits, however the store hands the id over (SQLite text, PostgreSQL uuid)."""
    if isinstance(originator_id, UUID):
        return originator_id.hex
    text = str(originator_id)
    if len(text) == 32:
        return text
    if _CANONICAL_TEXT.match(text):  # how SQLite keeps it: UUID(text).hex without building the UUID
        return text.replace("-", "")
    return UUID(text).hex


def link_hash(prev_hash: str, position: int, originator_id: str, version: int, topic: str,
              state_digest: bytes) -> str:
    header = f"{position}\x00{originator_id}\x00{version}\x00{topic}\x00".encode()
    return hashlib.sha256(bytes.fromhex(prev_hash) + header + state_digest).hexdigest()


def extend(last_position: int, last_hash: str, rows: Iterable[Row]) -> list[Link]:
    """The links that seal ``rows`` (in position order) after the link (last_position, last_hash)."""
    links = []
    for position, originator_id, version, topic, state in rows:
        oid = canonical_id(originator_id)
        digest = hashlib.sha256(bytes(state)).digest()
        h = link_hash(last_hash, position, oid, version, topic, digest)
        links.append(Link(position, last_position, oid, version, topic, digest.hex(), h))
        last_position, last_hash = position, h
    return links


class ChainMismatch(Exception):
    """A write found that the log no longer ends where its chain does: events were removed (or the log
    rewritten) behind the ledger's back. Nothing was written; retrying cannot help."""

    code = "chain-mismatch"

    def __init__(self, position: int) -> None:
        self.position = position
        super().__init__(_("the event log does not match its hash chain: the chain's last link seals an event at "
                           "position {position} that the log no longer holds there (events were removed or the log "
                           "rewritten behind the ledger's back). Nothing was written, and nothing can be until it is "
                           "put right: run `grants audit verify` to see what changed, then restore the ledger from "
                           "a backup").format(position=position))


# --- checking ---------------------------------------------------------------------

EDITED, REMOVED, INSERTED, CHAIN_EDITED, HEAD_MISMATCH, REMOVED_AT_END = (
    "event-edited", "event-removed", "event-inserted", "chain-edited", "head-mismatch", "events-removed-at-end")


@dataclass(frozen=True)
class Break:
    """The first place where the log and its chain disagree."""

    code: str
    position: int
    originator_id: str | None
    originator_version: int | None
    topic: str | None
    differs: str
    missing: tuple[int, int] | None = None  # events-removed-at-end: the first and last positions missing

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "position": self.position, "originator_id": self.originator_id,
                "originator_version": self.originator_version, "topic": self.topic, "differs": self.differs,
                "missing": list(self.missing) if self.missing else None}


@dataclass
class Walk:
    """The result of walking the chain: how far it held, and the first break if any."""

    events: int = 0
    head_position: int = 0
    head_hash: str = GENESIS
    broken: Break | None = None


def walk(pairs: Iterable[tuple[Row | None, tuple[Any, ...] | None]]) -> Walk:
    """Recompute the chain over (event row, link row) pairs merged by position, stopping at the first break.

    A link row is (position, prev_position, originator_id, version, topic, state_sha256, hash).
    """
    result = Walk()
    for _row in sealed(pairs, result):
        pass
    return result


def sealed(pairs: Iterable[tuple[Row | None, tuple[Any, ...] | None]], result: Walk) -> Iterator[Row]:
    """``walk`` as a stream: each event row is yielded once its link holds, so a caller can read the
    log in the same pass as the chain proves it. At the first break nothing more is yielded; ``result``
    is complete once the rows are exhausted."""
    sha256 = hashlib.sha256
    prev = bytes.fromhex(result.head_hash)
    for event, link in pairs:
        if event is None:
            assert link is not None
            result.broken = Break(REMOVED, link[0], link[2], link[3], link[4],
                                  _("the chain seals an event at this position that is no longer in the log"))
            result.head_hash = prev.hex()
            return
        position, originator_id, version, topic, state = event
        if link is None:
            result.broken = Break(INSERTED, position, canonical_id(originator_id), version, topic,
                                  _("this event is in the log but was never sealed into the chain (written behind the "
                                    "ledger's back)"))
            result.head_hash = prev.hex()
            return
        oid = originator_id.hex if isinstance(originator_id, UUID) else canonical_id(originator_id)
        digest = sha256(state).digest()
        raw = sha256(prev + f"{position}\x00{oid}\x00{version}\x00{topic}\x00".encode() + digest).digest()
        if raw.hex() != link[6]:
            result.broken = _explain(result, event, oid, digest, link, raw.hex())
            result.head_hash = prev.hex()
            return
        result.events += 1
        result.head_position, prev = position, raw
        yield event
    result.head_hash = prev.hex()


def _explain(result: Walk, event: Row, oid: str, digest: bytes, link: tuple[Any, ...], h: str) -> Break:
    position, _id, version, topic, _state = event
    if link[1] != result.head_position:
        return Break(REMOVED, position, oid, version, topic,
                     _("the chain links this event to position {linked}, but the event before it in the log is at "
                       "{before}: the events in between were removed").format(linked=link[1],
                                                                              before=result.head_position))
    differs = []
    if link[2] != oid:
        differs.append(_("originator id {sealed} -> {now}").format(sealed=link[2], now=oid))
    if link[3] != version:
        differs.append(_("version {sealed} -> {now}").format(sealed=link[3], now=version))
    if link[4] != topic:
        differs.append(_("topic {sealed} -> {now}").format(sealed=link[4], now=topic))
    if link[5] != digest.hex():
        differs.append(_("state (sha256 {sealed}… -> {now}…)").format(sealed=link[5][:16], now=digest.hex()[:16]))
    if differs:
        return Break(EDITED, position, link[2], link[3], link[4], "; ".join(differs))
    return Break(CHAIN_EDITED, position, oid, version, topic,
                 _("the event matches its sealed fields but the chain's hash does not ({stored}… stored, {recomputed}… "
                   "recomputed): the chain itself was rewritten").format(stored=link[6][:16], recomputed=h[:16]))


def removed_at_end(walk: Walk, reached: int, witness: str) -> Break | None:
    """A cut tail: the chain holds to its end, but ``witness`` (the read models, a noted head) saw the log reach
    position ``reached`` beyond it. The last events were removed together with their links, which the chain
    alone cannot tell from a log that was never longer."""
    if walk.broken is not None or reached <= walk.head_position:
        return None
    first = walk.head_position + 1
    return Break(REMOVED_AT_END, first, None, None, None,
                 _("the log and its chain end at position {end}, but {witness} reached position {reached}: the "
                   "events from position {first} to {reached} were removed, together with their links").format(
                     end=walk.head_position, witness=witness, reached=reached, first=first),
                 missing=(first, reached))


def merge(events: Iterator[Row], links: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Row | None, Any]]:
    """Pair event rows and link rows by position (both in position order)."""
    event = next(events, None)
    link = next(links, None)
    while event is not None or link is not None:
        if link is None or (event is not None and event[0] < link[0]):
            yield event, None
            event = next(events, None)
        elif event is None or link[0] < event[0]:
            yield None, link
            link = next(links, None)
        else:
            yield event, link
            event, link = next(events, None), next(links, None)
