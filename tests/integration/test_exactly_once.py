"""Each line of an imported file is decided once, on the current state.

- Running a file again reports the recorded outcomes and writes nothing.
- A chunk never decides on a stale copy: another writer that files or approves
  between two lines of a chunk makes the chunk run again on the new state, so each
  line's outcome is what applying the lines one by one in commit order gives.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

from commands.imports import import_lines
from ledger.intake.commands import parse_command
from ledger.service.application import GrantsLedger
from ledger.store.storage import parse_store
from tests.conftest import USCC_A, USCC_B, new_ledger
from tests.helpers import cli, cli_json, write_lines

SETUP = [
    {"op": "adopt-policy", "effective": "2022-09-01"},
    {"op": "register", "uscc": USCC_A, "name": "十堰数智科技有限公司", "area": "张湾区"},
    {"op": "register", "uscc": USCC_B, "name": "十堰云谷网络科技有限公司", "area": "茅箭区"},
]


def _apply(ref: str, uscc: str = USCC_A, project: str = "P1", date: str = "2023-01-10") -> dict[str, Any]:
    return {"op": "apply", "ref": ref, "uscc": uscc, "measure": "M03-platform", "project": project, "date": date,
            "facts": {"route": "dual-cross"}}


def _event_count(db_url: str) -> int:
    ledger = GrantsLedger(parse_store(db_url))
    try:
        return ledger.recorder.max_notification_id() or 0
    finally:
        ledger.close()


def _import(db_url: str, path: Path) -> tuple[int, dict[str, Any]]:
    result = cli(db_url, "import", str(path), "--json")
    assert result.exit_code in (0, 1), result.stdout + result.stderr
    return result.exit_code, json.loads(result.stdout)


def test_importing_the_same_file_twice_reports_the_same_outcomes_and_writes_nothing(db_url, tmp_path):
    lines = [*SETUP, _apply("R-1"), {"op": "approve", "ref": "R-1", "date": "2023-02-01"},
             {"op": "pay", "ref": "R-1", "payer": "city", "amount_fen": 100000000, "voucher": "V-1",
              "date": "2023-03-01"},
             {"op": "pay", "ref": "R-1", "payer": "city", "amount_fen": 1, "voucher": "V-2", "date": "2023-03-02"},
             _apply("R-2", project="P2")]
    path = write_lines(tmp_path / "file.jsonl", lines)
    code, first = _import(db_url, path)
    events = _event_count(db_url)
    assert first["already"] == 0 and first["accepted"] == 7
    assert [r["code"] for r in first["refused"]] == ["over-payment"]
    again_code, again = _import(db_url, path)
    assert again_code == code == 1
    assert {k: again[k] for k in ("accepted", "refused", "warnings")} == \
        {k: first[k] for k in ("accepted", "refused", "warnings")}
    assert again["already"] == len(lines)
    assert _event_count(db_url) == events
    assert cli_json(db_url, "show", "R-1")["city_paid_fen"] == 100000000


def test_approvals_and_payments_filed_before_their_application_are_not_decided_again(db_url, tmp_path):
    """Issue 7: a second run used to record the approval and payment the first refused."""
    lines = [*SETUP, {"op": "approve", "ref": "R-1", "date": "2023-02-01"},
             {"op": "pay", "ref": "R-1", "payer": "city", "amount_fen": 100000000, "voucher": "V-1",
              "date": "2023-03-01"},
             _apply("R-1")]
    path = write_lines(tmp_path / "early.jsonl", lines)
    _, first = _import(db_url, path)
    assert [(r["line"], r["code"]) for r in first["refused"]] == [(4, "unknown-application"),
                                                                   (5, "unknown-application")]
    events = _event_count(db_url)
    _, again = _import(db_url, path)
    assert again["refused"] == first["refused"] and again["already"] == len(lines)
    assert _event_count(db_url) == events
    shown = cli_json(db_url, "show", "R-1")
    assert shown["status"] == "submitted" and shown["payments"] == []


def test_an_import_cut_short_goes_on_after_the_last_recorded_line(tmp_path, monkeypatch):
    import commands.imports as imports

    url = f"sqlite:///{tmp_path / 'part.db'}"
    lines = [json.dumps(x, ensure_ascii=False).encode() for x in
             [*SETUP, _apply("R-1"), _apply("R-2", project="P2"), _apply("R-3", USCC_B)]]
    original = imports._execute
    calls: list[int] = []

    def dies_at_line_5(led: Any, number: int, parsed: Any) -> dict[str, Any]:
        calls.append(number)
        if number == 5 and len(calls) == 5:
            raise SystemExit("killed")  # the process dies in the middle of the third chunk
        return original(led, number, parsed)

    monkeypatch.setattr(imports, "_execute", dies_at_line_5)
    ledger = GrantsLedger(parse_store(url))
    try:
        import_lines(ledger, lines, "t", chunk=2)
    except SystemExit:
        pass
    ledger.close()
    calls.clear()
    ledger = GrantsLedger(parse_store(url))
    resumed = import_lines(ledger, lines, "t", chunk=2)
    assert calls == [5, 6]  # lines 1-4 were recorded with their chunks' events; they are not decided again
    assert resumed == {"accepted": 6, "refused": [], "warnings": [], "already": 4, "refused_by_code": {}}
    assert ledger.show("R-3")["status"] == "submitted"
    ledger.close()


def _interfering_ledger(url: str, after_line_op: str, interference: dict[str, Any]) -> tuple[GrantsLedger, Any]:
    """A ledger whose batch lets another writer record `interference` right after the first
    command with op `after_line_op` inside a chunk (as another process would, between two lines)."""
    ours, theirs = GrantsLedger(parse_store(url)), GrantsLedger(parse_store(url))
    original = ours.execute
    done: list[bool] = []

    def execute_then_interfere(command: Any) -> dict[str, Any]:
        try:
            return original(command)
        finally:  # accepted or refused
            if ours._batch is not None and not done and type(command).__name__.lower() == after_line_op:
                done.append(True)
                theirs.execute(parse_command(interference, "other"))

    ours.execute = execute_then_interfere  # type: ignore[method-assign]
    return ours, theirs


def _setup(url: str, extra: list[dict[str, Any]] = ()) -> None:
    ledger = GrantsLedger(parse_store(url))
    lines = [json.dumps(x, ensure_ascii=False).encode() for x in [*SETUP, *extra]]
    assert import_lines(ledger, lines, "setup")["refused"] == []
    ledger.close()


def test_an_application_filed_by_another_writer_mid_chunk_is_seen_by_the_later_lines(db_url):
    """Issue 7 (a): the chunk's copy of the enterprise lacked the application the
    filing-number index already had: KeyError, exit 70."""
    _setup(db_url, [_apply("R-1")])
    ours, theirs = _interfering_ledger(db_url, "apply", _apply("R-9", project="P9"))
    lines = [json.dumps(x, ensure_ascii=False).encode() for x in [
        _apply("R-1", project="P-other"),  # refused (conflicting-retry) after reading the enterprise: a copy of it
        {"op": "approve", "ref": "R-9", "date": "2023-02-01"},
    ]]
    result = import_lines(ours, lines, "t")
    assert [r["code"] for r in result["refused"]] == ["conflicting-retry"] and result["accepted"] == 1
    assert ours.show("R-9")["status"] == "approved"
    ours.close()
    theirs.close()


def test_a_payment_is_not_refused_on_a_stale_copy_of_an_application_another_writer_approved(db_url):
    """Issue 7 (b): `wrong-state: R-1 is submitted` although R-1 was approved, and the
    refusal stood because a refused line writes nothing for a version check to catch."""
    _setup(db_url, [_apply("R-1")])
    ours, theirs = _interfering_ledger(db_url, "apply", {"op": "approve", "ref": "R-1", "date": "2023-02-01"})
    lines = [json.dumps(x, ensure_ascii=False).encode() for x in [
        _apply("R-1", project="P-other"),  # refused (conflicting-retry) after reading the enterprise: a copy of it
        {"op": "pay", "ref": "R-1", "payer": "city", "amount_fen": 100000000, "voucher": "V-1",
         "date": "2023-03-01"},
    ]]
    result = import_lines(ours, lines, "t")
    assert [r["code"] for r in result["refused"]] == ["conflicting-retry"] and result["accepted"] == 1
    assert ours.show("R-1")["city_paid_fen"] == 100000000
    ours.close()
    theirs.close()


def test_a_line_refused_for_a_missing_application_is_decided_again_once_it_exists(db_url):
    """A refusal writes no event of its own: it is checked by the versions it read
    (here: the filing-number index did not exist)."""
    _setup(db_url)
    ours, theirs = _interfering_ledger(db_url, "approve", _apply("R-7"))
    lines = [b'{"op": "approve", "ref": "R-7", "date": "2023-02-01"}']
    result = import_lines(ours, lines, "t")
    # In commit order the other writer's application comes first: the approval stands.
    assert result == {"accepted": 1, "refused": [], "warnings": [], "already": 0, "refused_by_code": {}}
    assert ours.show("R-7")["status"] == "approved"
    ours.close()
    theirs.close()


def test_a_single_command_refused_on_a_stale_read_is_decided_again(db_url, monkeypatch):
    from ledger.domain import rules

    _setup(db_url, [_apply("R-1")])
    ours, theirs = GrantsLedger(parse_store(db_url)), GrantsLedger(parse_store(db_url))
    original = rules.decide_payment
    calls: list[bool] = []

    def approve_elsewhere_first(*args: Any, **kwargs: Any) -> Any:
        if not calls:  # after this command read R-1 as submitted, another writer approves it
            calls.append(True)
            theirs.execute(parse_command({"op": "approve", "ref": "R-1", "date": "2023-02-01"}, "other"))
        return original(*args, **kwargs)

    monkeypatch.setattr(rules, "decide_payment", approve_elsewhere_first)
    result = ours.execute(parse_command({"op": "pay", "ref": "R-1", "payer": "city", "amount_fen": 100000000,
                                         "voucher": "V-1", "date": "2023-03-01"}, "t"))
    assert result["amount_fen"] == 100000000
    ours.close()
    theirs.close()


def test_import_lines_leave_no_ledger_events_when_the_file_is_empty(tmp_path):
    url = new_ledger(tmp_path, "e.db")
    path = tmp_path / "empty.jsonl"
    path.write_text("# nothing yet\n\n", encoding="utf-8")
    assert cli_json(url, "import", str(path)) == {"accepted": 0, "refused": [], "warnings": [], "already": 0, "refused_by_code": {}}
    assert _event_count(url) == 0


def test_a_batch_is_not_written_when_a_stream_it_only_read_has_moved(db_url):
    """The recorder checks the versions a write read inside the write's own transaction."""
    import pytest

    from ledger.domain.aggregates import enterprise_id
    from ledger.store.recorders import StaleRead

    _setup(db_url)
    ours, theirs = GrantsLedger(parse_store(db_url)), GrantsLedger(parse_store(db_url))
    before = ours.recorder.max_notification_id()
    with pytest.raises(StaleRead) as stale:
        with ours.batch():
            assert ours._get(enterprise_id(USCC_A)) is not None  # read only
            theirs.execute(parse_command({"op": "external-award", "uscc": USCC_A, "project": "P", "policy": "其他",
                                          "amount_fen": 100, "date": "2022-12-01"}, "other"))
            ours.execute(parse_command(_apply("R-1", USCC_B), "t"))  # writes other streams
    assert stale.value.moved == {enterprise_id(USCC_A): (1, 2)}
    assert ours.recorder.max_notification_id() == before + 1  # only the other writer's event
    ours.close()
    theirs.close()


def test_a_line_that_fails_unexpectedly_mid_chunk_stops_the_import_there_with_the_lines_before_it_recorded(tmp_path):
    """Not a refusal but a failure (a bug): the chunk is run again up to the line before it, which is
    recorded, and the import stops at the line, saying what is recorded and what is not."""
    from ledger.service.importing import ImportStopped, import_file

    ledger = GrantsLedger(parse_store(new_ledger(tmp_path, "l.db")))
    lines = [json.dumps(line, ensure_ascii=False).encode() for line in SETUP] + [b'{"op": "boom"}', b"{}"]

    def apply_line(ledger: GrantsLedger, number: int, raw: bytes, operator: str) -> dict[str, Any]:
        if raw == b'{"op": "boom"}':
            raise ImportStopped(f"line {number}: RuntimeError: boom")
        ledger.execute(parse_command(json.loads(raw), operator))
        return {}

    try:
        import_file(ledger, lines, digest="e" * 64, name="f", operator="t", apply_line=apply_line)
    except ImportStopped as stopped:
        assert "line 4: RuntimeError: boom" in str(stopped) and "before line 4 are recorded" in str(stopped)
    else:
        raise AssertionError("the import went past a failing line")
    run = ledger.import_run("e" * 64, "t")
    assert run is not None and (run.decided, run.through) == (3, 3)
    assert len(ledger.enterprise_events(USCC_B)) == 1  # line 3 (its registration) is recorded
    ledger.close()


def test_an_import_run_keeps_counts_and_the_refused_lines_not_a_record_per_line(tmp_path):
    """What the import holds grows with the refused lines, not with the file: its run keeps how many
    lines are decided and the last, and the outcomes of the refused and warned lines only."""
    db = new_ledger(tmp_path, "l.db")
    lines = [*SETUP] + [_apply(f"R-{i}", project=f"P{i}") for i in range(40)] + [
        {"op": "approve", "ref": "NONE-1", "date": "2023-02-01"}]
    path = write_lines(tmp_path / "file.jsonl", lines)
    _, result = _import(db, path)
    assert result["accepted"] == 43 and [r["line"] for r in result["refused"]] == [44]
    ledger = GrantsLedger(parse_store(db))
    run = ledger.import_run(hashlib.sha256(path.read_bytes()).hexdigest(), "tester")
    assert run is not None and (run.decided, run.through, run.lines) == (44, 44, 44)
    assert [o.line for o in run.refused] == [44] and run.warnings == []
    assert not any(isinstance(v, dict) and len(v) > 2 for v in vars(run).values())  # no per-line map
    ledger.close()


def test_a_run_recorded_before_runs_were_kept_per_operator_goes_on_for_who_ran_it(tmp_path):
    """A run keyed by the file alone (recorded before issue 19) is the same operator's run: importing the file
    again goes on after its last line; another operator's import of the file is its own run."""
    from ledger.domain.aggregates import ImportRun, import_run_id

    db = new_ledger(tmp_path, "legacy.db")
    lines = [*SETUP, _apply("R-1"), _apply("R-2", project="P2")]
    path = write_lines(tmp_path / "old.jsonl", lines)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    ledger = GrantsLedger(parse_store(db))
    try:  # the first two lines imported by "tester" under the old key, as an older version recorded them
        for line in lines[:2]:
            ledger.execute(parse_command(line, "tester", today=date(2026, 1, 1)))
        old = ImportRun._create(ImportRun.Started, id=import_run_id(digest), digest=digest, file="old.jsonl",
                                lines=len(lines), by="tester")
        old.decide(outcomes=[{"line": 1}, {"line": 2}], by="tester")
        ledger.save(old)
    finally:
        ledger.close()
    _, result = _import(db, path)  # cli() runs as "tester"
    assert result["already"] == 2 and result["accepted"] == len(lines) and result["refused"] == []
    from typer.testing import CliRunner

    from commands.main import app

    other = CliRunner().invoke(app, ["--db", db, "--by", "someone.else", "import", str(path), "--json"])
    assert json.loads(other.stdout)["already"] == 0  # another operator's own run, each line answered by its key
