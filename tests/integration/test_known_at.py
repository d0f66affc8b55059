"""Two kinds of as-of: a report or `show` --known-at a past moment is what it printed at that
moment, even after backdated events (a payment entered today, dated last year)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from tests.conftest import USCC_A, USCC_B, new_ledger
from tests.helpers import SECURITY_FACTS, TWO_ENTERPRISES, cli, cli_json, write_lines

FACTS = SECURITY_FACTS
BEFORE = [
    *TWO_ENTERPRISES,
    {"op": "apply", "ref": "A-1", "uscc": USCC_A, "measure": "M03-security", "project": "P1", "date": "2023-01-10",
     "facts": FACTS},
    {"op": "approve", "ref": "A-1", "date": "2023-02-01"},
    {"op": "pay", "ref": "A-1", "payer": "city", "amount_fen": 500000, "voucher": "V-1", "date": "2023-03-01"},
    {"op": "apply", "ref": "B-1", "uscc": USCC_B, "measure": "M03-security", "project": "Q1", "date": "2023-01-12",
     "facts": FACTS},
]
BACKDATED = [  # entered later, dated in 2023
    {"op": "pay", "ref": "A-1", "payer": "county", "amount_fen": 500000, "voucher": "C-1", "date": "2023-03-05"},
    {"op": "approve", "ref": "B-1", "date": "2023-02-10"},
    {"op": "reverse-payment", "ref": "A-1", "payer": "city", "voucher": "V-1", "date": "2023-04-01", "reason": "录错"},
    {"op": "apply", "ref": "A-9", "uscc": USCC_A, "measure": "M03-security", "project": "P9", "date": "2023-05-01",
     "facts": FACTS},
]
READS = [("report", "shares"), ("report", "enterprise"), ("report", "applications"), ("show", "A-1")]


def _without_known_at(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "known_at"}


def test_reports_and_show_known_at_a_moment_equal_what_they_printed_then(db_url, tmp_path):
    assert cli(db_url, "import", str(write_lines(tmp_path / "before.jsonl", BEFORE))).exit_code == 0
    printed = {(read, cut): cli_json(db_url, *read, *cut) for read in READS for cut in ((), ("--as-of", "2023-12-31"))}
    moment = datetime.now(UTC)
    time.sleep(0.01)
    assert cli(db_url, "import", str(write_lines(tmp_path / "later.jsonl", BACKDATED))).exit_code == 0
    for (read, cut), then in printed.items():
        now = cli_json(db_url, *read, *cut)
        assert _without_known_at(now) != _without_known_at(then), (read, cut)  # the backdated events changed it
        known = cli_json(db_url, *read, *cut, "--known-at", moment.isoformat())
        assert known["known_at"] == moment.isoformat()
        assert _without_known_at(known) == _without_known_at(then), (read, cut)


def test_known_at_takes_china_time_without_an_offset_and_a_day_as_its_end(tmp_path):
    url = new_ledger(tmp_path, "l.db")
    assert cli(url, "import", str(write_lines(tmp_path / "before.jsonl", BEFORE))).exit_code == 0
    early = cli_json(url, "report", "shares", "--known-at", "2020-01-01")
    assert early["known_at"] == "2020-01-01T23:59:59.999999+08:00" and early["total"]["city_owed_fen"] == 0
    assert cli_json(url, "report", "shares", "--known-at", "2020-01-01T08:00")["known_at"] == "2020-01-01T08:00:00+08:00"
    refused = cli(url, "show", "A-1", "--known-at", "2020-01-01", "--json")
    assert refused.exit_code == 1 and json.loads(refused.stderr.splitlines()[0])["error"]["code"] == "unknown-application"
    assert cli(url, "report", "shares", "--known-at", "yesterday").exit_code == 2


def test_show_lists_every_event_of_the_application_with_its_recording_time(tmp_path):
    url = new_ledger(tmp_path, "l.db")
    assert cli(url, "import", str(write_lines(tmp_path / "before.jsonl", BEFORE))).exit_code == 0
    history = cli_json(url, "show", "A-1")["history"]
    assert [h["what"] for h in history] == ["applied", "approved", "payment"]
    assert all(datetime.fromisoformat(h["recorded_at"]).tzinfo is not None for h in history)
    assert [h["date"] for h in history] == ["2023-01-10", "2023-02-01", "2023-03-01"]
    assert "recorded (UTC+8)" in cli(url, "show", "A-1").stdout
