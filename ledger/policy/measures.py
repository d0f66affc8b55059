"""What a measure item is, and how one is assessed.

A measure item is one thing the policy pays for (clause 7 has three: bases,
enterprises, digital-commerce enterprises). It is data (id, clause, kind,
quoted text, facts, amounts, default readings) plus one small pure rule function.
"""

from __future__ import annotations

import builtins
import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ledger.domain.money import format_fen, parse_yuan
from ledger.errors import NOT_GRANTABLE, Refused
from ledger.i18n import _, language
from ledger.policy.assess import Assessment
from ledger.policy.edition import EditionMeasure, ParamKind, Params
from ledger.policy.facts import Fact, normalize_facts, parse_date


class MeasureKind(StrEnum):
    """How a measure item pays; the stored and printed value is the string."""

    NO_CASH = "no-cash"
    FIXED = "fixed"
    TIERED = "tiered"
    PROPORTIONAL_CAP = "proportional-with-cap"
    PER_UNIT_CAP = "per-unit-with-cap"
    CASE_BY_CASE = "case-by-case"
    ANNUAL_QUOTA = "annual-quota"


NO_CASH = MeasureKind.NO_CASH
FIXED = MeasureKind.FIXED
TIERED = MeasureKind.TIERED
PROPORTIONAL_CAP = MeasureKind.PROPORTIONAL_CAP
PER_UNIT_CAP = MeasureKind.PER_UNIT_CAP
CASE_BY_CASE = MeasureKind.CASE_BY_CASE
ANNUAL_QUOTA = MeasureKind.ANNUAL_QUOTA

KINDS = tuple(MeasureKind)

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

    def int(self, name: str) -> builtins.int | None:
        return self._facts.get(name)

    def decimal(self, name: str) -> Decimal | None:
        value = self._facts.get(name)
        return None if value is None else Decimal(value)

    def fen(self, name: str) -> builtins.int | None:
        value = self._facts.get(name)
        return None if value is None else parse_yuan(value)

    def date(self, name: str) -> datetime.date | None:
        value = self._facts.get(name)
        return None if value is None else parse_date(value)


Rule = Callable[[Assessment, Facts, date, Params], None]
"""A measure item's rule: the assessment to write, the facts, the application date, the edition's numbers."""

EXAMPLE_DATE = date(2023, 6, 1)


@dataclass(frozen=True)
class Quota:
    """A yearly limit on how many distinct items are awarded (clause 16: 10 tasks a year)."""

    year_fact: str
    item_fact: str
    limit: int


@dataclass(frozen=True)
class QuotaRule:
    """A yearly quota as the rule knows it: the facts it counts by; the limit is an edition parameter."""

    year_fact: str
    item_fact: str
    limit_param: str


@dataclass(frozen=True)
class Example:
    """A worked example shown by `grants policy show`: facts whose outcome is computed by the rule
    with the edition's numbers (the tests hold the full set)."""

    facts: Mapping[str, Any]
    on: date = EXAMPLE_DATE
    note: str = ""


@dataclass(frozen=True)
class Measure:
    id: str
    clause: int
    kind: MeasureKind
    title_zh: str
    summary_en: str
    quote: str
    lead: str
    facts: tuple[Fact, ...] = ()
    rule: Rule | None = None
    once: str | None = None
    amount_zh: str = ""
    readings: tuple[tuple[str, str], ...] = ()  # (中文, English) default readings where the text is silent
    quota: Quota | None = None
    examples: tuple[Example, ...] = ()
    params: Params = field(default_factory=Params)
    tier_params: tuple[str, ...] = ()

    @property
    def tiers(self) -> dict[str, int]:
        """Tier -> amount in fen, read from the edition (the one copy the rule and the one-time check use)."""
        return {tier: self.params.fen(tier) for tier in self.tier_params}

    def outcome(self, example: Example) -> str:
        """What the rule gives an example's facts, as `grants policy show` prints it."""
        if self.case_by_case:
            return "the amount_fen of the approval, with its basis"
        try:
            assessment = self.assess(self.normalize(example.facts), example.on, "example")
        except Refused as refusal:
            return refusal.code
        fen = assessment.entitlement_fen or 0
        capped = any(step.get("cap_applied") for step in assessment.steps)
        notes = [n for n in ("cap" if capped else "", example.note) if n]
        return format_fen(fen) + (f" ({'; '.join(notes)})" if notes else "")

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
                _("{measure}: clause {clause} ({title}) pays no cash award; it is carried out by {lead}. "
                  "{summary}").format(measure=self.id, clause=self.clause, title=self.title_zh, lead=self.lead,
                                      summary="" if language() == "zh" else self.summary_en).strip(),
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
        self.rule(assessment, Facts(canonical_facts), applied_on, self.params)
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


@dataclass(frozen=True)
class MeasureRule:
    """The code half of a measure item: its facts, its rule and the parameters the rule reads.

    The edition supplies the other half (its words and numbers); ``build`` joins them.
    """

    id: str
    clause: int
    kind: MeasureKind
    facts: tuple[Fact, ...] = ()
    rule: Rule | None = None
    once: str | None = None
    params: Mapping[str, ParamKind] = field(default_factory=dict)
    tiers: tuple[str, ...] = ()  # the parameters that are tier amounts, by tier name
    readings: tuple[tuple[str, str], ...] = ()
    quota: QuotaRule | None = None
    examples: tuple[Example, ...] = ()

    def build(self, text: EditionMeasure) -> Measure:
        quota = None
        if self.quota is not None:
            quota = Quota(self.quota.year_fact, self.quota.item_fact, text.params.count(self.quota.limit_param))
        return Measure(
            id=self.id, clause=self.clause, kind=self.kind, title_zh=text.title_zh, summary_en=text.summary_en,
            quote=text.quote, lead=text.lead, facts=self.facts, rule=self.rule, once=self.once,
            amount_zh=text.amount_zh, readings=self.readings, quota=quota, examples=self.examples,
            params=text.params, tier_params=self.tiers,
        )
