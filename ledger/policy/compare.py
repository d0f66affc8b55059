"""What a new edition changes against its parent, measure by measure.

Pure: given the two catalogues and a set of worked examples, it lists every parameter
and text that differs and every example whose outcome differs, so a policy officer
sees the consequences of an edition before it is adopted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.errors import Refused
from ledger.policy import Catalogue

TEXT_FIELDS = ("title_zh", "summary_en", "amount_zh", "lead", "quote")


@dataclass(frozen=True)
class Case:
    """A worked example: a measure item, an application date and the facts."""

    name: str
    measure: str
    on: date
    facts: Mapping[str, Any]


def outcome(cat: Catalogue, case: Case) -> int | str:
    """The amount in fen the catalogue gives the case, or the refusal code, or ``case-by-case``."""
    try:
        measure = cat.measure(case.measure)
        assessment = measure.assess(measure.normalize(dict(case.facts)), case.on, "edition-check")
    except Refused as refusal:
        return refusal.code
    if assessment.case_by_case:
        return "case-by-case"
    return assessment.entitlement_fen or 0


def catalogue_examples(cat: Catalogue) -> list[Case]:
    """The examples each measure item of the catalogue carries (`grants policy show`)."""
    return [Case(f"{m.id} example {i}", m.id, e.on, e.facts)
            for m in cat.measures.values() for i, e in enumerate(m.examples, 1)]


def changes(parent: Catalogue | None, new: Catalogue, cases: Iterable[Case]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Per measure item: changed parameters, changed texts, and worked examples whose outcome changed.

    Without a parent every example is listed with its outcome (nothing to compare with).
    Measures with no change are left out.
    """
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}

    def entry(measure_id: str) -> dict[str, list[dict[str, Any]]]:
        return out.setdefault(measure_id, {"params": [], "text": [], "examples": []})

    for m in new.measures.values():
        before = parent.measures.get(m.id) if parent is not None else None
        if before is None:
            continue
        for name, p in m.params.items():
            old = before.params.get(name)
            if old is None or old.value != p.value or old.words != p.words:
                entry(m.id)["params"].append({
                    "name": name, "kind": str(p.kind), "before": old.written if old else None, "after": p.written,
                    "before_value": _plain(old.value) if old else None, "after_value": _plain(p.value),
                    "words_before": old.words if old else None, "words": p.words})
        for field in TEXT_FIELDS:
            if getattr(m, field) != getattr(before, field):
                entry(m.id)["text"].append({"field": field, "before": getattr(before, field),
                                            "after": getattr(m, field)})
    for case in cases:
        after = outcome(new, case)
        before_outcome = outcome(parent, case) if parent is not None else None
        if parent is None or before_outcome != after:
            entry(case.measure)["examples"].append({"name": case.name, "date": case.on.isoformat(),
                                                    "before": before_outcome, "after": after})
    return out


def _plain(value: Any) -> Any:
    return value if isinstance(value, int) else str(value)
