"""The rules hold on every day, whatever order dated records are keyed in (issue 18), on SQLite and PostgreSQL.

Each case keys the same dated facts out of date order, as offices do (a revocation decided last month
entered today, an award under another policy arriving weeks after its date), and checks the state as
of the days in question: what the rule gives as of the record's own date, or a refusal that names
the record it conflicts with.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from ledger.errors import Refused
from ledger.intake import commands as intake
from ledger.service.application import GrantsLedger
from ledger.store.storage import parse_store
from tests.conftest import USCC_A, USCC_B
from tests.helpers import cli

TODAY = date(2026, 12, 1)


class Office:
    """A ledger keyed line by line, as the import would: each line accepted (its result) or refused (raised)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.ledger = GrantsLedger(parse_store(url))
        self.run({"op": "adopt-policy", "effective": "2022-09-01", "date": "2022-09-01"})
        for uscc, name, area in ((USCC_A, "十堰甲公司", "张湾区"), (USCC_B, "十堰乙公司", "茅箭区")):
            self.run({"op": "register", "uscc": uscc, "name": name, "area": area, "date": "2020-01-01"})

    def run(self, line: dict[str, Any]) -> dict[str, Any]:
        return self.ledger.execute(intake.parse_command(line, "tester", today=TODAY))

    def refused(self, line: dict[str, Any]) -> Refused:
        with pytest.raises(Refused) as caught:
            self.run(line)
        return caught.value

    def apply(self, ref: str, measure: str, project: str, day: str, uscc: str = USCC_A, **facts: Any) -> None:
        self.run({"op": "apply", "ref": ref, "uscc": uscc, "measure": measure, "project": project, "date": day,
                  "facts": facts})

    def approve(self, ref: str, day: str) -> dict[str, Any]:
        return self.run({"op": "approve", "ref": ref, "date": day, "by": "li.wei"})

    def revoke(self, ref: str, day: str) -> dict[str, Any]:
        return self.run({"op": "revoke", "ref": ref, "date": day, "reason": "核查发现材料不实",
                         "document": "十经信〔2023〕21号"})

    def on(self, ref: str, day: str) -> dict[str, Any]:
        return self.ledger.show(ref, as_of=date.fromisoformat(day))

    def close(self) -> None:
        self.ledger.close()


@pytest.fixture
def office(db_url: str) -> Any:
    o = Office(db_url)
    yield o
    o.close()


def _in_force(office: Office, refs: list[str], day: str) -> list[str]:
    return [r for r in refs if office.on(r, day)["status"] == "approved"]


def test_a_revocation_dated_after_an_approval_does_not_free_a_one_time_award_for_it(office):
    """Case 1: clause 12 双软 revoked from 2023-03-01 (keyed first); a second award dated 2023-02-15 is refused."""
    office.apply("DS-1", "M12-dual-software", "双软一期", "2023-01-05", dual_software_certified=True)
    office.approve("DS-1", "2023-01-20")
    office.revoke("DS-1", "2023-03-01")
    office.apply("DS-2", "M12-dual-software", "双软二期", "2023-02-01", dual_software_certified=True)
    refusal = office.refused({"op": "approve", "ref": "DS-2", "date": "2023-02-15", "by": "li.wei"})
    assert refusal.code == "already-awarded" and "DS-1" in refusal.message and "2023-03-01" in refusal.message
    assert _in_force(office, ["DS-1", "DS-2"], "2023-02-20") == ["DS-1"]
    # Dated on or after the revocation, the second award is the only one in force: accepted.
    office.approve("DS-2", "2023-03-01")
    assert _in_force(office, ["DS-1", "DS-2"], "2023-02-20") == ["DS-1"]
    assert _in_force(office, ["DS-1", "DS-2"], "2023-03-01") == ["DS-2"]


def test_an_award_approved_on_a_later_day_already_on_file_is_counted(office):
    """An approval dated before one already keyed (keyed late) would put two one-time awards in force together."""
    office.apply("DS-1", "M12-dual-software", "双软一期", "2023-01-05", dual_software_certified=True)
    office.apply("DS-2", "M12-dual-software", "双软二期", "2023-01-06", dual_software_certified=True)
    office.approve("DS-2", "2023-05-01")
    refusal = office.refused({"op": "approve", "ref": "DS-1", "date": "2023-02-01", "by": "li.wei"})
    assert refusal.code == "already-awarded" and "DS-2" in refusal.message and "2023-05-01" in refusal.message


def _task(office: Office, n: int, year: int = 2024, uscc: str = USCC_A) -> str:
    ref = f"T-{year}-{n:02d}"
    office.apply(ref, "M16-task", f"揭榜项目{n}", "2025-01-10", uscc=uscc, task_year=year, task=f"T{year}-{n:02d}")
    return ref


def test_the_quota_of_ten_tasks_holds_on_every_day(office):
    """Case 2: a task's revocation dated 2025-06-01 keyed first; an eleventh task dated 2025-05-01 is refused."""
    refs = [_task(office, n) for n in range(1, 11)]
    for ref in refs:
        office.approve(ref, "2025-02-01")
    office.revoke(refs[0], "2025-06-01")
    eleventh = _task(office, 11, uscc=USCC_B)
    refusal = office.refused({"op": "approve", "ref": eleventh, "date": "2025-05-01", "by": "li.wei"})
    assert refusal.code == "quota-exhausted" and "2025-05-01" in refusal.message
    assert len(_in_force(office, [*refs, eleventh], "2025-05-15")) == 10
    office.approve(eleventh, "2025-06-01")  # the slot is free from the revocation's date
    assert len(_in_force(office, [*refs, eleventh], "2025-05-15")) == 10
    assert len(_in_force(office, [*refs, eleventh], "2025-06-01")) == 10


def test_two_tasks_under_one_project_name_are_two_awards_and_the_same_task_again_is_refused(office):
    """Clause 16 pays per task (每个奖励50万元): the unit is the task, not the project name."""
    office.apply("T-A", "M16-task", "揭榜项目", "2025-01-10", task_year=2024, task="T2024-01")
    office.apply("T-B", "M16-task", "揭榜项目", "2025-01-10", task_year=2024, task="T2024-02")
    assert office.approve("T-A", "2025-02-01")["awarded_fen"] == 50_000_000
    assert office.approve("T-B", "2025-02-01")["awarded_fen"] == 50_000_000
    office.apply("T-C", "M16-task", "另一项目", "2025-01-10", uscc=USCC_B, task_year=2024, task="T2024-01")
    refusal = office.refused({"op": "approve", "ref": "T-C", "date": "2025-03-01", "by": "li.wei"})
    assert refusal.code == "already-awarded" and "T-A" in refusal.message


def test_highest_not_duplicated_counts_a_lower_award_revoked_after_the_decision(office):
    """Case 3: provincial 15万 revoked from 2023-06-01 (keyed first); national 30万 decided 2023-03-01 gets 15万,
    never 45万 on one project; from the revocation the top-up is owed a re-decision, which raises it to 30万."""
    office.apply("E-P", "M07-enterprise", "示范企业", "2023-01-05", tier="provincial")
    office.approve("E-P", "2023-01-20")
    office.revoke("E-P", "2023-06-01")
    office.apply("E-N", "M07-enterprise", "示范企业", "2023-02-01", tier="national")
    approved = office.approve("E-N", "2023-03-01")
    assert approved["awarded_fen"] == 15_000_000  # 30万 - the 15万 in force on 2023-03-01
    held = office.on("E-P", "2023-03-15")["awarded_fen"] + office.on("E-N", "2023-03-15")["awarded_fen"]
    assert held == 30_000_000
    owed = [f for f in office.ledger.show("E-N")["findings"] if f["kind"] == "redecide"]
    assert [(f["ref"], f["cites"], f["total_fen"], f["highest_fen"], f["day"]) for f in owed] == [
        ("E-N", ["E-P"], 15_000_000, 30_000_000, "2023-06-01")]
    # Until a reviewer re-decides, the figures stay as decided; a re-decision dated before the revocation is refused.
    early = office.refused({"op": "redecide", "ref": "E-N", "date": "2023-05-01", "reason": "省级奖励撤销后改判"})
    assert early.code == "wrong-state" and "E-P" in early.message and "2023-06-01" in early.message
    line = {"op": "redecide", "ref": "E-N", "date": "2023-06-10", "reason": "省级奖励撤销后改判"}
    redecided = office.run(line)
    assert (redecided["awarded_fen"], redecided["city_share_fen"], redecided["county_share_fen"],
            redecided["cites"]) == (30_000_000, 15_000_000, 15_000_000, ["E-P"])
    assert office.run(line)["already_recorded"] is True  # the same re-decision again: nothing written
    assert office.on("E-N", "2023-06-09")["awarded_fen"] == 15_000_000  # as decided, until the re-decision
    assert office.on("E-N", "2023-06-10")["awarded_fen"] == 30_000_000
    assert office.ledger.show("E-N")["findings"] == []
    nothing = office.refused({"op": "redecide", "ref": "E-N", "date": "2023-07-01", "reason": "再次改判"})
    assert nothing.code == "wrong-state"
    # The county half may now be paid up to the re-decided share, not before the re-decision's day.
    office.run({"op": "pay", "ref": "E-N", "payer": "county", "amount_fen": 7_500_000, "voucher": "Z-1",
                "date": "2023-04-01"})
    too_early = office.refused({"op": "pay", "ref": "E-N", "payer": "county", "amount_fen": 7_500_000,
                                "voucher": "Z-2", "date": "2023-05-01"})
    assert too_early.code == "over-payment"
    office.run({"op": "pay", "ref": "E-N", "payer": "county", "amount_fen": 7_500_000, "voucher": "Z-2",
                "date": "2023-06-10"})


def test_an_approval_is_not_reduced_by_an_award_under_another_policy_dated_after_it(office):
    """Case 4: another policy's 20万 dated 2023-06-01 keyed first; an approval dated 2023-05-01 gets its 50万, and
    the overlap is flagged exactly as when the records arrive in date order."""
    office.run({"op": "external-award", "uscc": USCC_A, "project": "跨境电商产业园", "policy": "省商务厅专项",
                "amount_fen": 20_000_000, "date": "2023-06-01"})
    office.apply("B-1", "M07-base", "跨境电商产业园", "2023-04-01", tier="national")
    assert office.approve("B-1", "2023-05-01")["awarded_fen"] == 50_000_000
    flags = [(f["kind"], f["day"], f["total_fen"], f["highest_fen"]) for f in office.ledger.show("B-1")["findings"]]
    assert flags == [("overlap", "2023-06-01", 70_000_000, 50_000_000)]


def test_in_date_order_the_same_facts_give_the_same_award_and_flag(db_url):
    """Case 4 keyed in date order: the approval first, then the other policy's award (flagged at once)."""
    office = Office(db_url)
    try:
        office.apply("B-1", "M07-base", "跨境电商产业园", "2023-04-01", tier="national")
        assert office.approve("B-1", "2023-05-01")["awarded_fen"] == 50_000_000
        result = office.run({"op": "external-award", "uscc": USCC_A, "project": "跨境电商产业园",
                             "policy": "省商务厅专项", "amount_fen": 20_000_000, "date": "2023-06-01"})
        assert "warning" in result and "2023-06-01" in result["warning"]
        flags = [(f["kind"], f["day"]) for f in office.ledger.show("B-1")["findings"]]
        assert flags == [("overlap", "2023-06-01")]
    finally:
        office.close()


def test_a_lower_award_approved_on_a_later_day_on_file_refuses_a_higher_one_before_it(office):
    """就高不重复 on a later day already on record: 15万 approved 2023-05-01 (keyed first); a 30万 dated 2023-03-01
    would put 45万 on the project from 2023-05-01, and is refused naming the later award."""
    office.apply("E-P", "M07-enterprise", "示范企业", "2023-01-05", tier="provincial")
    office.apply("E-N", "M07-enterprise", "示范企业", "2023-01-06", tier="national")
    office.approve("E-P", "2023-05-01")
    refusal = office.refused({"op": "approve", "ref": "E-N", "date": "2023-03-01", "by": "li.wei"})
    assert refusal.code == "duplicate-award" and "E-P" in refusal.message and "2023-05-01" in refusal.message


def test_two_bases_and_two_parks_of_one_operator_are_each_awarded_once(office):
    """Case 8: clause 7's base and clause 18's park are the one-time unit, not the enterprise."""
    office.apply("B-1", "M07-base", "一号基地", "2023-01-05", tier="provincial")
    office.apply("B-2", "M07-base", "二号基地", "2023-01-05", tier="provincial")
    office.apply("B-3", "M07-base", "一号基地", "2023-01-06", tier="provincial")
    assert office.approve("B-1", "2023-02-01")["awarded_fen"] == 30_000_000
    assert office.approve("B-2", "2023-02-01")["awarded_fen"] == 30_000_000
    assert office.refused({"op": "approve", "ref": "B-3", "date": "2023-02-02", "by": "li.wei"}).code == (
        "already-awarded")
    for ref, park in (("P-1", "一号园区"), ("P-2", "二号园区"), ("P-3", "一号园区")):
        office.apply(ref, "M18-park", park, "2023-01-05", enterprises=22, revenue_yuan="35亿")
    assert office.approve("P-1", "2023-02-01")["awarded_fen"] == 500_000_000
    assert office.approve("P-2", "2023-02-01")["awarded_fen"] == 500_000_000
    assert office.refused({"op": "approve", "ref": "P-3", "date": "2023-02-02", "by": "li.wei"}).code == (
        "already-awarded")
    # 示范企业 (clause 7's enterprise item) stays once per enterprise.
    office.apply("E-1", "M07-enterprise", "企业一", "2023-01-05", tier="provincial")
    office.apply("E-2", "M07-enterprise", "企业二", "2023-01-05", tier="provincial")
    office.approve("E-1", "2023-02-01")
    assert office.refused({"op": "approve", "ref": "E-2", "date": "2023-02-02", "by": "li.wei"}).code == (
        "already-awarded")


def test_audit_verify_replays_out_of_order_keying_without_findings_and_names_the_overlap(db_url):
    office = Office(db_url)
    try:
        office.apply("E-P", "M07-enterprise", "示范企业", "2023-01-05", tier="provincial")
        office.approve("E-P", "2023-01-20")
        office.revoke("E-P", "2023-06-01")
        office.apply("E-N", "M07-enterprise", "示范企业", "2023-02-01", tier="national")
        office.approve("E-N", "2023-03-01")
        office.run({"op": "redecide", "ref": "E-N", "date": "2023-06-01", "reason": "省级奖励撤销后改判"})
        refs = [_task(office, n) for n in range(1, 11)]
        for ref in refs:
            office.approve(ref, "2025-02-01")
        office.revoke(refs[0], "2025-06-01")
        office.approve(_task(office, 11, uscc=USCC_B), "2025-06-01")
    finally:
        office.close()
    result = cli(db_url, "audit", "verify", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["findings"] == []
    office = Office.__new__(Office)
    office.ledger = GrantsLedger(parse_store(db_url))
    try:
        office.run({"op": "external-award", "uscc": USCC_A, "project": "示范企业", "policy": "省经信厅专项",
                    "amount_fen": 10_000_000, "date": "2023-07-01"})
    finally:
        office.ledger.close()
    result = cli(db_url, "audit", "verify", "--json")
    assert result.exit_code == 7, result.output
    findings = json.loads(result.output)["findings"]
    assert [(f["code"], f["uscc"]) for f in findings] == [("duplicate-award", USCC_A)]
    assert "2023-07-01" in findings[0]["message"]
    shown = cli(db_url, "show", "E-N")
    assert shown.exit_code == 0 and "2023-07-01" in shown.output


def test_audit_reconcile_counts_the_awards_owed_a_re_decision_and_the_overlaps(db_url):
    office = Office(db_url)
    try:
        office.apply("E-P", "M07-enterprise", "示范企业", "2023-01-05", tier="provincial")
        office.approve("E-P", "2023-01-20")
        office.apply("E-N", "M07-enterprise", "示范企业", "2023-02-01", tier="national")
        office.approve("E-N", "2023-03-01")
        office.revoke("E-P", "2023-06-01")
        office.run({"op": "external-award", "uscc": USCC_B, "project": "跨境电商产业园", "policy": "省商务厅专项",
                    "amount_fen": 20_000_000, "date": "2023-06-01"})
        office.apply("B-1", "M07-base", "跨境电商产业园", "2023-04-01", uscc=USCC_B, tier="national")
        office.approve("B-1", "2023-05-01")
    finally:
        office.close()
    result = cli(db_url, "audit", "reconcile", "--json")
    data = json.loads(result.output)
    assert data["redecisions_owed_count"] == 1 and data["redecisions_owed_fen"] == 15_000_000
    assert [(f["ref"], f["cites"], f["day"]) for f in data["redecisions_owed"]] == [("E-N", ["E-P"], "2023-06-01")]
    assert [(f["uscc"], f["project"], f["day"]) for f in data["overlaps"]] == [(USCC_B, "跨境电商产业园", "2023-06-01")]
    before = json.loads(cli(db_url, "audit", "reconcile", "--json", "--as-of", "2023-05-31").output)
    assert before["redecisions_owed"] == [] and before["overlaps"] == []
    text = cli(db_url, "audit", "reconcile").output
    assert "E-N" in text and "re-decision" in text and "跨境电商产业园" in text
    office = Office.__new__(Office)
    office.ledger = GrantsLedger(parse_store(db_url))
    try:
        office.run({"op": "redecide", "ref": "E-N", "date": "2023-06-01", "reason": "省级奖励撤销后改判"})
    finally:
        office.ledger.close()
    after = json.loads(cli(db_url, "audit", "reconcile", "--json").output)
    assert after["redecisions_owed"] == [] and after["redecisions_owed_fen"] == 0
    awarded = {e["uscc"]: e["awarded_fen"]
               for e in json.loads(cli(db_url, "report", "enterprise", "--json").output)["enterprises"]}
    assert awarded == {USCC_A: 30_000_000, USCC_B: 50_000_000}  # E-P revoked, E-N re-decided to 30万
    before = {e["uscc"]: e["awarded_fen"] for e in json.loads(
        cli(db_url, "report", "enterprise", "--json", "--as-of", "2023-05-31").output)["enterprises"]}
    assert before == {USCC_A: 30_000_000, USCC_B: 50_000_000}  # 15万 + 15万 top-up, before the revocation
    gap = {e["uscc"]: e["awarded_fen"] for e in json.loads(
        cli(db_url, "report", "enterprise", "--json", "--as-of", "2023-06-01").output)["enterprises"]}
    assert gap == {USCC_A: 30_000_000, USCC_B: 50_000_000}  # revoked and re-decided the same day


def test_a_re_decision_in_the_read_models_is_the_same_caught_up_page_by_page_or_rebuilt(db_url):
    from projections import runner
    from tests.helpers import cli_json, views_snapshot

    office = Office(db_url)
    try:
        office.apply("E-P", "M07-enterprise", "示范企业", "2023-01-05", tier="provincial")
        office.approve("E-P", "2023-01-20")
        office.apply("E-N", "M07-enterprise", "示范企业", "2023-02-01", tier="national")
        office.approve("E-N", "2023-03-01")
        office.run({"op": "pay", "ref": "E-N", "payer": "city", "amount_fen": 7_500_000, "voucher": "C-1",
                    "date": "2023-03-10"})
        office.revoke("E-P", "2023-06-01")
        cli_json(db_url, "report", "shares")  # the views catch up to here
        office.run({"op": "redecide", "ref": "E-N", "date": "2023-06-02", "reason": "省级奖励撤销后改判"})
        office.run({"op": "pay", "ref": "E-N", "payer": "city", "amount_fen": 7_500_000, "voucher": "C-2",
                    "date": "2023-06-03"})
    finally:
        office.close()
    shares = cli_json(db_url, "report", "shares")
    engine = runner.make_engine(parse_store(db_url))
    try:
        caught_up = views_snapshot(engine)
        assert cli_json(db_url, "projections", "rebuild")["rebuilt"] is True
        assert views_snapshot(engine) == caught_up
    finally:
        engine.dispose()
    assert cli_json(db_url, "report", "shares") == shares
    row = cli_json(db_url, "show", "E-N")
    assert (row["awarded_fen"], row["city_share_fen"], row["city_paid_fen"], row["city_outstanding_fen"]) == (
        30_000_000, 15_000_000, 15_000_000, 0)
    assert [h["event"] for h in row["history"]][-2:] == ["AwardRedecided", "PaymentRecorded"]


def test_report_applications_shows_the_award_as_decided_by_its_day_and_as_known_then(db_url):
    office = Office(db_url)
    try:
        office.apply("E-P", "M07-enterprise", "示范企业", "2023-01-05", tier="provincial")
        office.approve("E-P", "2023-01-20")
        office.apply("E-N", "M07-enterprise", "示范企业", "2023-02-01", tier="national")
        office.approve("E-N", "2023-03-01")
        office.revoke("E-P", "2023-06-01")
    finally:
        office.close()
    from tests.helpers import cli_json

    cli_json(db_url, "report", "shares")  # the views catch up before the re-decision
    moment = cli_json(db_url, "show", "E-N")["history"][-1]["recorded_at"]
    office = Office.__new__(Office)
    office.ledger = GrantsLedger(parse_store(db_url))
    try:
        office.run({"op": "redecide", "ref": "E-N", "date": "2023-06-10", "reason": "省级奖励撤销后改判"})
    finally:
        office.ledger.close()

    def row(*args: str) -> tuple[int, int, int]:
        found = [r for r in cli_json(db_url, "report", "applications", *args)["applications"] if r["ref"] == "E-N"]
        return found[0]["awarded_fen"], found[0]["city_share_fen"], found[0]["county_share_fen"]

    assert row() == (30_000_000, 15_000_000, 15_000_000)
    assert row("--as-of", "2023-06-09") == (15_000_000, 7_500_000, 7_500_000)
    assert row("--known-at", moment) == (15_000_000, 7_500_000, 7_500_000)


def test_an_adoption_that_would_take_over_the_date_of_an_application_on_file_is_refused(office):
    """An adoption is judged against every record on file: a version that would be in force on the date of an
    application already filed under another version is refused, naming it (else the same dated application is
    decided by one version or the other depending on the keying order); from a later day it is adopted."""
    office.apply("B-1", "M07-base", "一号基地", "2024-03-01", tier="national")
    refusal = office.refused({"op": "adopt-policy", "effective": "2024-01-01", "version": "v2@2024-01-01",
                              "date": "2024-03-05"})
    assert refusal.code == "wrong-state" and refusal.field == "effective"
    assert "B-1" in refusal.message and "2024-03-01" in refusal.message
    adopted = office.run({"op": "adopt-policy", "effective": "2024-03-02", "version": "v2@2024-03-02",
                          "date": "2024-03-05"})
    assert adopted["version"] == "v2@2024-03-02"
    office.apply("B-2", "M07-base", "二号基地", "2024-03-02", tier="national")
    assert office.ledger.show("B-1")["policy_version"] != office.ledger.show("B-2")["policy_version"]


def test_an_import_of_re_decisions_run_twice_changes_nothing_and_a_bad_line_stops_nothing(db_url, tmp_path):
    """The import op redecide: a file with a re-decision, a hostile line and a re-decision of nothing owed, run
    twice; the second run decides no line again and writes nothing."""
    from tests.helpers import cli_json, write_lines

    office = Office(db_url)
    try:
        office.apply("E-P", "M07-enterprise", "示范企业", "2023-01-05", tier="provincial")
        office.approve("E-P", "2023-01-20")
        office.apply("E-N", "M07-enterprise", "示范企业", "2023-02-01", tier="national")
        office.approve("E-N", "2023-03-01")
        office.revoke("E-P", "2023-06-01")
    finally:
        office.close()
    path = write_lines(tmp_path / "redecide.jsonl", [
        {"op": "redecide", "ref": "E-N", "date": "2023-05-01", "reason": "早于撤销"},  # nothing owed yet
        {"op": "redecide", "ref": "E-N", "date": "2023-06-02", "reason": "省级奖励撤销后改判", "extra": 1},  # bad field
        {"op": "redecide", "ref": "E-N", "date": "2023-06-02", "reason": "省级奖励撤销后改判"},
    ])
    first = cli(db_url, "import", str(path), "--json")
    assert first.exit_code == 1, first.stderr
    result = json.loads(first.stdout)
    assert [(r["line"], r["code"]) for r in result["refused"]] == [(1, "wrong-state"), (2, "invalid-input")]
    assert result["accepted"] == 1
    end = cli_json(db_url, "audit", "head")["position"]
    again = json.loads(cli(db_url, "import", str(path), "--json").stdout)
    assert again["already"] == 3 and [(r["line"], r["code"]) for r in again["refused"]] == [
        (1, "wrong-state"), (2, "invalid-input")]
    assert cli_json(db_url, "audit", "head")["position"] == end  # nothing written
    assert cli_json(db_url, "show", "E-N")["awarded_fen"] == 30_000_000


def test_two_writers_re_deciding_one_award_at_once_record_it_once(db_url):
    """Two ledgers (two connections) send the same re-decision at once: one records it, the other is answered
    "already recorded" after its conflict is retried; neither crashes, the award is raised once."""
    import threading

    office = Office(db_url)
    try:
        office.apply("E-P", "M07-enterprise", "示范企业", "2023-01-05", tier="provincial")
        office.approve("E-P", "2023-01-20")
        office.apply("E-N", "M07-enterprise", "示范企业", "2023-02-01", tier="national")
        office.approve("E-N", "2023-03-01")
        office.revoke("E-P", "2023-06-01")
    finally:
        office.close()
    line = {"op": "redecide", "ref": "E-N", "date": "2023-06-02", "reason": "省级奖励撤销后改判"}
    start, results, errors = threading.Barrier(2), [], []

    def writer() -> None:
        ledger = GrantsLedger(parse_store(db_url))
        try:
            start.wait()
            results.append(ledger.execute(intake.parse_command(line, "tester", today=TODAY)))
        except Exception as exc:  # noqa: BLE001 - collected, asserted below
            errors.append(exc)
        finally:
            ledger.close()

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(bool(r.get("already_recorded")) for r in results) == [False, True]
    ledger = GrantsLedger(parse_store(db_url))
    try:
        shown = ledger.show("E-N")
        assert shown["awarded_fen"] == 30_000_000 and len(shown["redecisions"]) == 1
    finally:
        ledger.close()
