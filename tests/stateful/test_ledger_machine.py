"""The grants ledger as a state machine, checked against a shadow ledger kept by the test.

Hypothesis runs random histories of applications, approvals, rejections, payments and
awards under other city policies against an in-memory ledger with one adopted policy
version and three enterprises in three county-level areas. Every rule also updates a
shadow ledger written here from the words of the policy, not from ``ledger.rules``:

- 一次性奖励: a one-time award is given once per enterprise (clauses 3 and 7) or per
  project (clause 3's security award, clause 10's racks); a higher tier of clause 7 on
  the same project is not a second award but a top-up (就高补差).
- 每年发布10个重点创新任务, 每个奖励50万元 (clause 16): each task of a year is awarded
  once, and at most 10 distinct tasks a year.
- 同一企业、同一项目 ... 按照就高不重复的原则予以办理: on one enterprise's project, a
  new award is due only when it is higher than every earlier one (this policy's or
  another policy's), and then only the difference over what was already awarded.
- 市级财政和各级地方财政各50%: the county half is rounded down, the city takes the odd
  fen (the documented split rule).

An approval is checked in the order one-time, then the yearly quota, then 就高不重复
(the order decides which refusal an officer is shown, so it is observable). The
shadow predicts each approval exactly: the awarded amount and both shares, or the
refusal code. The invariants, checked after every step, compare the shadow with
``show()`` for every filing number and with the recorded events.

Strategies only produce commands the ledger must accept or must refuse for a reason
the shadow predicts; nothing is caught and ignored.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, event, settings, target
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from ledger.domain import enterprise_id, task_quota_id
from ledger.errors import Refused
from ledger.intake import parse_command
from ledger.uscc import make_uscc
from tests.conftest import memory_ledger

WAN = 1_000_000  # fen in 1万元
YUAN = 100  # fen in 1 yuan

EFFECTIVE = date(2022, 9, 1)  # the adopted version's 施行 date
LAST_DAY = date(2025, 8, 31)  # 有效期为3年: 2025-09-01 is the first day outside
FIRST_DAY = date(2023, 1, 2)  # clause 16's tasks are of 2023; a task may not be of a later year than its application

ENTERPRISES = {
    make_uscc("91420303MA4G1A2B3"): "张湾区",
    make_uscc("91420302MA4G1C4D5"): "茅箭区",
    make_uscc("91420304MA4G1E6F7"): "郧阳区",
}
USCCS = tuple(ENTERPRISES)
PROJECTS = ("P1", "P2", "P3")
PAYERS = ("city", "county")

# The measures exercised, with the amounts as the policy writes them.
PLATFORM = "M03-platform"  # 获评国家“双跨”工业互联网平台: 200万元一次性奖励
SECURITY = "M03-security"  # 不超过合同额10%, 不超过10万元
BASE = "M07-base"  # 电子商务示范基地: 国家级50万元、省级30万元, 一次性
DIGITAL_COMMERCE = "M07-digital-commerce"  # 商务部认定的数字商务企业: 一次性30万元
EDGE = "M10-edge"  # 边缘数据中心: 每个在用物理机架3000元, 最高不超过50万元
TASK = "M16-task"  # 揭榜挂帅: 每个任务50万元, 每年10个任务
SERVICE_PLATFORM = "M13-platform"  # 创新型有影响力的数字经济服务平台: 一事一议
MEASURES = (PLATFORM, SECURITY, BASE, DIGITAL_COMMERCE, EDGE, TASK, SERVICE_PLATFORM)

BASE_TIERS = {"national": 50 * WAN, "provincial": 30 * WAN}
SECURITY_CAP = 10 * WAN
RACK = 3000 * YUAN
EDGE_CAP = 50 * WAN
TASK_AWARD = 50 * WAN
TASK_YEAR = 2023
TASKS = tuple(f"T{n}" for n in range(1, 13))
TASKS_A_YEAR = 10

ONE_TIME_PER_ENTERPRISE = {PLATFORM, BASE, DIGITAL_COMMERCE}
ONE_TIME_PER_PROJECT = {SECURITY, EDGE}
TIERED = {BASE}

# Amounts that collide with the policy's own (equal awards are the edge of 就高不重复), and any other.
AMOUNTS = st.one_of(
    st.sampled_from([10 * WAN, 30 * WAN, 50 * WAN, 200 * WAN, 20 * WAN, 1]),
    st.integers(1, 300 * WAN),
)


@dataclass
class Filed:
    """The shadow of one application."""

    ref: str
    uscc: str
    measure: str
    project: str
    clause_fen: int | None  # what the clause gives for the facts; None when decided case by case
    task: str | None = None
    status: str = "submitted"
    entitlement: int = 0
    awarded: int = 0
    city: int = 0
    county: int = 0
    paid: dict[str, int] = field(default_factory=lambda: {"city": 0, "county": 0})

    def share(self, payer: str) -> int:
        return self.city if payer == "city" else self.county


@dataclass(frozen=True)
class Award:
    entitlement: int
    awarded: int
    city: int
    county: int


def yuan_text(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def halves(awarded: int) -> tuple[int, int]:
    """各50%: (city, county), the county half rounded down and the odd fen to the city."""
    county = awarded // 2
    return awarded - county, county


class GrantsLedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.app = memory_ledger()
        self.today = FIRST_DAY
        self.serial = 0
        self.filed: dict[str, Filed] = {}
        # (uscc, project) -> [(entitlement, awarded)] in the order recorded, this policy's and others'.
        self.on_project: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
        self.tasks_awarded: dict[int, set[str]] = defaultdict(set)
        self.run(op="adopt-policy", effective=EFFECTIVE.isoformat())
        for n, (uscc, area) in enumerate(ENTERPRISES.items()):
            self.run(op="register", uscc=uscc, name=f"十堰数字企业{n + 1}", area=area)

    # --- plumbing ---------------------------------------------------------------

    def run(self, **line: Any) -> dict[str, Any]:
        return self.app.execute(parse_command(line, "tester"))

    def refusal(self, **line: Any) -> str:
        try:
            result = self.run(**line)
        except Refused as refused:
            return refused.code
        raise AssertionError(f"expected a refusal of {line}, the ledger accepted it: {result}")

    def next_serial(self) -> int:
        self.serial += 1
        return self.serial

    def advance(self, days: int) -> str:
        self.today = min(self.today + timedelta(days=days), LAST_DAY)
        return self.today.isoformat()

    def with_status(self, status: str) -> list[str]:
        return [ref for ref, filed in self.filed.items() if filed.status == status]

    # --- the shadow's reading of the policy -------------------------------------------

    def predict_approval(self, filed: Filed, entitlement: int) -> Award | str:
        """The award the policy gives, or the refusal code; one-time, then quota, then 就高不重复."""
        if filed.measure in ONE_TIME_PER_ENTERPRISE | ONE_TIME_PER_PROJECT:
            for prior in self.filed.values():
                if prior.status != "approved" or prior.uscc != filed.uscc or prior.measure != filed.measure:
                    continue
                if filed.measure in ONE_TIME_PER_PROJECT and prior.project != filed.project:
                    continue
                top_up = filed.measure in TIERED and prior.project == filed.project and entitlement > prior.entitlement
                if not top_up:
                    return "already-awarded"
        if filed.measure == TASK:
            awarded_tasks = self.tasks_awarded[TASK_YEAR]
            if filed.task in awarded_tasks:
                return "already-awarded"
            if len(awarded_tasks) >= TASKS_A_YEAR:
                return "quota-exhausted"
        earlier = self.on_project[(filed.uscc, filed.project)]
        already = sum(awarded for _, awarded in earlier)
        if earlier and (entitlement <= max(e for e, _ in earlier) or entitlement - already <= 0):
            return "duplicate-award"
        awarded = entitlement - already
        return Award(entitlement, awarded, *halves(awarded))

    # --- rules --------------------------------------------------------------------------

    @rule(data=st.data(), uscc=st.sampled_from(USCCS), measure=st.sampled_from(MEASURES),
          project=st.sampled_from(PROJECTS), days=st.integers(0, 10))
    def apply(self, data: st.DataObject, uscc: str, measure: str, project: str, days: int) -> None:
        facts: dict[str, Any] = {}
        task = None
        if measure == PLATFORM:
            facts = {"route": "dual-cross"}
            clause_fen: int | None = 200 * WAN
        elif measure == SECURITY:
            # Contracts of at least 0.10 yuan, so 10% is at least one fen; around 100万 the 10万 cap bites.
            contract = data.draw(st.one_of(st.integers(10, 200 * WAN), st.integers(100 * WAN - 20, 100 * WAN + 20)),
                                 label="contract_fen")
            facts = {"city_enterprises": 11, "annual_revenue_yuan": "600万", "contract_yuan": yuan_text(contract)}
            clause_fen = min(contract // 10, SECURITY_CAP)
        elif measure == BASE:
            tier = data.draw(st.sampled_from(sorted(BASE_TIERS)), label="tier")
            facts = {"tier": tier}
            clause_fen = BASE_TIERS[tier]
        elif measure == DIGITAL_COMMERCE:
            clause_fen = 30 * WAN
        elif measure == EDGE:
            racks = data.draw(st.one_of(st.integers(1, 250), st.integers(165, 168)), label="racks")
            facts = {"indirect_benefit_yuan": "300万", "racks": racks}
            clause_fen = min(racks * RACK, EDGE_CAP)
        elif measure == TASK:
            task = data.draw(st.sampled_from(TASKS), label="task")
            facts = {"task_year": TASK_YEAR, "task": task}
            # A task is often a project of its own; sometimes it lands on a project that has other awards.
            project = data.draw(st.sampled_from((f"揭榜-{task}", *PROJECTS)), label="task project")
            clause_fen = TASK_AWARD
        else:
            clause_fen = None
        ref = f"A-{self.next_serial()}"
        result = self.run(op="apply", ref=ref, uscc=uscc, measure=measure, project=project, date=self.advance(days),
                          facts=facts)
        assert (result["status"], result["entitlement_fen"]) == ("submitted", clause_fen), result
        self.filed[ref] = Filed(ref, uscc, measure, project, clause_fen, task)

    @precondition(lambda self: self.with_status("submitted"))
    @rule(data=st.data(), days=st.integers(0, 10))
    def approve(self, data: st.DataObject, days: int) -> None:
        ref = data.draw(st.sampled_from(self.with_status("submitted")), label="ref")
        filed = self.filed[ref]
        line: dict[str, Any] = {"op": "approve", "ref": ref, "date": self.advance(days)}
        if filed.clause_fen is None:  # 一事一议: the amount and basis come with the decision
            entitlement = data.draw(AMOUNTS, label="case-by-case amount_fen")
            line.update(amount_fen=entitlement, basis=f"市政府专题会议纪要〔2023〕{self.next_serial()}号")
        elif filed.measure == SECURITY and data.draw(st.booleans(), label="review sets a lower amount"):
            entitlement = data.draw(st.integers(1, filed.clause_fen), label="reviewed amount_fen")
            line.update(amount_fen=entitlement, basis=f"评审会纪要{self.next_serial()}")
        else:
            entitlement = filed.clause_fen
        expected = self.predict_approval(filed, entitlement)
        if isinstance(expected, str):
            event(f"approve {filed.measure}: {expected}")
            assert self.refusal(**line) == expected, (filed, entitlement)
            return
        event(f"approve {filed.measure}: {'top-up' if expected.awarded < entitlement else 'ok'}")
        result = self.run(**line)
        got = Award(result["entitlement_fen"], result["awarded_fen"], result["city_share_fen"],
                    result["county_share_fen"])
        assert got == expected, (filed, got, expected)
        filed.status = "approved"
        filed.entitlement, filed.awarded, filed.city, filed.county = (expected.entitlement, expected.awarded,
                                                                      expected.city, expected.county)
        self.on_project[(filed.uscc, filed.project)].append((expected.entitlement, expected.awarded))
        if filed.task is not None:
            self.tasks_awarded[TASK_YEAR].add(filed.task)

    @precondition(lambda self: self.with_status("submitted"))
    @rule(data=st.data(), days=st.integers(0, 10))
    def reject(self, data: st.DataObject, days: int) -> None:
        ref = data.draw(st.sampled_from(self.with_status("submitted")), label="ref")
        result = self.run(op="reject", ref=ref, date=self.advance(days), reason="材料不全")
        assert result["status"] == "rejected"
        self.filed[ref].status = "rejected"

    @precondition(lambda self: self.with_status("approved"))
    @rule(data=st.data(), payer=st.sampled_from(PAYERS), days=st.integers(0, 10))
    def pay(self, data: st.DataObject, payer: str, days: int) -> None:
        ref = data.draw(st.sampled_from(self.with_status("approved")), label="ref")
        filed = self.filed[ref]
        remaining = filed.share(payer) - filed.paid[payer]
        amount = data.draw(st.one_of(st.just(max(remaining, 1)), st.integers(1, remaining + 3)), label="amount_fen")
        line = {"op": "pay", "ref": ref, "payer": payer, "amount_fen": amount, "voucher": f"V-{self.next_serial()}",
                "date": self.advance(days)}
        if amount > remaining:
            event("pay: over-payment")
            assert self.refusal(**line) == "over-payment", (filed, payer, amount)
            return
        event("pay: ok")
        result = self.run(**line)
        expected_treasury = "city" if payer == "city" else ENTERPRISES[filed.uscc]
        assert (result["amount_fen"], result["treasury"]) == (amount, expected_treasury), result
        filed.paid[payer] += amount

    @rule(uscc=st.sampled_from(USCCS), project=st.sampled_from(PROJECTS), amount=AMOUNTS, days=st.integers(0, 10))
    def external_award(self, uscc: str, project: str, amount: int, days: int) -> None:
        result = self.run(op="external-award", uscc=uscc, project=project, policy=f"十堰市其他支持政策{self.next_serial()}",
                          amount_fen=amount, date=self.advance(days))
        history = self.on_project[(uscc, project)]
        history.append((amount, amount))
        # Recorded as a fact, never refused; flagged when the project now holds more than its highest award.
        overlap = sum(a for _, a in history) > max(e for e, _ in history)
        assert ("warning" in result) == overlap, (history, result)

    def teardown(self) -> None:
        # Steer the search towards histories that reach clause 16's yearly quota.
        target(len(self.tasks_awarded[TASK_YEAR]), label="clause 16 tasks awarded")

    # --- what the ledger reports ------------------------------------------------------------

    def recorded(self, uscc: str) -> list[Any]:
        return list(self.app.events.get(enterprise_id(uscc)))

    @invariant()
    def every_application_reads_as_the_shadow_says(self) -> None:
        for ref, filed in self.filed.items():
            shown = self.app.show(ref)
            assert (shown["status"], shown["uscc"], shown["measure"], shown["project"]) == \
                (filed.status, filed.uscc, filed.measure, filed.project), ref
            assert (shown["awarded_fen"], shown["city_share_fen"], shown["county_share_fen"]) == \
                (filed.awarded, filed.city, filed.county), ref
            assert (shown["city_paid_fen"], shown["county_paid_fen"]) == (filed.paid["city"], filed.paid["county"])
            if filed.status == "approved":
                assert shown["entitlement_fen"] == filed.entitlement, ref

    @invariant()
    def the_two_halves_make_the_award_and_the_city_takes_the_odd_fen(self) -> None:
        for ref in self.filed:
            shown = self.app.show(ref)
            if shown["status"] != "approved":
                continue
            city, county = shown["city_share_fen"], shown["county_share_fen"]
            assert city + county == shown["awarded_fen"], shown
            assert city >= county >= city - 1, shown

    @invariant()
    def no_payer_pays_more_than_its_share(self) -> None:
        for ref in self.filed:
            shown = self.app.show(ref)
            assert 0 <= shown["city_paid_fen"] <= shown["city_share_fen"], shown
            assert 0 <= shown["county_paid_fen"] <= shown["county_share_fen"], shown
        for uscc in USCCS:
            shares: dict[tuple[str, str], int] = {}
            paid: dict[tuple[str, str], int] = defaultdict(int)
            for e in self.recorded(uscc):
                kind = type(e).__name__
                if kind == "ApplicationApproved":
                    shares[(e.ref, "city")], shares[(e.ref, "county")] = e.city_share_fen, e.county_share_fen
                elif kind == "PaymentRecorded":
                    paid[(e.ref, e.payer)] += e.amount_fen
                    assert paid[(e.ref, e.payer)] <= shares[(e.ref, e.payer)], (uscc, e.ref, e.payer)

    @invariant()
    def a_project_never_collects_more_than_its_highest_single_award(self) -> None:
        """就高不重复, as the events show it at each approval on a project."""
        for uscc in USCCS:
            project_of: dict[str, str] = {}
            collected: dict[str, int] = defaultdict(int)
            highest: dict[str, int] = defaultdict(int)
            for e in self.recorded(uscc):
                kind = type(e).__name__
                if kind == "ApplicationSubmitted":
                    project_of[e.ref] = e.project
                elif kind == "ExternalAwardRecorded":
                    collected[e.project] += e.amount_fen
                    highest[e.project] = max(highest[e.project], e.amount_fen)
                elif kind == "ApplicationApproved":
                    project = project_of[e.ref]
                    collected[project] += e.awarded_fen
                    highest[project] = max(highest[project], e.entitlement_fen)
                    assert collected[project] <= highest[project], (uscc, project, e.ref)

    @invariant()
    def a_one_time_award_is_given_once_except_a_higher_tier_on_the_same_project(self) -> None:
        for uscc in USCCS:
            filing: dict[str, tuple[str, str]] = {}
            approvals: dict[str, list[tuple[str, int]]] = defaultdict(list)
            for e in self.recorded(uscc):
                kind = type(e).__name__
                if kind == "ApplicationSubmitted":
                    filing[e.ref] = (e.measure, e.project)
                elif kind == "ApplicationApproved":
                    measure, project = filing[e.ref]
                    approvals[measure].append((project, e.entitlement_fen))
            for measure in ONE_TIME_PER_ENTERPRISE:
                given = approvals[measure]
                if measure in TIERED:
                    assert len({project for project, _ in given}) <= 1, (uscc, measure, given)
                    tiers = [entitlement for _, entitlement in given]
                    assert tiers == sorted(set(tiers)), (uscc, measure, given)  # each later one strictly higher
                else:
                    assert len(given) <= 1, (uscc, measure, given)
            for measure in ONE_TIME_PER_PROJECT:
                projects = [project for project, _ in approvals[measure]]
                assert len(projects) == len(set(projects)), (uscc, measure, projects)

    @invariant()
    def each_task_is_awarded_once_and_at_most_ten_a_year(self) -> None:
        awarded: dict[int, list[str]] = defaultdict(list)
        for uscc in USCCS:
            facts_of: dict[str, dict[str, Any]] = {}
            for e in self.recorded(uscc):
                kind = type(e).__name__
                if kind == "ApplicationSubmitted" and e.measure == TASK:
                    facts_of[e.ref] = e.facts
                elif kind == "ApplicationApproved" and e.ref in facts_of:
                    awarded[facts_of[e.ref]["task_year"]].append(facts_of[e.ref]["task"])
        for year, tasks in awarded.items():
            assert len(tasks) == len(set(tasks)) <= TASKS_A_YEAR, (year, tasks)
        quota = self.app.repository.get(task_quota_id(TASK, TASK_YEAR)) if awarded else None
        assert sorted(quota.awarded if quota else []) == sorted(awarded[TASK_YEAR])
        assert set(awarded[TASK_YEAR]) == self.tasks_awarded[TASK_YEAR]

    @invariant()
    def each_enterprise_totals_agree_with_the_shadow(self) -> None:
        for uscc in USCCS:
            awarded = 0
            paid = {"city": 0, "county": 0}
            for e in self.recorded(uscc):
                kind = type(e).__name__
                if kind == "ApplicationApproved":
                    awarded += e.awarded_fen
                elif kind == "PaymentRecorded":
                    paid[e.payer] += e.amount_fen
            mine = [f for f in self.filed.values() if f.uscc == uscc]
            assert awarded == sum(f.awarded for f in mine), uscc
            assert paid == {payer: sum(f.paid[payer] for f in mine) for payer in PAYERS}, uscc


MACHINE_SETTINGS = settings(max_examples=60, stateful_step_count=60, deadline=None,
                            suppress_health_check=[HealthCheck.too_slow])


def test_random_histories_keep_the_policy_rules() -> None:
    run_state_machine_as_test(GrantsLedgerMachine, settings=MACHINE_SETTINGS)
