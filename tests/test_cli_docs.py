"""docs/cli.md is generated from the command line, and the examples of it and of the two guides
run as written: each exits as its page says and prints what its page shows (tools/cli_docs.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tools import cli_docs
from tools.cli_docs import DocsError, console_blocks, normalise, regenerate_reference, render, run_examples

ROOT = Path(__file__).resolve().parent.parent


def read(page: str) -> str:
    return (ROOT / page).read_text(encoding="utf-8")


def block(name: str, body: str = "") -> str:
    return f"<!-- generated: {name} -->\n{body}\n{cli_docs.END}"


def all_blocks(**bodies: str) -> str:
    """A page with a reference block for every command and the index, bodies as given."""
    names = [cli_docs.INDEX] + [p for p, c in cli_docs.command_tree() if not cli_docs.is_group(c)]
    return "\n\n".join(block(n, bodies.get(n, "")) for n in names)


def test_the_cli_reference_is_what_the_command_line_says_now() -> None:
    text = read(cli_docs.CLI_PAGE)
    assert regenerate_reference(text) == text, (
        f"docs/cli.md's generated blocks differ from the CLI; regenerate with: {cli_docs.REGENERATE}")


def test_every_command_and_group_is_in_the_cli_page() -> None:
    text = read(cli_docs.CLI_PAGE)
    paths = [p for p, _ in cli_docs.command_tree()]
    assert "grants report shares" in paths and "grants admin operator add" in paths, paths
    leaves = [p for p, c in cli_docs.command_tree() if not cli_docs.is_group(c)]
    missing = [p for p in leaves if f"<!-- generated: {p} -->" not in text]
    assert not missing, missing
    groups = [p for p, c in cli_docs.command_tree()[1:] if cli_docs.is_group(c)]
    assert all(f"| `{g}` |" in text for g in groups), groups


def test_the_reference_block_lists_choices_defaults_and_requirements_from_the_cli() -> None:
    page = regenerate_reference(all_blocks())
    pay = page.split("<!-- generated: grants pay -->")[1].split(cli_docs.END)[0]
    assert "`grants pay [OPTIONS] REF`" in pay
    assert "| `--payer city\\|county` | required |" in pay
    assert "| `--date YYYY-MM-DD` | required |" in pay
    listing = page.split("<!-- generated: grants policy list -->")[1].split(cli_docs.END)[0]
    assert "default `shiyan-digital-economy-2022-draft`" in listing


def test_a_missing_block_is_named() -> None:
    page = all_blocks().replace(block("grants recover"), "")
    with pytest.raises(DocsError, match="missing for grants recover"):
        regenerate_reference(page)


def test_a_block_for_a_command_that_does_not_exist_is_refused() -> None:
    with pytest.raises(DocsError, match="no command 'grants frobnicate'"):
        regenerate_reference(all_blocks() + "\n" + block("grants frobnicate"))


def test_the_details_column_is_kept_and_the_cli_columns_are_rewritten() -> None:
    stale = "\n".join([*cli_docs.TABLE_HEADER,
                       "| `--payer TEXT` | | an old help text | `city` is the city treasury |",
                       "| `--gone` | | an option since removed | its details go with it |"])
    page = regenerate_reference(all_blocks(**{"grants pay": stale}))
    pay = page.split("<!-- generated: grants pay -->")[1].split(cli_docs.END)[0]
    payer = next(line for line in pay.splitlines() if line.startswith("| `--payer"))
    assert payer.endswith("| `city` is the city treasury |") and "old help" not in payer
    assert "--gone" not in pay


def test_console_blocks_read_continuations_here_documents_and_declared_exits() -> None:
    lines = ["<!-- console: head=2 -->", "```console", "$ grants apply --ref A \\", "    --date 2025-01-01",
             "old output", "$ python3 - <<'EOF'", "print('# exit 9')", "EOF", "$ grants approve A   # exit 1",
             "```"]
    (found,) = console_blocks(lines)
    assert found.head == 2
    apply, script, approve = found.examples
    assert apply.command == lines[2:4] and apply.output == ["old output"] and apply.exit_code == 0
    assert script.command == lines[5:8] and script.exit_code == 0  # a comment inside the document is data
    assert approve.exit_code == 1


def test_an_example_that_exits_otherwise_than_its_page_says_is_reported(tmp_path: Path) -> None:
    page = "```console\n$ echo one; false\nstale\n$ sh -c 'exit 3'   # exit 3\n$ seq 5\n```\n"
    new, wrong = run_examples(page, tmp_path, name="p.md")
    assert len(wrong) == 1 and "`echo one; false` exited 1, the page says 0" in wrong[0]
    assert new == "```console\n$ echo one; false\none\n$ sh -c 'exit 3'   # exit 3\n$ seq 5\n1\n2\n3\n4\n5\n```\n"


def test_a_head_option_keeps_the_first_lines(tmp_path: Path) -> None:
    new, wrong = run_examples("<!-- console: head=2 -->\n```console\n$ seq 5\n```", tmp_path)
    assert not wrong and new.endswith("$ seq 5\n1\n2\n...\n```")


def test_the_session_keeps_variables_and_sees_none_of_the_callers_ledger(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRANTS_DB", "sqlite:////nowhere/else.db")
    page = "```console\n$ export X=7\n$ echo \"$X ${GRANTS_DB:-unset}\"\n$ grants --version\n```"
    new, wrong = run_examples(page, tmp_path)
    assert not wrong
    assert "$ echo \"$X ${GRANTS_DB:-unset}\"\n7 unset\n$ grants --version\ngrants " in new


def test_normalise_masks_only_what_changes_between_runs() -> None:
    one = ("<!-- examples run on 2026-11-28 by x -->\nfrom 2026-11-28 to no end\n"
           "2025-03-03  2026-11-28 16:28:21  li.wei  43,000.00\nhead 145:" + "a1" * 32 + "\n"
           "files: /tmp/grants-docs-abc123/ledger/grants.toml\n")
    two = ("<!-- examples run on 2026-12-01 by x -->\nfrom 2026-12-01 to no end\n"
           "2025-03-03  2026-12-01 09:01:02  li.wei  43,000.00\nhead 145:" + "b2" * 32 + "\n"
           "files: /tmp/grants-docs-zz9/ledger/grants.toml\n")
    assert normalise(one) == normalise(two)
    assert normalise(one) != normalise(two.replace("43,000.00", "43,000.01"))
    assert normalise(one) != normalise(two.replace("2025-03-03", "2025-03-04"))
    assert normalise(one) != normalise(two.replace("li.wei", "zhao.min"))


@pytest.mark.parametrize("page", cli_docs.PAGES)
def test_the_pages_examples_run_as_written_and_print_what_the_page_shows(page: str, tmp_path: Path) -> None:
    text = read(page)
    assert console_blocks(text.split("\n")), f"{page} has no examples"
    new, wrong = render(page, text, tmp_path)
    assert not wrong, "\n".join(wrong)
    assert normalise(new) == normalise(text), (
        f"{page} is not what its commands print now; regenerate it with: {cli_docs.REGENERATE}")


def test_every_command_has_an_example_in_the_cli_page() -> None:
    scripts = [e.script for b in console_blocks(read(cli_docs.CLI_PAGE).split("\n")) for e in b.examples]
    used = " ".join(re.sub(r"grants( --(db|by) \S+)*", "grants", s) for s in scripts)
    leaves = [p for p, c in cli_docs.command_tree() if not cli_docs.is_group(c)]
    missing = [p for p in leaves if not re.search(re.escape(p) + r"(\s|$)", used)]
    assert not missing, f"docs/cli.md has no example of: {', '.join(missing)}"
