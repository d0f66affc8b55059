"""The application service: load aggregates, ask the rules, save the events.

Every command is all-or-nothing: the events it records (on the enterprise and on
any index or quota aggregate it touches) are written in one transaction. When
another writer got to the same aggregate first, the store refuses the write
(optimistic concurrency) and the command is re-run against the new state,
where the rules see what the other writer did.
"""

from __future__ import annotations

import random
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from uuid import UUID

import structlog
from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent, project_aggregate
from eventsourcing.persistence import (
    IntegrityError,
    InternalError,
    JSONTranscoder,
    OperationalError,
    RecordConflictError,
    Recording,
    Transcoding,
)
from eventsourcing.utils import Environment

from ledger.domain import event_fields, rules
from ledger.domain.aggregates import (
    APPROVED,
    POLICY_BOOK_ID,
    REJECTED,
    REVOKED,
    ROSTER_ID,
    SET_ASIDES_ID,
    SUBMITTED,
    WITHDRAWN,
    ApplicationRef,
    ApplicationState,
    Enterprise,
    ImportRun,
    PolicyBook,
    PolicyVersion,
    ReceiptRef,
    SetAside,
    SetAsideEvent,
    SetAsides,
    TaskQuota,
    VoucherRef,
    application_ref_id,
    enterprise_id,
    import_run_id,
    in_force_among,
    receipt_ref_id,
    task_quota_id,
    voucher_ref_id,
)
from ledger.domain.areas import CITY, COUNTY, PAYERS
from ledger.errors import MALFORMED_EVENT, UNKNOWN_APPLICATION, UNKNOWN_ENTERPRISE, WRONG_STATE, Refused, invalid
from ledger.i18n import _
from ledger.intake import commands as intake
from ledger.policy import CURRENT_CATALOGUE, catalogue
from ledger.service import retries, trail
from ledger.service.access import AccessControl
from ledger.store.errors import LOCKED, classify, is_conflict
from ledger.store.recorders import PERSISTENCE, StaleRead
from ledger.store.storage import Store
from ledger.text import shown

log = structlog.get_logger("grants")

T = TypeVar("T")

MAX_ATTEMPTS = 30
CACHE_SIZE = 20_000  # aggregates (and streams found absent) kept between the batches of an import ...
CACHE_EVENTS = 60_000  # ... holding at most this many events in all (a stream found absent counts as one)

_SUBMITTED_TOPIC = "grants:Enterprise.ApplicationSubmitted"
# What replaying a stream raises when one of its events is not one the ledger writes (fields missing or of the
# wrong type): such a stream is refused malformed-event, never a crash.
_UNREADABLE = (TypeError, AttributeError, ValueError, LookupError)
_BEFORE_ALL = datetime(1, 1, 1, tzinfo=UTC)  # the recording time shown for a stream's first event set aside
_ABSENT = object()  # in the cache: a stream that did not exist when it was read (version 0)
_UNCACHED = object()


def _weight(cached: Any) -> int:
    """What a cached aggregate counts against ``CACHE_EVENTS``: the events it was built from (one when absent)."""
    return 1 if cached is _ABSENT else max(1, cached.version)


class DateAsISO(Transcoding):
    """Dates travel in events as ISO strings (YYYY-MM-DD)."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def _with_warning(result: dict[str, Any], warning: str | None) -> dict[str, Any]:
    if warning:
        result["warning"] = warning
    return result


class _Unit:
    """What one decision has read: a copy of each aggregate and the version it was read at."""

    def __init__(self, max_bytes: int | None = None) -> None:
        self.aggregates: dict[UUID, Any] = {}
        self.read: dict[UUID, int] = {}
        self.max_bytes = max_bytes  # of events in the write (ledger.store.recorders.TooLarge beyond), None: no limit


class Busy(Exception):
    """The store stayed contended for every retry; nothing was written."""


class GrantsLedger(AccessControl, Application[UUID]):
    """The grants ledger. Commands take the parsed commands of ``ledger.intake.commands``."""

    name = "Grants"

    def __init__(self, store: Store, *, create_tables: bool = True) -> None:
        env = dict(store.event_store_env)
        env["CREATE_TABLE"] = "y" if create_tables else "n"
        self.store = store
        self._batch: _Unit | None = None  # the batch being run, if any
        self._unit: _Unit | None = None  # the decision being taken (the batch's, or one command's)
        self._cache: OrderedDict[UUID, Any] = OrderedDict()  # aggregates kept between batches
        self._cached_events = 0  # the events the cached aggregates were built from (_weight)
        self.retries = 0  # decisions run again after a conflict or a stale read (commands and import chunks)
        self._init_access()  # who may do what: ledger/service/access.py
        env.update(PERSISTENCE.get(env.get("PERSISTENCE_MODULE", ""), {}))
        for attempt in range(10):
            try:
                super().__init__(env=env)
                return
            except Exception as exc:
                # Two processes creating the tables at once can collide: on PostgreSQL "tuple concurrently
                # updated", or "relation ... already exists" although each asked IF NOT EXISTS; on SQLite
                # "database is locked" at once, without the lock wait, while the other sets up WAL. The
                # next try finds the tables made. Anything else is no race: raise it.
                text = str(exc)
                race = (isinstance(exc, (InternalError, IntegrityError)) or "already exists" in text
                        or (store.kind == "sqlite" and "database is locked" in text))
                if attempt == 9 or not race:
                    raise
                time.sleep(0.05 * (attempt + 1))

    def construct_env(self, name: str, env: Any = None) -> Environment:
        """Only the settings derived from the database URL; nothing from os.environ.

        The library would otherwise let variables such as GRANTS_SQLITE_DBNAME or
        COMPRESSOR_TOPIC silently send events somewhere the read models are not.
        """
        return Environment(name, dict(env or {}))

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # --- plumbing -----------------------------------------------------------
    #
    # A decision reads aggregates and may append events to some of them. The store's
    # version check guards only the streams appended to; the `_Unit` of a decision also
    # remembers the version of every stream it read (0 for one that did not exist), and
    # the write passes them to the recorder (`expected_versions`), which fails with
    # `StaleRead` inside the write's transaction if any has moved. A decision that
    # writes nothing (a refusal, or an exception) is checked with `current_versions`
    # before it stands. Either way a decision taken on a stale read is run again.

    def _get(self, aggregate_id: UUID) -> Any:
        unit = self._unit
        if unit is None:  # a query, outside any command: read the store as it is
            return self._load(aggregate_id)
        if aggregate_id in unit.aggregates:  # repeatable reads within a decision
            return unit.aggregates[aggregate_id]
        # Out of the cache into the batch: if the batch fails, the copy goes with it (read again next time).
        cached = self._cache.pop(aggregate_id, _UNCACHED) if unit is self._batch else _UNCACHED
        if cached is not _UNCACHED:
            self._cached_events -= _weight(cached)
        if cached is _UNCACHED:
            aggregate = self._load(aggregate_id)
        else:
            aggregate = None if cached is _ABSENT else cached
        unit.aggregates[aggregate_id] = aggregate
        unit.read[aggregate_id] = aggregate.version if aggregate is not None else 0
        return aggregate

    def _load(self, aggregate_id: UUID) -> Any:
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        except _UNREADABLE as exc:
            return project_aggregate(None, self._events_setting_aside(aggregate_id, exc))

    def _events_setting_aside(self, aggregate_id: UUID, exc: Exception, stored: Any = None) -> list[Any]:
        """The events of a stream that failed to replay (``exc``), with those an admin set aside in their places
        (``SetAsideEvent``), checked to replay; else refused malformed-event. Only a stream that fails to replay
        comes here, so the set-asides are looked up only then (and read like any other stream: a set-aside
        recorded meanwhile makes the decision run again)."""
        skipped = self._set_aside_in(aggregate_id)
        if skipped:
            try:
                events = self._events_without(aggregate_id, skipped, stored)
                project_aggregate(None, events)
                return events
            except _UNREADABLE as again:
                exc = again
        raise self._malformed(aggregate_id, exc, skipped) from exc

    def _set_aside_in(self, aggregate_id: UUID) -> dict[int, SetAside]:
        """The set-asides of one stream, by the version of the event set aside (none for the set-asides' own)."""
        if aggregate_id == SET_ASIDES_ID:
            return {}
        book: SetAsides | None = self._get(SET_ASIDES_ID)
        return book.of_stream(aggregate_id) if book is not None else {}

    def _events_without(self, aggregate_id: UUID, skipped: dict[int, SetAside], stored: Any = None) -> list[Any]:
        """The stream's events decoded, each one set aside replaced by its place (never decoded)."""
        events: list[Any] = []
        stamp = _BEFORE_ALL
        for row in stored if stored is not None else self.recorder.select_events(aggregate_id):
            aside = skipped.get(row.originator_version)
            if aside is not None:
                events.append(SetAsideEvent(aggregate_id, row.originator_version, stamp, row.topic, aside.date,
                                            aside.by, aside.reason))
                continue
            event: Any = self.mapper.to_domain_event(row)
            stamp = event.timestamp
            events.append(event)
        return events

    def _malformed(self, aggregate_id: UUID, exc: Exception, skipped: dict[int, SetAside] | None = None) -> Refused:
        """A stream whose events the aggregate cannot take (a row written past the ledger, issue 19): nothing
        about its subject can be decided on it, which is said, not a crash; the rest of the ledger goes on."""
        version, topic, aggregate = "?", "?", None
        for stored in self.recorder.select_events(aggregate_id):
            if skipped and stored.originator_version in skipped:
                if aggregate is not None:
                    aggregate.version = stored.originator_version
                continue
            try:
                event: Any = self.mapper.to_domain_event(stored)
                aggregate = event.mutate(aggregate)
            except Exception:  # noqa: BLE001 - looking for the first event that does not read
                version, topic = str(stored.originator_version), stored.topic
                break
        return Refused(MALFORMED_EVENT, _("the record {id} cannot be read: its event {version} ({topic}) is not one the "
                                          "ledger writes ({error}); nothing about it is decided until it is set "
                                          "aside. Run grants audit verify, which names it").format(
            id=aggregate_id, version=version, topic=shown(topic), error=f"{type(exc).__name__}: {exc}"))

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """Record the aggregates' new events in one transaction (or keep them for the batch's).

        The versions of everything else the command read are checked in the same
        transaction (StaleRead when one moved).
        """
        unit = self._unit
        if unit is not None:
            for aggregate in objs:
                unit.aggregates[aggregate.id] = aggregate
            if unit is self._batch:
                return []
            kwargs.setdefault("expected_versions", dict(unit.read))
        recordings = self._write([a for a in objs if a is not None], **kwargs)
        if unit is not None:  # a second save() in the same command expects what the first one wrote
            unit.read.update({a.id: a.version for a in objs if a is not None})
        return recordings

    def _write(self, aggregates: list[Any], **kwargs: Any) -> list[Recording[UUID]]:
        """``Application.save`` for aggregates only: the same steps, without its runtime ``Protocol``
        checks of each object (on Python 3.11 they cost a sixth of an import)."""
        processing: ProcessingEvent[UUID] = ProcessingEvent()
        for aggregate in aggregates:
            processing.events.extend(aggregate.collect_events())
            processing.aggregates[aggregate.id] = aggregate
        processing.saved_kwargs.update(kwargs)
        recordings: list[Recording[UUID]] = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        self.notify(processing.events)  # the library's deprecated hook, called as its save() does
        return recordings

    def _check_current(self, read: dict[UUID, int]) -> None:
        """Raise StaleRead if a stream read by a decision that writes nothing has moved since."""
        if not read:
            return
        current = self.recorder.current_versions(read)
        moved = {i: (v, current.get(i, 0)) for i, v in read.items() if current.get(i, 0) != v}
        if moved:
            raise StaleRead(moved)

    @contextmanager
    def batch(self, max_bytes: int | None = None) -> Iterator[None]:
        """Run several commands and record all their events in one transaction at the end.

        Each command still stands or falls alone: the rules run before a command
        triggers any event, so a refused command leaves the batch as it was. The
        commands see each other's effects (one copy of each aggregate is shared).
        At the end, the versions of every stream the batch read (including those it
        only read to refuse a command) are checked in the write's transaction; if any
        moved, or the write meets a concurrent writer, RecordConflictError (StaleRead)
        is raised and nothing of the batch is written: the caller runs it again. An
        unexpected exception inside the batch is turned into StaleRead too when the
        state it was decided on has moved (it may come from mixing old and new reads).

        Aggregates a successful batch read or wrote are kept for the next batch in a
        bounded cache; a cached aggregate is used again only under the same check.
        With ``max_bytes``, a write of more than one event holding more bytes of events
        raises ``TooLarge`` and writes nothing.
        """
        if self._batch is not None or self._unit is not None:
            raise RuntimeError("batches do not nest")
        unit = self._batch = self._unit = _Unit(max_bytes)
        try:
            try:
                yield
            except (RecordConflictError, OperationalError):
                raise
            except Exception:
                self._check_current(unit.read)
                raise
            self._batch = self._unit = None
            aggregates = [a for a in unit.aggregates.values() if a is not None and a.pending_events]
            if aggregates:
                self._write(aggregates, expected_versions=dict(unit.read), max_bytes=unit.max_bytes)
            else:
                self._check_current(unit.read)
            self._keep(unit.aggregates.items())
        finally:
            self._batch = self._unit = None

    def _keep(self, aggregates: Iterable[tuple[UUID, Any]]) -> None:
        """Put aggregates in the cache as the most recently used; forget the least recently used beyond
        its bounds: ``CACHE_SIZE`` aggregates, ``CACHE_EVENTS`` events (an enterprise's memory grows with
        its history: each approval carries its computation trace)."""
        cache = self._cache
        for aggregate_id, aggregate in aggregates:
            kept = _ABSENT if aggregate is None else aggregate
            before = cache.pop(aggregate_id, _UNCACHED)
            if before is not _UNCACHED:
                self._cached_events -= _weight(before)
            cache[aggregate_id] = kept
            self._cached_events += _weight(kept)
        while len(cache) > CACHE_SIZE or (self._cached_events > CACHE_EVENTS and cache):
            self._cached_events -= _weight(cache.popitem(last=False)[1])

    def prefetch(self, commands: Iterable[intake.Command]) -> None:
        """Read the streams a batch's commands will look up, a few queries for the whole batch.

        Called at the start of a batch (an import chunk) with its parsed commands. Each
        command reads its enterprise, its filing number's index and, for a payment or a
        recovery, its voucher's index, most of them streams that do not exist yet (new
        enterprises, filing numbers, vouchers); read one by one, they are a query each.
        Here they are read together (stage by stage: a voucher's id needs the area of the
        enterprise that a filing number names) and put in the cache, absent ones as
        absent at version 0, where ``_get`` takes them like any cached aggregate: every
        one is checked by version at the batch's write, so a stream another writer
        changed meanwhile makes the batch run again on fresh reads.
        """
        if self._batch is None:
            return
        commands = list(commands)
        filed = {c.ref: c.uscc for c in commands if isinstance(c, intake.Apply)}
        areas = {c.uscc: c.area for c in commands if isinstance(c, intake.Register)}
        ids = {ROSTER_ID, POLICY_BOOK_ID}
        for c in commands:
            if isinstance(uscc := getattr(c, "uscc", None), str):
                ids.add(enterprise_id(uscc))
            if isinstance(ref := getattr(c, "ref", None), str):
                ids.add(application_ref_id(ref))
        self._fetch(ids)
        owners: dict[str, str] = {}  # ref -> uscc of the commands that name a filed application
        for c in commands:
            ref = getattr(c, "ref", None)
            if isinstance(ref, str) and not isinstance(c, intake.Apply):
                index = self._peek(application_ref_id(ref))
                uscc = filed.get(ref) or (index.uscc if index is not None else None)
                if uscc is not None:
                    owners[ref] = uscc
        self._fetch(enterprise_id(uscc) for uscc in owners.values())
        ids = set()
        for c in commands:
            if isinstance(c, (intake.Pay, intake.Recover)) and c.ref in owners:
                uscc = owners[c.ref]
                enterprise = self._peek(enterprise_id(uscc))
                area = areas.get(uscc) or (enterprise.area if enterprise is not None else None)
                if area is not None:
                    treasury = CITY if c.payer == CITY else area
                    of = voucher_ref_id if isinstance(c, intake.Pay) else receipt_ref_id
                    ids.add(of(treasury, c.voucher))
        self._fetch(ids)

    def _peek(self, aggregate_id: UUID) -> Any:
        """The batch's or the cache's copy, if either has one (None otherwise, or when absent)."""
        assert self._batch is not None
        if aggregate_id in self._batch.aggregates:
            return self._batch.aggregates[aggregate_id]
        cached = self._cache.get(aggregate_id)
        return None if cached is _ABSENT else cached

    def _fetch(self, ids: Iterable[UUID]) -> None:
        """Read, in one query, the streams of ``ids`` neither the batch nor the cache holds, into the cache."""
        assert self._batch is not None
        batch = self._batch.aggregates
        wanted = [i for i in dict.fromkeys(ids) if i not in batch and i not in self._cache]
        if not wanted:
            return
        streams = self.recorder.select_streams(wanted)
        read = []
        for i in wanted:
            try:
                read.append((i, project_aggregate(None, map(self.mapper.to_domain_event, streams[i]))
                             if i in streams else None))
            except _UNREADABLE:
                continue  # a stream the aggregate cannot take: not kept, so its command is refused malformed-event
        self._keep(read)

    def forget(self) -> None:
        """Empty the cache of aggregates kept between batches."""
        self._cache.clear()
        self._cached_events = 0

    def _retrying(self, attempt: Callable[[], T]) -> T:
        """Run a command's attempt, again after a write conflict; any other store failure surfaces at once.

        A conflict is another writer's commit to the same aggregate (RecordConflictError),
        a stale read found at the write or behind a refusal (StaleRead), or a lock the
        driver could not get: the lock wait already took up to the store's lock timeout,
        so a lock is retried only within that bound, then reported as ``locked``. A
        read-only file, a permission problem or a lost connection is no conflict: it is
        raised as its StoreError without a retry.
        """
        attempt = self._authorised(attempt)
        if self._batch is not None:
            return attempt()  # inside a batch: the batch is checked as a whole when it is written
        deadline = time.monotonic() + self.store.lock_timeout
        for n in range(MAX_ATTEMPTS):
            unit = self._unit = _Unit()
            try:
                try:
                    return attempt()
                except (RecordConflictError, OperationalError):
                    raise
                except Exception:  # a refusal or an error stands only if decided on current state
                    self._check_current(unit.read)
                    raise
            except (RecordConflictError, OperationalError) as exc:
                if not (isinstance(exc, RecordConflictError) or is_conflict(exc)):
                    failure = classify(exc, self.store)
                    if failure is None:
                        raise
                    if failure.code != LOCKED or time.monotonic() >= deadline:
                        raise failure from exc
                self.retries += 1
                log.debug("write conflict, retrying", attempt=n + 1, error=type(exc).__name__)
                time.sleep(random.uniform(0.001, 0.01 * (n + 1)))  # noqa: S311 - jitter, not security
            finally:
                self._unit = None
        raise Busy(_("the ledger stayed busy for {attempts} attempts; nothing was written, try again").format(
            attempts=MAX_ATTEMPTS))

    def _enterprise(self, uscc: str) -> Enterprise:
        enterprise: Enterprise | None = self._get(enterprise_id(uscc))
        if enterprise is None:
            raise Refused(UNKNOWN_ENTERPRISE, _("uscc: {uscc} is not registered; register the enterprise "
                                                "first").format(uscc=uscc), field="uscc")
        return enterprise

    def _enterprise_of(self, ref: str) -> Enterprise:
        index = self._get(application_ref_id(ref))
        if index is None:
            raise Refused(UNKNOWN_APPLICATION, _("ref: no application has the filing number {ref}").format(ref=shown(ref)), field="ref")
        return self._enterprise(index.uscc)

    def policy_book(self) -> PolicyBook | None:
        book: PolicyBook | None = self._get(POLICY_BOOK_ID)
        return book

    def import_run(self, digest: str, by: str) -> ImportRun | None:
        """``by``'s import of the file with this SHA-256, if it was ever (partly) imported: its own run, or a run
        recorded before runs were kept per operator (keyed by the file alone) that ``by`` ran."""
        return self.import_run_at(self.import_run_key(digest, by))

    def import_run_key(self, digest: str, by: str) -> UUID:
        """The id of ``by``'s run of the file: the run keyed by the file alone when ``by`` ran it before runs
        were kept per operator (asked by version, without loading it unless it exists), else ``by``'s own."""
        legacy = import_run_id(digest)
        if self.recorder.current_versions([legacy]).get(legacy, 0):
            run = self.import_run_at(legacy)
            if run is not None and run.by == by:
                return legacy
        return import_run_id(digest, by)

    def import_run_at(self, run_id: UUID) -> ImportRun | None:
        run: ImportRun | None = self._get(run_id)
        return run

    # --- commands -------------------------------------------------------------

    def execute(self, command: intake.Command) -> dict[str, Any]:
        handlers: dict[type, Callable[[Any], dict[str, Any]]] = {
            intake.AdoptPolicy: self.adopt_policy,
            intake.Register: self.register,
            intake.Apply: self.apply,
            intake.Approve: self.approve,
            intake.Reject: self.reject,
            intake.Pay: self.pay,
            intake.ExternalAward: self.record_external_award,
            intake.Amend: self.amend,
            intake.Withdraw: self.withdraw,
            intake.Revoke: self.revoke,
            intake.ReversePayment: self.reverse_payment,
            intake.Recover: self.recover,
            intake.Redecide: self.redecide,
            intake.RegisterOperator: self.register_operator,
            intake.ChangeRoles: self.change_operator,
            intake.SuspendOperator: self.change_operator,
            intake.ReinstateOperator: self.change_operator,
            intake.SetAside: self.set_aside,
        }
        self._command = command
        try:
            return handlers[type(command)](command)
        finally:
            self._command = None

    def adopt_policy(self, cmd: intake.AdoptPolicy) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            book = self.policy_book()
            again = retries.adoption(book, cmd, rules.version_id(cmd))
            if again is not None:
                return again
            book = book or PolicyBook()
            adoption = rules.decide_adoption(book, cmd)
            self._refuse_taking_over(book, adoption, cmd)
            book.adopt(version=adoption.version, catalogue=adoption.catalogue, effective=adoption.effective,
                       ends=adoption.ends, date=cmd.date, by=cmd.by, edition=adoption.edition)
            self.save(book)
            return {"op": "adopt-policy", "version": adoption.version, "catalogue": adoption.catalogue,
                    "effective": adoption.effective.isoformat(), "ends": adoption.ends.isoformat()}
        return self._retrying(attempt)

    def set_aside(self, cmd: intake.SetAside) -> dict[str, Any]:
        """An admin sets aside the malformed event at a position (issue 19): only one that does not read (fields
        missing or of the wrong type, or one its stream cannot take) may be; its stream replays without it from
        then on, and the row stays in the log under the hash chain."""
        def attempt() -> dict[str, Any]:
            book: SetAsides | None = self._get(SET_ASIDES_ID)
            again = retries.set_aside(book, cmd)
            if again is not None:
                return again
            row = self._stored_at(cmd.position)
            problem = self._problem_of(row, book, cmd.position)
            book = book or SetAsides()
            book.set_aside(position=cmd.position, stream=str(UUID(str(row.originator_id))),
                           stream_version=row.originator_version, topic=row.topic, reason=cmd.reason,
                           date=cmd.date, by=cmd.by)
            self.save(book)
            return retries.set_aside_result(book.entries[cmd.position]) | {"problem": problem}
        return self._retrying(attempt)

    def _stored_at(self, position: int) -> Any:
        """The stored event at a position of the log; refused when there is none."""
        found = self.recorder.select_notifications(start=position, limit=1)
        if not found or found[0].id != position:
            raise invalid("position", _("no event is stored at position {position}; the log ends at {end}").format(
                position=position, end=self.recorder.max_notification_id() or 0))
        return found[0]

    def _problem_of(self, row: Any, book: SetAsides | None, position: int) -> str:
        """What is wrong with the stored event ``row``: it cannot be decoded, lacks a field or holds one of the
        wrong type (``ledger.domain.event_fields``), or its stream cannot take it after the events before it (those
        set aside passed over). Refused wrong-state when it reads fine: only a malformed event is set aside."""
        originator = UUID(str(row.originator_id))
        if originator == SET_ASIDES_ID:
            raise Refused(WRONG_STATE, _("position: the event at position {position} is itself a set-aside; it "
                                         "cannot be set aside").format(position=position), field="position")
        try:
            event: Any = self.mapper.to_domain_event(row)
        except Exception as exc:  # noqa: BLE001 - a row that cannot be decoded is the case in point
            return f"{type(exc).__name__}: {exc}"
        missing = event_fields.missing(row.topic, event)
        if missing:
            return _("missing fields: {fields}").format(fields=", ".join(sorted(missing)))
        skipped = book.of_stream(originator) if book is not None else {}
        aggregate = None
        for before in self.recorder.select_events(originator, lte=row.originator_version - 1):
            try:
                if before.originator_version in skipped:
                    raise LookupError(before.originator_version)
                earlier: Any = self.mapper.to_domain_event(before)
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

    def _refuse_taking_over(self, book: PolicyBook, adoption: rules.Adoption, cmd: intake.AdoptPolicy) -> None:
        """An adoption judged against every application on file (issue 18): it may not become the version in force
        on the day of an application already filed under another version, else the same dated facts would be
        decided by one version or the other depending on whether the application was keyed before or after the
        adoption. Adoptions are rare; the applications are read from the log, a page at a time."""
        new = PolicyVersion(adoption.version, adoption.catalogue, adoption.effective, adoption.ends, cmd.date, cmd.by)
        start = 1
        while True:
            page = self.recorder.select_notifications(start, 1000, topics=(_SUBMITTED_TOPIC,))
            for note in page:
                ev: Any = self.mapper.to_domain_event(note)
                if ev.policy_version != new.version and in_force_among([*book.versions.values(), new], ev.date) is new:
                    raise Refused(WRONG_STATE, _(
                        "effective: adopting {version} from {effective} would make it the version in force on {day}, "
                        "the date of application {ref}, filed under {old}; an application is decided by the version "
                        "in force on its date as recorded. Adopt it from a day after the applications filed under "
                        "another version").format(version=shown(new.version), effective=new.effective, day=ev.date,
                                                  ref=ev.ref, old=ev.policy_version), field="effective")
            if len(page) < 1000:
                return
            start = page[-1].id + 1

    def register(self, cmd: intake.Register) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            again = retries.registration(self._get(enterprise_id(cmd.uscc)), cmd)
            if again is not None:
                return again
            enterprise = Enterprise(uscc=cmd.uscc, name=cmd.name, area=cmd.area, date=cmd.date, by=cmd.by)
            self.save(enterprise)
            return {"op": "register", "uscc": cmd.uscc, "name": cmd.name, "area": cmd.area}
        return self._retrying(attempt)

    def apply(self, cmd: intake.Apply) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            enterprise = self._enterprise(cmd.uscc)
            index = self._get(application_ref_id(cmd.ref))
            again = retries.submission(self._enterprise(index.uscc) if index else None, self.policy_book(), cmd)
            if again is not None:
                return again
            rules.not_before_registration(enterprise, cmd.date)
            submission = rules.decide_submission(self.policy_book(), cmd)
            enterprise.submit(ref=cmd.ref, measure=cmd.measure, project=cmd.project, facts=submission.facts,
                              date=cmd.date, policy_version=submission.version.version, by=cmd.by)
            self.save(enterprise, ApplicationRef(ref=cmd.ref, uscc=cmd.uscc))
            result = {"op": "apply", "ref": cmd.ref, "status": SUBMITTED, "measure": cmd.measure,
                      "policy_version": submission.version.version,
                      "entitlement_fen": submission.assessment.due_fen,
                      "eligible": submission.assessment.eligible}
            return _with_warning(result, rules.ineligibility_warning(cmd.ref, submission.assessment))
        return self._retrying(attempt)

    def amend(self, cmd: intake.Amend) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            enterprise = self._enterprise_of(cmd.ref)
            book = self.policy_book()
            assert book is not None  # an application exists only under an adopted version
            app = enterprise.applications[cmd.ref]
            if app.amendments:
                measure = rules.measure_of(book, app)
                again = retries.amendment(app, measure.normalize(cmd.facts), cmd)
                if again is not None:
                    return again
            amendment = rules.decide_amendment(book, enterprise, cmd)
            enterprise.amend(ref=cmd.ref, facts=amendment.facts, date=cmd.date, by=cmd.by, reason=cmd.reason)
            self.save(enterprise)
            result = {"op": "amend", "ref": cmd.ref, "status": SUBMITTED, "facts": amendment.facts,
                      "entitlement_fen": amendment.assessment.due_fen,
                      "eligible": amendment.assessment.eligible}
            return _with_warning(result, rules.ineligibility_warning(cmd.ref, amendment.assessment))
        return self._retrying(attempt)

    def withdraw(self, cmd: intake.Withdraw) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            enterprise = self._enterprise_of(cmd.ref)
            again = retries.withdrawal(enterprise.applications[cmd.ref], cmd)
            if again is not None:
                return again
            rules.decide_withdrawal(enterprise, cmd)
            enterprise.withdraw(ref=cmd.ref, date=cmd.date, by=cmd.by, reason=cmd.reason)
            self.save(enterprise)
            return {"op": "withdraw", "ref": cmd.ref, "status": WITHDRAWN}
        return self._retrying(attempt)

    def revoke(self, cmd: intake.Revoke) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            enterprise = self._enterprise_of(cmd.ref)
            book = self.policy_book()
            assert book is not None
            again = retries.revocation(enterprise.applications[cmd.ref], cmd)
            if again is not None:
                return again
            revocation = rules.decide_revocation(book, enterprise, cmd)
            app = enterprise.applications[cmd.ref]
            paid = {payer: app.paid_fen(payer) for payer in PAYERS}
            enterprise.revoke(ref=cmd.ref, date=cmd.date, by=cmd.by, reason=cmd.reason, document=cmd.document,
                              awarded_fen=revocation.awarded_fen, city_share_fen=revocation.city_share_fen,
                              county_share_fen=revocation.county_share_fen)
            touched: list[Any] = [enterprise]
            if revocation.quota_item is not None:
                measure_id, year, item = revocation.quota_item
                quota = self._get(task_quota_id(measure_id, year))
                assert quota is not None  # the approval recorded the task
                quota.release(item=item, ref=cmd.ref, date=cmd.date)
                touched.append(quota)
            self.save(*touched)
            return {"op": "revoke", "ref": cmd.ref, "status": REVOKED, "awarded_fen": revocation.awarded_fen,
                    "city_share_fen": revocation.city_share_fen, "county_share_fen": revocation.county_share_fen,
                    "city_paid_fen": paid[CITY], "county_paid_fen": paid[COUNTY]}
        return self._retrying(attempt)

    def reverse_payment(self, cmd: intake.ReversePayment) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            enterprise = self._enterprise_of(cmd.ref)
            again = retries.reversal(enterprise.applications[cmd.ref], cmd)
            if again is not None:
                return again
            amount = rules.decide_reversal(enterprise, cmd)
            enterprise.reverse_payment(ref=cmd.ref, payer=cmd.payer, voucher=cmd.voucher, amount_fen=amount,
                                       date=cmd.date, by=cmd.by, reason=cmd.reason)
            self.save(enterprise)
            app = enterprise.applications[cmd.ref]
            return {"op": "reverse-payment", "ref": cmd.ref, "payer": cmd.payer, "voucher": cmd.voucher,
                    "amount_fen": amount, "paid_fen": app.paid_fen(cmd.payer)}
        return self._retrying(attempt)

    def recover(self, cmd: intake.Recover) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            enterprise = self._enterprise_of(cmd.ref)
            treasury = rules.treasury_of(enterprise, cmd.payer)
            again = retries.recovery(self._get(receipt_ref_id(treasury, cmd.voucher)),
                                     enterprise.applications.get(cmd.ref), cmd, treasury)
            if again is not None:
                return again
            rules.decide_recovery(enterprise, cmd)
            enterprise.record_recovery(ref=cmd.ref, payer=cmd.payer, treasury=treasury, amount_fen=cmd.amount_fen,
                                       voucher=cmd.voucher, date=cmd.date, by=cmd.by, reason=cmd.reason)
            index = ReceiptRef(treasury=treasury, voucher=cmd.voucher, ref=cmd.ref, payer=cmd.payer,
                               amount_fen=cmd.amount_fen)
            self.save(enterprise, index)
            app = enterprise.applications[cmd.ref]
            return {"op": "recover", "ref": cmd.ref, "payer": cmd.payer, "treasury": treasury,
                    "amount_fen": cmd.amount_fen, "voucher": cmd.voucher, "paid_fen": app.paid_fen(cmd.payer)}
        return self._retrying(attempt)

    def approve(self, cmd: intake.Approve) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            enterprise = self._enterprise_of(cmd.ref)
            app = enterprise.applications[cmd.ref]
            again = retries.approval(app, cmd)
            if again is not None:
                return again
            book = self.policy_book()
            assert book is not None  # an application exists only under an adopted version
            measure = rules.measure_of(book, app)
            quota = None
            if measure.quota is not None:
                quota = self._get(task_quota_id(measure.id, app.facts[measure.quota.year_fact]))
            decision = rules.decide_approval(book, enterprise, cmd, quota)
            enterprise.record_approval(decision, date=cmd.date, by=cmd.by, policy_version=app.policy_version)
            touched: list[Any] = [enterprise]
            if decision.quota_item is not None:
                measure_id, year, item = decision.quota_item
                if quota is None:
                    quota = TaskQuota(measure=measure_id, year=year, limit=measure.quota.limit)  # type: ignore[union-attr]
                quota.award(item=item, ref=cmd.ref, date=cmd.date)
                touched.append(quota)
            self.save(*touched)
            return {"op": "approve", "ref": cmd.ref, "status": APPROVED, "entitlement_fen": decision.entitlement_fen,
                    "awarded_fen": decision.awarded_fen, "city_share_fen": decision.city_share_fen,
                    "county_share_fen": decision.county_share_fen}
        return self._retrying(attempt)

    def redecide(self, cmd: intake.Redecide) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            enterprise = self._enterprise_of(cmd.ref)
            again = retries.redecision(enterprise.applications[cmd.ref], cmd)
            if again is not None:
                return again
            book = self.policy_book()
            assert book is not None  # an application exists only under an adopted version
            decision = rules.decide_redecision(book, enterprise, cmd)
            enterprise.redecide(ref=cmd.ref, date=cmd.date, by=cmd.by, reason=cmd.reason, cites=decision.cites,
                                awarded_fen=decision.awarded_fen, city_share_fen=decision.city_share_fen,
                                county_share_fen=decision.county_share_fen, trace=decision.trace)
            self.save(enterprise)
            return {"op": "redecide", "ref": cmd.ref, "status": APPROVED, "awarded_fen": decision.awarded_fen,
                    "city_share_fen": decision.city_share_fen, "county_share_fen": decision.county_share_fen,
                    "cites": decision.cites}
        return self._retrying(attempt)

    def reject(self, cmd: intake.Reject) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            enterprise = self._enterprise_of(cmd.ref)
            again = retries.rejection(enterprise.applications[cmd.ref], cmd)
            if again is not None:
                return again
            rules.decide_rejection(enterprise, cmd)
            enterprise.reject(ref=cmd.ref, date=cmd.date, by=cmd.by, reason=cmd.reason)
            self.save(enterprise)
            return {"op": "reject", "ref": cmd.ref, "status": REJECTED}
        return self._retrying(attempt)

    def pay(self, cmd: intake.Pay) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            enterprise = self._enterprise_of(cmd.ref)
            treasury = rules.treasury_of(enterprise, cmd.payer)
            again = retries.payment(self._get(voucher_ref_id(treasury, cmd.voucher)),
                                    enterprise.applications.get(cmd.ref), cmd, treasury)
            if again is not None:
                return again
            rules.decide_payment(enterprise, cmd)
            enterprise.record_payment(ref=cmd.ref, payer=cmd.payer, treasury=treasury, amount_fen=cmd.amount_fen,
                                      voucher=cmd.voucher, date=cmd.date, by=cmd.by)
            index = VoucherRef(treasury=treasury, voucher=cmd.voucher, ref=cmd.ref, payer=cmd.payer,
                               amount_fen=cmd.amount_fen)
            self.save(enterprise, index)
            return {"op": "pay", "ref": cmd.ref, "payer": cmd.payer, "treasury": treasury,
                    "amount_fen": cmd.amount_fen, "voucher": cmd.voucher}
        return self._retrying(attempt)

    def record_external_award(self, cmd: intake.ExternalAward) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            enterprise = self._enterprise(cmd.uscc)
            again = retries.external_award(enterprise, cmd)
            if again is not None:
                return again
            rules.not_before_registration(enterprise, cmd.date)
            enterprise.record_external_award(project=cmd.project, policy=cmd.policy, amount_fen=cmd.amount_fen,
                                             date=cmd.date, by=cmd.by, note=cmd.note)
            self.save(enterprise)
            result = {"op": "external-award", "uscc": cmd.uscc, "project": cmd.project, "policy": cmd.policy,
                      "amount_fen": cmd.amount_fen}
            overlap = rules.overlap_on_project(enterprise, cmd.project, rules.unit_of_book(self.policy_book()))
            if overlap:
                result["warning"] = overlap
                log.warning("external award overlaps", uscc=cmd.uscc, project=cmd.project)
            return result
        return self._retrying(attempt)

    # --- queries ----------------------------------------------------------------

    def enterprise_events(self, uscc: str) -> list[Any]:
        """Every event of one enterprise's stream, decoded, in order (each with its recording ``timestamp``);
        an event an admin set aside is in its place as a ``SetAsideEvent``. A stream that does not replay is
        refused malformed-event, as a command on it is."""
        aggregate_id = enterprise_id(uscc)
        stored = list(self.recorder.select_events(aggregate_id))
        try:
            events = [self.mapper.to_domain_event(s) for s in stored]
            project_aggregate(None, events)
        except _UNREADABLE as exc:
            return self._events_setting_aside(aggregate_id, exc, stored)
        return events

    def set_aside_list(self) -> list[dict[str, Any]]:
        """The malformed events an admin has set aside, by position, as plain data."""
        book: SetAsides | None = self._get(SET_ASIDES_ID)
        if book is None:
            return []
        return [retries.set_aside_result(s) for _, s in sorted(book.entries.items())]

    def trail(self, ref: str | None = None, uscc: str | None = None,
              known_at: datetime | None = None) -> dict[str, Any]:
        """Every event of one application (``ref``) or one enterprise (``uscc``), in recorded order."""
        if ref is not None:
            index = self._get(application_ref_id(ref))
            if index is None:
                raise Refused(UNKNOWN_APPLICATION, _("ref: no application has the filing number {ref}").format(ref=shown(ref)), field="ref")
            uscc = index.uscc
        assert uscc is not None
        events = self.enterprise_events(uscc)
        if not events:
            raise Refused(UNKNOWN_ENTERPRISE, _("uscc: {uscc} is not registered").format(uscc=uscc), field="uscc")
        return {"ref": ref, "uscc": uscc, "name": events[0].name, "area": events[0].area,
                "known_at": known_at.isoformat() if known_at else None,
                "events": trail.entries(events, ref, known_at)}

    def enterprise_summary(self, uscc: str, as_of: date | None = None,
                           known_at: datetime | None = None) -> dict[str, Any]:
        """One enterprise: its applications with their status and money, and its awards under other policies."""
        enterprise = trail.known_at(self.enterprise_events(uscc), known_at)
        if enterprise is None:
            message = (_("uscc: {uscc} is not registered (as known at {moment})") if known_at else
                       _("uscc: {uscc} is not registered"))
            raise Refused(UNKNOWN_ENTERPRISE, message.format(uscc=uscc, moment=known_at.isoformat() if known_at else ""),
                          field="uscc")
        return trail.summary(enterprise, as_of) | {"known_at": known_at.isoformat() if known_at else None}

    def show(self, ref: str, as_of: date | None = None, known_at: datetime | None = None) -> dict[str, Any]:
        """One application as plain data, as it stood at the end of a day when one is given, as the
        ledger knew it at ``known_at`` (only events recorded by then) when one is given."""
        index = self._get(application_ref_id(ref))
        if index is None:
            raise Refused(UNKNOWN_APPLICATION, _("ref: no application has the filing number {ref}").format(ref=shown(ref)), field="ref")
        events = self.enterprise_events(index.uscc)
        enterprise = trail.known_at(events, known_at)
        if enterprise is None or ref not in enterprise.applications:
            raise Refused(UNKNOWN_APPLICATION, _("ref: {ref} was not yet recorded at {moment}").format(
                ref=ref, moment=known_at), field="ref")
        app = enterprise.applications[ref]
        if as_of is not None and app.applied_on > as_of:
            raise Refused(UNKNOWN_APPLICATION, _("ref: {ref} was filed on {day}, after {as_of}").format(
                ref=ref, day=app.applied_on, as_of=as_of), field="ref")
        view = app.as_of(as_of)
        status = view.status
        in_force = status == APPROVED
        decided = status != SUBMITTED
        entitlement: int | None
        if in_force or status == REVOKED:
            entitlement, trace, preview, eligible = app.entitlement_fen, app.trace, False, True
        else:
            entitlement, trace, preview, eligible = self._preview(app, view.facts)
        paid = {payer: view.paid_fen(payer) for payer in PAYERS}
        awarded, city_share, county_share = app.award_on(as_of)
        share = {CITY: city_share if in_force else 0, COUNTY: county_share if in_force else 0}
        reversed_vouchers = {(r.payer, r.voucher) for r in view.reversals}
        revocation = view.revocation
        data: dict[str, Any] = {
            "ref": ref,
            "status": status,
            "measure": app.measure,
            "project": app.project,
            "uscc": enterprise.uscc,
            "name": enterprise.name,
            "area": enterprise.area,
            "applied_on": app.applied_on.isoformat(),
            "policy_version": app.policy_version,
            "facts": view.facts,
            "eligible": eligible,
            "entitlement_fen": entitlement,
            "awarded_fen": awarded if in_force else 0,
            "city_share_fen": share[CITY],
            "county_share_fen": share[COUNTY],
            "city_paid_fen": paid[CITY],
            "county_paid_fen": paid[COUNTY],
            "city_outstanding_fen": share[CITY] - paid[CITY] if in_force else 0,
            "county_outstanding_fen": share[COUNTY] - paid[COUNTY] if in_force else 0,
            "city_to_recover_fen": paid[CITY] if status == REVOKED else 0,
            "county_to_recover_fen": paid[COUNTY] if status == REVOKED else 0,
            "decided_on": app.decided_on.isoformat() if decided and app.decided_on else None,
            "decided_by": app.decided_by if decided else None,
            "basis": app.basis if in_force or status == REVOKED else None,
            "reason": app.reason if status in (REJECTED, WITHDRAWN) else None,
            "payments": [{**asdict(p), "date": p.date.isoformat(), "reversed": (p.payer, p.voucher) in reversed_vouchers}
                         for p in view.payments],
            "amendments": [{**asdict(a), "date": a.date.isoformat()} for a in view.amendments],
            "reversals": [{**asdict(r), "date": r.date.isoformat()} for r in view.reversals],
            "recoveries": [{**asdict(r), "date": r.date.isoformat()} for r in view.recoveries],
            "redecisions": [{**asdict(r), "date": r.date.isoformat(), "cites": list(r.cites)} for r in app.redecisions
                            if as_of is None or r.date <= as_of],
            "findings": self._findings_of(enterprise, app, as_of),
            "revocation": {**asdict(revocation), "date": revocation.date.isoformat()} if revocation else None,
            "trace_is_preview": preview,
            "trace": trace,
            "as_of": as_of.isoformat() if as_of else None,
            "known_at": known_at.isoformat() if known_at else None,
            "history": [e for e in trail.entries(events, ref, known_at) if as_of is None or e["date"] is None
                        or e["date"] <= as_of.isoformat()],
        }
        return data

    def _findings_of(self, enterprise: Enterprise, app: ApplicationState, as_of: date | None) -> list[dict[str, Any]]:
        """就高不重复 on the application's project: an overlap with another policy's award, or the award owed a
        re-decision (``rules.project_findings``), as the ledger stands (on or before ``as_of`` when given)."""
        unit = rules.unit_of_book(self.policy_book())
        return [f.as_dict() for f in rules.project_findings(enterprise, unit)
                if f.project == app.project and (as_of is None or f.day <= as_of)]

    def _preview(self, app: ApplicationState, facts: dict[str, Any]) -> tuple[int | None, list[dict[str, Any]], bool,
                                                                               bool]:
        """What the clause gives for an undecided, rejected or withdrawn application's facts, and whether
        they meet it (nothing is recorded): (entitlement, trace, is a preview, eligible)."""
        book = self.policy_book()
        version = book.versions[app.policy_version] if book else None
        cat = rules.catalogue_of(version) if version else catalogue(CURRENT_CATALOGUE)
        assessment = cat.measure(app.measure).evaluate(facts, app.applied_on, app.policy_version)
        return assessment.due_fen, assessment.steps, True, assessment.eligible

    def check(self, measure_id: str, raw_facts: dict[str, Any], applied_on: date) -> dict[str, Any]:
        """What an application with these facts would get, and why; nothing is recorded."""
        return rules.check_application(self.policy_book(), measure_id, raw_facts, applied_on)
