"""The grants ledger as a state machine, checked against a shadow ledger kept by the test.

Hypothesis runs random histories of applications, approvals, rejections, payments and
awards under other city policies against an in-memory ledger with one adopted policy
version and three enterprises in three county-level areas. Every rule also updates a
shadow ledger written here from the words of the policy, not from ``ledger.domain.rules``:

- 一次性奖励: a one-time award is given once per enterprise (clause 3's platform, clause 7's
  数字商务企业) or per project (clause 7's 示范基地: a base; clause 3's security award, clause
  10's racks); a higher tier of clause 7 on the same base is not a second award but a top-up
  (就高补差).
- 每年发布10个重点创新任务, 每个奖励50万元 (clause 16): each task of a year is awarded
  once, and at most 10 distinct tasks a year.
- 同一企业、同一项目 ... 按照就高不重复的原则予以办理: on one enterprise's project, a
  new award is due only when it is higher than every earlier one (this policy's or
  another policy's), and then only the difference over what was already awarded. Clause
  16 pays per task (每个奖励50万元): two tasks filed under one project name are two units.
- 市级财政和各级地方财政各50%: the county half is rounded down, the city takes the odd
  fen (the documented split rule).

An approval is checked in the order one-time, then the yearly quota, then 就高不重复
(the order decides which refusal an officer is shown, so it is observable). The
shadow predicts each approval exactly: the awarded amount and both shares, or the
refusal code; and each payment: recorded, or refused as an over-payment. The
invariants, checked after every step, compare the shadow with ``show()`` for every
filing number and with the recorded events, and check the policy's rules as of every
day the machine has touched, not only today (tests/day_invariants.py: at most one
one-time award in force per unit, a project's awards in force never above its highest
single entitlement, at most 10 tasks a year, paid net at most the share per payer,
recovered at most paid). Each application is sent twice (the second answered "already
recorded"), and at the end of each history the audit's replay of the log (what ``grants
audit verify`` checks besides the chain and the read models) finds nothing but overlaps
with awards under other policies.

Two more machines run the same rules: one under a policy adopted from an edition FILE
(``policy edition new`` -> ``policy adopt --edition FILE``, issue 18's case 5), and one
that also keys records with dates out of order (a revocation dated later than the
approvals keyed after it; an approval dated back before revocations on file), where
the shadow, which reads the policy in date order, no longer predicts each approval: an
approval is then accepted, or refused with a rule's code naming the award it conflicts
with, and the rules must hold on every day.

A history starts with some of 2023's tasks awarded and some applications decided or
waiting, and its commands lean towards one enterprise and towards clauses 7 and 16, so
that the rules meet within a few dozen steps. Strategies only produce commands the
ledger must accept or must refuse for a reason the shadow predicts; nothing is caught
and ignored.
"""

from __future__ import annotations

import re
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from ledger.domain import validation
from ledger.domain.aggregates import enterprise_id, task_quota_id
from ledger.domain.uscc import make_uscc
from ledger.errors import Refused
from ledger.intake.commands import parse_command
from tests.conftest import memory_ledger
from tests.day_invariants import broken_on_every_day, seen_from_events
from tests.helpers import edition_copy

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
BASE_PROJECT = "电商示范基地"
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

ONE_TIME_PER_ENTERPRISE = {PLATFORM, DIGITAL_COMMERCE}
ONE_TIME_PER_PROJECT = {SECURITY, EDGE, BASE}  # clause 7's 示范基地: once per base (issue 18)
TIERED = {BASE}

# Histories where the rules meet: most commands go to the first enterprise, and the measures whose
# rules have an exception or an order to them (clause 7's tiers, clause 16's quota) come up most.
ENTERPRISE = st.just(USCCS[0]) | st.sampled_from(USCCS)
PROJECT = st.sampled_from(PROJECTS)
MEASURE = st.sampled_from((BASE, TASK)) | st.sampled_from(MEASURES)

# Amounts that collide with the policy's own (equal awards are the edge of 就高不重复), and any other.
AMOUNTS = st.one_of(
    st.sampled_from([10 * WAN, 30 * WAN, 50 * WAN, 200 * WAN, 20 * WAN, 1]),
    st.integers(1, 300 * WAN),
)
# Awards under other policies are mostly of the size of this policy's smaller ones.
OTHER_POLICY_AMOUNTS = st.one_of(st.sampled_from([10 * WAN, 20 * WAN, 30 * WAN, 50 * WAN]), st.integers(1, 60 * WAN))


@dataclass
class Filed:
    """The shadow of one application."""

    ref: str
    uscc: str
    measure: str
    project: str
    clause_fen: int | None  # what the clause gives for the facts; None when decided case by case
    facts: dict[str, Any] = field(default_factory=dict)  # as (last) filed
    task: str | None = None
    eligible: bool = True  # the facts as (last) filed meet the clause
    amended_on: str | None = None
    amendments: list[tuple[dict[str, Any], str]] = field(default_factory=list)  # (facts, day) recorded
    status: str = "submitted"
    entitlement: int = 0
    awarded: int = 0
    city: int = 0
    county: int = 0
    paid: dict[str, int] = field(default_factory=lambda: {"city": 0, "county": 0})  # net
    payments: list[tuple[str, str, int]] = field(default_factory=list)  # (payer, voucher, amount) not reversed
    filed_on: date = FIRST_DAY  # the day filed, or last amended: no decision is dated before it
    approved_on: date | None = None
    revoked_on: date | None = None
    moved_on: date | None = None  # the last payment or reversal: no revocation is dated before it

    def unit(self) -> tuple[str, str, str | None]:
        """What one award is for under 就高不重复: the enterprise's project, and for clause 16 its task."""
        return self.uscc, self.project, self.task

    def in_force_on(self, day: date) -> bool:
        return (self.approved_on is not None and self.approved_on <= day
                and (self.revoked_on is None or day < self.revoked_on))

    def share(self, payer: str) -> int:
        """What the payer owes while the award is in force."""
        if self.status != "approved":
            return 0
        return self.city if payer == "city" else self.county


@dataclass(frozen=True)
class Award:
    entitlement: int
    awarded: int
    city: int
    county: int


@dataclass(frozen=True)
class Application:
    """What an applicant files, and what the clause gives for it (None: decided case by case)."""

    uscc: str
    measure: str
    project: str
    facts: dict[str, Any]
    clause_fen: int | None
    task: str | None = None
    eligible: bool = True


@st.composite
def applications(draw: st.DrawFn) -> Application:
    """An application within the window, eligible under its clause; projects are few, so they collide."""
    uscc = draw(ENTERPRISE)
    measure = draw(MEASURE)
    project = draw(PROJECT)
    if measure == PLATFORM:
        return Application(uscc, measure, project, {"route": "dual-cross"}, 200 * WAN)
    if measure == SECURITY:
        # Contracts of at least 0.10 yuan, so 10% is at least one fen; around 100万 the 10万 cap bites.
        contract = draw(st.one_of(st.integers(10, 200 * WAN), st.integers(100 * WAN - 20, 100 * WAN + 20)))
        facts = {"city_enterprises": 11, "annual_revenue_yuan": "600万", "contract_yuan": yuan_text(contract)}
        return Application(uscc, measure, project, facts, min(contract // 10, SECURITY_CAP))
    if measure == BASE:
        tier = draw(st.sampled_from(("provincial", "national")))
        # An enterprise's base is usually one project, recognised at one tier and later perhaps the other.
        project = draw(st.just(BASE_PROJECT) | PROJECT)
        return Application(uscc, measure, project, {"tier": tier}, BASE_TIERS[tier])
    if measure == DIGITAL_COMMERCE:
        return Application(uscc, measure, project, {}, 30 * WAN)
    if measure == EDGE:
        racks = draw(st.one_of(st.integers(1, 250), st.integers(165, 168)))
        return Application(uscc, measure, project, {"indirect_benefit_yuan": "300万", "racks": racks},
                           min(racks * RACK, EDGE_CAP))
    if measure == TASK:
        task = draw(st.sampled_from(TASKS))
        # A task may be a project of its own, or land on a project that has other awards.
        project = draw(st.just(f"揭榜-{task}") | PROJECT)
        return Application(uscc, measure, project, {"task_year": TASK_YEAR, "task": task}, TASK_AWARD, task)
    return Application(uscc, measure, project, {}, None)


@st.composite
def facts_that_miss_the_clause(draw: st.DrawFn) -> Application:
    """An application whose facts miss a threshold (served 10 city enterprises, not 超10家; a benefit
    under 300万 and at most 300,000 people served): recorded all the same, never approved as filed."""
    uscc, project = draw(ENTERPRISE), draw(PROJECT)
    if draw(st.booleans()):
        facts = {"city_enterprises": 10, "annual_revenue_yuan": "600万", "contract_yuan": "50万"}
        return Application(uscc, SECURITY, project, facts, None, eligible=False)
    racks = draw(st.integers(1, 250))
    facts = {"indirect_benefit_yuan": "299万", "people_served": 300000, "racks": racks}
    return Application(uscc, EDGE, project, facts, None, eligible=False)


def amended_facts(measure: str, draw: st.DrawFn) -> tuple[dict[str, Any], int]:
    """补正: a whole new set of facts that meets the clause, and what the clause gives for it."""
    if measure == SECURITY:
        contract = draw(st.integers(10, 200 * WAN))
        facts = {"city_enterprises": 12, "annual_revenue_yuan": "600万", "contract_yuan": yuan_text(contract)}
        return facts, min(contract // 10, SECURITY_CAP)
    racks = draw(st.integers(1, 250))
    return {"indirect_benefit_yuan": "300万", "racks": racks}, min(racks * RACK, EDGE_CAP)


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
        # (uscc, project) -> [(amount, date)] of the awards under other policies, in the order recorded.
        self.external: dict[tuple[str, str], list[tuple[int, date]]] = defaultdict(list)
        self.days: set[date] = set()  # every day a record was dated, accepted or refused
        self.disordered = False  # a record was keyed with a date out of order: approvals are no longer predicted
        self._days_checked: Any = None
        self.tasks_awarded: dict[int, set[str]] = defaultdict(set)
        self._shown: dict[str, tuple[Any, dict[str, dict[str, Any]]]] = {}
        self._recorded: dict[str, tuple[int, list[Any]]] = {}
        self.adopt()
        for n, (uscc, area) in enumerate(ENTERPRISES.items()):
            self.run(op="register", uscc=uscc, name=f"十堰数字企业{n + 1}", area=area)

    # --- plumbing ---------------------------------------------------------------

    def adopt(self) -> None:
        self.run(op="adopt-policy", effective=EFFECTIVE.isoformat())

    def run(self, **line: Any) -> dict[str, Any]:
        if "date" in line:
            self.days.add(date.fromisoformat(line["date"]))
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

    def on_unit(self, filed: Filed) -> list[tuple[int, int]]:
        """(entitlement, awarded) of every award in force on the application's unit (its project; for
        clause 16, the task on it): this policy's (a revoked one counts as never made), and other
        policies' on the project."""
        ours = [(f.entitlement, f.awarded) for f in self.filed.values()
                if f.status == "approved" and f.ref != filed.ref and f.unit() == filed.unit()]
        return ours + [(amount, amount) for amount, _day in self.external[(filed.uscc, filed.project)]]

    def overlapping(self, uscc: str, project: str) -> bool:
        """Has the project, on some day, held more than its highest single award once awards under other
        policies are counted beside this policy's awards in force on one of its units?"""
        externals = self.external[(uscc, project)]
        units: dict[Any, list[Filed]] = defaultdict(list)
        for f in self.filed.values():
            if f.approved_on is not None and (f.uscc, f.project) == (uscc, project):
                units[f.unit()].append(f)
        for awards in units.values():
            for day in sorted({*(f.approved_on for f in awards if f.approved_on), *(d for _, d in externals)}):
                in_force = [f for f in awards if f.in_force_on(day)]
                if not in_force:
                    continue
                other = [amount for amount, d in externals if d <= day]
                if sum(f.awarded for f in in_force) + sum(other) > max([*(f.entitlement for f in in_force), *other]):
                    return True
        return False

    def provincial_bases(self) -> list[str]:
        provincial = BASE_TIERS["provincial"]
        return [ref for ref, filed in self.filed.items()
                if filed.status == "approved" and filed.measure == BASE and filed.clause_fen == provincial]

    # --- the shadow's reading of the policy -------------------------------------------

    def predict_approval(self, filed: Filed, entitlement: int) -> Award | str:
        """The award the policy gives, or the refusal code; eligibility, one-time, quota, then 就高不重复."""
        if not filed.eligible:
            return "not-eligible"
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
        earlier = self.on_unit(filed)
        already = sum(awarded for _, awarded in earlier)
        if earlier and (entitlement <= max(e for e, _ in earlier) or entitlement - already <= 0):
            return "duplicate-award"
        awarded = entitlement - already
        return Award(entitlement, awarded, *halves(awarded))

    # --- commands, each with the shadow's update ------------------------------------------

    def file(self, a: Application, days: int) -> Filed:
        ref = f"A-{self.next_serial()}"
        line = {"op": "apply", "ref": ref, "uscc": a.uscc, "measure": a.measure, "project": a.project,
                "date": self.advance(days), "facts": a.facts}
        result = self.run(**line)
        assert (result["status"], result["entitlement_fen"], result["eligible"]) == (
            "submitted", a.clause_fen, a.eligible), result
        assert ("warning" in result) == (not a.eligible), result
        again = self.run(**line)  # the identical application sent again is answered, not refused
        assert again.get("already_recorded") is True, again
        self.filed[ref] = Filed(ref, a.uscc, a.measure, a.project, a.clause_fen, a.facts, a.task, a.eligible,
                                filed_on=self.today)
        return self.filed[ref]

    def approve_filed(self, filed: Filed, data: st.DataObject, days: int, day: date | None = None) -> None:
        """Put an application to approval (dated ``day`` when given, else ``days`` on); a case-by-case one
        comes with its amount and basis."""
        line: dict[str, Any] = {"op": "approve", "ref": filed.ref,
                                "date": day.isoformat() if day else self.advance(days)}
        if filed.clause_fen is None:  # 一事一议: the amount and basis come with the decision
            entitlement = data.draw(AMOUNTS, label="case-by-case amount_fen")
            line.update(amount_fen=entitlement, basis=f"市政府专题会议纪要〔2023〕{self.next_serial()}号")
        elif filed.measure == SECURITY and data.draw(st.booleans(), label="review sets a lower amount"):
            entitlement = data.draw(st.integers(1, filed.clause_fen), label="reviewed amount_fen")
            line.update(amount_fen=entitlement, basis=f"评审会纪要{self.next_serial()}")
        else:
            entitlement = filed.clause_fen
        self.decide(filed, entitlement, line)

    def decide(self, filed: Filed, entitlement: int, line: dict[str, Any]) -> None:
        """Approve, and check the outcome is exactly the one the shadow predicts."""
        if self.disordered:
            self.decide_out_of_order(filed, entitlement, line)
            return
        expected = self.predict_approval(filed, entitlement)
        if isinstance(expected, str):
            event(f"approve {filed.measure}: {expected}")
            assert self.refusal(**line) == expected, (filed, entitlement)
            return
        tier_upgrade = filed.measure in TIERED and any(
            f.status == "approved" and (f.uscc, f.measure) == (filed.uscc, filed.measure) for f in self.filed.values())
        outcome = "top-up" if expected.awarded < entitlement else "ok"
        event(f"approve {filed.measure}: {'tier ' * tier_upgrade}{outcome}")
        result = self.run(**line)
        got = Award(result["entitlement_fen"], result["awarded_fen"], result["city_share_fen"],
                    result["county_share_fen"])
        assert got == expected, (filed, got, expected)
        again = self.run(**line)  # the same approval sent again is answered, not decided twice
        assert again["already_recorded"] is True and again["awarded_fen"] == expected.awarded, again
        filed.status, filed.approved_on = "approved", date.fromisoformat(line["date"])
        filed.entitlement, filed.awarded, filed.city, filed.county = (expected.entitlement, expected.awarded,
                                                                      expected.city, expected.county)
        if filed.task is not None:
            self.tasks_awarded[TASK_YEAR].add(filed.task)

    def decide_out_of_order(self, filed: Filed, entitlement: int, line: dict[str, Any]) -> None:
        """Once records were keyed out of date order, the shadow (which reads the policy in date order) no
        longer predicts an approval: it is accepted, or refused with a rule's code naming the award it conflicts
        with (its filing number; for clause 16's quota, the tasks in force); the day invariants judge the rest."""
        if not filed.eligible:
            assert self.refusal(**line) == "not-eligible"
            return
        try:
            result = self.run(**line)
        except Refused as refused:
            assert refused.code in ("already-awarded", "quota-exhausted", "duplicate-award"), refused.as_dict()
            others = [ref for ref in self.filed if ref != filed.ref]
            named = any(re.search(rf"(?<![\w-]){re.escape(ref)}(?![\w-])", refused.message) for ref in others)
            if refused.code == "quota-exhausted":
                named = named or any(re.search(rf"\b{t}\b", refused.message) for t in TASKS)
            if refused.code == "duplicate-award":  # 就高不重复 may be held by an award under another policy
                named = named or (bool(self.external[(filed.uscc, filed.project)])
                                  and re.search(r"十堰市其他支持政策\d+", refused.message) is not None)
            assert named, refused.message
            event(f"out of order: approve refused {refused.code}")
            return
        event("out of order: approve accepted")
        assert result["entitlement_fen"] == entitlement, result
        assert (result["city_share_fen"], result["county_share_fen"]) == halves(result["awarded_fen"]), result
        assert 0 < result["awarded_fen"] <= entitlement, result
        assert self.run(**line)["already_recorded"] is True
        filed.status, filed.approved_on = "approved", date.fromisoformat(line["date"])
        filed.entitlement, filed.awarded = entitlement, result["awarded_fen"]
        filed.city, filed.county = result["city_share_fen"], result["county_share_fen"]
        if filed.task is not None:
            self.tasks_awarded[TASK_YEAR].add(filed.task)

    # --- rules --------------------------------------------------------------------------

    @initialize(takers=st.lists(ENTERPRISE, max_size=TASKS_A_YEAR)
                | st.lists(ENTERPRISE, min_size=TASKS_A_YEAR - 1, max_size=TASKS_A_YEAR),
                waiting=st.lists(ENTERPRISE, max_size=2))
    def tasks_awarded_before_the_history_starts(self, takers: list[str], waiting: list[str]) -> None:
        """Some of 2023's tasks are already awarded and the next ones wait for a decision,
        so clause 16's yearly quota is within reach."""
        for n, uscc in enumerate(takers + waiting):
            task = TASKS[n]
            filed = self.file(Application(uscc, TASK, f"揭榜-{task}", {"task_year": TASK_YEAR, "task": task},
                                          TASK_AWARD, task), 0)
            if n < len(takers):
                self.decide(filed, TASK_AWARD, {"op": "approve", "ref": filed.ref, "date": self.advance(0)})

    @initialize(data=st.data(), decided=st.lists(applications(), max_size=4),
                waiting=st.lists(applications(), max_size=4))
    def applications_on_file_when_the_history_starts(self, data: st.DataObject, decided: list[Application],
                                                     waiting: list[Application]) -> None:
        """Some applications were put to a decision before the history starts, some wait for one."""
        for application in decided:
            self.approve_filed(self.file(application, 0), data, 0)
        for application in waiting:
            self.file(application, 0)

    @rule(application=applications(), days=st.integers(0, 10))
    def apply(self, application: Application, days: int) -> None:
        self.file(application, days)

    @rule(application=facts_that_miss_the_clause(), days=st.integers(0, 10))
    def apply_with_facts_that_miss_the_clause(self, application: Application, days: int) -> None:
        """Recorded all the same (the office decides on every application), flagged at once."""
        self.file(application, days)

    @precondition(lambda self: self.amendable())
    @rule(data=st.data(), days=st.integers(0, 10))
    def amend(self, data: st.DataObject, days: int) -> None:
        """补正: the whole set of facts is replaced, re-assessed, and the application waits on."""
        filed = self.filed[data.draw(st.sampled_from(self.amendable()), label="ref")]
        facts, clause_fen = amended_facts(filed.measure, data.draw)
        line = {"op": "amend", "ref": filed.ref, "facts": facts, "date": self.advance(days), "reason": "补正材料"}
        if (facts, line["date"]) in filed.amendments:  # the same amendment (facts, day, reason) sent again
            event("amend: an earlier amendment sent again")
            assert self.run(**line)["already_recorded"] is True
            return
        if facts == filed.facts:
            if filed.amended_on is None:
                event("amend: no change to the facts filed")
                assert self.refusal(**line) == "invalid-input"  # an amendment must change something
            elif line["date"] == filed.amended_on:
                event("amend: sent again")
                assert self.run(**line)["already_recorded"] is True
            else:
                event("amend: the same facts on another day")
                assert self.refusal(**line) == "conflicting-retry"
            return
        result = self.run(**line)
        assert (result["status"], result["eligible"], result["entitlement_fen"]) == ("submitted", True, clause_fen)
        filed.clause_fen, filed.facts, filed.eligible, filed.amended_on = clause_fen, facts, True, line["date"]
        filed.filed_on = self.today
        filed.amendments.append((facts, line["date"]))

    def amendable(self) -> list[str]:
        return [ref for ref in self.with_status("submitted") if self.filed[ref].measure in (SECURITY, EDGE)]

    @precondition(lambda self: self.with_status("submitted"))
    @rule(data=st.data(), days=st.integers(0, 10))
    def withdraw(self, data: st.DataObject, days: int) -> None:
        ref = data.draw(st.sampled_from(self.with_status("submitted")), label="ref")
        assert self.run(op="withdraw", ref=ref, date=self.advance(days), reason="企业申请撤回")["status"] == "withdrawn"
        self.filed[ref].status = "withdrawn"

    @precondition(lambda self: self.with_status("approved"))
    @rule(data=st.data(), days=st.integers(0, 10))
    def revoke(self, data: st.DataObject, days: int) -> None:
        """撤销: from now on the award is owed no more and counts as never made for every rule."""
        approved = self.with_status("approved")
        paid = [ref for ref in approved if self.filed[ref].payments] or approved  # mostly one with money to recover
        filed = self.filed[data.draw(st.sampled_from(paid) | st.sampled_from(approved), label="ref")]
        event("revoke: " + ("paid" if any(filed.paid.values()) else "unpaid"))
        self.revoke_on(filed, self.advance(days))

    def revoke_on(self, filed: Filed, day: str) -> None:
        result = self.run(op="revoke", ref=filed.ref, date=day, reason="核查不实", document="撤销文件")
        assert (result["status"], result["awarded_fen"], result["city_paid_fen"], result["county_paid_fen"]) == (
            "revoked", filed.awarded, filed.paid["city"], filed.paid["county"]), result
        filed.status, filed.revoked_on = "revoked", date.fromisoformat(day)
        if filed.task is not None:
            self.tasks_awarded[TASK_YEAR].discard(filed.task)

    def with_payments(self) -> list[str]:
        return [ref for ref, filed in self.filed.items() if filed.payments]

    @precondition(lambda self: self.with_payments())
    @rule(data=st.data(), days=st.integers(0, 10))
    def reverse_payment(self, data: st.DataObject, days: int) -> None:
        """红字冲销: a payment no longer counts; refused when what was recovered would exceed what is left paid."""
        filed = self.filed[data.draw(st.sampled_from(self.with_payments()), label="ref")]
        payer, voucher, amount = data.draw(st.sampled_from(filed.payments), label="payment")
        line = {"op": "reverse-payment", "ref": filed.ref, "payer": payer, "voucher": voucher,
                "date": self.advance(days), "reason": "录入错误"}
        if filed.paid[payer] - amount < 0:
            event("reverse-payment: over-recovery")
            assert self.refusal(**line) == "over-recovery"
            return
        event("reverse-payment: ok")
        assert self.run(**line)["paid_fen"] == filed.paid[payer] - amount
        filed.paid[payer] -= amount
        filed.payments.remove((payer, voucher, amount))
        filed.moved_on = self.today
        assert self.run(**line)["already_recorded"] is True  # sent again: answered, not reversed twice
        assert self.refusal(**{**line, "reason": "再次冲销"}) == "conflicting-retry"  # a payment is reversed once

    @precondition(lambda self: self.with_status("revoked"))
    @rule(data=st.data(), payer=st.sampled_from(PAYERS), days=st.integers(0, 10))
    def recover(self, data: st.DataObject, payer: str, days: int) -> None:
        """追回: at most what the payer has paid net on the revoked award."""
        revoked = self.with_status("revoked")
        with_money = [ref for ref in revoked if self.filed[ref].paid[payer]] or revoked
        filed = self.filed[data.draw(st.sampled_from(with_money) | st.sampled_from(revoked), label="ref")]
        paid = filed.paid[payer]
        amount = data.draw(st.one_of(st.just(max(paid, 1)), st.integers(1, paid + 3)), label="amount_fen")
        day = max(self.advance(days), filed.revoked_on.isoformat() if filed.revoked_on else "")  # not before it
        line = {"op": "recover", "ref": filed.ref, "payer": payer, "amount_fen": amount,
                "voucher": f"R-{self.next_serial()}", "date": day}
        if amount > paid:
            event("recover: over-recovery")
            assert self.refusal(**line) == "over-recovery"
            return
        event("recover: ok")
        assert self.run(**line)["paid_fen"] == paid - amount
        filed.paid[payer] -= amount

    @precondition(lambda self: [r for r, f in self.filed.items() if f.status in ("rejected", "withdrawn", "revoked")])
    @rule(data=st.data(), payer=st.sampled_from(PAYERS), days=st.integers(0, 10))
    def pay_on_an_application_not_in_force(self, data: st.DataObject, payer: str, days: int) -> None:
        ended = [r for r, f in self.filed.items() if f.status in ("rejected", "withdrawn", "revoked")]
        ref = data.draw(st.sampled_from(ended), label="ref")
        line = {"op": "pay", "ref": ref, "payer": payer, "amount_fen": 1, "voucher": f"V-{self.next_serial()}",
                "date": self.advance(days)}
        assert self.refusal(**line) == "wrong-state"

    @precondition(lambda self: self.provincial_bases())
    @rule(data=st.data(), elsewhere=st.booleans(), days=st.integers(0, 10))
    def apply_for_a_base_upgraded_to_national(self, data: st.DataObject, elsewhere: bool, days: int) -> None:
        """省级升级为国家级: an enterprise with a provincial base award applies at the national tier,
        for the same base (topped up) or for another project (a second one-time award: refused)."""
        base = self.filed[data.draw(st.sampled_from(self.provincial_bases()), label="provincial base")]
        project = data.draw(PROJECT, label="other project") if elsewhere else base.project
        self.file(Application(base.uscc, BASE, project, {"tier": "national"}, BASE_TIERS["national"]), days)

    @precondition(lambda self: self.with_status("submitted"))
    @rule(data=st.data(), days=st.integers(0, 10))
    def approve(self, data: st.DataObject, days: int) -> None:
        waiting = self.with_status("submitted")
        # Mostly one of the latest filed: a refused application stays on file, and would crowd the rest out.
        ref = data.draw(st.sampled_from(waiting[-2:]) | st.sampled_from(waiting), label="ref")
        self.approve_filed(self.filed[ref], data, days)

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
        filed.payments.append((payer, line["voucher"], amount))
        filed.moved_on = self.today

    @rule(uscc=ENTERPRISE, project=PROJECT, amount=OTHER_POLICY_AMOUNTS, days=st.integers(0, 10))
    def external_award(self, uscc: str, project: str, amount: int, days: int) -> None:
        result = self.run(op="external-award", uscc=uscc, project=project, policy=f"十堰市其他支持政策{self.next_serial()}",
                          amount_fen=amount, date=self.advance(days))
        self.external[(uscc, project)].append((amount, self.today))
        # Recorded as a fact, never refused. It is flagged for review when this policy has awarded the
        # project something and the project has held, on some day, more than its highest single award;
        # between other policies alone, reconciling is their offices' business.
        if not self.disordered:
            assert ("warning" in result) == self.overlapping(uscc, project), (self.external[(uscc, project)], result)

    # --- what the ledger reports ------------------------------------------------------------

    def stream_version(self, uscc: str) -> int:
        last = self.app.recorder.select_events(enterprise_id(uscc), desc=True, limit=1)
        return last[0].originator_version if last else 0

    def recorded(self, uscc: str) -> list[Any]:
        """The events of one enterprise's stream, in the order they were recorded."""
        version = self.stream_version(uscc)
        if uscc not in self._recorded or self._recorded[uscc][0] != version:
            self._recorded[uscc] = (version, list(self.app.events.get(enterprise_id(uscc))))
        return self._recorded[uscc][1]

    def shown(self) -> dict[str, dict[str, Any]]:
        """``show()`` of every filing number.

        What ``show()`` reports for an application comes from its enterprise's stream, so it is
        read again for every application of an enterprise whose stream has a new event (a
        refused command writes none); this keeps a step's cost to one enterprise.
        """
        views: dict[str, dict[str, Any]] = {}
        for uscc in USCCS:
            key = (self.stream_version(uscc), tuple(ref for ref, f in self.filed.items() if f.uscc == uscc))
            if uscc not in self._shown or self._shown[uscc][0] != key:
                self._shown[uscc] = (key, {ref: self.app.show(ref) for ref in key[1]})
            views.update(self._shown[uscc][1])
        return views

    @invariant()
    def every_application_reads_as_the_shadow_says(self) -> None:
        views = self.shown()
        for ref, filed in self.filed.items():
            shown = views[ref]
            in_force = filed.status == "approved"
            assert (shown["status"], shown["uscc"], shown["measure"], shown["project"]) == \
                (filed.status, filed.uscc, filed.measure, filed.project), ref
            assert (shown["awarded_fen"], shown["city_share_fen"], shown["county_share_fen"]) == \
                ((filed.awarded, filed.city, filed.county) if in_force else (0, 0, 0)), ref
            assert (shown["city_paid_fen"], shown["county_paid_fen"]) == (filed.paid["city"], filed.paid["county"]), ref
            back = (filed.paid["city"], filed.paid["county"]) if filed.status == "revoked" else (0, 0)
            assert (shown["city_to_recover_fen"], shown["county_to_recover_fen"]) == back, ref
            if filed.status in ("approved", "revoked"):
                assert shown["entitlement_fen"] == filed.entitlement, ref
            if filed.status == "submitted":
                assert shown["eligible"] == filed.eligible, ref

    @invariant()
    def the_two_halves_make_the_award_and_the_city_takes_the_odd_fen(self) -> None:
        for shown in self.shown().values():
            if shown["status"] != "approved":
                continue
            city, county = shown["city_share_fen"], shown["county_share_fen"]
            assert city + county == shown["awarded_fen"], shown
            assert city >= county >= city - 1, shown

    @invariant()
    def no_payer_pays_more_than_its_share_and_nothing_comes_back_that_was_not_paid(self) -> None:
        for shown in self.shown().values():
            assert shown["city_paid_fen"] >= 0 and shown["county_paid_fen"] >= 0, shown
            if shown["status"] == "approved":
                assert shown["city_paid_fen"] <= shown["city_share_fen"], shown
                assert shown["county_paid_fen"] <= shown["county_share_fen"], shown
        for uscc in USCCS:
            shares: dict[tuple[str, str], int] = {}
            paid: dict[tuple[str, str], int] = defaultdict(int)
            for e in self.recorded(uscc):
                kind = type(e).__name__
                if kind == "ApplicationApproved":
                    shares[(e.ref, "city")], shares[(e.ref, "county")] = e.city_share_fen, e.county_share_fen
                elif kind == "PaymentRecorded":
                    paid[(e.ref, e.payer)] += e.amount_fen
                elif kind in ("PaymentReversed", "RecoveryRecorded"):
                    paid[(e.ref, e.payer)] -= e.amount_fen
                else:
                    continue
                for key, net in paid.items():
                    assert 0 <= net <= shares[key], (uscc, key, net)

    @invariant()
    def a_project_never_collects_more_than_its_highest_single_award(self) -> None:
        """就高不重复, as the events show it at each approval on a unit (a project; for clause 16, a task on it),
        awards under other policies on the project counted; a revoked award is gone. (In the order keyed: once
        records are keyed out of date order, the day invariant judges it.)"""
        if self.disordered:
            return
        for uscc in USCCS:
            unit_of: dict[str, tuple[str, Any]] = {}
            in_force: dict[tuple[str, Any], dict[str, tuple[int, int]]] = defaultdict(dict)  # unit -> ref -> award
            others: dict[str, list[int]] = defaultdict(list)  # project -> awards under other policies
            for e in self.recorded(uscc):
                kind = type(e).__name__
                if kind == "ApplicationSubmitted":
                    unit_of[e.ref] = (e.project, e.facts.get("task") if e.measure == TASK else None)
                elif kind == "ExternalAwardRecorded":
                    others[e.project].append(e.amount_fen)
                elif kind == "AwardRevoked":
                    del in_force[unit_of[e.ref]][e.ref]
                elif kind == "ApplicationApproved":
                    unit = unit_of[e.ref]
                    in_force[unit][e.ref] = (e.entitlement_fen, e.awarded_fen)
                    awards = [*in_force[unit].values(), *((a, a) for a in others[unit[0]])]
                    assert sum(a for _, a in awards) <= max(ent for ent, _ in awards), (uscc, unit, e.ref)

    @invariant()
    def a_one_time_award_is_given_once_except_a_higher_tier_on_the_same_project(self) -> None:
        for uscc in USCCS:
            filing: dict[str, tuple[str, str]] = {}
            approvals: dict[str, dict[str, tuple[str, int]]] = defaultdict(dict)  # measure -> ref -> award in force
            for e in self.recorded(uscc):
                kind = type(e).__name__
                if kind == "ApplicationSubmitted":
                    filing[e.ref] = (e.measure, e.project)
                elif kind == "AwardRevoked":
                    del approvals[filing[e.ref][0]][e.ref]
                elif kind == "ApplicationApproved":
                    measure, project = filing[e.ref]
                    approvals[measure][e.ref] = (project, e.entitlement_fen)
                    given = list(approvals[measure].values())
                    if measure in TIERED:  # once per base: a higher tier on the same base tops it up
                        tiers = [entitlement for p, entitlement in given if p == project]
                        assert len(tiers) == len(set(tiers)), (uscc, measure, given)
                        if not self.disordered:  # keyed in date order, each later one is strictly higher
                            assert tiers == sorted(tiers), (uscc, measure, given)
                    elif measure in ONE_TIME_PER_ENTERPRISE:
                        assert len(given) <= 1, (uscc, measure, given)
                    elif measure in ONE_TIME_PER_PROJECT:
                        projects = [p for p, _ in given]
                        assert len(projects) == len(set(projects)), (uscc, measure, projects)

    @invariant()
    def each_task_is_awarded_once_and_at_most_ten_a_year(self) -> None:
        awarded: dict[int, dict[str, str]] = defaultdict(dict)  # year -> ref -> task, in force
        for uscc in USCCS:
            facts_of: dict[str, dict[str, Any]] = {}
            for e in self.recorded(uscc):
                kind = type(e).__name__
                if kind == "ApplicationSubmitted" and e.measure == TASK:
                    facts_of[e.ref] = e.facts
                elif kind == "ApplicationApproved" and e.ref in facts_of:
                    awarded[facts_of[e.ref]["task_year"]][e.ref] = facts_of[e.ref]["task"]
                elif kind == "AwardRevoked" and e.ref in facts_of:
                    del awarded[facts_of[e.ref]["task_year"]][e.ref]
        for year, by_ref in awarded.items():
            tasks = list(by_ref.values())
            assert len(tasks) == len(set(tasks)) <= TASKS_A_YEAR, (year, tasks)
        try:
            counted = sorted(self.app.repository.get(task_quota_id(TASK, TASK_YEAR)).awarded)
        except AggregateNotFoundError:
            counted = []
        assert counted == sorted(awarded[TASK_YEAR].values()), "the quota counts what is awarded and in force"
        assert set(awarded[TASK_YEAR].values()) == self.tasks_awarded[TASK_YEAR]

    @invariant()
    def each_enterprise_totals_agree_with_the_shadow(self) -> None:
        for uscc in USCCS:
            awarded = 0
            paid = {"city": 0, "county": 0}
            for e in self.recorded(uscc):
                kind = type(e).__name__
                if kind == "ApplicationApproved":
                    awarded += e.awarded_fen
                elif kind == "AwardRevoked":
                    awarded -= e.awarded_fen
                elif kind == "PaymentRecorded":
                    paid[e.payer] += e.amount_fen
                elif kind in ("PaymentReversed", "RecoveryRecorded"):
                    paid[e.payer] -= e.amount_fen
            mine = [f for f in self.filed.values() if f.uscc == uscc]
            assert awarded == sum(f.awarded for f in mine if f.status == "approved"), uscc
            assert paid == {payer: sum(f.paid[payer] for f in mine) for payer in PAYERS}, uscc


    @invariant()
    def the_rules_hold_on_every_day_touched(self) -> None:
        """As of every day the machine has dated a record (not only today): at most one one-time award in force
        per unit, a project's awards in force never above its highest single entitlement, at most 10 tasks of a
        year, paid net at most the share per payer, recovered at most paid (tests/day_invariants.py)."""
        key = (tuple(self.stream_version(uscc) for uscc in USCCS), len(self.days))
        if key == self._days_checked:
            return
        events = [e for uscc in USCCS for e in self.recorded(uscc)]
        broken = broken_on_every_day(seen_from_events(events, self.days))
        assert not broken, broken[:5]
        self._days_checked = key

    def teardown(self) -> None:
        """At the end of each history, the audit's replay of the whole log (``grants audit verify``'s checks,
        without the chain and the read models, which a memory store has not) finds nothing but overlaps with
        awards under other policies."""
        events = [(n.id, self.app.mapper.to_domain_event(n))
                  for n in self.app.recorder.select_notifications(start=1, limit=1_000_000)]
        _history, found = validation.replay(events)
        unexplained = [f.as_dict() for f in found
                       if not (f.code == "duplicate-award" and f.ref is None and "across policies" in f.message)]
        assert not unexplained, unexplained
        self.app.close()


class UnderAnAdoptedEditionFile(GrantsLedgerMachine):
    """The same histories under a policy adopted from an edition FILE (`policy edition new` -> `policy edition
    check` -> `policy adopt --edition FILE`): the 2022 draft copied under an id of its own, unchanged, so the
    shadow's amounts hold; amendments, the retries of apply, approve and amend, and the audit's replay look the
    catalogue up through the adoption (issue 18, case 5)."""

    def adopt(self) -> None:
        result = self.run(op="adopt-policy", effective=EFFECTIVE.isoformat(), edition=_edition_file())
        assert result["version"] == f"shiyan-copy@{EFFECTIVE.isoformat()}", result


@lru_cache(maxsize=1)
def _edition_file() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        return edition_copy(Path(folder))


class KeyedOutOfOrder(GrantsLedgerMachine):
    """The same histories, and records keyed with dates out of order, as offices key them late: a revocation
    decided for a later date keyed before the approvals dated before it (issue 18, case 1); an approval dated
    back before revocations on file; a revocation dated back before approvals keyed since (a top-up reckoned
    against it is then owed a re-decision). From the first such record the shadow no longer predicts approvals
    (``decide_out_of_order``); the rules must hold on every day."""

    @precondition(lambda self: self.with_status("approved"))
    @rule(data=st.data(), ahead=st.integers(1, 90))
    def revoke_dated_later(self, data: st.DataObject, ahead: int) -> None:
        filed = self.filed[data.draw(st.sampled_from(self.with_status("approved")), label="ref")]
        self.disordered = True
        event("out of order: revocation dated later")
        self.revoke_on(filed, min(self.today + timedelta(days=ahead), LAST_DAY).isoformat())

    @precondition(lambda self: self.with_status("approved"))
    @rule(data=st.data())
    def revoke_dated_back(self, data: st.DataObject) -> None:
        filed = self.filed[data.draw(st.sampled_from(self.with_status("approved")), label="ref")]
        assert filed.approved_on is not None
        earliest = max(filed.approved_on, filed.moved_on or filed.approved_on)
        if earliest > self.today:  # approved (or paid) for a later date: revoked no earlier
            day = earliest
        else:
            day = data.draw(st.dates(earliest, self.today), label="revocation dated back")
        self.disordered = True
        event("out of order: revocation dated back")
        self.revoke_on(filed, day.isoformat())

    @precondition(lambda self: self.with_status("submitted"))
    @rule(data=st.data())
    def approve_dated_back(self, data: st.DataObject) -> None:
        filed = self.filed[data.draw(st.sampled_from(self.with_status("submitted")), label="ref")]
        day = data.draw(st.dates(filed.filed_on, max(filed.filed_on, self.today)), label="approval dated back")
        self.disordered = True
        event("out of order: approval dated back")
        self.approve_filed(filed, data, 0, day)


MACHINE_SETTINGS = settings(max_examples=100, stateful_step_count=30, deadline=None,
                            suppress_health_check=[HealthCheck.too_slow])

TestRandomHistoriesKeepThePolicyRules = GrantsLedgerMachine.TestCase
TestRandomHistoriesKeepThePolicyRules.settings = MACHINE_SETTINGS

TestUnderAnAdoptedEditionFile = UnderAnAdoptedEditionFile.TestCase
TestUnderAnAdoptedEditionFile.settings = settings(MACHINE_SETTINGS, max_examples=30)

TestRecordsKeyedOutOfOrder = KeyedOutOfOrder.TestCase
TestRecordsKeyedOutOfOrder.settings = settings(MACHINE_SETTINGS, max_examples=60)
