"""Malformed events and their set-asides (issue 19): a stream that does not replay is read with the events an
admin set aside in their places, else refused malformed-event, never a crash; and what is wrong with the event
at a position of the log, which only then may be set aside."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import project_aggregate

from ledger.domain import event_fields
from ledger.domain.aggregates import SET_ASIDES_ID, SetAside, SetAsideEvent, SetAsides
from ledger.errors import MALFORMED_EVENT, WRONG_STATE, Refused, invalid
from ledger.i18n import _
from ledger.service.unit_of_work import UNREADABLE
from ledger.text import shown

if TYPE_CHECKING:
    from ledger.service.application import GrantsLedger

_BEFORE_ALL = datetime(1, 1, 1, tzinfo=UTC)  # the recording time shown for a stream's first event set aside


def events_setting_aside(ledger: GrantsLedger, aggregate_id: UUID, exc: Exception, stored: Any = None) -> list[Any]:
    """The events of a stream that failed to replay (``exc``), with those an admin set aside in their places
    (``SetAsideEvent``), checked to replay; else refused malformed-event. Only a stream that fails to replay
    comes here, so the set-asides are looked up only then (and read like any other stream: a set-aside
    recorded meanwhile makes the decision run again)."""
    skipped = set_aside_in(ledger, aggregate_id)
    if skipped:
        try:
            events = events_without(ledger, aggregate_id, skipped, stored)
            project_aggregate(None, events)
            return events
        except UNREADABLE as again:
            exc = again
    raise malformed(ledger, aggregate_id, exc, skipped) from exc


def set_aside_in(ledger: GrantsLedger, aggregate_id: UUID) -> dict[int, SetAside]:
    """The set-asides of one stream, by the version of the event set aside (none for the set-asides' own)."""
    if aggregate_id == SET_ASIDES_ID:
        return {}
    book: SetAsides | None = ledger._get(SET_ASIDES_ID)
    return book.of_stream(aggregate_id) if book is not None else {}


def events_without(ledger: GrantsLedger, aggregate_id: UUID, skipped: dict[int, SetAside],
                   stored: Any = None) -> list[Any]:
    """The stream's events decoded, each one set aside replaced by its place (never decoded)."""
    events: list[Any] = []
    stamp = _BEFORE_ALL
    for row in stored if stored is not None else ledger.recorder.select_events(aggregate_id):
        aside = skipped.get(row.originator_version)
        if aside is not None:
            events.append(SetAsideEvent(aggregate_id, row.originator_version, stamp, row.topic, aside.date,
                                        aside.by, aside.reason))
            continue
        event: Any = ledger.mapper.to_domain_event(row)
        stamp = event.timestamp
        events.append(event)
    return events


def malformed(ledger: GrantsLedger, aggregate_id: UUID, exc: Exception,
              skipped: dict[int, SetAside] | None = None) -> Refused:
    """A stream whose events the aggregate cannot take (a row written past the ledger, issue 19): nothing
    about its subject can be decided on it, which is said, not a crash; the rest of the ledger goes on."""
    version, topic, aggregate = "?", "?", None
    for stored in ledger.recorder.select_events(aggregate_id):
        if skipped and stored.originator_version in skipped:
            if aggregate is not None:
                aggregate.version = stored.originator_version
            continue
        try:
            event: Any = ledger.mapper.to_domain_event(stored)
            aggregate = event.mutate(aggregate)
        except Exception:  # noqa: BLE001 - looking for the first event that does not read
            version, topic = str(stored.originator_version), stored.topic
            break
    return Refused(MALFORMED_EVENT, _("the record {id} cannot be read: its event {version} ({topic}) is not one the "
                                      "ledger writes ({error}); nothing about it is decided until it is set "
                                      "aside. Run grants audit verify, which names it").format(
        id=aggregate_id, version=version, topic=shown(topic), error=f"{type(exc).__name__}: {exc}"))


def stored_at(ledger: GrantsLedger, position: int) -> Any:
    """The stored event at a position of the log; refused when there is none."""
    found = ledger.recorder.select_notifications(start=position, limit=1)
    if not found or found[0].id != position:
        raise invalid("position", _("no event is stored at position {position}; the log ends at {end}").format(
            position=position, end=ledger.recorder.max_notification_id() or 0))
    return found[0]


def problem_of(ledger: GrantsLedger, row: Any, book: SetAsides | None, position: int) -> str:
    """What is wrong with the stored event ``row``: it cannot be decoded, lacks a field or holds one of the
    wrong type (``ledger.domain.event_fields``), or its stream cannot take it after the events before it (those
    set aside passed over). Refused wrong-state when it reads fine: only a malformed event is set aside."""
    originator = UUID(str(row.originator_id))
    if originator == SET_ASIDES_ID:
        raise Refused(WRONG_STATE, _("position: the event at position {position} is itself a set-aside; it "
                                     "cannot be set aside").format(position=position), field="position")
    try:
        event: Any = ledger.mapper.to_domain_event(row)
    except Exception as exc:  # noqa: BLE001 - a row that cannot be decoded is the case in point
        return f"{type(exc).__name__}: {exc}"
    missing = event_fields.missing(row.topic, event)
    if missing:
        return _("missing fields: {fields}").format(fields=", ".join(sorted(missing)))
    skipped = book.of_stream(originator) if book is not None else {}
    aggregate = None
    for before in ledger.recorder.select_events(originator, lte=row.originator_version - 1):
        try:
            if before.originator_version in skipped:
                raise LookupError(before.originator_version)
            earlier: Any = ledger.mapper.to_domain_event(before)
            aggregate = earlier.mutate(aggregate)
        except Exception:  # noqa: BLE001 - an earlier event that does not read is passed over, as verify does
            if aggregate is not None:
                aggregate.version = before.originator_version
    try:
        event.mutate(aggregate)
    except Exception as exc:  # noqa: BLE001 - the event its stream cannot take is the case in point
        return f"{type(exc).__name__}: {exc}"
    raise Refused(WRONG_STATE, _("position: the event at position {position} ({topic}, event {version} of "
                                 "{id}) reads fine; only a malformed event may be set aside").format(
        position=position, topic=shown(row.topic), version=row.originator_version, id=originator),
        field="position")
