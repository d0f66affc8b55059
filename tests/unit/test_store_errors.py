"""Classifying the drivers' errors, on the drivers' real errors; which failures are retried;
the SQLite URL options. No ledger database needed (sqlite3 files in tmp_path only)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import OperationalError, RecordConflictError

from commands import output
from ledger.errors import Refused
from ledger.service.application import Busy, GrantsLedger
from ledger.store.errors import CODES, StoreError, classify, sqlite_lock_holders
from ledger.store.storage import parse_store
from tests.conftest import memory_ledger

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def sqlite_error(tmp_path: Path, what: str) -> sqlite3.Error:
    """A real error of the sqlite3 driver."""
    path = tmp_path / "l.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE t (x)")
    try:
        if what == "read-only":
            sqlite3.connect(f"file:{path}?mode=ro", uri=True).execute("INSERT INTO t VALUES (1)")
        elif what == "locked":
            conn.execute("BEGIN EXCLUSIVE")
            sqlite3.connect(path, timeout=0).execute("INSERT INTO t VALUES (1)")
        elif what == "cannot-open":
            sqlite3.connect(tmp_path / "no" / "such" / "dir.db").execute("SELECT 1")
        elif what == "not-a-database":
            (tmp_path / "text.db").write_text("not a database " * 100)
            sqlite3.connect(tmp_path / "text.db").execute("SELECT * FROM sqlite_master")
    except sqlite3.Error as exc:
        return exc
    finally:
        conn.close()
    raise AssertionError(f"no error for {what}")


def code_of(failure: StoreError | None) -> str | None:
    return None if failure is None else failure.code


@pytest.mark.parametrize("what", ["read-only", "locked", "cannot-open", "not-a-database"])
def test_each_real_sqlite_error_gets_its_own_code_also_when_wrapped(tmp_path, what):
    store = parse_store(f"sqlite:///{tmp_path / 'l.db'}")
    exc = sqlite_error(tmp_path, what)
    assert code_of(classify(exc, store)) == what
    try:
        raise OperationalError(exc) from exc  # as the event-store library wraps it
    except OperationalError as wrapped:
        assert code_of(classify(wrapped, store)) == what


@pytest.mark.parametrize(("message", "code"), [
    ('connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  password authentication '
     'failed for user "li"', "auth-failed"),
    ('connection failed: connection to server at "10.0.0.9", port 5432 failed: timeout expired', "connection-timeout"),
    ('connection failed: FATAL:  no pg_hba.conf entry for host "10.1.1.1", user "li", database "grants"',
     "auth-failed"),
    ('connection failed: FATAL:  role "li" does not exist', "no-role"),
    ('connection failed: FATAL:  database "grants" does not exist', "no-database"),
    ('connection failed: could not translate host name "db.invalid" to address: Name or service not known',
     "unknown-host"),
])
def test_postgres_connection_failures_are_told_apart_by_the_server_message(message, code):
    store = parse_store("postgresql://li@db.example:5432/grants")
    assert code_of(classify(psycopg.OperationalError(message), store)) == code


def test_an_unknown_error_is_not_classified():
    assert classify(ValueError("something else"), parse_store("sqlite:///x.db")) is None


def failing(errors: list[BaseException]) -> tuple[Callable[[], str], list[int]]:
    calls: list[int] = []

    def attempt() -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return "done"
    return attempt, calls


def sqlite_ledger(tmp_path: Path, timeout: int = 1) -> GrantsLedger:
    """A ledger whose retries classify as SQLite's (its events stay in memory)."""
    app = memory_ledger()
    app.store = parse_store(f"sqlite:///{tmp_path / 'l.db'}?timeout={timeout}")
    return app


def test_a_read_only_error_is_raised_at_once_not_retried_as_busy(tmp_path):
    app = sqlite_ledger(tmp_path)
    exc = sqlite_error(tmp_path, "read-only")
    attempt, calls = failing([OperationalError(exc)])
    with pytest.raises(StoreError) as raised:
        app._retrying(attempt)
    assert raised.value.code == "read-only" and len(calls) == 1


def test_write_conflicts_are_retried(tmp_path):
    app = sqlite_ledger(tmp_path)
    attempt, calls = failing([RecordConflictError("x"), RecordConflictError("x")])
    assert app._retrying(attempt) == "done" and len(calls) == 3


def test_a_lock_is_retried_only_within_the_lock_timeout_then_locked(tmp_path):
    app = sqlite_ledger(tmp_path, timeout=1)
    exc = sqlite_error(tmp_path, "locked")
    attempt, calls = failing([OperationalError(exc)] * 10_000)
    with pytest.raises(StoreError) as raised:
        app._retrying(attempt)
    assert raised.value.code == "locked" and 1 < len(calls) < 10_000


def test_endless_conflicts_end_busy(tmp_path):
    app = sqlite_ledger(tmp_path)
    attempt, _ = failing([RecordConflictError("x")] * 100)
    with pytest.raises(Busy):
        app._retrying(attempt)


@pytest.mark.parametrize("url", ["sqlite:///f.db?mode=rw", "sqlite:///f.db?cache=shared", "sqlite:///f.db?timeout=0",
                                 "sqlite:///f.db?timeout=301", "sqlite:///f.db?mode", "sqlite:///file:f.db",
                                 "sqlite:///f.db?mode=ro&mode=ro"])
def test_sqlite_url_options_other_than_mode_ro_and_timeout_are_refused_naming_db(url):
    with pytest.raises(Refused) as refused:
        parse_store(url)
    assert refused.value.field == "db"


def test_mode_ro_opens_the_same_file_read_only_for_both_drivers():
    store = parse_store("sqlite:///data/f.db?mode=ro&timeout=3")
    assert store.sqlite_path == "data/f.db" and store.read_only and store.lock_timeout == 3
    assert store.event_store_env["SQLITE_DBNAME"] == "file:data/f.db?mode=ro"
    assert store.sqlalchemy_url == "sqlite:///file:data/f.db?mode=ro&uri=true"
    assert parse_store("sqlite:///f.db").lock_timeout == 10


def test_lock_holders_are_read_from_proc_locks(tmp_path):
    path = tmp_path / "l.db"
    path.write_bytes(b"")
    shm = tmp_path / "l.db-shm"
    shm.write_bytes(b"")
    st = shm.stat()
    device = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}"
    locks = tmp_path / "locks"
    locks.write_text(f"1: POSIX  ADVISORY  WRITE 1 {device}:{st.st_ino} 120 120\n"
                     f"2: POSIX  ADVISORY  READ  2 {device}:{st.st_ino} 128 128\n"
                     f"3: POSIX  ADVISORY  WRITE 3 {device}:{st.st_ino + 1} 120 120\n"
                     f"4: POSIX  ADVISORY  WRITE {os.getpid()} {device}:{st.st_ino} 120 120\n")
    holders = sqlite_lock_holders(str(path), proc_locks=str(locks))
    assert len(holders) == 1 and holders[0].startswith("process 1")


def test_every_store_error_code_and_exit_code_is_documented():
    page = DOCS.read_text(encoding="utf-8")
    missing = [code for code in (*CODES, "no-ledger", "busy") if f"`{code}`" not in page]
    assert not missing, f"docs/cli.md does not document: {', '.join(missing)}"
    assert "| 5 |" in page and output.EXIT_NOT_PERMITTED == 5
