"""A log changed behind the ledger's back is named as such: a write on a ledger whose chain no longer matches its
log says so (exit 6, run `grants audit verify`) rather than "busy, try again"; `audit verify` names a cut tail
(`events-removed-at-end`, the positions missing), with or without a head written down before; on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from typer.testing import Result

from ledger.intake.commands import parse_command
from ledger.service.application import GrantsLedger
from ledger.store import chain
from ledger.store.storage import parse_store
from projections.runner import make_engine
from tests.conftest import USCC_C
from tests.helpers import cli, cli_json, write_lines
from tests.integration.test_audit_chain import _drop_guards, _events_table, _ledger, _pos, _sql, _verify

REGISTER_C = ("register", "--uscc", USCC_C, "--name", "十堰新公司", "--area", "茅箭区")


def _last_position(url: str) -> int:
    engine = make_engine(parse_store(url))
    with engine.connect() as conn:
        found = conn.execute(text(f"SELECT max({_pos(url)}) FROM {_events_table(url)}")).scalar()
    engine.dispose()
    return int(found)


def _error(result: Result) -> dict[str, Any]:
    objects = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    return next(o["error"] for o in objects if "error" in o)


def test_a_write_after_the_last_event_was_deleted_names_the_broken_chain_not_busy(db_url, tmp_path):
    _ledger(db_url, tmp_path)
    last = _last_position(db_url)
    _sql(db_url, *_drop_guards(db_url), f"DELETE FROM {_events_table(db_url)} WHERE {_pos(db_url)} = {last}")
    result = cli(db_url, *REGISTER_C, "--json")
    assert result.exit_code == 6, result.stderr
    error = _error(result)
    assert error["code"] == "chain-mismatch" and error["position"] == last
    assert "grants audit verify" in error["message"] and "busy" not in error["message"]
    lines = write_lines(tmp_path / "more.jsonl", [{"op": "register", "uscc": USCC_C, "name": "某公司",
                                                   "area": "茅箭区"}])
    imported = cli(db_url, "import", str(lines), "--json")
    assert imported.exit_code == 6 and _error(imported)["code"] == "chain-mismatch", imported.stderr
    assert _last_position(db_url) == last - 1  # nothing was written
    code, data = _verify(db_url, "--chain-only")
    assert code == 6 and data["broken"]["code"] == chain.REMOVED and data["broken"]["position"] == last


def _cut_tail(url: str, count: int) -> tuple[int, int]:
    """Remove the last ``count`` events and their links, as an editor of the database could; (first, last) removed."""
    last = _last_position(url)
    first = last - count + 1
    _sql(url, *_drop_guards(url), f"DELETE FROM {_events_table(url)} WHERE {_pos(url)} >= {first}",
         f"DELETE FROM audit_chain WHERE position >= {first}")
    return first, last


def test_a_cut_tail_is_named_events_removed_at_end_with_the_positions_missing(db_url, tmp_path):
    _ledger(db_url, tmp_path)
    assert cli(db_url, "report", "shares").exit_code == 0  # the read models reach the last event
    first, last = _cut_tail(db_url, 3)
    for args in ((), ("--chain-only",)):
        code, data = _verify(db_url, *args)
        assert code == 6, data
        broken = data["broken"]
        assert broken["code"] == "events-removed-at-end" and broken["position"] == first
        assert broken["missing"] == [first, last]
        assert f"{first}" in broken["differs"] and f"{last}" in broken["differs"]
    human = cli(db_url, "audit", "verify")
    assert human.exit_code == 6 and "events-removed-at-end" in human.stdout
    status = cli(db_url, "projections", "status", "--json")  # no longer "at event 119 of 114" and exit 0
    assert status.exit_code == 6 and json.loads(status.stdout)["events_removed_at_end"] == [first, last]
    said = cli(db_url, "projections", "status")
    assert said.exit_code == 6 and f"events {first} to {last} were removed" in said.stdout


def test_a_cut_tail_against_a_head_noted_before_says_removed(db_url, tmp_path):
    _ledger(db_url, tmp_path)
    noted = cli_json(db_url, "audit", "head")["head"]
    first, last = _cut_tail(db_url, 2)
    _sql(db_url, "DELETE FROM rm_tracking")  # no read models to tell: the noted head alone shows it
    code, data = _verify(db_url, "--chain-only", "--head", noted)
    assert code == 6
    broken = data["broken"]
    assert broken["code"] == "events-removed-at-end" and broken["missing"] == [first, last]
    assert "removed" in broken["differs"] and "rewritten" not in broken["differs"]


def test_a_clean_ledger_whose_read_models_are_behind_is_no_cut_tail(db_url, tmp_path):
    _ledger(db_url, tmp_path)
    assert cli(db_url, "report", "shares").exit_code == 0
    ledger = GrantsLedger(parse_store(db_url))  # written without bringing the read models up to date
    ledger.execute(parse_command({"op": "register", "uscc": USCC_C, "name": "十堰新公司", "area": "茅箭区"}, "t"))
    ledger.close()
    code, data = _verify(db_url, "--chain-only")
    assert code == 0 and data["broken"] is None, data
    code, data = _verify(db_url)
    assert code == 0 and data["broken"] is None and data["findings"] == [], data
