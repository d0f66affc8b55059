"""What a measure item is, and how one is assessed.

A measure item is one thing the policy pays for (clause 7 has three: bases,
enterprises, digital-commerce enterprises). It is data (id, clause, kind,
quoted text, facts, amounts, default readings) plus one small pure rule function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ledger.errors import NOT_GRANTABLE, Refused
from ledger.policy.assess import Assessment
from ledger.policy.facts import Fact, normalize_facts, parse_date
from ledger.money import parse_yuan

NO_CASH = "no-cash"
FIXED = "fixed"
TIERED = "tiered"
PROPORTIONAL_CAP = "proportional-with-cap"
PER_UNIT_CAP = "per-unit-with-cap"
CASE_BY_CASE = "case-by-case"
ANNUAL_QUOTA = "annual-quota"

KINDS = (NO_CASH, FIXED, TIERED, PROPORTIONAL_CAP, PER_UNIT_CAP, CASE_BY_CASE, ANNUAL_QUOTA)

# How often one enterprise may be awarded under a measure item.
ONCE_PER_ENTERPRISE = "enterprise"
ONCE_PER_PROJECT = "project"


class Facts:
    """Typed, read-only access to a canonical fact set."""

    def __init__(self, canonical: Mapping[str, Any]) -> None:
        self._facts = dict(canonical)

    def has(self, name: str) -> bool:
        return name in self._facts

    def get(self, name: str) -> Any:
        return self._facts.get(name)

    def int(self, name: str) -> int | None:
        return self._facts.get(name)

    def decimal(self, name: str) -> Decimal | None:
        value = self._facts.get(name)
        return None if value is None else Decimal(value)

    def fen(self, name: str) -> int | None:
        value = self._facts.get(name)
        return None if value is None else parse_yuan(value)

    def date(self, name: str) -> date | None:
        value = self._facts.get(name)
        return None if value is None else parse_date(value)


Rule = Callable[[Assessment, Facts, date], None]


@dataclass(frozen=True)
class Quota:
    """A yearly limit on how many distinct items are awarded (clause 16: 10 tasks a year)."""

    year_fact: str
    item_fact: str
    limit: int


@dataclass(frozen=True)
class Example:
    """A worked example shown by `grants policy show` (the tests hold the full set)."""

    facts: Mapping[str, Any]
    outcome: str


@dataclass(frozen=True)
class Measure:
    id: str
    clause: int
    kind: str
    title_zh: str
    summary_en: str
    quote: str
    lead: str
    facts: tuple[Fact, ...] = ()
    rule: Rule | None = None
    once: str | None = None
    tiers: Mapping[str, int] = field(default_factory=dict)
    amount_zh: str = ""
    readings: tuple[tuple[str, str], ...] = ()  # (中文, English) default readings where the text is silent
    quota: Quota | None = None
    examples: tuple[Example, ...] = ()

    @property
    def grantable(self) -> bool:
        return self.kind != NO_CASH

    @property
    def case_by_case(self) -> bool:
        return self.kind == CASE_BY_CASE

    def normalize(self, raw_facts: Any) -> dict[str, Any]:
        """Check an application's facts and return their canonical form."""
        return normalize_facts(self.facts, raw_facts, self.id)

    def refuse_if_not_grantable(self) -> None:
        if not self.grantable:
            raise Refused(
                NOT_GRANTABLE,
                f"{self.id}: clause {self.clause} ({self.title_zh}) pays no cash award; "
                f"it is carried out by {self.lead}. {self.summary_en}",
                field="measure",
            )

    def evaluate(self, canonical_facts: Mapping[str, Any], applied_on: date, version: str) -> Assessment:
        """Run the rule on canonical facts: the entitlement and its trace, eligible or not.

        An application is recorded whatever its facts give; whether they meet the
        clause is shown (``assessment.refusal()``) and enforced when it is approved.
        """
        self.refuse_if_not_grantable()
        assert self.rule is not None, f"{self.id} is grantable but has no rule"
        assessment = Assessment(measure=self.id, clause=self.clause, version=version)
        assessment.steps.append({
            "step": "clause", "measure": self.id, "clause": self.clause, "version": version, "kind": self.kind,
            "en": f"policy version {version}, clause {self.clause}, measure {self.id}: {self.summary_en}",
            "zh": f"政策版本{version},第{self.clause}条,{self.title_zh}",
        })
        for zh, en in self.readings:
            assessment.steps.append({"step": "reading", "en": "default reading: " + en, "zh": "默认解释:" + zh})
        self.rule(assessment, Facts(canonical_facts), applied_on)
        if self.case_by_case:
            assessment.case_by_case = True
        elif assessment.entitlement_fen is None and not assessment.failures:  # pragma: no cover - a rule must set one
            raise AssertionError(f"rule of {self.id} set no amount")
        return assessment

    def assess(self, canonical_facts: Mapping[str, Any], applied_on: date, version: str) -> Assessment:
        """Run the rule on canonical facts: the entitlement and its trace, or a refusal (not-eligible)."""
        assessment = self.evaluate(canonical_facts, applied_on, version)
        refusal = assessment.refusal()
        if refusal is not None:
            raise refusal
        return assessment
