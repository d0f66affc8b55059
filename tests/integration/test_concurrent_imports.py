"""Imports that overlap or die half-way leave the ledger a single import would have made.

Real `grants import` processes on a generated province (bench/generate.py, ~2,400
lines, ~5% refused on purpose): three at once on one file, and one killed with
SIGKILL after some chunks committed and then run again. The final ledger (the
reports, and every event except the ImportRun's own bookkeeping) must equal one
sequential import of the file into a fresh SQLite ledger, and each line must have
been decided exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bench.generate import generate
from ledger.domain.aggregates import import_run_id
from ledger.service.application import GrantsLedger
from ledger.service.importing import digest_of
from ledger.store.storage import parse_store
from tests.conftest import new_ledger
from tests.helpers import cli, cli_json, write_lines

GRANTS = str(Path(sys.executable).with_name("grants"))
REPORTS = (("report", "shares"), ("report", "applications"), ("report", "enterprise"))


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The file, and the ledger one sequential import of it makes (SQLite, in-process)."""
    base = tmp_path_factory.mktemp("province")
    path = write_lines(base / "province.jsonl", generate(200, 3))
    url = new_ledger(base, "reference.db")
    result = cli(url, "import", str(path), "--json")
    assert result.exit_code == 1, result.stderr  # some lines are refused on purpose
    return {"path": path, "outcome": _outcome(json.loads(result.stdout)), "state": _state(url),
            "lines": len(path.read_bytes().splitlines())}


def _outcome(result: dict[str, Any]) -> dict[str, Any]:
    return {k: result[k] for k in ("accepted", "refused", "warnings")}


def _business_events(url: str) -> list[tuple[str, int, str]]:
    """Every event but the import bookkeeping, as (stream, version, topic) in stream order."""
    ledger = GrantsLedger(parse_store(url))
    try:
        notes = ledger.recorder.select_notifications(start=1, limit=10**7)
        return sorted((str(n.originator_id), n.originator_version, n.topic) for n in notes
                      if not n.topic.startswith("grants:ImportRun."))
    finally:
        ledger.close()


def _state(url: str) -> dict[str, Any]:
    return {"reports": [cli_json(url, *r) for r in REPORTS], "events": _business_events(url)}


def _patient(url: str) -> str:
    """Processes that import the same enterprises at once on SQLite take turns at its one write lock; a
    longer wait than the default 10 s keeps a slow machine from turning a turn into `locked` (exit 4)."""
    return url + "?timeout=60" if url.startswith("sqlite") else url


def _grants(url: str, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GRANTS_DB", "GRANTS_DEBUG")}
    return subprocess.Popen([GRANTS, "--db", _patient(url), "--by", "tester", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _decided_lines(url: str, digest: str) -> list[int]:
    """The line numbers of every LinesDecided event of the file's ImportRun, in order."""
    ledger = GrantsLedger(parse_store(url))
    try:
        return [o["line"] for e in ledger.events.get(import_run_id(digest, "tester")) if hasattr(e, "outcomes")
                for o in e.outcomes]
    finally:
        ledger.close()


def test_three_processes_importing_one_file_at_once_import_it_once(db_url, province):
    procs = [_grants(db_url, "import", str(province["path"]), "--json") for _ in range(3)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 1, f"exit {p.returncode}: {err[-2000:]}"  # refusals, never 70 or 4
        results.append(json.loads(out))
    print("lines decided by each process:", [province["lines"] - r["already"] for r in results])
    for result in results:
        assert _outcome(result) == province["outcome"]  # every process reports every line, as decided once
    decided = province["outcome"]["accepted"] + len(province["outcome"]["refused"])
    assert sum(decided - r["already"] for r in results) == decided  # each line decided by exactly one of them
    assert _state(db_url) == province["state"]
    lines = _decided_lines(db_url, digest_of(province["path"].read_bytes()))
    assert sorted(lines) == sorted(set(lines)) and len(lines) == decided


def test_an_import_killed_half_way_and_run_again_equals_one_clean_import(db_url, province):
    digest = digest_of(province["path"].read_bytes())
    proc = _grants(db_url, "import", str(province["path"]), "--json")
    watcher = None
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if watcher is None:
                    watcher = GrantsLedger(parse_store(db_url), create_tables=False)
                run = watcher.import_run(digest, "tester")
            except Exception:  # noqa: BLE001 - the tables may not exist yet
                run = None
            if run is not None and run.decided >= 1000:  # at least two chunks committed
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
        proc.wait(timeout=30)
    finally:
        if watcher is not None:
            watcher.close()
    assert proc.returncode == -signal.SIGKILL, "the import finished before it could be killed"
    again = cli(db_url, "import", str(province["path"]), "--json")
    assert again.exit_code == 1, again.stderr
    result = json.loads(again.stdout)
    assert _outcome(result) == province["outcome"]
    decided = result["accepted"] + len(result["refused"])
    assert 1000 <= result["already"] < decided
    assert _state(db_url) == province["state"]
    lines = _decided_lines(db_url, digest)
    assert sorted(lines) == sorted(set(lines)) and len(lines) == decided  # no line decided twice


def test_two_copies_of_a_file_imported_at_once_decide_on_current_state_and_apply_each_line_once(db_url, province,
                                                                                              tmp_path):
    """Two different files (a copy with a comment line on top) are two imports: every line
    is decided twice, interleaved between the processes, on the same enterprises. This
    crashed with exit 70 (KeyError: a stale copy of an enterprise) before. Every line is
    protected by a natural key (filing number, voucher, state), so the second decision
    of each line is a refusal and the ledger ends as one import left it."""
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(b"# the same commands, another file\n" + province["path"].read_bytes())
    procs = [_grants(db_url, "import", str(path), "--json") for path in (province["path"], copy)]
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 1, f"exit {p.returncode}: {err[-2000:]}"
        assert json.loads(out)["already"] == 0
    assert _state(db_url) == province["state"]
