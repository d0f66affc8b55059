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
``StaleRead`` (a ``RecordConflictError``) and the transaction is rolled back.

``current_versions`` answers the same question outside a write (one snapshot), for a
decision that writes nothing (a refusal).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ProgrammingError, RecordConflictError, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder, POPOFactory
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

Versions = Mapping[UUID, int]

_SQLITE_IDS_PER_QUERY = 500
LOCK_FUNCTION = "grants_lock_events"  # created by projections/identity.py


class StaleRead(RecordConflictError):
    """A stream the decision read has moved since it was read; nothing was written."""

    def __init__(self, moved: dict[UUID, tuple[int, int]]) -> None:
        self.moved = moved
        super().__init__(f"{len(moved)} stream(s) read by this decision changed before it was written")


def _stale(expected: Versions, current: Mapping[UUID, int]) -> dict[UUID, tuple[int, int]]:
    return {i: (v, current.get(i, 0)) for i, v in expected.items() if current.get(i, 0) != v}


def _unwritten(expected: Versions | None, stored_events: Sequence[StoredEvent]) -> dict[UUID, int]:
    """The expected versions of the streams this write does not append to (those are
    guarded by the unique version already)."""
    if not expected:
        return {}
    written = {UUID(str(s.originator_id)) for s in stored_events}
    return {i: v for i, v in expected.items() if i not in written}


class CheckedSQLiteRecorder(SQLiteApplicationRecorder):
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
        ids = super()._insert_events(c, stored_events, **kwargs)
        # The inserts above hold the database's write lock until commit (WAL: a
        # transaction whose snapshot is older than the last commit cannot write), so
        # what this reads cannot change before the commit.
        expected = _unwritten(kwargs.get("expected_versions"), stored_events)
        if expected:
            moved = _stale(expected, self._versions(c, expected))
            if moved:
                raise StaleRead(moved)
        return ids

    def current_versions(self, ids: Iterable[UUID]) -> dict[UUID, int]:
        with self.datastore.transaction(commit=False) as c:  # one read snapshot (WAL)
            return self._versions(c, ids)


class CheckedPOPORecorder(POPOApplicationRecorder):
    def _versions(self, ids: Iterable[UUID]) -> dict[UUID, int]:
        found = {}
        for i in ids:
            index = self._stored_events_index.get(str(i))
            if index:
                found[i] = max(index)
        return found

    def _insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        with self._database_lock:
            expected = _unwritten(kwargs.get("expected_versions"), stored_events)
            moved = _stale(expected, self._versions(expected)) if expected else {}
            if moved:
                raise StaleRead(moved)
            return super()._insert_events(stored_events, **kwargs)

    def current_versions(self, ids: Iterable[UUID]) -> dict[UUID, int]:
        with self._database_lock:
            return self._versions(ids)


class CheckedPOPOFactory(POPOFactory):
    def application_recorder(self) -> CheckedPOPORecorder:
        return CheckedPOPORecorder()


def _postgres_recorder() -> type:
    from eventsourcing.postgres import PostgresApplicationRecorder
    from psycopg.sql import SQL, Identifier

    class CheckedPostgresRecorder(PostgresApplicationRecorder):
        _lock_function: bool | None = None  # whether the identity DDL's lock function exists
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
            if self.datastore.enable_db_functions and kwargs.get("expected_versions"):
                # The stored-function path never calls _insert_events: the check would be skipped.
                raise ProgrammingError("POSTGRES_ENABLE_DB_FUNCTIONS cannot check the versions a write read")
            inserted: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return inserted

        def current_versions(self, ids: Iterable[UUID]) -> dict[UUID, int]:
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                return self._versions(curs, ids)  # one statement: one snapshot

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
                curs.execute(SQL("SELECT {schema}.{function}()").format(
                    schema=Identifier(self.datastore.schema), function=Identifier(LOCK_FUNCTION)))
            else:
                super()._lock_table(curs)

    return CheckedPostgresRecorder


def __getattr__(name: str) -> Any:
    # The PostgreSQL recorder is built on first use, so psycopg is imported only by
    # ledgers on PostgreSQL (eventsourcing resolves APPLICATION_RECORDER_TOPIC here).
    if name == "CheckedPostgresRecorder":
        cls = _postgres_recorder()
        cls.__module__ = __name__
        globals()[name] = cls
        return cls
    raise AttributeError(name)


PERSISTENCE = {
    # PERSISTENCE_MODULE -> extra settings that swap in the checked recorder
    "eventsourcing.sqlite": {"APPLICATION_RECORDER_TOPIC": "ledger.recorders:CheckedSQLiteRecorder"},
    "eventsourcing.postgres": {"APPLICATION_RECORDER_TOPIC": "ledger.recorders:CheckedPostgresRecorder"},
    "eventsourcing.popo": {"PERSISTENCE_MODULE": "ledger.recorders:CheckedPOPOFactory"},
}
