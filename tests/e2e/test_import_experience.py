"""The import as a clerk meets it: a file saved by Notepad or WPS (with a BOM), standard
input, counts per refusal code, the refused lines as a CSV to fix in Excel, and Ctrl-C
that stops cleanly between chunks and resumes; `--json` errors as one JSON document."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import USCC_A, new_ledger
from tests.helpers import cli

GRANTS = str(Path(sys.executable).parent / "grants")
SETUP = [{"op": "adopt-policy", "effective": "2022-09-01"},
         {"op": "register", "uscc": USCC_A, "name": "十堰数智科技有限公司", "area": "张湾区"}]


def _jsonl(lines: list[dict]) -> bytes:
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode("utf-8")


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("GRANTS_DB", "GRANTS_DEBUG", "GRANTS_LOG_LEVEL")}


def test_a_file_with_a_byte_order_mark_imports_from_its_first_line(tmp_path):
    path = tmp_path / "wps.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + _jsonl(SETUP))
    result = cli(new_ledger(tmp_path, "l.db"), "import", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["accepted"] == 2


def test_import_dash_reads_standard_input_and_counts_refusals_per_code(tmp_path):
    db = new_ledger(tmp_path, "l.db")
    lines = [*SETUP, {"op": "register", "uscc": USCC_A, "name": "另一个名称", "area": "张湾区"},
             {"op": "apply", "ref": "X", "uscc": USCC_A, "measure": "M99", "project": "P", "date": "2023-01-10"},
             {"op": "apply", "ref": "Y", "uscc": USCC_A, "measure": "M98", "project": "P", "date": "2023-01-10"}]
    done = subprocess.run([GRANTS, "--db", db, "import", "-", "--json", "--refusals", str(tmp_path / "r.csv")],
                          input=_jsonl(lines), capture_output=True, env=_env(), timeout=120)
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert data["refused_by_code"] == {"unknown-measure": 2, "conflicting-retry": 1}
    assert done.stderr == b""  # --json: no log line beside the data
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:2] == ["line 行号", "code 代码"]
    assert [(r[0], r[1]) for r in rows[1:]] == [("3", "conflicting-retry"), ("4", "unknown-measure"),
                                                ("5", "unknown-measure")]
    assert json.loads(rows[2][4])["measure"] == "M99"  # the line itself, to correct and import again
    human = subprocess.run([GRANTS, "--db", db, "import", "-"], input=_jsonl(lines), capture_output=True,
                           env=_env(), timeout=120)
    assert b"refused by code: unknown-measure 2, conflicting-retry 1" in human.stdout


def test_ctrl_c_stops_between_chunks_and_the_same_import_resumes(tmp_path):
    db = new_ledger(tmp_path, "l.db")
    lines = [*SETUP, *({"op": "external-award", "uscc": USCC_A, "project": f"P{n}", "policy": f"政策{n}",
                        "amount_fen": 100 + n, "date": "2023-01-01"} for n in range(12000))]
    path = tmp_path / "big.jsonl"
    path.write_bytes(_jsonl(lines))
    proc = subprocess.Popen([GRANTS, "--db", db, "import", str(path), "--chunk", "20", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    deadline = time.monotonic() + 60
    while _events(tmp_path / "l.db") < 200 and time.monotonic() < deadline:  # some chunks are recorded
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    error = json.loads(err.decode().strip().splitlines()[-1])["error"]
    assert error["code"] == "interrupted" and 0 < error["recorded"] < len(lines), error
    assert error["recorded"] % 20 in (0, 2), error  # whole chunks (the first chunk after setup may be offset)
    again = subprocess.run([GRANTS, "--db", db, "import", str(path), "--json"], capture_output=True, env=_env(),
                           timeout=300)
    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout)
    assert result["already"] == error["recorded"] and result["accepted"] == len(lines)


def _events(path: Path) -> int:
    import sqlite3

    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM stored_events").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_json_errors_are_one_document_usage_errors_included(tmp_path):
    db = f"sqlite:///{tmp_path / 'l.db'}"
    usage = subprocess.run([GRANTS, "--db", db, "report", "shares", "--no-such-option", "--json"],
                           capture_output=True, text=True, env=_env(), timeout=60)
    assert usage.returncode == 2
    assert json.loads(usage.stderr) == {"error": {"code": "usage", "message": "No such option: --no-such-option"}}
    refused = subprocess.run([GRANTS, "--db", db, "import", str(tmp_path / "missing.jsonl"), "--json"],
                             capture_output=True, text=True, env=_env(), timeout=60)
    assert refused.returncode == 2 and json.loads(refused.stderr)["error"]["field"] == "file"
    version = subprocess.run([GRANTS, "--version"], capture_output=True, text=True, env=_env(), timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("grants ")
