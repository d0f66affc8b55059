"""The edition file: the 2022 draft as data, checked against its source text and its rule set;
the rules hold no number of their own; old adoption events (without an edition) still replay."""

from __future__ import annotations

import ast
import copy
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ledger.domain import rules
from ledger.domain.aggregates import PolicyBook
from ledger.policy import build, catalogue, catalogue_2022, check_edition, edition_of
from ledger.policy.edition import number_findings, quote_findings, quotes

ROOT = Path(__file__).resolve().parents[2]
EDITIONS = ROOT / "ledger" / "policy" / "editions"
DRAFT = EDITIONS / "shiyan-2022-draft.toml"
SOURCE = EDITIONS / "shiyan-digital-economy-2022-draft.txt"  # the one copy of the clause text
TEXT_SUFFIXES = {".py", ".md", ".txt", ".toml", ".po", ".json", ".jsonl", ".csv", ".yml", ".yaml", ".sh", ".cfg"}
NOT_OURS = {".venv", ".git", "build", "dist", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis"}


def draft() -> dict[str, Any]:
    return tomllib.loads(DRAFT.read_text(encoding="utf-8"))


def findings_of(data: dict[str, Any]) -> list[str]:
    edition, findings = check_edition(data)
    assert (edition is None) == bool(findings)
    return findings


def test_every_quote_and_parameter_words_of_the_draft_edition_are_verbatim_in_the_original_text() -> None:
    edition = edition_of(draft())
    texts = quotes(edition)
    assert len(texts) > 60, len(texts)  # the quotes and every parameter's words, not nothing
    assert quote_findings(edition, SOURCE.read_text(encoding="utf-8")) == []


def test_the_draft_edition_quotes_the_source_text_beside_it() -> None:
    assert EDITIONS / edition_of(draft()).source == SOURCE


def _our_text_files() -> list[Path]:
    return [p for p in ROOT.rglob("*") if p.suffix in TEXT_SUFFIXES and p.is_file()
            and not any(part in NOT_OURS or part.endswith(".egg-info") for part in p.relative_to(ROOT).parts)]


def test_the_clause_text_has_one_copy_the_others_quote_it() -> None:
    """No file but the source holds a paragraph of it, except the edition's own quotes (checked verbatim
    above) and the policy page generated from them; worked examples quote a clause over several lines."""
    paragraphs = [line for line in SOURCE.read_text(encoding="utf-8").splitlines() if len(line) > 40]
    assert len(paragraphs) >= 20, len(paragraphs)
    quoted = set(quotes(edition_of(draft())).values())
    copies = {}
    for path in _our_text_files():
        if path == SOURCE:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        held = [p[:12] for p in paragraphs if p in text
                and not (p in quoted and path in (DRAFT, ROOT / "docs" / "policy.md"))]
        if held:
            copies[str(path.relative_to(ROOT))] = held
    assert not copies, f"copies of {SOURCE.name} (quote it, or load it): {copies}"


def test_the_built_in_catalogue_is_the_draft_edition_file() -> None:
    cat = catalogue()
    assert cat.edition.content == edition_of(draft()).content
    assert cat.measures["M07-base"].tiers == {"national": 50_000_000, "provincial": 30_000_000}
    assert cat.measures["M16-task"].quota is not None and cat.measures["M16-task"].quota.limit == 10


def test_a_quote_not_in_the_source_text_is_a_finding() -> None:
    data = draft()
    data["measures"]["M18-park"]["params"]["enterprises"] = {"count": 15, "words": "入园企业达到15家以上"}
    edition = edition_of(data)
    found = quote_findings(edition, SOURCE.read_text(encoding="utf-8"))
    assert found and found[0].startswith("measures.M18-park.params.enterprises.words"), found


def test_a_number_whose_words_still_say_the_old_number_is_a_finding() -> None:
    data = draft()
    data["measures"]["M07-base"]["params"]["national"]["yuan"] = "60万"
    assert any("measures.M07-base.params.national" in f for f in findings_of(data))
    assert number_findings(edition_of(draft())) == []


@pytest.mark.parametrize(("change", "finding"), [
    (lambda d: d["measures"].pop("M10-edge"), "measures.M10-edge: missing"),
    (lambda d: d["measures"]["M10-edge"]["params"].pop("cap"), "measures.M10-edge.params.cap: missing"),
    (lambda d: d["measures"]["M10-edge"]["params"].update(bonus={"count": 1, "words": "1"}),
     "measures.M10-edge.params.bonus: not a parameter"),
    (lambda d: d["measures"]["M10-edge"]["params"]["cap"].update(yuan=500000.0), "floats are not accepted"),
    (lambda d: d["measures"]["M10-edge"]["params"]["cap"].update(yuan=500000), "write the amount as a string"),
    (lambda d: d["measures"]["M10-edge"]["params"]["cap"].pop("words"), "measures.M10-edge.params.cap.words"),
    (lambda d: d["measures"]["M03-security"]["params"]["rate"].update(percent=120), "more than 100"),
    (lambda d: d["measures"].update({"M99": {}}), "measures.M99: not a measure item"),
    (lambda d: d["validity"].update(years=0), "validity.years"),
    (lambda d: d.update(rules="shiyan-2099"), "rules: “shiyan-2099” is not a rule set"),
    (lambda d: d.update(effective="2022年X月X日"), "effective:"),
])
def test_an_edition_that_does_not_fit_its_rule_set_is_refused_with_the_place_named(change: Any, finding: str) -> None:
    data = copy.deepcopy(draft())
    change(data)
    found = findings_of(data)
    assert any(finding in f for f in found), found


def test_no_amount_or_threshold_is_written_in_rule_code() -> None:
    """Rule functions may compare with 0 and 1 (a count of at least one, the year before); every other
    number comes from the edition. Neither may they call wan(), yi() or yuan() on a literal."""
    tree = ast.parse(Path(catalogue_2022.__file__).read_text(encoding="utf-8"))
    offenders = []
    for func in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        for node in ast.walk(func):
            if isinstance(node, ast.Constant) and type(node.value) in (int, float) and node.value not in (0, 1):
                offenders.append(f"{func.name}: {node.value!r} (line {node.lineno})")
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("wan", "yi", "yuan", "Decimal"):
                offenders.append(f"{func.name}: {ast.unparse(node)} (line {node.lineno})")
    assert not offenders, offenders


def test_an_edition_with_other_numbers_gives_other_amounts_with_the_same_rules() -> None:
    data = draft()
    data["measures"]["M10-edge"]["params"]["per_rack"] = {"yuan": "4000", "words": "按照每个在用物理机架4000元"}
    new = build(edition_of(data))
    m = new.measures["M10-edge"]
    facts = m.normalize({"people_served": 300_001, "racks": 100})
    assert m.assess(facts, date(2024, 6, 1), "v").entitlement_fen == 100 * 400_000
    old = catalogue().measures["M10-edge"]
    assert old.assess(facts, date(2024, 6, 1), "v").entitlement_fen == 100 * 300_000


def test_an_adoption_event_recorded_before_editions_were_data_replays_with_the_built_in_catalogue() -> None:
    book = PolicyBook()
    book.adopt(version="v1", catalogue=catalogue_2022.CATALOGUE_ID, effective=date(2022, 9, 1),
               ends=date(2025, 9, 1), date=date(2022, 9, 1), by="policy.office")
    events = book.collect_events()
    del events[-1].__dict__["edition"]  # the event as stored before the field existed
    replayed: Any = None
    for event in events:
        replayed = event.mutate(replayed)
    version = replayed.versions["v1"]
    assert version.edition is None
    assert rules.catalogue_of(version) is catalogue()


def test_an_edition_may_not_take_the_id_of_the_built_in_edition_with_other_numbers() -> None:
    from ledger.intake import commands as intake
    data = draft()
    data["measures"]["M10-edge"]["params"]["per_rack"] = {"yuan": "4000", "words": "按照每个在用物理机架4000元"}
    cmd = intake.parse_command({"op": "adopt-policy", "effective": "2024-01-01", "edition": data}, "tester")
    with pytest.raises(Exception, match="built-in edition"):
        rules.decide_adoption(None, cmd)
