"""The whole-ledger checks of ``grants audit verify``: replay the log into the aggregates
(``ledger.domain.validation``) and compare the read models with it.

``verify`` does it in the same pass as the hash chain: one read of the stored rows, in
one snapshot, each row replayed as soon as its link holds. ``run_checks`` replays on its
own (after the read models were brought up to date, when that moved them)."""

from __future__ import annotations

import gc
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import resolve_topic
from sqlalchemy import Engine, func, inspect, select

from ledger.domain.aggregates import ROSTER_ID
from ledger.domain.areas import CITY, COUNTY
from ledger.domain.money import amount
from ledger.domain.validation import REPLAY_FAILED, VIEWS_DISAGREE, Finding, History, Unreadable, replay
from ledger.errors import NOT_AUTHORISED
from ledger.i18n import _
from ledger.labels import label
from ledger.service.application import GrantsLedger
from ledger.store import chain
from ledger.text import shown
from projections import audit_log, runner, schema, views_check
from projections.totals_check import check_totals

PAGE = 5000
PROGRESS_EVERY = 1000


def decoded(ledger: GrantsLedger, rows: Iterable[chain.Row], progress: Callable[[int], None] | None = None,
            projected: views_check.Projected | None = None, upto: int | None = None) -> Iterator[tuple[int, Any]]:
    """Stored rows (position, originator id, version, topic, state) as (position, domain event), each the
    object the ledger's own mapper makes of it; a row it cannot read is ``Unreadable`` (a finding, not a
    crash). ``progress(position)`` is told every ``PROGRESS_EVERY`` rows, and at the end. Each event up to
    ``upto`` also goes to ``projected`` (the read models as the log gives them), before it is yielded."""
    read = _Reader(ledger.mapper)
    position = count = 0
    for position, originator_id, version, topic, state in rows:
        try:
            ev = read(originator_id, version, topic, state)
        except Exception as exc:  # noqa: BLE001 - an event that cannot be read is a finding, not a crash
            ev = Unreadable(topic, exc, _uuid(originator_id), version)
        if projected is not None and upto is not None and position <= upto:
            projected.add(position, topic, ev)
        yield position, ev
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(position)
    if progress is not None:
        progress(position)


def _uuid(originator_id: Any) -> UUID | None:
    """The stored originator id as a UUID, when it is one (a row past the ledger may hold anything)."""
    try:
        return originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))
    except ValueError:
        return None


class _Reader:
    """``mapper.to_domain_event`` for a whole log: the same object, made the way the mapper makes it (the
    state decoded by its transcoder, the originator id and version set, no constructor run), without what
    the mapper looks up again for every event: the id's type and convertor, a UUID parsed afresh for each
    event of a stream. Whatever this does not take on itself (a cipher or a compressor, an event class
    that upcasts or keeps its ids as text) and any row it cannot read go to the mapper itself, so an event
    that cannot be read fails with the mapper's own error. ``tests/integration/test_audit_pass.py`` holds
    it to the mapper, event by event."""

    IDS = 100_000  # parsed ids kept (the enterprises'; an index aggregate's id is seen once)

    def __init__(self, mapper: Mapper[Any]) -> None:
        self.mapper = mapper
        self.decode = mapper.transcoder.decode if mapper.cipher is None and mapper.compressor is None else None
        self.classes: dict[str, type | None] = {}  # topic -> class the lean way takes, or None: the mapper's
        self.ids: dict[Any, UUID] = {}

    def __call__(self, originator_id: Any, version: int, topic: str, state: bytes) -> Any:
        try:
            cls = self.classes[topic]
        except KeyError:
            cls = self.classes[topic] = self._lean_class(topic)
        if cls is not None:
            try:
                event = self._lean(cls, originator_id, version, state)
            except Exception:  # noqa: BLE001 - the mapper reads it again and says what is wrong
                event = None
            if event is not None:
                return event
        return self.mapper.to_domain_event(StoredEvent(originator_id, version, topic, state))

    def _lean_class(self, topic: str) -> type | None:
        if self.decode is None:
            return None
        try:
            cls = resolve_topic(topic)
        except Exception:  # noqa: BLE001 - the mapper says what is wrong
            return None
        if not isinstance(cls, type) or getattr(cls, "originator_id_type", None) is not UUID:
            return None
        return None if getattr(cls, "class_version", 1) != 1 else cls

    def _lean(self, cls: type, originator_id: Any, version: int, state: bytes) -> Any | None:
        """The event, or None where the mapper must make it."""
        assert self.decode is not None
        event_state = self.decode(state)
        if not isinstance(event_state, dict) or "class_version" in event_state:
            return None
        uuid = self.ids.get(originator_id)
        if uuid is None:
            if len(self.ids) >= self.IDS:
                self.ids.clear()
            uuid = self.ids[originator_id] = originator_id if isinstance(originator_id, UUID) else UUID(originator_id)
        event_state["originator_id"] = uuid
        event_state["originator_version"] = version
        event: Any = object.__new__(cls)
        object.__setattr__(event, "__dict__", event_state)
        return event


def _notifications(ledger: GrantsLedger, stop: int) -> Iterator[chain.Row]:
    start = 1
    while start <= stop:
        page = ledger.recorder.select_notifications(start=start, limit=PAGE, stop=stop)
        if not page:
            return
        for n in page:
            yield n.id, n.originator_id, n.originator_version, n.topic, n.state
        start = page[-1].id + 1


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """The replay makes a great many small objects that live to its end and form no cycles: the cyclic
    collector would walk them again and again for nothing to free (with it on, reading and replaying
    50,000 events took a fifth to a half longer)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def run_checks(ledger: GrantsLedger, engine: Engine, progress: Callable[[int], None] | None = None
               ) -> tuple[int, list[Finding]]:
    """Replay the whole log, run every check, and compare the read models with the log as it stood at their
    position (a reader who may not bring them up to date still has every event checked); (events replayed,
    findings).

    ``progress(position)`` is told the position replayed up to, every ``PROGRESS_EVERY`` events."""
    upto = runner.position(engine)
    end = ledger.recorder.max_notification_id() or 0
    projected = views_check.Projected()
    try:
        with _no_cyclic_gc():
            history, found = replay(decoded(ledger, _notifications(ledger, end), progress, projected, upto),
                                    checkpoint=upto, at_checkpoint=lambda h: _compare_views(h, engine, projected, upto))
    finally:
        projected.close()
    return history.events, _about_writers(ledger, engine, found, end)


def _about_writers(ledger: GrantsLedger, engine: Engine, found: list[Finding], upto: int) -> list[Finding]:
    """What the database says of who wrote the events: the writers of those the replay cannot take, and the
    events stamped by another role than their recorder's (both passes of verify)."""
    return _with_writers(ledger, engine, found) + _stamped_by_another(ledger, engine, upto)


def _compare_views(h: History, engine: Engine, projected: views_check.Projected, upto: int) -> list[Finding]:
    """The read models row by row against the log projected by the runner's own handlers (``views_check``):
    rows that differ are the news, named with their table and key (what they put wrong in the sums and the
    aggregates' figures follows from them). Rows that agree are then held to the replayed aggregates and the
    totals to the entries (``check_views``), which names a fault of the handlers themselves: on the projection
    in memory, which holds the very rows the views do (and is read faster)."""
    projected.finish()
    return views_check.compare(projected, engine, upto) or check_views(h, projected.engine)


@dataclass(frozen=True)
class Verified:
    """The outcome of ``verify``: the chain's, and the checks' (meaningless when the chain is broken)."""

    walk: chain.Walk
    mismatch: chain.Break | None
    views_at: int | None  # the read models' position they were compared at; None: not compared
    replayed: int
    findings: list[Finding]


def views_position(engine: Engine) -> int | None:
    """Where the read models stand, when they exist in the shape this code reads; None otherwise."""
    if not runner.views_exist(engine):
        return None
    t = schema.tracking
    with engine.connect() as conn:
        stand = {name: position for name, position in conn.execute(select(t.c.name, t.c.position))}
    return stand.get(runner.TRACKING_NAME) if stand.get(runner.VERSION_NAME) == schema.VIEWS_VERSION else None


def views_reached(engine: Engine) -> int:
    """The furthest position of the log the read models have seen: their tracking position and the newest
    position their rows carry (0 without read models). Read before the log is, it can only be at or behind
    the log's end, unless events were removed since."""
    names = set(inspect(engine).get_table_names())
    reached = 0
    with engine.connect() as conn:
        t = schema.tracking
        if t.name in names:
            found = conn.execute(select(func.max(t.c.position)).where(t.c.name == runner.TRACKING_NAME)).scalar()
            reached = max(reached, int(found or 0))
        for table in (schema.entries, schema.policy_versions):
            if table.name in names:
                reached = max(reached, int(conn.execute(select(func.max(table.c.position))).scalar() or 0))
    return reached


def cut_tail(walk: chain.Walk, reached: int, head: audit_log.Head | None) -> chain.Break | None:
    """``events-removed-at-end`` when the read models (``reached``, from ``views_reached``) or a noted head saw
    the log go further than its chain now ends; None otherwise (and when the chain broke before its end)."""
    if head is not None and head.position > reached:
        return chain.removed_at_end(walk, head.position, _("the noted head {head}").format(head=head))
    return chain.removed_at_end(walk, reached, _("the read models"))


def verify(ledger: GrantsLedger, engine: Engine, head: audit_log.Head | None = None,
           chain_progress: Callable[[int], None] | None = None,
           replay_progress: Callable[[int], None] | None = None) -> Verified:
    """The hash chain and the whole-ledger checks in one pass over the stored rows, in one snapshot: each row
    is replayed as soon as its link holds, and the read models are compared with the log where they stand
    now (``views_at``), without bringing them up to date first (a log whose chain is broken must not be
    projected). The caller that then brings them up to date keeps these findings only if that leaves them
    where they were compared (``run_checks`` otherwise)."""
    views_at = views_position(engine)
    done: list[tuple[History, list[Finding]]] = []
    failed: list[Exception] = []
    projected = views_check.Projected() if views_at is not None else None

    def consume(rows: Iterator[chain.Row]) -> None:
        try:
            with _no_cyclic_gc():
                done.append(replay(decoded(ledger, rows, replay_progress, projected, views_at), views_at,
                                   None if projected is None or views_at is None else
                                   lambda h: _compare_views(h, engine, projected, views_at)))
        except Exception as exc:  # noqa: BLE001 - raised below, unless the chain broke: then the break is the news
            failed.append(exc)

    try:
        walk, mismatch = audit_log.verify_chain(engine, ledger.recorder.events_table_name, head, chain_progress,
                                                consume)
    finally:
        if projected is not None:
            projected.close()
    if failed and not (walk.broken or mismatch):
        raise failed[0]
    history, found = done[0] if done else (History(), [])
    return Verified(walk, mismatch, views_at, history.events,
                    _about_writers(ledger, engine, found, walk.head_position))


def _stamped_by_another(ledger: GrantsLedger, engine: Engine, upto: int) -> list[Finding]:
    """PostgreSQL, enforced mode: every event is inserted by the database role of the operator who recorded it
    (the ledger refuses a command whose operator is not the session's role; the stamping trigger refuses such a
    row from anyone but the owner). An event recorded since enforcement began whose ``recorded_by`` is not the
    role the database stamped (``db_user``) was written past the ledger, by the owner or with the trigger
    lifted: named, with both names (issue 19). The first two rows of the roster, which start enforcement,
    are the switch itself."""
    table = ledger.recorder.events_table_name
    if not _stamps_db_user(engine, table):
        return []
    roster = f"'{ROSTER_ID}'::uuid"
    query = (f"SELECT notification_id, topic, db_user, convert_from(state, 'UTF8')::jsonb->>'recorded_by' "  # noqa: S608
             f"FROM {table} WHERE db_user IS NOT NULL AND notification_id <= {int(upto)} AND notification_id > "
             f"(SELECT coalesce(max(notification_id), {int(upto)}) FROM {table} WHERE originator_id = {roster} "
             "AND originator_version = 2) "
             "AND (convert_from(state, 'UTF8')::jsonb->>'recorded_by') IS DISTINCT FROM db_user "
             "ORDER BY notification_id LIMIT 1000")
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(query).all()
    return [Finding(NOT_AUTHORISED, int(position), None, None,
                    _("{topic} recorded by {name} but inserted by the database role {role}: written past the "
                      "ledger").format(topic=shown(topic), name=shown(claimed or "-"), role=shown(role)))
            for position, topic, role, claimed in rows]


def _stamps_db_user(engine: Engine, table: str) -> bool:
    """Whether the event table has the ``db_user`` column the database stamps (PostgreSQL, identity installed)."""
    return engine.dialect.name == "postgresql" and any(
        c["name"] == "db_user" for c in inspect(engine).get_columns(table))


def _with_writers(ledger: GrantsLedger, engine: Engine, found: list[Finding]) -> list[Finding]:
    """An event the replay cannot take (a row written past the ledger, issue 19) is named with who wrote it: the
    operator its state says recorded it, and on PostgreSQL the database role that inserted it (``db_user``,
    stamped by the database whatever the row says). Read for those rows only, after the replay."""
    positions = sorted({f.position for f in found if f.code == REPLAY_FAILED and f.position is not None})
    if not positions:
        return found
    table = ledger.recorder.events_table_name
    postgres = engine.dialect.name == "postgresql"
    column = "notification_id" if postgres else "rowid"
    stamped = _stamps_db_user(engine, table)
    writers: dict[int, str] = {}
    with engine.connect() as conn:
        for row in conn.exec_driver_sql(
                f"SELECT {column}, state{', db_user' if stamped else ''} FROM {table} "  # noqa: S608 - our names
                f"WHERE {column} IN ({', '.join(str(int(p)) for p in positions)})"):
            try:
                state = json.loads(bytes(row[1]))
                claimed = state.get("recorded_by") or state.get("by") if isinstance(state, dict) else None
            except ValueError:
                claimed = None
            role = row[2] if stamped else None
            parts = [_("recorded by {name}").format(name=shown(claimed))] if isinstance(claimed, str) else []
            if role:
                parts.append(_("inserted by the database role {role}").format(role=shown(role)))
            if parts:
                writers[int(row[0])] = "; ".join(parts)
    return [replace(f, message=f"{f.message} ({writers[f.position]})")
            if f.code == REPLAY_FAILED and f.position in writers else f for f in found]


def check_views(h: History, engine: Engine) -> list[Finding]:
    """Read models that disagree with the log: each enterprise (name, area, awards under other policies),
    each application's status, award and halves, and what each payer has paid on it net, recomputed from
    the replayed aggregates."""
    a, x = schema.applications, schema.entries
    with engine.connect() as conn:
        stored = {r.ref: r for r in conn.execute(select(a.c.ref, a.c.uscc, a.c.status, a.c.awarded_fen,
                                                        a.c.city_share_fen, a.c.county_share_fen))}
        paid: dict[tuple[str, str], int] = defaultdict(int)
        for ref, payer, total in conn.execute(
                select(x.c.ref, x.c.payer, func.sum(x.c.amount_fen)).where(x.c.kind.in_(schema.PAID_KINDS))
                .group_by(x.c.ref, x.c.payer)):
            paid[(ref, payer)] = int(total)
        owed: dict[str, int] = {ref: int(total) for ref, total in conn.execute(
            select(x.c.ref, func.sum(x.c.amount_fen)).where(x.c.kind.in_(schema.OWED_KINDS)).group_by(x.c.ref))}
        external: dict[str, int] = {uscc: int(total) for uscc, total in conn.execute(
            select(x.c.uscc, func.sum(x.c.amount_fen)).where(x.c.kind == schema.EXTERNAL).group_by(x.c.uscc))}
        e = schema.enterprises
        registered = {r.uscc: (r.name, r.area) for r in conn.execute(select(e.c.uscc, e.c.name, e.c.area))}
    found: list[Finding] = []
    seen = set()
    for enterprise in h.enterprises.values():
        if registered.pop(enterprise.uscc, None) != (enterprise.name, enterprise.area):
            found.append(Finding(VIEWS_DISAGREE, None, None, enterprise.uscc,
                                 _("the enterprise's name or area in the read models is not the log's")))
        in_log = sum(a.amount_fen for a in enterprise.external_awards)
        if external.get(enterprise.uscc, 0) != in_log:
            found.append(Finding(VIEWS_DISAGREE, None, None, enterprise.uscc,
                                 _("awards under other policies: {views} in the views, {log} in the log").format(
                                     views=amount(external.get(enterprise.uscc, 0)), log=amount(in_log))))
        for app in enterprise.applications.values():
            seen.add(app.ref)
            row = stored.get(app.ref)
            if row is None:
                found.append(Finding(VIEWS_DISAGREE, None, app.ref, enterprise.uscc,
                                     _("the application is in the log but not in the read models")))
                continue
            log_side = {"status": app.status, "awarded_fen": app.awarded_fen, "city_share_fen": app.city_share_fen,
                        "county_share_fen": app.county_share_fen,
                        "owed_fen": app.awarded_fen if app.status == "approved" else 0,
                        "city_paid_fen": app.paid_fen(CITY), "county_paid_fen": app.paid_fen(COUNTY)}
            view_side = {"status": row.status, "awarded_fen": row.awarded_fen, "city_share_fen": row.city_share_fen,
                         "county_share_fen": row.county_share_fen, "owed_fen": owed.get(app.ref, 0),
                         "city_paid_fen": paid[(app.ref, CITY)], "county_paid_fen": paid[(app.ref, COUNTY)]}
            differs = [_("{name} {views} in the views, {log} in the log").format(
                name=k, views=_value(k, view_side[k]), log=_value(k, v)) for k, v in log_side.items()
                       if view_side[k] != v]
            if differs:
                found.append(Finding(VIEWS_DISAGREE, None, app.ref, enterprise.uscc,
                                     _("{differences} (grants projections rebuild puts the views right)").format(
                                         differences="; ".join(differs))))
    for uscc in sorted(registered):
        found.append(Finding(VIEWS_DISAGREE, None, None, uscc,
                             _("the enterprise is in the read models but not in the log")))
    for ref in sorted(set(stored) - seen):
        found.append(Finding(VIEWS_DISAGREE, None, ref, stored[ref].uscc,
                             _("the application is in the read models but not in the log")))
    found.extend(check_totals(engine))  # the summary tables the reports read, against the entries compared above
    return found


def _value(name: str, value: Any) -> str:
    """A compared value as people read it: amounts in yuan, statuses in words."""
    if name.endswith("_fen") and isinstance(value, int):
        return amount(value)
    return label(str(value))
