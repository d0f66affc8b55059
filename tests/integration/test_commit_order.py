"""Each line's outcome is what applying the lines one by one, in the order they were
committed, gives.

Two `grants import` processes run two different files of colliding commands at once:
approvals, rejections and payments of the same applications, new applications
(some under the same filing number in both files), on the same five enterprises.
Afterwards the commit order is read back from the log (each chunk's
`ImportRun.LinesDecided` event has its place in the log, and its lines are in file
order) and every line is applied again, alone and in that order, to a fresh ledger:
each outcome must be the one the concurrent import recorded, and the reports equal.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from commands.imports import _apply_line
from ledger.domain.aggregates import import_run_id
from ledger.domain.uscc import make_uscc
from ledger.service.application import GrantsLedger
from ledger.service.importing import digest_of
from ledger.store.storage import parse_store
from tests.conftest import new_ledger
from tests.helpers import cli, cli_json, write_lines
from tests.integration.test_concurrent_imports import _grants

ENTERPRISES = [make_uscc(f"9142030{i}MA4F0C{i}R{i}") for i in range(5)]
APPS = [f"C-{e}-{a}" for e in range(5) for a in range(6)]
MEASURES = ("M07-base", "M03-platform")
LINES = 2000


def _setup_lines() -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = [{"op": "adopt-policy", "effective": "2022-09-01"}]
    lines += [{"op": "register", "uscc": u, "name": f"并发{i}", "area": "张湾区"} for i, u in enumerate(ENTERPRISES)]
    for ref in APPS:
        e, a = int(ref.split("-")[1]), int(ref.split("-")[2])
        measure = MEASURES[a % 2]
        facts = {"tier": "national"} if measure == "M07-base" else {"route": "dual-cross"}
        lines.append({"op": "apply", "ref": ref, "uscc": ENTERPRISES[e], "measure": measure, "project": ref,
                      "date": "2023-01-10", "facts": facts})
    return lines


def _colliding_lines(tag: str, seed: int, count: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    lines: list[dict[str, Any]] = []
    for n in range(count):
        ref = rng.choice(APPS)
        kind = rng.choices(("approve", "reject", "pay", "apply", "external"), (5, 1, 10, 2, 1))[0]
        if kind == "approve":
            lines.append({"op": "approve", "ref": ref, "date": "2023-02-01"})
        elif kind == "reject":
            lines.append({"op": "reject", "ref": ref, "date": "2023-02-01", "reason": "材料不全"})
        elif kind == "pay":
            lines.append({"op": "pay", "ref": ref, "payer": rng.choice(("city", "county")),
                          "amount_fen": rng.randint(100, 3000) * 10000, "voucher": f"{tag}-{n}", "date": "2023-03-01"})
        elif kind == "apply":
            new = f"N-{rng.randint(0, 40)}"  # the same filing number turns up in both files
            lines.append({"op": "apply", "ref": new, "uscc": rng.choice(ENTERPRISES), "measure": "M07-base",
                          "project": new, "date": "2023-01-12", "facts": {"tier": "national"}})
        else:
            lines.append({"op": "external-award", "uscc": rng.choice(ENTERPRISES), "project": ref, "policy": "其他",
                          "amount_fen": rng.randint(1, 50) * 1000000, "date": "2022-12-01"})
    return lines


def _commit_order(url: str, files: dict[str, Path]) -> list[tuple[str, int, dict[str, Any]]]:
    """(file, line, recorded outcome) for every decided line, in the order of the log."""
    runs = {import_run_id(digest_of(path.read_bytes()), "tester"): name for name, path in files.items()}
    ledger = GrantsLedger(parse_store(url))
    try:
        order = []
        for note in ledger.recorder.select_notifications(start=1, limit=10**7):
            if note.originator_id in runs and note.topic == "grants:ImportRun.LinesDecided":
                event = ledger.mapper.to_domain_event(note)
                order += [(runs[note.originator_id], o["line"], o) for o in event.outcomes]
        return order
    finally:
        ledger.close()


def test_concurrent_imports_decide_each_line_as_the_commit_order_would(db_url, tmp_path):
    setup = write_lines(tmp_path / "setup.jsonl", _setup_lines())
    assert cli(db_url, "import", str(setup)).exit_code == 0
    files = {"a": write_lines(tmp_path / "a.jsonl", _colliding_lines("A", 1, LINES)),
             "b": write_lines(tmp_path / "b.jsonl", _colliding_lines("B", 2, LINES))}
    procs = [_grants(db_url, "import", str(path), "--json", "--chunk", "25") for path in files.values()]
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 1, f"exit {p.returncode}: {err[-2000:]}"
        assert json.loads(out)["already"] == 0

    order = _commit_order(db_url, files)
    assert sorted((f, n) for f, n, _ in order) == sorted((f, n) for f in files for n in range(1, LINES + 1))
    interleaved = sum(1 for x, y in zip(order, order[1:], strict=False) if x[0] != y[0])
    print(f"\n{interleaved} switches between the two files in commit order")

    replay_url = new_ledger(tmp_path, "replay.db")
    assert cli(replay_url, "import", str(setup)).exit_code == 0
    replay = GrantsLedger(parse_store(replay_url))
    raw = {name: path.read_bytes().splitlines() for name, path in files.items()}
    mismatches = []
    for name, number, recorded in order:
        outcome = _apply_line(replay, number, raw[name][number - 1], "tester")
        again = {"line": number}
        if "refused" in outcome:
            again["refused"] = {k: v for k, v in outcome["refused"].items() if k != "line"}
        elif "warning" in outcome:
            again["warning"] = outcome["warning"]["message"]
        if again != recorded:
            mismatches.append((name, number, recorded, again))
    replay.close()
    assert mismatches == []
    for report in (("report", "shares"), ("report", "applications"), ("report", "enterprise")):
        assert cli_json(db_url, *report) == cli_json(replay_url, *report)
