"""The general rules, as scenarios through the whole ledger.

``tests/examples/ledger-scenarios.toml`` holds scenarios of machine-contract lines
(the JSON objects of an import file), each with the outcome it must have: ``ok``
or a refusal code, and optionally fields of the command's result and of ``show``.
Each scenario runs against a fresh SQLite ledger.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from ledger.errors import CODES, Refused
from ledger.intake.commands import parse_command
from ledger.service.application import GrantsLedger
from ledger.store.storage import parse_store

SCENARIOS_FILE = Path(__file__).parent / "examples" / "ledger-scenarios.toml"
SOURCE = Path(__file__).parents[1] / "ledger" / "policy" / "editions" / "shiyan-digital-economy-2022-draft.txt"

SCENARIO_KEYS = {"name", "words", "step"}
STEP_KEYS = {"line", "expect", "result", "show", "show_ref"}


def load_scenarios(path: Path = SCENARIOS_FILE) -> list[dict[str, Any]]:
    """The scenarios of the file, each checked for shape: lines must be plain JSON objects."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert set(data) == {"scenario"}, f"{path.name}: only [[scenario]] tables are allowed"
    scenarios = data["scenario"]
    for scenario in scenarios:
        name = scenario.get("name")
        assert isinstance(name, str) and name, "every scenario has a name"
        assert not set(scenario) - SCENARIO_KEYS, f"{name}: unknown keys {sorted(set(scenario) - SCENARIO_KEYS)}"
        assert scenario.get("step"), f"{name}: no steps"
        for i, step in enumerate(scenario["step"], 1):
            where = f"{name}, step {i}"
            assert not set(step) - STEP_KEYS, f"{where}: unknown keys {sorted(set(step) - STEP_KEYS)}"
            line = step.get("line")
            assert isinstance(line, dict) and "op" in line, f"{where}: line must be an object with an op"
            assert json.loads(json.dumps(line)) == line, f"{where}: line must be plain JSON (write dates as text)"
            expect = step.get("expect")
            assert expect == "ok" or expect in CODES, f"{where}: bad expect {expect!r}"
            if "show" in step:
                assert "show_ref" in step or "ref" in line, f"{where}: show needs a ref (the line's, or show_ref)"
    names = [s["name"] for s in scenarios]
    assert len(names) == len(set(names)), "scenario names must be unique"
    return scenarios


SCENARIOS = load_scenarios()


def _subset_mismatches(expected: dict[str, Any], actual: dict[str, Any]) -> dict[str, Any]:
    return {key: (want, actual.get(key, "<missing>")) for key, want in expected.items() if actual.get(key) != want}


def _run(app: GrantsLedger, line: dict[str, Any]) -> tuple[str, dict[str, Any] | None, Refused | None]:
    try:
        result = app.execute(parse_command(dict(line), "tester"))
    except Refused as refusal:
        return refusal.code, None, refusal
    return "ok", result, None


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s["name"])
def test_ledger_scenario(scenario: dict[str, Any], tmp_path: Path) -> None:
    app = GrantsLedger(parse_store(f"sqlite:///{tmp_path / 'l.db'}"))
    try:
        _run_scenario(app, scenario)
    finally:
        app.close()


def _run_scenario(app: GrantsLedger, scenario: dict[str, Any]) -> None:
    filed: list[str] = []
    external: list[tuple[str, str, int]] = []
    for i, step in enumerate(scenario["step"], 1):
        line = step["line"]
        where = f"step {i} {json.dumps(line, ensure_ascii=False)}"
        outcome, result, refusal = _run(app, line)
        assert outcome == step["expect"], f"{where}: expected {step['expect']}, got {outcome}" + (
            f" ({refusal.message})" if refusal else "")
        if outcome == "ok" and line["op"] == "apply":
            filed.append(line["ref"])
        if outcome == "ok" and line["op"] == "external-award":
            external.append((line["uscc"], line["project"], line["amount_fen"]))
        if "result" in step:
            assert result is not None, f"{where}: a refused command has no result"
            mismatches = _subset_mismatches(step["result"], result)
            assert not mismatches, f"{where}: result (expected, actual) {mismatches}"
        if "show" in step:
            shown = app.show(step.get("show_ref", line.get("ref")))
            mismatches = _subset_mismatches(step["show"], shown)
            assert not mismatches, f"{where}: show (expected, actual) {mismatches}"
    for ref in filed:
        shown = app.show(ref)
        assert shown["city_share_fen"] + shown["county_share_fen"] == shown["awarded_fen"], ref
        assert 0 <= shown["city_share_fen"] - shown["county_share_fen"] <= 1, ref
        assert shown["city_paid_fen"] <= shown["city_share_fen"], ref
        assert shown["county_paid_fen"] <= shown["county_share_fen"], ref
    _assert_no_project_collects_more_than_its_highest_award(app, filed, external)


def _assert_no_project_collects_more_than_its_highest_award(app: GrantsLedger, refs: list[str],
                                                            external: list[tuple[str, str, int]]) -> None:
    """就高不重复: per enterprise and project, everything awarded is at most the highest single award."""
    collected: dict[tuple[str, str], list[tuple[int, int]]] = {}  # (entitlement, awarded) per award
    for uscc, project, amount in external:
        collected.setdefault((uscc, project), []).append((amount, amount))
    for ref in refs:
        shown = app.show(ref)
        if shown["status"] == "approved":
            collected.setdefault((shown["uscc"], shown["project"]), []).append(
                (shown["entitlement_fen"], shown["awarded_fen"]))
    for key, awards in collected.items():
        assert sum(a for _, a in awards) <= max(e for e, _ in awards), key


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if "words" in s], ids=lambda s: s["name"])
def test_scenario_words_are_verbatim_from_the_policy(scenario: dict[str, Any]) -> None:
    assert scenario["words"] in SOURCE.read_text(encoding="utf-8")


def test_scenarios_cover_every_general_rule_refusal() -> None:
    expected = {step["expect"] for scenario in SCENARIOS for step in scenario["step"]}
    general = {"outside-validity", "already-awarded", "duplicate-award", "quota-exhausted", "over-payment",
               "wrong-state", "invalid-input"}
    assert general <= expected, sorted(general - expected)
