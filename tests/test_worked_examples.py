"""Worked examples of every clause, the way a reader of the policy would check them.

Each ``tests/examples/clause-NN.toml`` quotes its clause verbatim and lists cases:
a measure item, an application date, the facts, and exactly one outcome: the amount
in fen (``amount_fen``), a refusal code (``refused``, optionally with the ``field``
it names), or ``case_by_case = true`` for items decided 一事一议.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ledger.errors import CODES, Refused
from ledger.policy import catalogue

EXAMPLES = Path(__file__).parent / "examples"
SOURCE = Path(__file__).parents[1] / "ledger" / "policy" / "editions" / "shiyan-digital-economy-2022-draft.txt"
CLAUSE_FILES = sorted(EXAMPLES.glob("clause-*.toml"))

CASE_KEYS = {"name", "measure", "date", "facts", "amount_fen", "refused", "field", "case_by_case"}
OUTCOMES = ("amount_fen", "refused", "case_by_case")


def _clause_number(path: Path) -> int:
    match = re.fullmatch(r"clause-(\d\d)\.toml", path.name)
    assert match, f"{path.name}: clause files are named clause-NN.toml"
    return int(match.group(1))


def _as_date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    assert isinstance(value, str), f"{where}: date must be a TOML date or YYYY-MM-DD"
    return date.fromisoformat(value)


def load_cases(path: Path) -> list[dict[str, Any]]:
    """The cases of one clause file, each checked for shape and given its date."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    extra = set(data) - {"date", "case"}
    assert not extra, f"{path.name}: unknown top-level keys {sorted(extra)}"
    default = data.get("date")
    cases = []
    for i, case in enumerate(data.get("case", [])):
        where = f"{path.name} case {i + 1} ({case.get('name', '?')})"
        unknown = set(case) - CASE_KEYS
        assert not unknown, f"{where}: unknown keys {sorted(unknown)}"
        assert isinstance(case.get("name"), str) and case["name"], f"{where}: name is required"
        assert isinstance(case.get("measure"), str), f"{where}: measure is required"
        outcomes = [key for key in OUTCOMES if key in case]
        assert len(outcomes) == 1, f"{where}: exactly one of {OUTCOMES} is required, got {outcomes}"
        if "case_by_case" in case:
            assert case["case_by_case"] is True, f"{where}: case_by_case = true is the only form"
        if "amount_fen" in case:
            assert type(case["amount_fen"]) is int and case["amount_fen"] >= 0, f"{where}: amount_fen is integer fen"
        if "refused" in case:
            assert case["refused"] in CODES, f"{where}: {case['refused']!r} is not a refusal code"
        else:
            assert "field" not in case, f"{where}: field goes with refused"
        assert "date" in case or default is not None, f"{where}: no date and no file-level default"
        cases.append({**case, "date": _as_date(case.get("date", default), where), "facts": case.get("facts", {}),
                      "clause": _clause_number(path)})
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), f"{path.name}: case names must be unique"
    return cases


ALL_CASES = [case for path in CLAUSE_FILES for case in load_cases(path)]


def _id(case: dict[str, Any]) -> str:
    return f"clause-{case['clause']:02d}: {case['name']}"


@pytest.mark.parametrize("case", ALL_CASES, ids=_id)
def test_worked_example(case: dict[str, Any]) -> None:
    try:
        measure = catalogue().measure(case["measure"])
        facts = measure.normalize(case["facts"])
        assessment = measure.assess(facts, case["date"], "test")
    except Refused as refusal:
        assert "refused" in case, f"refused {refusal.code}: {refusal.message}"
        assert refusal.code == case["refused"], refusal.message
        if "field" in case:
            assert refusal.field == case["field"], refusal.message
        return
    assert "refused" not in case, f"expected refusal {case['refused']}, got {assessment.entitlement_fen} fen"
    if "case_by_case" in case:
        assert assessment.case_by_case is True
        assert assessment.entitlement_fen is None
    else:
        assert assessment.case_by_case is False
        assert assessment.entitlement_fen == case["amount_fen"]


def test_there_is_one_example_file_per_clause() -> None:
    assert [_clause_number(p) for p in CLAUSE_FILES] == list(range(1, 19))


@pytest.mark.parametrize("path", CLAUSE_FILES, ids=lambda p: p.stem)
def test_example_file_quotes_its_clause_verbatim(path: Path) -> None:
    quoted = "".join(line[len("# | "):] for line in path.read_text(encoding="utf-8").splitlines()
                     if line.startswith("# | "))
    number = _clause_number(path)
    source_lines = SOURCE.read_text(encoding="utf-8").splitlines()
    assert quoted.startswith(f"{number}."), f"{path.name} does not quote clause {number}"
    assert quoted in source_lines, f"{path.name}: the quoted clause is not a verbatim line of {SOURCE.name}"


@pytest.mark.parametrize("path", CLAUSE_FILES, ids=lambda p: p.stem)
def test_example_file_cases_belong_to_its_clause(path: Path) -> None:
    measures = catalogue().measures
    for case in load_cases(path):
        if case["measure"] in measures:
            assert measures[case["measure"]].clause == _clause_number(path), case["name"]


def test_every_measure_item_has_a_worked_example() -> None:
    covered = {case["measure"] for case in ALL_CASES}
    missing = sorted(set(catalogue().measures) - covered)
    assert not missing, f"measure items without a worked example: {missing}"


def test_every_grantable_measure_has_an_accepted_and_a_refused_example() -> None:
    lacking = []
    for measure in catalogue().measures.values():
        if not measure.grantable:
            continue
        cases = [c for c in ALL_CASES if c["measure"] == measure.id]
        if not any("refused" not in c for c in cases):
            lacking.append(f"{measure.id}: no accepted case")
        if not any("refused" in c for c in cases):
            lacking.append(f"{measure.id}: no refused case")
    assert not lacking, lacking


def test_every_threshold_item_has_a_not_eligible_example() -> None:
    """A grantable item whose rule tests a threshold shows at least one case that misses it."""
    no_threshold = {"M07-base", "M07-enterprise", "M07-digital-commerce", "M13-platform", "M16-forum"}
    lacking = [m.id for m in catalogue().measures.values()
               if m.grantable and m.id not in no_threshold
               and not any(c["measure"] == m.id and c.get("refused") == "not-eligible" for c in ALL_CASES)]
    assert not lacking, lacking
