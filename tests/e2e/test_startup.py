"""A command starts with only what it uses: `grants --help`, `grants config` and `grants policy list`
need no ledger, so they import neither the event store nor SQLAlchemy, the read models, the
database drivers or openpyxl; and a command on a SQLite ledger imports neither psycopg nor
openpyxl (commands/main.py). What is asserted is which modules the console script loaded (Python's
``PYTHONPROFILEIMPORTTIME`` lists each on standard error), never how long it took."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

GRANTS = str(Path(sys.executable).with_name("grants"))
LEDGER = ("sqlalchemy", "eventsourcing", "psycopg", "psycopg_pool", "ledger.service.application", "ledger.domain.aggregates", "projections")
NEVER = ("openpyxl", "hypothesis", "pytest")  # openpyxl: only the xlsx commands; the others: tests only
LOGGING = ("structlog",)  # loaded by the first line logged, or with the ledger
TABLES = ("rich",)  # Rich draws the tables people read; not --help, not --json


def loaded(*args: str, cwd: Path) -> set[str]:
    """The modules ``grants ARGS`` imported (run in ``cwd``, where no grants.toml is)."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1", "GRANTS_USER": "tester"}
    env.pop("GRANTS_DB", None)
    done = subprocess.run([GRANTS, *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}


def among(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


def test_importing_the_command_line_loads_no_ledger_no_tables_and_no_logging():
    probe = "import sys, commands.main; print('\\n'.join(sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True,
                          cwd=Path(__file__).parents[2])
    assert among(set(done.stdout.split()), LEDGER + NEVER + LOGGING + TABLES) == []


WITHOUT_TABLES = [("--help",), ("report", "--help"), ("config", "--json"), ("policy", "list", "--json")]


@pytest.mark.parametrize("args", WITHOUT_TABLES, ids=" ".join)
def test_a_command_without_a_ledger_or_a_table_starts_without_them(args, tmp_path):
    assert among(loaded(*args, cwd=tmp_path), LEDGER + NEVER + LOGGING + TABLES) == []


@pytest.mark.parametrize("args", [("config",), ("policy", "list")], ids=" ".join)
def test_a_command_without_a_ledger_loads_rich_for_its_table_and_nothing_of_the_ledger(args, tmp_path):
    modules = loaded(*args, cwd=tmp_path)
    assert among(modules, LEDGER + NEVER + LOGGING) == []
    assert "rich.cells" in modules  # the probe sees what is loaded: Rich measures the table's cells


def test_a_command_on_a_sqlite_ledger_loads_no_postgresql_driver_and_no_openpyxl(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    assert among(loaded("--db", url, "init", cwd=tmp_path), NEVER + ("psycopg", "psycopg_pool")) == []
    modules = loaded("--db", url, "report", "shares", "--json", cwd=tmp_path)
    assert among(modules, NEVER + ("psycopg", "psycopg_pool")) == []
    assert "sqlalchemy" in modules and "ledger.service.application" in modules  # the probe sees what is loaded
