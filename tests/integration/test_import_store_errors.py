"""An import classifies a store failure exactly as a single command does (one classifier): a read-only ledger is
exit 5 `read-only`, a full disk `disk-full`, a lost connection is reported at once, and each names the line the
import will go on from; never "busy"."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import OperationalError

from commands import imports
from ledger.service.application import GrantsLedger
from ledger.store.errors import StoreError
from ledger.store.storage import parse_store
from tests.conftest import PG_ADMIN, USCC_A, new_ledger
from tests.helpers import cli, cli_json, write_lines

GRANTS = str(Path(sys.executable).with_name("grants"))
SETUP = [{"op": "adopt-policy", "effective": "2022-09-01"},
         {"op": "register", "uscc": USCC_A, "name": "十堰数智科技有限公司", "area": "张湾区", "date": "2022-06-01"}]


def _awards(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"op": "external-award", "uscc": USCC_A, "project": f"P-{n}", "policy": "其他政策", "amount_fen": 100,
             "date": "2023-01-01"} for n in range(start, start + count)]


def _error(result: Any) -> dict[str, Any]:
    objects = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    errors = [o["error"] for o in objects if "error" in o]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_an_import_on_a_read_only_url_is_read_only_exit_5_naming_the_line(tmp_path):
    url = new_ledger(tmp_path)
    path = write_lines(tmp_path / "lines.jsonl", [*SETUP, *_awards(3)])
    result = cli(url + "?mode=ro", "import", str(path), "--json")
    assert result.exit_code == 5, result.stderr
    error = _error(result)
    assert error["code"] == "read-only" and error["resume_at"] == 1
    assert "busy" not in error["message"] and "line 1" in error["message"]
    single = cli(url + "?mode=ro", "register", "--uscc", USCC_A, "--name", "某公司", "--area", "张湾区", "--json")
    assert (single.exit_code, _error(single)["code"]) == (5, "read-only")


def _sqlite_failure(message: str) -> OperationalError:
    try:
        raise sqlite3.OperationalError(message)
    except sqlite3.OperationalError as cause:
        try:
            raise OperationalError(message) from cause
        except OperationalError as exc:
            return exc


def _postgres_failure() -> OperationalError:
    try:
        raise psycopg.errors.AdminShutdown("terminating connection due to administrator command")
    except psycopg.Error as cause:
        try:
            raise OperationalError(str(cause)) from cause
        except OperationalError as exc:
            return exc


@pytest.mark.parametrize(("message", "code"), [("database or disk is full", "disk-full"),
                                               ("attempt to write a readonly database", "read-only"),
                                               ("disk I/O error", "io-error")])
def test_the_import_and_a_single_command_classify_a_sqlite_failure_alike(tmp_path, monkeypatch, message, code):
    ledger = GrantsLedger(parse_store(new_ledger(tmp_path)))
    assert imports.import_lines(ledger, [json.dumps(line).encode() for line in SETUP], "t")["refused"] == []
    lines = [json.dumps(line).encode() for line in _awards(5)]
    calls = {"n": 0}
    real = ledger.recorder.insert_events

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > 1:  # the first chunk goes through, the second meets the failure
            raise _sqlite_failure(message)
        return real(*args, **kwargs)

    monkeypatch.setattr(ledger.recorder, "insert_events", failing)
    with pytest.raises(StoreError) as caught:
        imports.import_lines(ledger, lines, "t", chunk=2)
    assert caught.value.code == code and caught.value.resume_at == 3
    assert "line 3" in str(caught.value) and calls["n"] == 2  # reported at once, not retried
    with pytest.raises(StoreError) as single:
        ledger.execute(imports._parse(1, json.dumps(_awards(1, 100)[0]).encode(), "t"))  # type: ignore[arg-type]
    assert single.value.code == code


def test_a_lost_postgresql_connection_is_reported_at_once_by_the_import_and_a_single_command(pg_url, monkeypatch):
    from tests.conftest import init_ledger

    ledger = GrantsLedger(parse_store(init_ledger(pg_url)))
    assert imports.import_lines(ledger, [json.dumps(line).encode() for line in SETUP], "t")["refused"] == []
    calls = {"n": 0}

    def lost(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        raise _postgres_failure()

    monkeypatch.setattr(ledger.recorder, "insert_events", lost)
    with pytest.raises(StoreError) as caught:
        imports.import_lines(ledger, [json.dumps(line).encode() for line in _awards(3)], "t")
    assert caught.value.code == "connection-lost" and caught.value.resume_at == 1 and calls["n"] == 1
    with pytest.raises(StoreError) as single:
        ledger.execute(imports._parse(1, json.dumps(_awards(1, 100)[0]).encode(), "t"))  # type: ignore[arg-type]
    assert single.value.code == "connection-lost" and calls["n"] == 2


def _terminate(dbname: str) -> int:
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        return len(admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = %s AND pid <> pg_backend_pid()", (dbname,)).fetchall())


def test_terminated_postgresql_backends_stop_the_import_with_the_line_to_resume_from(pg_url, tmp_path):
    from tests.conftest import init_ledger

    url = init_ledger(pg_url)
    lines = [*SETUP, *_awards(3000)]
    path = write_lines(tmp_path / "lines.jsonl", lines)
    process = subprocess.Popen([GRANTS, "--db", url, "--by", "tester", "import", str(path), "--json", "--chunk", "20"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    dbname = url.rsplit("/", 1)[1]
    with psycopg.connect(url) as watch:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            count = watch.execute("SELECT count(*) FROM grants_events").fetchone()
            watch.rollback()
            if count and count[0] > 50:
                break
            time.sleep(0.05)
    while process.poll() is None:  # terminate its backends until it gives up
        _terminate(dbname)
        time.sleep(0.02)
    out, err = process.communicate()
    assert process.returncode == 3, (out, err)
    objects = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    error = next(o["error"] for o in objects if "error" in o)
    assert error["code"] == "connection-lost" and "busy" not in error["message"]
    assert error["resume_at"] > 2 and f"line {error['resume_at']}" in error["message"]
    again = cli_json(url, "import", str(path))
    assert again["accepted"] == len(lines) and again["refused"] == []
    assert again["already"] >= error["resume_at"] - 1


def test_an_import_meeting_a_held_lock_is_locked_after_the_url_timeout_naming_the_line(tmp_path):
    url = new_ledger(tmp_path)
    ledger = GrantsLedger(parse_store(url + "?timeout=2"))
    assert imports.import_lines(ledger, [json.dumps(line).encode() for line in SETUP], "t")["refused"] == []
    code = ("import sqlite3, time\n"
            f"c = sqlite3.connect({str(tmp_path / 'ledger.db')!r}, isolation_level=None)\n"
            "c.execute('BEGIN EXCLUSIVE')\nprint('held', flush=True)\ntime.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(StoreError) as caught:
            imports.import_lines(ledger, [json.dumps(line).encode() for line in _awards(3)], "t")
        elapsed = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert caught.value.code == "locked" and f"process {holder.pid}" in caught.value.message
    assert caught.value.resume_at == 1 and "line 1" in caught.value.message
    assert elapsed < 8  # one lock wait, as a single command: not 30 attempts of 2 s
