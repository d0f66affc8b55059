"""Only `grants init` makes a ledger. Every other command on a database without one says which
database and how to make one, exits 3 and leaves nothing behind: no SQLite file (not even an
empty one, nor its -wal or -shm), no table in a PostgreSQL database. After `grants init` the
same command runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PG_ADMIN, USCC_A, init_ledger
from tests.helpers import cli, write_lines

GRANTS = str(Path(sys.executable).with_name("grants"))
REGISTER = ("register", "--uscc", USCC_A, "--name", "十堰安盾网络安全服务有限公司", "--area", "张湾区")
LINES = [{"op": "register", "uscc": USCC_A, "name": "十堰安盾网络安全服务有限公司", "area": "张湾区"}]

# Each kind of command: its arguments (given the test's folder), and the exit code it gives on a new
# ledger made by `grants init` (`show` of an application the ledger does not hold is a refusal, 1).
KINDS: dict[str, tuple[Callable[[Path], tuple[str, ...]], int]] = {
    "recording": (lambda _: REGISTER, 0),
    "import": (lambda d: ("import", str(write_lines(d / "lines.jsonl", LINES))), 0),
    "show": (lambda _: ("show", "SY-2023-0001"), 1),
    "report": (lambda _: ("report", "shares"), 0),
    "projections": (lambda _: ("projections", "status"), 0),
    "policy-versions": (lambda _: ("policy", "versions"), 0),
    "operators": (lambda _: ("admin", "operators"), 0),
    "audit-verify": (lambda _: ("audit", "verify"), 0),
    "audit-head": (lambda _: ("audit", "head"), 0),
    "audit-reconcile": (lambda _: ("audit", "reconcile"), 0),
    "export": (lambda d: ("export", "csv", str(d / "out")), 0),
}


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _pg_objects(url: str) -> list[str]:
    """The tables, views and functions in the database's own schemas (none in a database without a ledger)."""
    psycopg = pytest.importorskip("psycopg")
    dbname = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN.replace("dbname=test", f"dbname={dbname}"), autocommit=True) as conn:
        rows = conn.execute("SELECT table_name FROM information_schema.tables "
                            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
                            "UNION ALL SELECT routine_name FROM information_schema.routines "
                            "WHERE routine_schema NOT IN ('pg_catalog', 'information_schema')").fetchall()
    return sorted(r[0] for r in rows)


def _nothing_left(url: str, folder: Path, before: set[str]) -> None:
    if url.startswith("sqlite"):
        assert _files(folder) == before  # no ledger file, no -wal or -shm, no export folder
    else:
        assert _pg_objects(url) == []


def _refusal(result: Any) -> dict[str, Any]:
    assert result.exit_code == 3, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # one JSON document, no log line beside it
    return json.loads(lines[0])["error"]


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_command_on_a_database_without_a_ledger_exits_3_and_creates_nothing_until_init(empty_db_url, tmp_path,
                                                                                          kind):
    arguments, after_init = KINDS[kind]
    args = arguments(tmp_path)
    before = _files(tmp_path)

    human = cli(empty_db_url, *args)
    assert human.exit_code == 3, (human.stdout, human.stderr)
    assert f"no ledger at {empty_db_url}" in human.stderr
    assert f"grants init --db {empty_db_url}" in human.stderr and "Traceback" not in human.stderr
    _nothing_left(empty_db_url, tmp_path, before)

    error = _refusal(cli(empty_db_url, *args, "--json"))
    assert error["code"] == "no-ledger" and empty_db_url in error["message"]
    _nothing_left(empty_db_url, tmp_path, before)

    init_ledger(empty_db_url)
    done = cli(empty_db_url, *args)
    assert done.exit_code == after_init, (done.stdout, done.stderr)
    if after_init == 1:
        assert "unknown-application" in done.stderr


@pytest.mark.parametrize("kind", ["recording", "import", "report", "audit-verify", "export"])
def test_an_empty_sqlite_file_is_no_ledger_and_is_left_empty(tmp_path, kind):
    path = tmp_path / "empty.db"
    path.touch()
    args = KINDS[kind][0](tmp_path)
    before = _files(tmp_path)
    error = _refusal(cli(f"sqlite:///{path}", *args, "--json"))
    assert error["code"] == "no-ledger" and str(path) in error["message"]
    assert _files(tmp_path) == before and path.stat().st_size == 0


def test_a_database_holding_only_the_read_models_is_no_ledger(empty_db_url, tmp_path):
    from ledger.store.storage import parse_store
    from projections import runner

    engine = runner.make_engine(parse_store(empty_db_url))
    runner.create_views(engine)
    engine.dispose()
    error = _refusal(cli(empty_db_url, *REGISTER, "--json"))
    assert error["code"] == "no-ledger"
    assert cli(empty_db_url, "audit", "verify").exit_code == 3
    init_ledger(empty_db_url)
    assert cli(empty_db_url, *REGISTER).exit_code == 0


def test_a_read_only_url_of_a_missing_file_is_no_ledger_even_for_init(tmp_path):
    path = tmp_path / "ledger.db"
    assert _refusal(cli(f"sqlite:///{path}?mode=ro", "init", "--json"))["code"] == "no-ledger"
    assert not path.exists() and _files(tmp_path) == set()


# --- the default database, as a user in a new folder meets it -------------------------------

def _grants(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GRANTS_DB", "GRANTS_USER", "GRANTS_LOG_LEVEL")}
    env["XDG_CONFIG_HOME"] = str(cwd / "home-config")  # no grants.toml of the user's
    return subprocess.run([GRANTS, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_in_a_folder_without_a_ledger_a_recording_command_says_run_grants_init_and_writes_nothing(tmp_path):
    refused = _grants(tmp_path, *REGISTER)
    assert refused.returncode == 3, refused.stderr
    assert "no ledger at sqlite:///grants.db" in refused.stderr and "`grants init`" in refused.stderr
    assert "--db sqlite:///grants.db" not in refused.stderr  # the default needs no --db
    assert _files(tmp_path) == set()
    assert _grants(tmp_path, "init").returncode == 0
    done = _grants(tmp_path, *REGISTER)
    assert done.returncode == 0, done.stderr
    assert "ledger: sqlite:///grants.db" in done.stdout


def test_commands_that_need_no_ledger_work_without_one_and_create_none(tmp_path):
    for args in (("--version",), ("config",), ("policy", "list"), ("policy", "show", "M03-security"),
                 ("policy", "check", "--measure", "M07-base", "--fact", "tier=national", "--date", "2023-01-01"),
                 ("template", "xlsx", "template.xlsx")):
        done = _grants(tmp_path, *args)
        assert done.returncode == 0, (args, done.stderr)
    assert _files(tmp_path) == {"template.xlsx"}


def test_demo_makes_its_own_ledger_as_init_would_and_says_so(tmp_path):
    done = _grants(tmp_path, "demo")
    assert done.returncode == 0, done.stderr
    assert "Demo ledger created at sqlite:///grants-demo.db (as `grants init` would)" in done.stdout
    assert not (tmp_path / "grants.db").exists()
    verified = _grants(tmp_path, "--db", "sqlite:///grants-demo.db", "audit", "verify", "--json")
    assert verified.returncode == 0 and json.loads(verified.stdout)["events"] > 0  # sealed into the hash chain
