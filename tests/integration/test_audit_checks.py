"""`grants audit verify` re-runs the write side's rules over the whole history: a decision
the rules would have refused, written past them (here: straight through the aggregates,
as a bug or a forged command would), is a finding with its code and position (exit 7),
while the hash chain still holds."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text

from commands.main import app
from ledger.domain.aggregates import enterprise_id
from ledger.service.application import GrantsLedger
from ledger.store.storage import parse_store
from projections.runner import make_engine
from tests.conftest import USCC_A, USCC_B, new_ledger
from tests.helpers import SECURITY_FACTS, TWO_ENTERPRISES, cli, runner, write_lines

FACTS = SECURITY_FACTS
BASE = [
    *TWO_ENTERPRISES,
    {"op": "apply", "ref": "A-1", "uscc": USCC_A, "measure": "M03-security", "project": "P1", "date": "2023-01-10",
     "facts": FACTS},
    {"op": "approve", "ref": "A-1", "date": "2023-02-01"},
    {"op": "pay", "ref": "A-1", "payer": "city", "amount_fen": 500000, "voucher": "V-1", "date": "2023-03-01"},
    {"op": "apply", "ref": "A-2", "uscc": USCC_A, "measure": "M03-security", "project": "P1", "date": "2023-01-11",
     "facts": FACTS},
    {"op": "apply", "ref": "B-1", "uscc": USCC_B, "measure": "M03-security", "project": "Q1", "date": "2023-01-12",
     "facts": FACTS},
]


@pytest.fixture
def url(tmp_path) -> str:
    url = new_ledger(tmp_path, "ledger.db")
    assert cli(url, "import", str(write_lines(tmp_path / "base.jsonl", BASE))).exit_code == 0
    return url


def _verify(url: str) -> tuple[int, dict[str, Any]]:
    result = cli(url, "audit", "verify", "--json")
    return result.exit_code, json.loads(result.stdout)


def _force(url: str, uscc: str, method: str, **kwargs: Any) -> int:
    """Record an event through the aggregate, past every rule; returns its position."""
    ledger = GrantsLedger(parse_store(url))
    try:
        enterprise = ledger.repository.get(enterprise_id(uscc))
        if method == "approve":
            app = enterprise.applications[kwargs["ref"]]
            kwargs = {"date": date(2023, 2, 2), "by": "forger", "policy_version": app.policy_version, "basis": None,
                      "trace": [], **kwargs}
        getattr(enterprise, method)(**kwargs)
        ledger.save(enterprise)
        return ledger.recorder.max_notification_id()
    finally:
        ledger.close()


def _codes(data: dict[str, Any]) -> dict[str, list[int | None]]:
    found: dict[str, list[int | None]] = {}
    for f in data["findings"]:
        found.setdefault(f["code"], []).append(f["position"])
    return found


def test_a_clean_ledger_has_no_findings(url):
    code, data = _verify(url)
    assert code == 0 and data["findings"] == [] and data["checked_events"] > 10


def test_a_one_time_award_made_twice_is_found_at_its_approval(url):
    position = _force(url, USCC_A, "approve", ref="A-2", entitlement_fen=1000000, awarded_fen=1000000,
                      city_share_fen=500000, county_share_fen=500000)
    code, data = _verify(url)
    assert code == 7 and data["chain"] == "ok"
    codes = _codes(data)
    assert codes["already-awarded"] == [position]
    assert position in codes["duplicate-award"]  # and 就高不重复 on the same project pays nothing more


def test_an_award_above_its_cap_or_split_wrong_is_found(url):
    position = _force(url, USCC_B, "approve", ref="B-1", entitlement_fen=2000000, awarded_fen=2000000,
                      city_share_fen=1500000, county_share_fen=500000)
    code, data = _verify(url)
    assert code == 7
    assert _codes(data)["above-cap"] == [position] and _codes(data)["split-mismatch"] == [position]


def test_a_payer_paid_beyond_its_share_net_of_reversals_is_found(url):
    # city share of A-1 is 5,000 yuan, all paid: a further 1 fen is beyond it
    position = _force(url, USCC_A, "record_payment", ref="A-1", payer="city", treasury="city", amount_fen=1,
                      voucher="V-X", date=date(2023, 3, 2), by="forger")
    code, data = _verify(url)
    assert code == 7 and position in _codes(data)["over-payment"]


def test_a_later_award_under_another_policy_that_breaks_highest_not_duplicated_is_found(url, tmp_path):
    lines = [{"op": "external-award", "uscc": USCC_A, "project": "P1", "policy": "湖北省数字经济奖励",
              "amount_fen": 800000, "date": "2023-04-01"}]
    assert cli(url, "import", str(write_lines(tmp_path / "ext.jsonl", lines))).exit_code == 0
    code, data = _verify(url)
    end = cli(url, "projections", "status", "--json")
    assert code == 7
    assert _codes(data)["duplicate-award"] == [json.loads(end.stdout)["log_end"]]


def test_a_quota_exceeded_is_found(tmp_path):
    url = new_ledger(tmp_path, "q.db")
    lines = BASE[:3]
    for n in range(11):
        ref = f"T-{n}"
        lines += [{"op": "apply", "ref": ref, "uscc": USCC_A if n % 2 else USCC_B, "measure": "M16-task",
                   "project": ref, "date": "2023-03-01", "facts": {"task_year": 2023, "task": f"T-2023-{n:02d}"}}]
        if n < 10:
            lines.append({"op": "approve", "ref": ref, "date": "2023-04-01"})
    assert cli(url, "import", str(write_lines(tmp_path / "q.jsonl", lines))).exit_code == 0
    assert _verify(url)[0] == 0
    position = _force(url, USCC_B, "approve", ref="T-10", entitlement_fen=50_000_000,
                      awarded_fen=50_000_000, city_share_fen=25_000_000, county_share_fen=25_000_000)
    code, data = _verify(url)
    assert code == 7 and _codes(data)["quota-exhausted"] == [position]


def test_read_models_that_disagree_with_the_log_are_found(url):
    engine = make_engine(parse_store(url))
    with engine.begin() as conn:
        conn.execute(text("UPDATE rm_entries SET amount_fen = amount_fen + 100 WHERE kind = 'payment'"))
    engine.dispose()
    code, data = _verify(url)
    assert code == 7
    disagree = [f for f in data["findings"] if f["code"] == "views-disagree"]
    assert [f["ref"] for f in disagree if f["ref"] is not None] == ["A-1"]
    # the entry itself, row by row against the log: its table, its key (the position) and both amounts (the sums
    # it puts wrong follow from it, and are not named again)
    assert [f["message"].split(":")[0] for f in disagree] == [f"rm_entries “{disagree[0]['position']}”"]
    assert "amount_fen 5,001.00 yuan in the views, 5,000.00 yuan in the log" in disagree[0]["message"]
    assert cli(url, "projections", "rebuild").exit_code == 0
    assert _verify(url)[0] == 0


@pytest.mark.parametrize("forge", [
    "UPDATE rm_day_totals SET city_paid_fen = city_paid_fen + 23500000 WHERE scope = 'area' AND "
    "\"date\" = (SELECT MIN(\"date\") FROM rm_day_totals WHERE city_paid_fen > 0)",
    "UPDATE rm_enterprises SET county_paid_fen = county_paid_fen + 100",
    "UPDATE rm_enterprise_days SET awarded_fen = awarded_fen + 1",
    "DELETE FROM rm_day_totals WHERE scope = 'measure'",
    "INSERT INTO rm_day_totals SELECT scope, 'forged', \"date\", city_owed_fen, county_owed_fen, city_paid_fen, "
    "county_paid_fen, city_to_recover_fen, county_to_recover_fen, city_payments, city_payments_fen, "
    "city_reversals_fen, city_recoveries_fen, city_moves, county_payments, county_payments_fen, "
    "county_reversals_fen, county_recoveries_fen, county_moves FROM rm_day_totals WHERE city_owed_fen > 0",
])
def test_forged_figures_in_the_tables_the_reports_read_are_named(url, forge):
    """Issue 19, item 1: a clerk's UPDATE of the totals `report shares` and `report enterprise` read (which made
    235,000.00 yuan city-paid on a 25,000.00 share pass the audit) is a finding naming the table and its key."""
    assert _verify(url)[0] == 0
    engine = make_engine(parse_store(url))
    with engine.begin() as conn:
        assert conn.execute(text(forge)).rowcount > 0
    engine.dispose()
    code, data = _verify(url)
    assert code == 7, data
    table = forge.split()[1 if forge.startswith("UPDATE") else 2]
    named = [f for f in data["findings"] if f["code"] == "views-disagree" and f["message"].startswith(table + " ")]
    assert named, data["findings"]
    assert cli(url, "projections", "rebuild").exit_code == 0
    assert _verify(url)[0] == 0


def test_an_enterprise_moved_to_another_area_in_the_read_models_is_found(url):
    engine = make_engine(parse_store(url))
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE rm_enterprises SET area = '房县' WHERE uscc = '{USCC_A}'"))
    engine.dispose()
    code, data = _verify(url)
    assert code == 7 and [(f["code"], f["uscc"]) for f in data["findings"]] == [("views-disagree", USCC_A)]
    assert data["findings"][0]["message"].startswith(f"rm_enterprises “{USCC_A}”: area “房县” in the views, “张湾区” in "
                                                     "the log")


def test_in_enforced_mode_an_act_past_the_roles_or_the_separation_of_duties_is_a_finding(tmp_path):
    """An approval written past the ledger (plain SQL under a clerk's own database role would do
    the same): by the clerk who filed it, who holds no reviewer role."""
    url = new_ledger(tmp_path, "enforced.db")
    operators = [
        {"op": "register-operator", "name": "wang.fang", "display_name": "王芳", "roles": ["admin"],
         "date": "2022-08-01", "by": "wang.fang"},
        {"op": "register-operator", "name": "zhang.san", "display_name": "张三", "roles": ["clerk"],
         "date": "2022-08-01", "by": "wang.fang"},
        {"op": "register-operator", "name": "li.wei", "display_name": "李伟", "roles": ["reviewer"],
         "date": "2022-08-01", "by": "wang.fang"},
    ]
    lines = [*operators, {**BASE[0], "by": "wang.fang"}, *[{**line, "by": "zhang.san"} for line in BASE[1:4]],
             {**BASE[4], "by": "li.wei"}, {**BASE[6], "by": "zhang.san"}]
    def as_admin(*args: str) -> Any:
        return runner.invoke(app, ["--db", url, "--by", "wang.fang", *args], catch_exceptions=False)

    def verify() -> tuple[int, dict[str, Any]]:
        done = as_admin("audit", "verify", "--json")
        return done.exit_code, json.loads(done.stdout)

    result = as_admin("import", str(write_lines(tmp_path / "e.jsonl", lines)), "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert verify()[0] == 0  # every act so far by an operator holding its role, duties kept apart
    position = _force(url, USCC_A, "approve", ref="A-2", by="zhang.san", entitlement_fen=1000000, awarded_fen=0,
                      city_share_fen=0, county_share_fen=0)
    code, data = verify()
    assert code == 7 and data["chain"] == "ok"
    found = _codes(data)
    assert found["not-authorised"] == [position] and found["separation-of-duties"] == [position]
    assert all(positions == [position] for positions in found.values())  # (A-2 is also a second award on P1)


def test_the_checks_replay_the_whole_log_even_where_the_read_models_lag(url):
    """A reader that may not bring the read models up to date (an auditor's database role) still has
    every event checked: the replay goes to the end of the log, the views are compared where they stand."""
    from projections.audit_checks import run_checks

    position = _force(url, USCC_A, "approve", ref="A-2", entitlement_fen=1000000, awarded_fen=1000000,
                      city_share_fen=500000, county_share_fen=500000)  # a second one-time award, past the rules
    ledger = GrantsLedger(parse_store(url))
    engine = make_engine(parse_store(url))
    try:
        replayed, found = run_checks(ledger, engine)  # the views were not brought up to date since
        assert replayed == ledger.recorder.max_notification_id() == position
        assert position in [f.position for f in found if f.code == "already-awarded"]
        assert not [f for f in found if f.code == "views-disagree"]  # the views agree with the log where they stand
    finally:
        ledger.close()
        engine.dispose()


def test_only_another_admin_administers_an_operator(tmp_path):
    """A roster event written past the ledger: a clerk giving itself roles."""
    from ledger.domain.aggregates import ROSTER_ID

    url = new_ledger(tmp_path, "roster.db")
    lines = [{"op": "register-operator", "name": "wang.fang", "display_name": "王芳", "roles": ["admin"],
              "date": "2022-08-01", "by": "wang.fang"},
             {"op": "register-operator", "name": "zhang.san", "display_name": "张三", "roles": ["clerk"],
              "date": "2022-08-01", "by": "wang.fang"}]
    done = runner.invoke(app, ["--db", url, "--by", "wang.fang", "import", str(write_lines(tmp_path / "r.jsonl",
                                                                                         lines))])
    assert done.exit_code == 0, done.stdout + done.stderr
    ledger = GrantsLedger(parse_store(url))
    try:
        roster = ledger.repository.get(ROSTER_ID)
        roster.change_roles(name="zhang.san", roles=["clerk", "treasurer"], date=date(2023, 1, 1), by="zhang.san",
                            reason="自己加的")
        ledger.save(roster)
        position = ledger.recorder.max_notification_id()
    finally:
        ledger.close()
    verified = runner.invoke(app, ["--db", url, "--by", "wang.fang", "audit", "verify", "--json"])
    assert verified.exit_code == 7, verified.stdout + verified.stderr
    found = _codes(json.loads(verified.stdout))
    assert found == {"not-authorised": [position], "separation-of-duties": [position]}


def test_in_enforced_mode_a_policy_adoption_by_anyone_but_an_admin_is_a_finding(tmp_path):
    """An adoption sets every award's amount: one written past the ledger in a clerk's name (a plain-SQL INSERT
    under the clerk's own role does the same) is named, with the clerk (issue 19, item 4)."""
    from datetime import date as day

    from ledger.domain.aggregates import POLICY_BOOK_ID

    url = new_ledger(tmp_path, "enforced.db")
    lines = [
        {"op": "register-operator", "name": "wang.fang", "display_name": "王芳", "roles": ["admin"],
         "date": "2022-08-01", "by": "wang.fang"},
        {"op": "register-operator", "name": "zhang.san", "display_name": "张三", "roles": ["clerk"],
         "date": "2022-08-01", "by": "wang.fang"},
        {**BASE[0], "by": "wang.fang"},
    ]
    result = runner.invoke(app, ["--db", url, "--by", "wang.fang", "import", str(write_lines(tmp_path / "p.jsonl",
                                                                                              lines)), "--json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    verified = runner.invoke(app, ["--db", url, "--by", "wang.fang", "audit", "verify", "--json"])
    assert verified.exit_code == 0, verified.stdout
    ledger = GrantsLedger(parse_store(url))
    try:
        book = ledger.repository.get(POLICY_BOOK_ID)
        book.adopt(version="forged@2023-01-01", catalogue=book.versions[next(iter(book.versions))].catalogue,
                   effective=day(2023, 1, 1), ends=day(2026, 1, 1), date=day(2023, 1, 1), by="zhang.san")
        ledger.save(book)
        position = ledger.recorder.max_notification_id()
    finally:
        ledger.close()
    verified = runner.invoke(app, ["--db", url, "--by", "wang.fang", "audit", "verify", "--json"])
    assert verified.exit_code == 7, verified.stdout
    findings = json.loads(verified.stdout)["findings"]
    assert [(f["code"], f["position"]) for f in findings] == [("not-authorised", position)]
    assert "zhang.san" in findings[0]["message"] and "forged@2023-01-01" in findings[0]["message"]
