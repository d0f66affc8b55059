"""Long work shows a progress bar (count, rate, time left) when standard error is a terminal,
and nothing at all on a pipe, where scripts read standard output as JSON."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

from commands.imports import _apply_line
from ledger.service.importing import import_file
from tests.conftest import USCC_A, memory_ledger, new_ledger
from tests.helpers import SECURITY_FACTS

GRANTS = str(Path(sys.executable).parent / "grants")
LINES = 12


def _file(tmp_path: Path) -> Path:
    lines = [{"op": "adopt-policy", "effective": "2022-09-01"},
             {"op": "register", "uscc": USCC_A, "name": "十堰数智科技有限公司", "area": "张湾区"}]
    lines += [{"op": "register", "uscc": USCC_A, "name": f"重复 {n}", "area": "张湾区"} for n in range(LINES - 2)]
    path = tmp_path / "batch.jsonl"
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    return path


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GRANTS_DB", "GRANTS_DEBUG", "GRANTS_LOG_LEVEL")}
    return {**env, "TERM": "xterm"}


def _run(args: list[str], *, stderr_is_a_terminal: bool) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) with stdout a pipe and stderr a pseudo-terminal or a pipe."""
    if not stderr_is_a_terminal:
        done = subprocess.run([GRANTS, *args], capture_output=True, env=_env(), timeout=120, check=False)
        return done.returncode, done.stdout.decode(), done.stderr.decode()
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    process = subprocess.Popen([GRANTS, *args], stdout=subprocess.PIPE, stderr=slave, env=_env())
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    stdout = process.stdout.read() if process.stdout else b""
    process.wait(timeout=120)
    os.close(master)
    return process.returncode, stdout.decode(), seen.decode(errors="replace")


def test_import_shows_lines_done_of_the_total_on_a_terminal(tmp_path):
    db = new_ledger(tmp_path, "l.db")
    code, stdout, terminal = _run(["--db", db, "--by", "t", "import", str(_file(tmp_path)), "--chunk", "3"],
                                  stderr_is_a_terminal=True)
    assert code == 1  # the duplicate registrations are refused
    assert "importing batch.jsonl" in terminal and f"{LINES}/{LINES}" in terminal and "100%" in terminal
    assert "\x1b" not in stdout and "accepted 2, refused 10" in stdout


def test_import_on_a_pipe_prints_no_progress_and_json_stays_clean(tmp_path):
    db = new_ledger(tmp_path, "l.db")
    code, stdout, stderr = _run(["--db", db, "--by", "t", "import", str(_file(tmp_path)), "--chunk", "3", "--json"],
                                stderr_is_a_terminal=False)
    assert code == 1 and json.loads(stdout)["accepted"] == 2
    assert "importing" not in stderr and "\x1b" not in stderr and f"{LINES}/{LINES}" not in stderr
    code, stdout, stderr = _run(["--db", db, "projections", "rebuild"], stderr_is_a_terminal=False)
    assert code == 0 and "rebuilding" not in stderr and "\x1b" not in stdout + stderr


def test_json_output_draws_no_bar_even_on_a_terminal(tmp_path):
    db = new_ledger(tmp_path, "l.db")
    code, stdout, terminal = _run(["--db", db, "--by", "t", "import", str(_file(tmp_path)), "--json"],
                                  stderr_is_a_terminal=True)
    assert code == 1 and json.loads(stdout)["accepted"] == 2 and "importing" not in terminal


def test_rebuild_verify_and_export_show_their_progress_on_a_terminal(tmp_path):
    db = new_ledger(tmp_path, "l.db")
    _run(["--db", db, "--by", "t", "import", str(_file(tmp_path))], stderr_is_a_terminal=False)
    _, _, rebuilt = _run(["--db", db, "projections", "rebuild"], stderr_is_a_terminal=True)
    assert "rebuilding read models" in rebuilt and "100%" in rebuilt
    code, stdout, verified = _run(["--db", db, "audit", "verify"], stderr_is_a_terminal=True)
    assert code == 0, stdout + verified
    assert "verifying hash chain" in verified and "replaying for the checks" in verified
    assert "\x1b" not in stdout
    _, _, exported = _run(["--db", db, "export", "csv", str(tmp_path / "out")], stderr_is_a_terminal=True)
    assert "export csv" in exported and "100%" in exported


def test_import_file_reports_the_lines_decided_after_each_committed_chunk():
    ledger = memory_ledger()
    lines = [json.dumps({"op": "adopt-policy", "effective": "2022-09-01"}).encode(), b"", b"# a comment"]
    lines += [json.dumps({"op": "register", "uscc": USCC_A, "name": f"n{n}", "area": "张湾区"}).encode()
              for n in range(4)]
    told: list[int] = []
    import_file(ledger, lines, digest="d" * 64, name="f", operator="t", apply_line=_apply_line, chunk=2,
                progress=told.append)
    assert told == [2, 4, 5]  # five command lines (the blank and the comment are not counted), chunks of 2
    again: list[int] = []
    import_file(ledger, lines, digest="d" * 64, name="f", operator="t", apply_line=_apply_line, chunk=2,
                progress=again.append)
    assert again == []  # an earlier run decided them all: nothing is committed, nothing to report


def test_the_beancount_export_shows_its_progress_on_a_terminal_and_nothing_on_a_pipe(tmp_path):
    db = new_ledger(tmp_path, "l.db")
    lines = [{"op": "adopt-policy", "effective": "2022-09-01"},
             {"op": "register", "uscc": USCC_A, "name": "十堰数智科技有限公司", "area": "张湾区"},
             {"op": "apply", "ref": "A-1", "uscc": USCC_A, "measure": "M03-security", "project": "安全运维",
              "date": "2023-01-10", "facts": SECURITY_FACTS},
             {"op": "approve", "ref": "A-1", "date": "2023-02-01"},
             {"op": "pay", "ref": "A-1", "payer": "city", "amount_fen": 500000, "voucher": "SZ-1",
              "date": "2023-03-01"}]
    path = tmp_path / "one.jsonl"
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    code, stdout, stderr = _run(["--db", db, "--by", "t", "import", str(path)], stderr_is_a_terminal=False)
    assert code == 0, stdout + stderr
    code, stdout, terminal = _run(["--db", db, "export", "beancount", str(tmp_path / "l.beancount")],
                                  stderr_is_a_terminal=True)
    assert code == 0, stdout + terminal
    assert "export beancount" in terminal and "2/2" in terminal and "100%" in terminal  # the award, the payment
    assert "\x1b" not in stdout and "beancount written to" in stdout
    code, stdout, stderr = _run(["--db", db, "export", "beancount", str(tmp_path / "again.beancount"), "--json"],
                                stderr_is_a_terminal=False)
    assert code == 0 and json.loads(stdout)["rows"]["transactions"] == 2
    assert "export beancount" not in stderr and "\x1b" not in stderr
