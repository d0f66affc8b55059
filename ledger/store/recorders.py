"""The library's recorders, with one addition: a write can say which versions of the
streams it only *read* it decided on, and the write fails if any of them moved.

The store's optimistic concurrency guards the streams a write appends to (the next
``originator_version`` is unique). A decision also depends on streams it only read:
the enterprise a payment was refused on, the filing-number index that said "no such
application", the policy book. ``expected_versions`` ({stream id: version read, 0 for
"did not exist"}) is checked inside the write's own transaction, after the write lock
is taken (SQLite: after the inserts, which take the database's write lock; PostgreSQL:
after ``LOCK TABLE ... IN EXCLUSIVE MODE``, which every writer of events takes), so no
other writer can commit between the check and the commit. A moved stream raises
``StaleRead`` (a ``RecordConflictError``) and the transaction is rolled back. A write may
also say how many bytes of events it allows (``max_bytes``): more raises ``TooLarge``
before anything is written (an import's chunk; a single event always goes through).

``current_versions`` answers the same question outside a write (one snapshot), for a
decision that writes nothing (a refusal). ``select_streams`` reads the events of many
streams in one query (one snapshot), for an import chunk that would otherwise read them
one by one, most of them finding nothing (new enterprises, filing numbers, vouchers).

Every write also seals its events into the hash chain (``ledger.store.chain``) inside the
same transaction, while it holds the write lock, so the chain follows the commit
order of the log even with concurrent writers (on SQLite here; on PostgreSQL the
database's own trigger computes the links, ``ledger.store.append_only``); and the tables are
created with the append-only triggers of ``ledger.store.append_only``.

This is the one module that reaches inside the library: eventsourcing 9.5 has no public hook
that runs inside a write's transaction, so the recorders override its private ``_insert_events``
(and, on PostgreSQL, ``_lock_table``) and the PostgreSQL ``insert_events`` calls the library's
``_insert_stored_events`` and ``_fetch_ids_after_insert_events`` in the library's order.
``tests/unit/test_library_internals.py`` pins every private member used here to the library code
verified (9.5.6), and fails on an upgrade that changes one (hence the pin below 9.6 in pyproject.toml).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ProgrammingError, RecordConflictError, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder, POPOFactory
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from ledger.store import append_only, chain
from ledger.store.chain import CHAIN_TABLE, GENESIS
from ledger.store.storage import POSTGRES_LOCK_TIMEOUT, postgres_options

Versions = Mapping[UUID, int]

_SQLITE_IDS_PER_QUERY = 500
LOCK_FUNCTION = "grants_lock_events"  # created by projections/identity.py


class StaleRead(RecordConflictError):
    """A stream the decision read has moved since it was read; nothing was written."""

    def __init__(self, moved: dict[UUID, tuple[int, int]]) -> None:
        self.moved = moved
        super().__init__(f"{len(moved)} stream(s) read by this decision changed before it was written")


class TooLarge(Exception):
    """A write's events hold more bytes than it allows (``max_bytes``); nothing was written.
    An import splits such a chunk and writes it in smaller ones."""

    def __init__(self, size: int, limit: int) -> None:
        self.size, self.limit = size, limit
        super().__init__(f"{size:,} bytes of events in one write; at most {limit:,}")


def _check_size(stored_events: Sequence[StoredEvent], kwargs: Mapping[str, Any]) -> None:
    limit = kwargs.get("max_bytes")
    if limit is not None and len(stored_events) > 1:
        size = sum(len(s.state) for s in stored_events)
        if size > limit:
            raise TooLarge(size, limit)


def _stale(expected: Versions, current: Mapping[UUID, int]) -> dict[UUID, tuple[int, int]]:
    return {i: (v, current.get(i, 0)) for i, v in expected.items() if current.get(i, 0) != v}


def _unwritten(expected: Versions | None, stored_events: Sequence[StoredEvent]) -> dict[UUID, int]:
    """The expected versions of the streams this write does not append to (those are
    guarded by the unique version already)."""
    if not expected:
        return {}
    written = {UUID(str(s.originator_id)) for s in stored_events}
    return {i: v for i, v in expected.items() if i not in written}


_LAST_LINK = f"SELECT position, hash FROM {CHAIN_TABLE} ORDER BY position DESC LIMIT 1"


def _last_link(row: Any) -> tuple[int, str]:
    return (0, GENESIS) if row is None else (row[0], row[1])


class CheckedSQLiteRecorder(SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *append_only.sqlite_statements(self.events_table_name)]

    def _seal(self, c: SQLiteCursor, ids: Sequence[int], stored_events: Sequence[StoredEvent]) -> int:
        """Extend the chain over this write's events (and any the chain does not cover yet, oldest first)."""
        c.execute(_LAST_LINK)
        last_position, last_hash = _last_link(c.fetchone())
        if ids and last_position:
            # SQLite gives a new event the rowid after the largest one left: after the last events were
            # deleted, the chain's last link is at or past it (its insert would fail as a conflict, forever).
            c.execute(f"SELECT 1 FROM {self.events_table_name} WHERE rowid = ?", (last_position,))  # noqa: S608
            if ids[0] <= last_position or c.fetchone() is None:
                raise chain.ChainMismatch(last_position)
        rows: list[chain.Row] = []
        if not ids or ids[0] > last_position + 1:  # events written before the chain existed: seal them first
            c.execute(f"SELECT rowid, originator_id, originator_version, topic, state FROM {self.events_table_name} "  # noqa: S608
                      "WHERE rowid > ? AND rowid < ? ORDER BY rowid",
                      (last_position, ids[0] if ids else 2**63 - 1))
            rows.extend(tuple(r) for r in c.fetchall())
        rows.extend((i, s.originator_id, s.originator_version, s.topic, s.state) for i, s in zip(ids, stored_events, strict=True))
        links = chain.extend(last_position, last_hash, rows)
        c.executemany(f"INSERT INTO {CHAIN_TABLE} VALUES (?,?,?,?,?,?,?)",  # noqa: S608
                      [link.as_row() for link in links])
        return len(links)

    def seal(self) -> int:
        """Seal the events the chain does not cover yet (a ledger from before the chain); how many.
        Safe beside writers: WAL refuses this write if another committed since its reads began."""
        with self.datastore.transaction(commit=True) as c:
            return self._seal(c, [], [])

    def _versions(self, c: SQLiteCursor, ids: Iterable[UUID]) -> dict[UUID, int]:
        found: dict[UUID, int] = {}
        ids = list(ids)
        for start in range(0, len(ids), _SQLITE_IDS_PER_QUERY):
            part = ids[start:start + _SQLITE_IDS_PER_QUERY]
            c.execute(f"SELECT originator_id, MAX(originator_version) FROM {self.events_table_name} "  # noqa: S608
                      f"WHERE originator_id IN ({','.join('?' * len(part))}) GROUP BY originator_id",
                      [i.hex for i in part])
            found.update({UUID(row[0]): row[1] for row in c.fetchall()})
        return found

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> Sequence[int] | None:
        _check_size(stored_events, kwargs)
        ids = super()._insert_events(c, stored_events, **kwargs)
        # The inserts above hold the database's write lock until commit (WAL: a
        # transaction whose snapshot is older than the last commit cannot write), so
        # what this reads cannot change before the commit.
        expected = _unwritten(kwargs.get("expected_versions"), stored_events)
        if expected:
            moved = _stale(expected, self._versions(c, expected))
            if moved:
                raise StaleRead(moved)
        if ids:
            self._seal(c, ids, stored_events)
        return ids

    def current_versions(self, ids: Iterable[UUID]) -> dict[UUID, int]:
        with self.datastore.transaction(commit=False) as c:  # one read snapshot (WAL)
            return self._versions(c, ids)

    def select_streams(self, ids: Iterable[UUID]) -> dict[UUID, list[StoredEvent]]:
        """The events of each of these streams that exists, in version order (absent ones left out)."""
        found: dict[UUID, list[StoredEvent]] = {}
        ids = list(ids)
        with self.datastore.transaction(commit=False) as c:  # one read snapshot (WAL)
            for start in range(0, len(ids), _SQLITE_IDS_PER_QUERY):
                part = ids[start:start + _SQLITE_IDS_PER_QUERY]
                c.execute(f"SELECT originator_id, originator_version, topic, state FROM {self.events_table_name} "  # noqa: S608
                          f"WHERE originator_id IN ({','.join('?' * len(part))}) "
                          "ORDER BY originator_id, originator_version", [i.hex for i in part])
                for row in c.fetchall():
                    originator_id = UUID(row[0])
                    found.setdefault(originator_id, []).append(StoredEvent(
                        originator_id=originator_id, originator_version=row[1], topic=row[2], state=row[3]))
        return found


class CheckedPOPORecorder(POPOApplicationRecorder):
    def _versions(self, ids: Iterable[UUID]) -> dict[UUID, int]:
        found = {}
        for i in ids:
            index = self._stored_events_index.get(str(i))
            if index:
                found[i] = max(index)
        return found

    def _insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        _check_size(stored_events, kwargs)
        with self._database_lock:
            expected = _unwritten(kwargs.get("expected_versions"), stored_events)
            moved = _stale(expected, self._versions(expected)) if expected else {}
            if moved:
                raise StaleRead(moved)
            return super()._insert_events(stored_events, **kwargs)

    def current_versions(self, ids: Iterable[UUID]) -> dict[UUID, int]:
        with self._database_lock:
            return self._versions(ids)

    def select_streams(self, ids: Iterable[UUID]) -> dict[UUID, list[StoredEvent]]:
        with self._database_lock:
            return {i: events for i in ids if (events := list(self.select_events(i)))}

    def seal(self) -> int:
        """An in-memory store has no chain (nothing outlives the process to be tampered with)."""
        return 0


class CheckedPOPOFactory(POPOFactory):
    def application_recorder(self) -> CheckedPOPORecorder:
        return CheckedPOPORecorder()


def _chain_cut(exc: BaseException | None) -> int | None:
    """The position of the chain's last link, if ``exc`` (or what it was raised from, the library wraps the
    driver's errors) is the sealing trigger's refusal of a log cut behind the ledger's back."""
    seen = 0
    while exc is not None and seen < 5:
        if getattr(exc, "sqlstate", None) == append_only.CHAIN_MISMATCH_STATE:
            detail = getattr(getattr(exc, "diag", None), "message_detail", None)
            return int(detail) if detail and detail.isdigit() else 0
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def _postgres_recorder() -> type:
    from eventsourcing.postgres import PostgresApplicationRecorder
    from psycopg.sql import SQL, Identifier

    class CheckedPostgresRecorder(PostgresApplicationRecorder):
        _lock_function: bool | None = None  # whether the identity DDL's lock function exists

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.sql_create_statements.extend(
                SQL(s).format() for s in append_only.postgres_statements(self.datastore.schema,
                                                                        self.events_table_name))
            table = SQL("{schema}.{table}").format(schema=Identifier(self.datastore.schema),
                                                  table=Identifier(self.events_table_name))
            self._select_streams = SQL("SELECT originator_id, originator_version, topic, state FROM {table} "
                                       "WHERE originator_id = ANY(%s::uuid[]) "
                                       "ORDER BY originator_id, originator_version").format(table=table)
            self._seal_all = SQL("SELECT {schema}.{function}(NULL) AS sealed").format(
                schema=Identifier(self.datastore.schema), function=Identifier(append_only.SEAL_FUNCTION))

        def seal(self) -> int:
            """Seal the events the chain does not cover yet (a ledger from before the chain); how many. The
            database computes the links (``append_only``): it also seals each event as it is inserted."""
            with self.datastore.transaction(commit=True) as curs:
                self._lock_table(curs)
                curs.execute(self._seal_all)
                row = curs.fetchone()
                return int(row["sealed"]) if row else 0

        def _versions(self, curs: Any, ids: Iterable[UUID]) -> dict[UUID, int]:
            statement = SQL("SELECT originator_id, MAX(originator_version) AS version FROM {schema}.{table} "
                            "WHERE originator_id = ANY(%s::uuid[]) GROUP BY originator_id").format(
                schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
            curs.execute(statement, (list(ids),))
            return {UUID(str(row["originator_id"])): row["version"] for row in curs.fetchall()}

        def _insert_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
            # Runs in the insert's transaction before the library's own insert. Taking
            # the table lock here (the insert takes it again, a no-op) means no other
            # writer can commit events between this check and this commit.
            super()._insert_events(curs, stored_events, **kwargs)
            expected = _unwritten(kwargs.get("expected_versions"), stored_events)
            if expected:
                self._lock_table(curs)
                moved = _stale(expected, self._versions(curs, expected))
                if moved:
                    raise StaleRead(moved)

        def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
            """The library's steps in the library's order, in one transaction, but not in psycopg's
            pipeline mode: a pipelined insert of more than about 6 MB never returns (psycopg 3.3,
            PostgreSQL 15; docs/benchmark.md). Without the pipeline each statement waits for its
            answer (a handful per write), and a write of any size completes."""
            if self.datastore.enable_db_functions:
                # The stored-function path never calls _insert_events: the checks and the chain would be skipped.
                raise ProgrammingError("POSTGRES_ENABLE_DB_FUNCTIONS cannot check the versions a write read "
                                       "nor seal the hash chain")
            _check_size(stored_events, kwargs)
            try:
                with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
                    self._insert_events(curs, stored_events, **kwargs)
                    if not stored_events:
                        return None
                    self._insert_stored_events(curs, stored_events, **kwargs)
                    ids: Sequence[int] | None = self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
                    return ids
            except Exception as exc:
                cut = _chain_cut(exc)
                if cut is not None:  # the sealing trigger found the log no longer ends where its chain does
                    raise chain.ChainMismatch(cut) from exc
                raise

        def current_versions(self, ids: Iterable[UUID]) -> dict[UUID, int]:
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                return self._versions(curs, ids)  # one statement: one snapshot

        def select_streams(self, ids: Iterable[UUID]) -> dict[UUID, list[StoredEvent]]:
            """The events of each of these streams that exists, in version order (absent ones left out)."""
            found: dict[UUID, list[StoredEvent]] = {}
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(self._select_streams, (list(ids),))  # one statement: one snapshot
                for row in curs.fetchall():
                    originator_id = UUID(str(row["originator_id"]))
                    found.setdefault(originator_id, []).append(StoredEvent(
                        originator_id=originator_id, originator_version=row["originator_version"],
                        topic=row["topic"], state=bytes(row["state"])))
            return found

        def session_owns_ledger(self) -> bool:
            """Whether this session's role owns the event table (the ledger's owner, who ran `grants init`)."""
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute("SELECT pg_has_role(session_user, tableowner, 'MEMBER') AS owner FROM pg_tables "
                             "WHERE schemaname = %s AND tablename = %s",
                             (self.datastore.schema or "public", self.events_table_name))
                row = curs.fetchone()
                return bool(row and row["owner"])

        def session_user(self) -> str:
            """The database role this recorder's sessions run as (what the event table stamps)."""
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute("SELECT session_user AS name")
                row = curs.fetchone()
                assert row is not None
                return str(row["name"])

        def _lock_table(self, curs: Any) -> None:
            # LOCK TABLE ... IN EXCLUSIVE MODE needs UPDATE, DELETE or TRUNCATE on the table, which
            # no operator's role has (projections/identity.py). Where the ledger's identity DDL is
            # installed, the lock is taken by its SECURITY DEFINER function instead (held to commit).
            if self._lock_function is None:
                curs.execute("SELECT to_regprocedure(%s) IS NOT NULL AS found",
                             (f"{self.datastore.schema}.{LOCK_FUNCTION}()",))
                self._lock_function = bool(curs.fetchone()["found"])
            if self._lock_function:
                # The library's own path sets the wait bound before its LOCK TABLE; the function's lock
                # waits under the same bound (else as long as another session holds it).
                curs.execute(SQL("SET LOCAL lock_timeout = '{0}s'").format(self.datastore.lock_timeout))
                curs.execute(SQL("SELECT {schema}.{function}()").format(
                    schema=Identifier(self.datastore.schema), function=Identifier(LOCK_FUNCTION)))
            else:
                super()._lock_table(curs)

    return CheckedPostgresRecorder


def _postgres_factory() -> type:
    from eventsourcing.postgres import PostgresFactory

    class CheckedPostgresFactory(PostgresFactory):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # Every connection of the event store: lock waits and statements bounded (ledger/store/storage.py). The
            # pool is not open yet: it opens, with these, on first use.
            connect = self.datastore.pool.kwargs
            assert isinstance(connect, dict)  # the library passes a dict (the host, the user, ...)
            connect["options"] = postgres_options(self.datastore.lock_timeout or POSTGRES_LOCK_TIMEOUT)

    return CheckedPostgresFactory


_BUILT = {"CheckedPostgresRecorder": _postgres_recorder, "CheckedPostgresFactory": _postgres_factory}


def __getattr__(name: str) -> Any:
    # The PostgreSQL classes are built on first use, so psycopg is imported only by ledgers on
    # PostgreSQL (eventsourcing resolves PERSISTENCE_MODULE and APPLICATION_RECORDER_TOPIC here).
    if name in _BUILT:
        cls = _BUILT[name]()
        cls.__module__ = __name__
        globals()[name] = cls
        return cls
    raise AttributeError(name)


PERSISTENCE = {
    # PERSISTENCE_MODULE -> extra settings that swap in the checked recorder
    "eventsourcing.sqlite": {"APPLICATION_RECORDER_TOPIC": "ledger.store.recorders:CheckedSQLiteRecorder"},
    "eventsourcing.postgres": {"PERSISTENCE_MODULE": "ledger.store.recorders:CheckedPostgresFactory",
                               "APPLICATION_RECORDER_TOPIC": "ledger.store.recorders:CheckedPostgresRecorder"},
    "eventsourcing.popo": {"PERSISTENCE_MODULE": "ledger.store.recorders:CheckedPOPOFactory"},
}
