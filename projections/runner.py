"""Keeping the read models up to date from the event log.

A polling catch-up: read notifications after the tracked position, apply them
to the view tables and move the position, all in one database transaction, so
each event is applied exactly once even if the process dies half-way or two
processes catch up at the same time (the tracking row is locked first:
``BEGIN IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` on PostgreSQL).

This works the same on both stores, which the library's subscription-based
ProjectionRunner does not (its SQLite recorder has no subscriptions).

Why one module of ~600 lines (issue 21 asks a reason above ~400): the catch-up's transaction,
the handlers of every event (``ViewUpdater``) and the pending writes they share are one unit of
work: a handler writes into the pass's pending rows, which the transaction flushes with the
tracking position; apart, each half would reach into the other's state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic
from sqlalchemy import Connection, Date, Engine, Table, bindparam, create_engine, event, insert, select, update
from sqlalchemy.exc import NoResultFound, OperationalError

from ledger.domain import event_fields
from ledger.domain.aggregates import (
    APPROVED,
    REJECTED,
    REVOKED,
    SUBMITTED,
    WITHDRAWN,
    ApplicationRef,
    Enterprise,
    ImportRun,
    OperatorRoster,
    PolicyBook,
    ReceiptRef,
    SetAsides,
    TaskQuota,
    VoucherRef,
)
from ledger.domain.areas import CITY, COUNTY
from ledger.domain.kinds import event_class, event_classes
from ledger.domain.validation import Unreadable
from ledger.i18n import _
from ledger.service.application import GrantsLedger
from ledger.store.errors import is_conflict
from ledger.store.storage import SQLITE, Store, postgres_options
from projections import schema
from projections.bulk import copy_rows
from projections.known_at import micros
from projections.totals import Totals

log = structlog.get_logger("grants.projections")

TRACKING_NAME = "ledger-views"
PAGE = 1000
REMEMBERED = 30_000  # enterprises' areas and ids and applications' keys a pass keeps in memory


def make_engine(store: Store) -> Engine:
    """A SQLAlchemy engine on the ledger's database; on SQLite, write transactions lock at BEGIN."""
    if store.kind == SQLITE:
        engine = create_engine(store.sqlalchemy_url, connect_args={"timeout": store.lock_timeout})

        @event.listens_for(engine, "connect")
        def _autocommit(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # let the "begin" hook below issue BEGIN itself

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # Every wait for a lock (the tracking row, a view row) is bounded as the event store's is: past it the
    # database says lock_not_available, which the commands report as `locked` (exit 4); every statement too.
    return create_engine(store.sqlalchemy_url, pool_pre_ping=True,
                         connect_args={"options": postgres_options(store.lock_timeout)})


VERSION_NAME = "ledger-views-version"


VIEWS_LOCK = 0x6772616E7473  # an advisory-lock key of the grants ledger's views (PostgreSQL)


def create_views(engine: Engine) -> None:
    """Create the view tables; views of an older shape are dropped and replayed from the log.

    One transaction, serialised between processes (BEGIN IMMEDIATE on SQLite, an
    advisory lock on PostgreSQL), so two first commands never trip over each other.
    """
    track = schema.tracking
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({VIEWS_LOCK})")
        schema.metadata.create_all(conn)
        shape = conn.execute(select(track.c.position).where(track.c.name == VERSION_NAME)).scalar()
        if shape == schema.VIEWS_VERSION:
            return
        if conn.execute(select(track.c.name)).first() is not None:
            log.info("view tables of an older shape: rebuilding them from the log", shape=shape,
                     now=schema.VIEWS_VERSION)
            for table in reversed(schema.VIEW_TABLES):
                table.drop(conn)
            schema.metadata.create_all(conn)
            conn.execute(track.delete())
        conn.execute(insert(track).values(name=TRACKING_NAME, position=0))
        conn.execute(insert(track).values(name=VERSION_NAME, position=schema.VIEWS_VERSION))
        if engine.dialect.name == "postgresql":
            _grant_views_again(conn)


def _grant_views_again(conn: Connection) -> None:
    """The view tables are new: give every operator's role its privileges on them again (issue 19: else a new
    views version leaves every report but the owner's at exit 5 until `admin grant` is run for each)."""
    from projections import identity

    table = identity.GRANTED_TABLE
    if conn.exec_driver_sql(f"SELECT to_regclass('{table}') IS NOT NULL").scalar():
        granted = [(str(name), bool(records)) for name, records in
                   conn.exec_driver_sql(f'SELECT name, records FROM "{table}" ORDER BY name')]
        existing = {str(r[0]) for r in conn.exec_driver_sql("SELECT rolname FROM pg_roles")}
        for statement in identity.view_grant_statements([g for g in granted if g[0] in existing]):
            conn.exec_driver_sql(statement)


def views_exist(engine: Engine) -> bool:
    from sqlalchemy import inspect

    return inspect(engine).has_table(schema.tracking.name)


class ViewUpdater:
    """Applies events to the view tables inside the caller's transaction, in batches.

    ``apply`` only collects rows; ``flush`` writes them, one ``executemany`` per table and
    kind of update (statements built once, at module level), and must be called before the
    transaction commits. Rows the pass itself created are remembered in memory, so a later
    event of the same batch (an approval of an application submitted a few events before)
    never needs them in the database: an update of an application still waiting to be
    inserted changes the waiting row, and updates of rows already written are merged per
    application, in event order, and written after the inserts.
    """

    def __init__(self, conn: Connection, *, rebuild: bool = False) -> None:
        self.conn = conn
        self._areas: dict[str, str] = {}
        self._usccs: dict[str, str] = {}
        self._applications: dict[str, tuple[str, str]] = {}
        self._revoked_on: dict[str, Any] = {}  # ref -> the day its award was revoked, or None
        self._inserts: dict[Table, list[dict[str, Any]]] = {table: [] for table in schema.VIEW_TABLES}
        self._new_enterprises: dict[str, dict[str, Any]] = {}  # uscc -> its row, not yet inserted
        self._new_applications: dict[str, dict[str, Any]] = {}  # ref -> its row, not yet inserted
        self._updates: dict[str, dict[str, Any]] = {}  # ref -> columns to set, of rows already written
        self._set_asides: list[dict[str, Any]] = []  # malformed events set aside by this page
        self.totals = Totals(conn, rebuild=rebuild)

    def area_of(self, uscc: str) -> str:
        if uscc not in self._areas:
            self._areas[uscc] = self.conn.execute(_AREA_OF, {"b_uscc": uscc}).scalar_one()
        return self._areas[uscc]

    def application_of(self, ref: str) -> tuple[str, str]:
        """(uscc, measure) of an application, remembered for the rest of the pass."""
        if ref not in self._applications:
            row = self.conn.execute(_APPLICATION_OF, {"b_ref": ref}).one()
            self._applications[ref] = (row.uscc, row.measure)
            self._revoked_on[ref] = row.revoked_on
        return self._applications[ref]

    def apply(self, position: int, topic: str, ev: Any) -> None:
        handler = HANDLERS.get(topic)
        if handler is not None:
            handler(self, position, ev)
        elif topic not in IGNORED:
            raise UnknownTopic(_("event {position} has topic {topic}, which no read model handles or ignores").format(
                position=position, topic=topic))

    def apply_page(self, notifications: list[Any], mapper: Any) -> None:
        """Apply a page of the log: its events decoded, what they look up in the tables (the enterprise
        and measure of the applications they name, the enterprises' areas) read in a few queries for the
        whole page, then each event applied."""
        read: list[tuple[int, str, Any]] = []
        for n in notifications:
            try:
                read.append((n.id, n.topic, mapper.to_domain_event(n)))
            except Exception as exc:  # noqa: BLE001 - a row the ledger cannot read is recorded, never a stop
                read.append((n.id, n.topic, Unreadable(n.topic, exc)))
        self.apply_events(read)

    def apply_events(self, read: list[tuple[int, str, Any]]) -> None:
        """Apply (position, topic, domain event) in log order; an event the mapper could not read is given as
        ``Unreadable``. `audit verify` projects the log it replays through here (``projections.views_check``)."""
        events = []
        for position, topic, ev in read:
            if isinstance(ev, Unreadable):
                self._malformed(position, topic, ev.error)
                continue
            missing = event_fields.missing(topic, ev)
            if missing:
                self._malformed(position, topic, ValueError(_("missing fields: {fields}").format(
                    fields=", ".join(sorted(missing)))))
                continue
            events.append((position, topic, ev))
        self._read_ahead(events)
        for position, topic, ev in events:
            try:
                self.apply(position, topic, ev)
            except (LookupError, TypeError, ValueError, AttributeError, UnknownTopic, NoResultFound) as exc:
                # a well-formed event naming what the views do not hold (an application never filed, say)
                self._malformed(position, topic, exc)

    def _malformed(self, position: int, topic: str, error: Exception) -> None:
        """An event the read models cannot take (issue 19): recorded in ``rm_malformed`` and passed over, so one
        forged row does not stop the views for the whole ledger; `audit verify` names it (``replay-failed``)."""
        log.warning("event passed over by the read models", position=position, topic=topic,
                    error=f"{type(error).__name__}: {error}")
        self._inserts[schema.malformed].append({"position": position, "topic": str(topic)[:200],
                                                "error": f"{type(error).__name__}: {error}"[:1000],
                                                "set_aside_position": None, "set_aside_by": None,
                                                "set_aside_on": None, "set_aside_reason": None})

    def on_set_aside(self, position: int, ev: Any) -> None:
        """An admin set a malformed event aside: its row in ``rm_malformed`` says so (by whom, when, why, at
        which position); the event stays passed over. Written after the page's inserts (``flush``), so a
        malformed event and its set-aside in one page are both kept."""
        self._set_asides.append({"b_position": ev.position, "set_aside_position": position,
                                 "set_aside_by": ev.by, "set_aside_on": ev.date,
                                 "set_aside_reason": str(ev.reason)[:1000]})

    def _read_ahead(self, events: list[tuple[int, str, Any]]) -> None:
        refs = {ev.ref for _, topic, ev in events if topic in _NAMING_AN_APPLICATION} - self._applications.keys()
        ids = {str(ev.originator_id) for _, topic, ev in events if topic in _NAMING_AN_ENTERPRISE} - self._usccs.keys()
        for chunk in _chunks(sorted(refs)):
            for row in self.conn.execute(_APPLICATIONS_OF, {"b_refs": chunk}):
                self._applications[row.ref] = (row.uscc, row.measure)
                self._revoked_on[row.ref] = row.revoked_on
        for chunk in _chunks(sorted(ids)):
            for row in self.conn.execute(_ENTERPRISES_OF, {"b_ids": chunk}):
                self._usccs[row.enterprise_id] = row.uscc
                self._areas[row.uscc] = row.area
        usccs = {uscc for ref in refs if ref in self._applications
                 for uscc in (self._applications[ref][0],)} - self._areas.keys()
        for chunk in _chunks(sorted(usccs)):
            for row in self.conn.execute(_AREAS_OF, {"b_usccs": chunk}):
                self._areas[row.uscc] = row.area

    def flush(self) -> None:
        """Write the collected rows: inserts first (enterprises before the applications and entries
        that name them), then the merged updates of applications written by earlier batches, then
        the totals of the page (``projections.totals``)."""
        for table, rows in self._inserts.items():
            if rows:
                self._write(table, rows)
                rows.clear()
        self._new_enterprises.clear()
        self._new_applications.clear()
        by_columns: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        # dates as ISO text on SQLite, as ``_write`` writes them
        dates = _DATE_COLUMNS[schema.applications.name] if self.conn.dialect.name == "sqlite" else frozenset()
        for ref, values in self._updates.items():
            columns = tuple(sorted(values))
            by_columns.setdefault(columns, []).append(
                (*(_iso(values[c]) if c in dates else values[c] for c in columns), ref))
        for columns, updates in by_columns.items():  # the driver's executemany, as ``_write``
            self.conn.exec_driver_sql(_update_statement(self.conn, columns), updates)
        self._updates.clear()
        if self._set_asides:
            self.conn.execute(_SET_ASIDE, self._set_asides)
            self._set_asides.clear()
        self.totals.flush()
        if len(self._applications) + len(self._areas) + len(self._usccs) > REMEMBERED:
            # Bounded, so a rebuild's memory does not grow with the log: what is forgotten is in
            # the tables now, and read back from them (a page's worth at once) when a later page needs it.
            for remembered in (self._areas, self._usccs, self._applications, self._revoked_on):
                remembered.clear()

    def _write(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """The bulk tables' rows as the driver's own ``executemany`` of tuples: SQLAlchemy's processing
        of each row's parameters cost about as much as the database's work."""
        columns = _BULK.get(table.name)
        if columns is None:
            self.conn.execute(_INSERTS[table], rows)
            return
        if self.conn.dialect.name != "sqlite":
            copy_rows(self.conn, table.name, columns, (tuple(row[c] for c in columns) for row in rows))
            return
        dated = [c in _DATE_COLUMNS[table.name] for c in columns]  # dates as ISO text, as SQLAlchemy's Date writes
        values = [tuple(_iso(row[c]) if is_date else row[c] for c, is_date in zip(columns, dated, strict=True))
                  for row in rows]
        self.conn.exec_driver_sql(_bulk_statement(self.conn, table), values)

    def _insert(self, table: Table, **row: Any) -> None:
        self._inserts[table].append(row)

    def _update_application(self, ref: str, **values: Any) -> None:
        waiting = self._new_applications.get(ref)
        if waiting is not None:
            waiting.update(values)
        else:
            self._updates.setdefault(ref, {}).update(values)

    def on_registered(self, position: int, ev: Any) -> None:
        row = {"uscc": ev.uscc, "enterprise_id": str(ev.originator_id), "name": ev.name, "area": ev.area,
               "registered_on": ev.date, "recorded_us": micros(ev.timestamp), "awarded_fen": 0, "city_paid_fen": 0,
               "county_paid_fen": 0}
        self._inserts[schema.enterprises].append(row)
        self._new_enterprises[ev.uscc] = row
        self.totals.registered(ev.area, ev.date)
        self._areas[ev.uscc] = ev.area
        self._usccs[str(ev.originator_id)] = ev.uscc

    def on_submitted(self, position: int, ev: Any) -> None:
        uscc = self._uscc_of_enterprise(ev)
        self._applications[ev.ref] = (uscc, ev.measure)
        self._revoked_on[ev.ref] = None
        row = {"ref": ev.ref, "uscc": uscc, "measure": ev.measure, "project": ev.project, "applied_on": ev.date,
               "policy_version": ev.policy_version, "status": SUBMITTED, "decided_on": None, "revoked_on": None,
               "entitlement_fen": 0, "awarded_fen": 0, "city_share_fen": 0, "county_share_fen": 0,
               "submitted_us": micros(ev.timestamp), "decided_us": None, "revoked_us": None,
               "half_paid_from": None, "half_paid_until": None,
               "half_paid_since": None}
        self._inserts[schema.applications].append(row)
        self._new_applications[ev.ref] = row

    def on_approved(self, position: int, ev: Any) -> None:
        self._update_application(ev.ref, status=APPROVED, decided_on=ev.date, entitlement_fen=ev.entitlement_fen,
                                 awarded_fen=ev.awarded_fen, city_share_fen=ev.city_share_fen,
                                 county_share_fen=ev.county_share_fen, decided_us=micros(ev.timestamp))
        self._entry(position, schema.AWARD, ev, amount_fen=ev.awarded_fen, city_fen=ev.city_share_fen,
                    county_fen=ev.county_share_fen)

    def on_redecided(self, position: int, ev: Any) -> None:
        """改判: the award's amount and halves from now on; the entry is what it adds, from its date."""
        uscc, _measure = self.application_of(ev.ref)
        before = self._award_of(ev.ref)
        self._update_application(ev.ref, awarded_fen=ev.awarded_fen, city_share_fen=ev.city_share_fen,
                                 county_share_fen=ev.county_share_fen)
        self._entry(position, schema.REDECISION, ev, amount_fen=ev.awarded_fen - before[0],
                    city_fen=ev.city_share_fen - before[1], county_fen=ev.county_share_fen - before[2])

    def _award_of(self, ref: str) -> tuple[int, int, int]:
        """(awarded, city, county) of an application's award as the views hold it: its row still to be
        inserted, or its written row with the updates of this pass not yet written."""
        row = self._new_applications.get(ref)
        if row is None:
            row = dict(self.conn.execute(_AWARD_OF, {"b_ref": ref}).one()._mapping)
            row.update(self._updates.get(ref, {}))
        return row["awarded_fen"], row["city_share_fen"], row["county_share_fen"]

    def on_rejected(self, position: int, ev: Any) -> None:
        self._update_application(ev.ref, status=REJECTED, decided_on=ev.date, decided_us=micros(ev.timestamp))

    def on_withdrawn(self, position: int, ev: Any) -> None:
        self._update_application(ev.ref, status=WITHDRAWN, decided_on=ev.date, decided_us=micros(ev.timestamp))

    def on_revoked(self, position: int, ev: Any) -> None:
        self._update_application(ev.ref, status=REVOKED, revoked_on=ev.date, revoked_us=micros(ev.timestamp))
        self._entry(position, schema.REVOCATION, ev, amount_fen=-ev.awarded_fen, city_fen=-ev.city_share_fen,
                    county_fen=-ev.county_share_fen)

    def on_payment(self, position: int, ev: Any) -> None:
        self._money(position, schema.PAYMENT, ev, ev.amount_fen)

    def on_reversal(self, position: int, ev: Any) -> None:
        self._money(position, schema.REVERSAL, ev, -ev.amount_fen)

    def on_recovery(self, position: int, ev: Any) -> None:
        self._money(position, schema.RECOVERY, ev, -ev.amount_fen)

    def _money(self, position: int, kind: str, ev: Any, signed_fen: int) -> None:
        """A movement of one payer's money: paid (positive), or reversed or recovered (negative)."""
        self._entry(position, kind, ev, payer=ev.payer, amount_fen=signed_fen,
                    city_fen=signed_fen if ev.payer == CITY else 0,
                    county_fen=signed_fen if ev.payer == COUNTY else 0, voucher=ev.voucher)

    def _entry(self, position: int, kind: str, ev: Any, *, amount_fen: int, city_fen: int, county_fen: int,
               payer: str | None = None, voucher: str | None = None) -> None:
        uscc, measure = self.application_of(ev.ref)
        self._add_entry(position=position, kind=kind, ref=ev.ref, uscc=uscc, area=self.area_of(uscc),
                        measure=measure, date=ev.date, payer=payer, amount_fen=amount_fen, city_fen=city_fen,
                        county_fen=county_fen, voucher=voucher, policy=None, recorded_us=micros(ev.timestamp))
        if kind == schema.REVOCATION:
            self._revoked_on[ev.ref] = ev.date

    def _add_entry(self, **row: Any) -> None:
        """An entry row, and what it adds to the totals."""
        self._inserts[schema.entries].append(row)
        self.totals.entry(row, revoked_on=self._revoked_on.get(row["ref"]) if row["ref"] else None,
                          enterprise=self._new_enterprises.get(row["uscc"]))

    def on_external(self, position: int, ev: Any) -> None:
        uscc = self._uscc_of_enterprise(ev)
        self._add_entry(position=position, kind=schema.EXTERNAL, ref=None, uscc=uscc, area=self.area_of(uscc),
                        measure=None, date=ev.date, payer=None, amount_fen=ev.amount_fen, city_fen=0, county_fen=0,
                        voucher=None, policy=ev.policy, recorded_us=micros(ev.timestamp))

    def on_policy_adopted(self, position: int, ev: Any) -> None:
        self._insert(schema.policy_versions, version=ev.version, catalogue=ev.catalogue, effective=ev.effective,
                     ends=ev.ends, adopted_on=ev.date, position=position)

    def _uscc_of_enterprise(self, ev: Any) -> str:
        key = str(ev.originator_id)
        if key not in self._usccs:
            self._usccs[key] = self.conn.execute(_USCC_OF, {"b_id": key}).scalar_one()
        return self._usccs[key]



# The statements of a pass, built once: SQLAlchemy compiles each once and caches it.
_INSERTS = {table: insert(table) for table in schema.VIEW_TABLES}
_BULK = {table.name: tuple(table.c.keys()) for table in (schema.enterprises, schema.applications, schema.entries)}
_DATE_COLUMNS = {table.name: frozenset(c.name for c in table.c if isinstance(c.type, Date))
                 for table in (schema.enterprises, schema.applications, schema.entries)}
_BULK_SQL: dict[tuple[str, str], str] = {}


def _driver_sql(conn: Connection, key: str, build: Callable[[str], str]) -> str:
    """A statement in the driver's own placeholders (sqlite3: ``?``; psycopg: ``%s``), ``build(mark)``,
    built once per placeholder style."""
    cached = (conn.dialect.paramstyle, key)
    if cached not in _BULK_SQL:
        _BULK_SQL[cached] = build("?" if conn.dialect.paramstyle == "qmark" else "%s")
    return _BULK_SQL[cached]


def _bulk_statement(conn: Connection, table: Table) -> str:
    """``INSERT INTO table (columns) VALUES (...)``."""
    columns = _BULK[table.name]
    return _driver_sql(conn, table.name, lambda mark: (
        f"INSERT INTO {table.name} ({', '.join(_quoted(c) for c in columns)}) "
        f"VALUES ({', '.join(mark for _ in columns)})"))


def _update_statement(conn: Connection, columns: tuple[str, ...]) -> str:
    """``UPDATE rm_applications SET columns WHERE ref``."""
    return _driver_sql(conn, "update:" + ",".join(columns), lambda mark: (
        f"UPDATE {schema.applications.name} SET {', '.join(f'{_quoted(c)} = {mark}' for c in columns)} "
        f"WHERE ref = {mark}"))


def _quoted(column: str) -> str:
    return f'"{column}"'


def _iso(day: Any) -> Any:
    return day.isoformat() if day is not None else None


_AREA_OF = select(schema.enterprises.c.area).where(schema.enterprises.c.uscc == bindparam("b_uscc"))
_USCC_OF = select(schema.enterprises.c.uscc).where(schema.enterprises.c.enterprise_id == bindparam("b_id"))
_APPLICATIONS_OF = (select(schema.applications.c.ref, schema.applications.c.uscc, schema.applications.c.measure,
                           schema.applications.c.revoked_on)
                    .where(schema.applications.c.ref.in_(bindparam("b_refs", expanding=True))))
_ENTERPRISES_OF = (select(schema.enterprises.c.enterprise_id, schema.enterprises.c.uscc, schema.enterprises.c.area)
                   .where(schema.enterprises.c.enterprise_id.in_(bindparam("b_ids", expanding=True))))
_AREAS_OF = (select(schema.enterprises.c.uscc, schema.enterprises.c.area)
             .where(schema.enterprises.c.uscc.in_(bindparam("b_usccs", expanding=True))))
READ_AHEAD = 500  # keys per query of a page's read-ahead


def _chunks(keys: list[str]) -> list[list[str]]:
    return [keys[i:i + READ_AHEAD] for i in range(0, len(keys), READ_AHEAD)]


_AWARD_OF = (select(schema.applications.c.awarded_fen, schema.applications.c.city_share_fen,
                    schema.applications.c.county_share_fen).where(schema.applications.c.ref == bindparam("b_ref")))
_APPLICATION_OF = (select(schema.applications.c.uscc, schema.applications.c.measure, schema.applications.c.revoked_on)
                   .where(schema.applications.c.ref == bindparam("b_ref")))


_SET_ASIDE = (update(schema.malformed).where(schema.malformed.c.position == bindparam("b_position"))
              .values(set_aside_position=bindparam("set_aside_position"), set_aside_by=bindparam("set_aside_by"),
                      set_aside_on=bindparam("set_aside_on"), set_aside_reason=bindparam("set_aside_reason")))


class UnknownTopic(Exception):
    """An event no read model knows: a new event type without a handler (a bug), never skipped silently."""


# One table from event class to handler, keyed by its topic (the library's ``get_topic``); every event is
# either handled or named here as ignored (tests/unit/test_projection_topics.py and tests/unit/test_kinds.py
# keep them complete against the events and the registry of kinds, ledger/domain/kinds.py).
_HANDLED: dict[type[Aggregate.Event], Callable[[ViewUpdater, int, Any], None]] = {
    event_class(Enterprise, "Registered"): ViewUpdater.on_registered,
    event_class(Enterprise, "ApplicationSubmitted"): ViewUpdater.on_submitted,
    event_class(Enterprise, "ApplicationApproved"): ViewUpdater.on_approved,
    event_class(Enterprise, "ApplicationRejected"): ViewUpdater.on_rejected,
    event_class(Enterprise, "ApplicationWithdrawn"): ViewUpdater.on_withdrawn,
    event_class(Enterprise, "AwardRevoked"): ViewUpdater.on_revoked,
    event_class(Enterprise, "PaymentRecorded"): ViewUpdater.on_payment,
    event_class(Enterprise, "PaymentReversed"): ViewUpdater.on_reversal,
    event_class(Enterprise, "RecoveryRecorded"): ViewUpdater.on_recovery,
    event_class(Enterprise, "AwardRedecided"): ViewUpdater.on_redecided,
    event_class(Enterprise, "ExternalAwardRecorded"): ViewUpdater.on_external,
    event_class(PolicyBook, "PolicyAdopted"): ViewUpdater.on_policy_adopted,
    event_class(SetAsides, "MalformedEventSetAside"): ViewUpdater.on_set_aside,
}
HANDLERS: dict[str, Callable[[ViewUpdater, int, Any], None]] = {
    get_topic(event): handler for event, handler in _HANDLED.items()}
_TOPICS = tuple(HANDLERS)  # what a rebuild reads from the log
# The events whose handlers look up the application they name (its enterprise, measure and area), and
# those that look up their enterprise by its id: read ahead for a whole page (``ViewUpdater.apply_page``).
_NAMING_AN_APPLICATION = frozenset(get_topic(event) for event in event_classes(
    Enterprise, "ApplicationApproved", "AwardRevoked", "PaymentRecorded", "PaymentReversed", "RecoveryRecorded",
    "AwardRedecided"))
_NAMING_AN_ENTERPRISE = frozenset(get_topic(event) for event in event_classes(
    Enterprise, "ApplicationSubmitted", "ExternalAwardRecorded"))
IGNORED = frozenset(get_topic(event) for event in (
    event_class(Enterprise, "ApplicationAmended"),  # facts are not in the read models; `show` reads them from the log
    event_class(ApplicationRef, "Filed"),
    event_class(VoucherRef, "Used"),
    event_class(ReceiptRef, "Used"),
    event_class(TaskQuota, "Opened"),
    event_class(TaskQuota, "ItemAwarded"),
    event_class(TaskQuota, "ItemReleased"),
    event_class(PolicyBook, "Opened"),
    event_class(ImportRun, "Started"),  # the import's own bookkeeping (exactly-once), read by the import itself
    event_class(ImportRun, "LinesDecided"),
    event_class(OperatorRoster, "EnforcementStarted"),  # who may do what: read from the log (`grants admin operators`)
    event_class(OperatorRoster, "OperatorRegistered"),
    event_class(OperatorRoster, "RolesChanged"),
    event_class(OperatorRoster, "OperatorSuspended"),
    event_class(OperatorRoster, "OperatorReinstated"),
    event_class(SetAsides, "Opened"),  # the set-asides' stream opened; each set-aside is handled (rm_malformed)
))


def catch_up(ledger: GrantsLedger, engine: Engine, *, page: int = PAGE) -> int:
    """Apply every event not yet in the views; returns how many were applied."""
    applied = 0
    while True:
        n = _catch_up_page(ledger, engine, page)
        if n == 0:
            return applied
        applied += n


def _catch_up_page(ledger: GrantsLedger, engine: Engine, page: int) -> int:
    track = schema.tracking
    for attempt in range(20):
        try:
            with engine.begin() as conn:
                query = select(track.c.position).where(track.c.name == TRACKING_NAME)
                if engine.dialect.name == "postgresql":
                    query = query.with_for_update()
                position = conn.execute(query).scalar_one()
                notifications = ledger.recorder.select_notifications(start=position + 1, limit=page)
                if not notifications:
                    return 0
                updater = ViewUpdater(conn)
                updater.apply_page(notifications, ledger.mapper)
                updater.flush()
                conn.execute(update(track).where(track.c.name == TRACKING_NAME)
                             .values(position=notifications[-1].id))
                log.debug("views caught up", events=len(notifications), position=notifications[-1].id)
                return len(notifications)
        except OperationalError as exc:
            # Another catch-up's serialization failure or deadlock is worth a retry; a lock
            # the driver already waited the lock timeout for, or a read-only file, is not.
            if attempt == 19 or not is_conflict(exc):
                raise
    return 0  # pragma: no cover


def rebuild(ledger: GrantsLedger, engine: Engine, progress: Callable[[int], None] | None = None, *,
            page: int = PAGE) -> int:
    """Empty the views and replay the whole log into them, in one transaction; returns the
    position replayed to (the number of events in the log then, gaps aside).

    Only the events of the topics in ``HANDLERS`` are read and decoded (the index, quota,
    import-run and roster events, some 40% of the log, are not), up to the last event
    recorded when the replay starts; the views' position is that event, so a catch-up
    goes on after it. Rows are written a page at a time (``ViewUpdater.flush``).
    ``progress(position)`` is told how far in the log the replay is after each page. The running
    totals per enterprise and day and the half-paid spans are written last, from the entries
    (``Totals.finish``).
    """
    with engine.begin() as conn:
        lock = select(schema.tracking.c.position).where(schema.tracking.c.name == TRACKING_NAME)
        if engine.dialect.name == "postgresql":
            conn.execute(lock.with_for_update())  # no catch-up runs while the views are rebuilt
        for table in reversed(schema.VIEW_TABLES):
            conn.execute(table.delete())
        last = ledger.recorder.max_notification_id() or 0
        start = 1
        updater = ViewUpdater(conn, rebuild=True)
        while start <= last:
            notifications = ledger.recorder.select_notifications(start=start, limit=page, stop=last,
                                                                 topics=_TOPICS)
            if not notifications:
                break
            updater.apply_page(notifications, ledger.mapper)
            updater.flush()
            start = notifications[-1].id + 1
            if progress is not None:
                progress(notifications[-1].id)
        updater.totals.finish()
        conn.execute(update(schema.tracking).where(schema.tracking.c.name == TRACKING_NAME).values(position=last))
    return last


def position(engine: Engine) -> int:
    """The last event applied to the views."""
    with engine.connect() as conn:
        found: int = conn.execute(select(schema.tracking.c.position)
                                  .where(schema.tracking.c.name == TRACKING_NAME)).scalar_one()
        return found
