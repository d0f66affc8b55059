"""The documentation says what the code does: generated pages are up to date, quotes are
verbatim, and every event and every command is documented."""

from __future__ import annotations

from pathlib import Path

import typer.main
from typer.core import TyperGroup

from commands.main import app
from ledger.domain import aggregates as domain
from ledger.policy import builtin_source_text, catalogue
from ledger.policy.document import REGENERATE, render_policy_markdown

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

AGGREGATES = (domain.Enterprise, domain.ApplicationRef, domain.VoucherRef, domain.ReceiptRef, domain.TaskQuota,
              domain.PolicyBook, domain.ImportRun, domain.OperatorRoster, domain.SetAsides)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def event_topics() -> list[str]:
    """Every topic the ledger records: the aggregates' nested event classes, without the
    library's ``Created`` placeholders (never emitted: each aggregate names its own creation event)."""
    topics = []
    for aggregate in AGGREGATES:
        for attr in vars(aggregate).values():
            topic = getattr(attr, "TOPIC", None) if isinstance(attr, type) else None
            if isinstance(topic, str) and not topic.endswith(".Created"):
                topics.append(topic)
    return topics


def cli_commands() -> list[str]:
    """`grants NAME` and `grants GROUP NAME` for every command of the Typer app."""
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    names = []
    for name, command in root.commands.items():
        names.append(f"grants {name}")
        for sub in getattr(command, "commands", {}):
            names.append(f"grants {name} {sub}")
    return names


def test_policy_page_is_generated_from_the_current_catalogue() -> None:
    expected = render_policy_markdown(catalogue())
    assert (DOCS / "policy.md").exists(), f"docs/policy.md is missing; generate it with: {REGENERATE}"
    assert read(DOCS / "policy.md") == expected, (
        f"docs/policy.md is out of date with the catalogue; regenerate it with: {REGENERATE}")


def test_every_quote_of_the_policy_page_is_verbatim_from_the_original_text() -> None:
    cat = catalogue()
    source = builtin_source_text(cat.edition)  # the one copy: ledger/policy/editions/, beside the edition
    quotes = {f"measure {m.id}": m.quote for m in cat.measures.values()}
    quotes |= {"funding": cat.edition.funding, "validity": cat.edition.validity_text}
    drifted = [name for name, quote in quotes.items() if quote not in source]
    assert not drifted, f"not verbatim in {cat.edition.source}: {', '.join(drifted)}"
    page = read(DOCS / "policy.md")
    assert f"(../ledger/policy/editions/{cat.edition.source})" in page, "docs/policy.md links the original text"


def test_events_page_names_every_event_topic() -> None:
    topics = event_topics()
    assert len(topics) >= 12, topics  # the walk found the events, not nothing
    page = read(DOCS / "events.md")
    missing = [t for t in topics if f"`{t}`" not in page]
    assert not missing, f"docs/events.md does not document: {', '.join(missing)}"


def test_cli_page_mentions_every_command_and_subcommand() -> None:
    commands = cli_commands()
    assert "grants report shares" in commands, commands
    page = read(DOCS / "cli.md")
    missing = [c for c in commands if c not in page]
    assert not missing, f"docs/cli.md does not mention: {', '.join(missing)}"
