"""Every way the database can fail gets its own code, message and exit code, and none
of them is taken for a busy ledger: read-only files, held locks, another user's
-wal/-shm files, foreign databases, URL options, and PostgreSQL's connection failures."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from tests.conftest import PG_ADMIN, USCC_A
from tests.helpers import cli

REGISTER = ("register", "--uscc", USCC_A, "--name", "十堰数智工业互联网科技有限公司", "--area", "张湾区")
REGISTER_B = ("register", "--uscc", "91420302MA4F0C3D47", "--name", "十堰安盾网络安全服务有限公司", "--area", "茅箭区")
PAY = ("pay", "SY-1", "--payer", "city", "--amount", "100", "--voucher", "V-1", "--date", "2023-03-01")
ROOT = Path(__file__).resolve().parents[2]


def failure(result: Result) -> dict[str, Any]:
    """The one JSON error object on stderr (log lines are JSON too; the error is the one with "error")."""
    objects = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    errors = [o["error"] for o in objects if "error" in o]
    assert len(errors) == 1, result.stderr
    return errors[0]


def events_in(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM stored_events").fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def ledger_file(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.db"
    assert cli(f"sqlite:///{path}", "init").exit_code == 0
    assert cli(f"sqlite:///{path}", *REGISTER).exit_code == 0
    return path


# --- foreign databases ------------------------------------------------------------

def foreign_sqlite(path: Path) -> bytes:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (no TEXT, amount INTEGER)")
    conn.execute("INSERT INTO invoices VALUES ('F-1', 100)")
    conn.commit()
    conn.close()
    return path.read_bytes()


@pytest.mark.parametrize("args", [PAY, ("report", "shares"), ("init",), ("import", "lines.jsonl")])
def test_a_foreign_sqlite_file_is_refused_and_left_byte_identical(tmp_path, monkeypatch, args):
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "lines.jsonl").write_text(json.dumps({"op": "register", "uscc": USCC_A, "name": "某公司",
                                                      "area": "张湾区"}) + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    path = work / "accounts.db"
    before = foreign_sqlite(path)
    result = cli(f"sqlite:///{path}", *args, "--json")
    assert result.exit_code == 3, result.stderr
    error = failure(result)
    assert error["code"] == "foreign-database" and "invoices" in error["message"]
    assert path.read_bytes() == before
    assert sorted(p.name for p in work.iterdir()) == ["accounts.db"]  # no -wal, no -shm, no journal


def test_a_file_that_is_not_sqlite_is_named_not_a_database(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("minutes of the review meeting\n" * 50, encoding="utf-8")
    before = path.read_bytes()
    result = cli(f"sqlite:///{path}", *REGISTER, "--json")
    assert result.exit_code == 3 and failure(result)["code"] == "not-a-database"
    assert path.read_bytes() == before


# --- SQLite URL options --------------------------------------------------------------

def test_mode_ro_never_becomes_part_of_a_file_name(tmp_path):
    result = cli(f"sqlite:///{tmp_path / 'f.db'}?mode=ro", "init", "--json")
    assert result.exit_code == 3 and failure(result)["code"] == "no-ledger"
    assert list(tmp_path.iterdir()) == []  # neither f.db nor 'f.db?mode=ro'


def test_an_unknown_url_option_is_invalid_input_naming_the_db_field(tmp_path):
    result = cli(f"sqlite:///{tmp_path / 'f.db'}?cache=shared", "init", "--json")
    assert result.exit_code == 2
    error = failure(result)
    assert error["code"] == "invalid-input" and error["field"] == "db" and "mode=ro" in error["message"]
    assert list(tmp_path.iterdir()) == []


def test_mode_ro_reads_the_ledger_and_refuses_to_record(ledger_file):
    url = f"sqlite:///{ledger_file}?mode=ro"
    assert cli(url, "report", "enterprise").exit_code == 0
    result = cli(url, *REGISTER_B, "--json")
    assert result.exit_code == 5, result.stderr
    assert failure(result)["code"] == "read-only"
    assert events_in(ledger_file) == 1


# --- read-only files ---------------------------------------------------------------

@pytest.fixture
def immutable(ledger_file: Path) -> Iterator[Path]:
    """The ledger file made immutable (chattr +i): read-only even for root."""
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(ledger_file)],
                                                        capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here (needs root on a file system with attributes)")
    try:
        yield ledger_file
    finally:
        subprocess.run(["chattr", "-i", str(ledger_file)], check=True)


def test_a_read_only_ledger_says_read_only_at_once_not_busy(immutable):
    before = immutable.read_bytes()
    started = time.monotonic()
    result = cli(f"sqlite:///{immutable}", *REGISTER_B, "--json")
    assert result.exit_code == 5, result.stderr
    error = failure(result)
    assert error["code"] == "read-only" and str(immutable) in error["message"] and "busy" not in error["message"]
    assert time.monotonic() - started < 3
    assert immutable.read_bytes() == before


def test_a_read_only_ledger_can_still_be_read_with_mode_ro(immutable):
    assert cli(f"sqlite:///{immutable}?mode=ro", "report", "enterprise").exit_code == 0


def test_a_ledger_that_cannot_be_created_in_its_directory_is_permission_denied(tmp_path):
    directory = tmp_path / "archive"
    directory.mkdir()
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(directory)],
                                                        capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here (needs root on a file system with attributes)")
    try:
        result = cli(f"sqlite:///{directory / 'ledger.db'}", "init", "--json")
    finally:
        subprocess.run(["chattr", "-i", str(directory)], check=True)
    assert result.exit_code == 5, result.stderr
    error = failure(result)
    assert error["code"] == "permission-denied" and str(directory) in error["message"]


# --- a held write lock ---------------------------------------------------------------

@pytest.fixture
def lock_holder(ledger_file: Path) -> Iterator[int]:
    """Another process holding the ledger's write lock (BEGIN EXCLUSIVE); yields its pid."""
    code = ("import sqlite3, sys, time\n"
            f"c = sqlite3.connect({str(ledger_file)!r}, isolation_level=None)\n"
            "c.execute('BEGIN EXCLUSIVE')\nprint('held', flush=True)\ntime.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    try:
        yield holder.pid
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("args", [REGISTER_B, ("init",)])
def test_a_held_lock_is_reported_as_locked_by_that_process_after_the_url_timeout(ledger_file, lock_holder, args):
    started = time.monotonic()
    result = cli(f"sqlite:///{ledger_file}?timeout=2", *args, "--json")
    elapsed = time.monotonic() - started
    assert result.exit_code == 4, result.stderr
    error = failure(result)
    assert error["code"] == "locked"
    assert f"process {lock_holder}" in error["message"] and "waited 2 s" in error["message"]
    assert 1.9 < elapsed < 6


def test_the_default_lock_wait_is_ten_seconds(ledger_file, lock_holder):
    started = time.monotonic()
    result = cli(f"sqlite:///{ledger_file}", *REGISTER_B, "--json")
    elapsed = time.monotonic() - started
    assert result.exit_code == 4 and failure(result)["code"] == "locked"
    assert 9.5 < elapsed < 16


# --- another OS user's -wal/-shm files -------------------------------------------------

SYSTEM_PYTHON = "/usr/bin/python3"


def as_user(uid: int, code: str, *, pythonpath: str = "") -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": pythonpath}
    return subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", SYSTEM_PYTHON, "-c", code],
                          capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A sticky world-writable directory other users can reach (pytest's tmp_path is root's only)."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None or not Path(SYSTEM_PYTHON).exists():
        pytest.skip("needs root, setpriv and a system python3 to act as two other users")
    path = Path(tempfile.mkdtemp(prefix="grants-shared-"))
    path.chmod(0o1777)
    try:
        yield path
    finally:
        shutil.rmtree(path)


@pytest.fixture
def source_for_others(shared_dir: Path) -> Iterator[str]:
    """A copy of the ``ledger`` package the other users can import: the checkout itself may sit in a
    directory only root can enter (a clone in ``mktemp -d``, mode 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="grants-source-"))
    shutil.copytree(ROOT / "ledger", folder / "ledger", ignore=shutil.ignore_patterns("__pycache__"))
    for item in [folder, *folder.rglob("*")]:
        item.chmod(0o755 if item.is_dir() else 0o644)
    try:
        yield str(folder)
    finally:
        shutil.rmtree(folder)


def test_another_users_wal_files_are_named_as_a_permission_problem_not_busy(shared_dir, source_for_others):
    """The owner (uid 1) of a ledger, after a report by another user (nobody) who may only read it."""
    path = shared_dir / "ledger.db"
    assert cli(f"sqlite:///{path}", "init").exit_code == 0
    os.chown(path, 1, 1)
    path.chmod(0o644)
    read = as_user(65534, f"import sqlite3; c = sqlite3.connect({str(path)!r}); "
                          "c.execute('SELECT count(*) FROM stored_events').fetchone(); c.close()")
    assert read.returncode == 0, read.stderr
    assert Path(f"{path}-wal").stat().st_uid == 65534  # the reader left them, owned by itself

    probe = ("import sqlite3, sys\n"
             "from ledger.store.storage import parse_store\n"
             "from ledger.store.errors import classify, unwritable\n"
             f"store = parse_store({'sqlite:///' + str(path)!r})\n"
             "found = unwritable(store)\n"
             "print(found.code); print(found.message)\n"
             f"c = sqlite3.connect({str(path)!r}, isolation_level=None, timeout=1)\n"
             "try:\n    c.execute('INSERT INTO rm_tracking VALUES (\\'x\\', 0)')\n"
             "except sqlite3.Error as exc:\n    print(classify(exc, store).code)\n")
    owner = as_user(1, probe, pythonpath=source_for_others)
    assert owner.returncode == 0, owner.stderr
    code, message, from_the_driver = owner.stdout.splitlines()
    assert code == "permission-denied" and from_the_driver == "permission-denied"
    assert f"{path}-wal" in message and "nobody" in message


def test_a_user_who_may_not_write_the_ledger_is_refused_before_sqlite_leaves_files(shared_dir, source_for_others):
    path = shared_dir / "ledger.db"
    assert cli(f"sqlite:///{path}", "init").exit_code == 0
    path.chmod(0o644)  # root's, readable by all
    probe = ("from ledger.store.storage import parse_store\nfrom ledger.store.errors import unwritable\n"
             f"found = unwritable(parse_store({'sqlite:///' + str(path)!r}))\nprint(found.code)\n")
    reader = as_user(65534, probe, pythonpath=source_for_others)
    assert reader.returncode == 0, reader.stderr
    assert reader.stdout.strip() == "permission-denied"
    assert sorted(p.name for p in shared_dir.iterdir()) == ["ledger.db"]


# --- PostgreSQL ------------------------------------------------------------------------

def pg_failure(url: str, *args: str) -> tuple[dict, float]:
    started = time.monotonic()
    result = cli(url, *(args or ("report", "shares")), "--json")
    elapsed = time.monotonic() - started
    assert result.exit_code in (3, 5), result.stderr
    return failure(result) | {"exit": result.exit_code}, elapsed


@pytest.mark.postgres
def test_postgres_refused_port_is_connection_refused_at_once():
    error, elapsed = pg_failure("postgresql://postgres@127.0.0.1:1/ledger")
    assert error["code"] == "connection-refused" and "127.0.0.1:1" in error["message"]
    assert elapsed < 3


@pytest.mark.postgres
def test_postgres_unknown_host_is_named():
    error, elapsed = pg_failure("postgresql://postgres@no-such-ledger-host.invalid:5432/ledger", *PAY)
    assert error["code"] == "unknown-host" and "no-such-ledger-host.invalid" in error["message"]
    assert elapsed < 6


def test_postgres_missing_database_is_named(pg_url):
    missing = f"{pg_url}_missing"
    error, elapsed = pg_failure(missing, "init")
    assert error["code"] == "no-database" and missing.rsplit("/", 1)[1] in error["message"]
    assert elapsed < 3


def test_postgres_missing_role_is_named(pg_url):
    role = f"nobody_{uuid.uuid4().hex[:8]}"
    error, elapsed = pg_failure(pg_url.replace("postgres@", f"{role}@"), *PAY)
    assert error["code"] == "no-role" and role in error["message"]
    assert elapsed < 3


def test_a_foreign_postgres_database_is_refused_before_anything_is_created(pg_url):
    psycopg = pytest.importorskip("psycopg")
    dbname = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN.replace("dbname=test", f"dbname={dbname}"), autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (no text, amount integer)")
        error, _ = pg_failure(pg_url, *PAY)
        assert error["code"] == "foreign-database" and error["exit"] == 3 and "invoices" in error["message"]
        tables = {r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables "
                                             "WHERE table_schema = 'public'")}
    assert tables == {"invoices"}


def test_a_postgres_role_without_create_rights_is_permission_denied(pg_url):
    psycopg = pytest.importorskip("psycopg")
    role = f"grants_weak_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        try:
            error, _ = pg_failure(pg_url.replace("postgres@", f"{role}@"), "init")
        finally:
            admin.execute(f'DROP ROLE "{role}"')
    assert error["code"] == "permission-denied" and error["exit"] == 5 and role in error["message"]
