"""The application service: load aggregates, ask the rules, save the events.

Every command is all-or-nothing: the events it records (on the enterprise and on
any index or quota aggregate it touches) are written in one transaction. When
another writer got to the same aggregate first, the store refuses the write
(optimistic concurrency) and the command is re-run against the new state,
where the rules see what the other writer did.

This module is the ledger's core: construction, reading within a decision, the write,
batches and the retry loop, with the command passed to it for authorisation. The command
handlers are in ``handlers``, the queries in ``queries``, what a decision read and the import's
cache in ``unit_of_work``, malformed streams and their set-asides in ``set_asides``, who may do what
in ``access``.

Over 400 lines for a reason: the plumbing (reads within a decision, the write, batches, the retry
loop) shares one decision's state (``_unit``, ``_batch``) and stays together; some 50 lines are the
one-line entries of the queries, kept so that callers ask the ledger.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
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

from ledger.domain.aggregates import (
    POLICY_BOOK_ID,
    Enterprise,
    ImportRun,
    OperatorRoster,
    PolicyBook,
    application_ref_id,
    enterprise_id,
    import_run_id,
)
from ledger.errors import UNKNOWN_APPLICATION, UNKNOWN_ENTERPRISE, Refused
from ledger.i18n import _
from ledger.intake import commands as intake
from ledger.service import handlers, queries, set_asides, unit_of_work
from ledger.service.access import AccessControl, os_user, stamp
from ledger.service.unit_of_work import ABSENT, UNCACHED, UNREADABLE, ImportCache, Unit
from ledger.store.errors import LOCKED, classify, is_conflict
from ledger.store.recorders import PERSISTENCE, StaleRead
from ledger.store.storage import Store
from ledger.text import shown

log = structlog.get_logger("grants")

T = TypeVar("T")

MAX_ATTEMPTS = 30

class DateAsISO(Transcoding):
    """Dates travel in events as ISO strings (YYYY-MM-DD)."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)



class Busy(Exception):
    """The store stayed contended for every retry; nothing was written."""


class GrantsLedger(Application[UUID]):
    """The grants ledger. Commands take the parsed commands of ``ledger.intake.commands``."""

    name = "Grants"
    recorder: Any  # the store's checked recorder (ledger/store/recorders.py), more than an ApplicationRecorder

    def __init__(self, store: Store, *, create_tables: bool = True) -> None:
        env = dict(store.event_store_env)
        env["CREATE_TABLE"] = "y" if create_tables else "n"
        self.store = store
        self._batch: Unit | None = None  # the batch being run, if any
        self._unit: Unit | None = None  # the decision being taken (the batch's, or one command's)
        self.cache = ImportCache()  # aggregates kept between batches
        self.retries = 0  # decisions run again after a conflict or a stale read (commands and import chunks)
        self.operator: str | None = None  # who runs this process's commands, when not each command's `by` (an import)
        self.os_user = os_user()
        # The day of recording, for a command without a date of its own; the CLI sets China's day (commands/clock.py).
        self.clock: Callable[[], date] = date.today
        env.update(PERSISTENCE.get(env.get("PERSISTENCE_MODULE", ""), {}))
        for attempt in range(10):
            try:
                super().__init__(env=env)
                break
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
        self.access = AccessControl(self._get, self.recorder)  # who may do what: ledger/service/access.py

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
    # What a decision reads and the versions it read them at are its `Unit`; the write checks them
    # (ledger/service/unit_of_work.py). A decision that writes nothing (a refusal, or an exception)
    # is checked with `current_versions` before it stands. Either way a decision taken on a stale
    # read is run again.

    def _get(self, aggregate_id: UUID) -> Any:
        unit = self._unit
        if unit is None:  # a query, outside any command: read the store as it is
            return self._load(aggregate_id)
        if aggregate_id in unit.aggregates:  # repeatable reads within a decision
            return unit.aggregates[aggregate_id]
        # Out of the cache into the batch: if the batch fails, the copy goes with it (read again next time).
        cached = self.cache.take(aggregate_id) if unit is self._batch else UNCACHED
        if cached is UNCACHED:
            aggregate = self._load(aggregate_id)
        else:
            aggregate = None if cached is ABSENT else cached
        unit.aggregates[aggregate_id] = aggregate
        unit.read[aggregate_id] = aggregate.version if aggregate is not None else 0
        return aggregate

    def _load(self, aggregate_id: UUID) -> Any:
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        except UNREADABLE as exc:
            return project_aggregate(None, set_asides.events_setting_aside(self, aggregate_id, exc))

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
        by = unit.command.by if unit is not None and unit.command is not None else None
        recordings = self._write([a for a in objs if a is not None], by, **kwargs)
        if unit is not None:  # a second save() in the same command expects what the first one wrote
            unit.read.update({a.id: a.version for a in objs if a is not None})
        return recordings

    def _write(self, aggregates: list[Any], by: str | None = None, **kwargs: Any) -> list[Recording[UUID]]:
        """``Application.save`` for aggregates only: the same steps, without its runtime ``Protocol``
        checks of each object (on Python 3.11 they cost a sixth of an import). Every event is stamped with
        the OS user and who recorded it: the operator of this process, else ``by`` (the command's)."""
        processing: ProcessingEvent[UUID] = ProcessingEvent()
        for aggregate in aggregates:
            processing.events.extend(aggregate.collect_events())
            processing.aggregates[aggregate.id] = aggregate
        processing.saved_kwargs.update(kwargs)
        stamp(processing.events, self.os_user, self.operator or by)
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
        unit = self._batch = self._unit = Unit(max_bytes)
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
            self.cache.keep(unit.aggregates.items())
        finally:
            self._batch = self._unit = None

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
        if self._batch is not None:
            unit_of_work.prefetch(commands, self._fetch, self._peek)

    def _peek(self, aggregate_id: UUID) -> Any:
        """The batch's or the cache's copy, if either has one (None otherwise, or when absent)."""
        assert self._batch is not None
        if aggregate_id in self._batch.aggregates:
            return self._batch.aggregates[aggregate_id]
        return self.cache.peek(aggregate_id)

    def _fetch(self, ids: Iterable[UUID]) -> None:
        """Read, in one query, the streams of ``ids`` neither the batch nor the cache holds, into the cache."""
        assert self._batch is not None
        batch = self._batch.aggregates
        wanted = [i for i in dict.fromkeys(ids) if i not in batch and i not in self.cache]
        if not wanted:
            return
        streams = self.recorder.select_streams(wanted)
        read = []
        for i in wanted:
            try:
                read.append((i, project_aggregate(None, map(self.mapper.to_domain_event, streams[i]))
                             if i in streams else None))
            except UNREADABLE:
                continue  # a stream the aggregate cannot take: not kept, so its command is refused malformed-event
        self.cache.keep(read)

    def forget(self) -> None:
        """Empty the cache of aggregates kept between batches."""
        self.cache.clear()

    def _retrying(self, attempt: Callable[[], T], command: intake.Command | None = None) -> T:
        """Run a command's attempt, again after a write conflict; any other store failure surfaces at once.

        A conflict is another writer's commit to the same aggregate (RecordConflictError),
        a stale read found at the write or behind a refusal (StaleRead), or a lock the
        driver could not get: the lock wait already took up to the store's lock timeout,
        so a lock is retried only within that bound, then reported as ``locked``. A
        read-only file, a permission problem or a lost connection is no conflict: it is
        raised as its StoreError without a retry.

        ``command`` is the command the attempt decides: who gives it is checked at the start of every
        attempt, inside the same decision, and its ``by`` is stamped on the events as who recorded them.
        """
        attempt = self._authorised(attempt, command)
        if self._batch is not None:
            return attempt()  # inside a batch: the batch is checked as a whole when it is written
        deadline = time.monotonic() + self.store.lock_timeout
        for n in range(MAX_ATTEMPTS):
            unit = self._unit = Unit(command=command)
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

    def _authorised(self, attempt: Callable[[], T], command: intake.Command | None) -> Callable[[], T]:
        """The attempt, preceded by the check of who gives ``command``, inside the same decision: the roster and
        the application it reads are checked at the write like any other read."""
        if command is None:
            return attempt

        def checked() -> T:
            self._authorise(command)
            return attempt()
        return checked

    def _authorise(self, command: intake.Command) -> None:
        """Refuse ``not-authorised`` unless the operator of this process (or the command's ``by``) may give
        ``command`` today (``clock``)."""
        self.access.authorise(command, self.operator or command.by, self.clock())

    def roster(self) -> OperatorRoster | None:
        """The operators; None while the ledger runs in single-user mode."""
        return self.access.roster()

    def db_user(self) -> str | None:
        """The database role of this ledger's sessions (PostgreSQL), None on SQLite."""
        return self.access.db_user()

    def authorise_reader(self, name: str, today: date) -> None:
        """Refuse ``not-authorised`` unless ``name`` may read this ledger (``AccessControl.authorise_reader``)."""
        self.access.authorise_reader(name, today)

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

    # --- commands: ledger/service/handlers.py ---------------------------------

    def execute(self, command: intake.Command) -> dict[str, Any]:
        """Decide ``command`` with its handler (by the command's class), which passes it on to be authorised."""
        return handlers.HANDLERS[type(command)](self, command)

    # --- queries: ledger/service/queries.py -----------------------------------

    def enterprise_events(self, uscc: str) -> list[Any]:
        """Every event of one enterprise's stream, decoded, in order (``queries.enterprise_events``)."""
        return queries.enterprise_events(self, uscc)

    def set_aside_list(self) -> list[dict[str, Any]]:
        """The malformed events an admin has set aside, by position, as plain data."""
        return queries.set_aside_list(self)

    def operator_list(self) -> list[dict[str, Any]]:
        """Every registered operator as plain data (empty in single-user mode)."""
        return queries.operator_list(self)

    def trail(self, ref: str | None = None, uscc: str | None = None,
              known_at: datetime | None = None) -> dict[str, Any]:
        """Every event of one application (``ref``) or one enterprise (``uscc``), in recorded order."""
        return queries.trail(self, ref, uscc, known_at)

    def enterprise_summary(self, uscc: str, as_of: date | None = None,
                           known_at: datetime | None = None) -> dict[str, Any]:
        """One enterprise: its applications with their status and money, and its awards under other policies."""
        return queries.enterprise_summary(self, uscc, as_of, known_at)

    def show(self, ref: str, as_of: date | None = None, known_at: datetime | None = None) -> dict[str, Any]:
        """One application as plain data (``queries.show``)."""
        return queries.show(self, ref, as_of, known_at)

    def check(self, measure_id: str, raw_facts: dict[str, Any], applied_on: date) -> dict[str, Any]:
        """What an application with these facts would get, and why; nothing is recorded."""
        return queries.check(self, measure_id, raw_facts, applied_on)
