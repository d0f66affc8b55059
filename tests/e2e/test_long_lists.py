"""Long lists print their first rows: `report enterprise`, `report shares` (the awards one payer has paid
more of), `report applications`, `audit reconcile` and the refused lines of `import` print the first 100
rows of a list unless told (`--limit N`, `--all`), then a line saying how many there are and how to see
them; the totals stay those of every row, and `--json` always gives every row."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bench.generate import generate
from commands import output
from tests.conftest import new_ledger
from tests.helpers import cli, write_lines

LIMIT = 4


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("long")
    url = new_ledger(folder)
    result = cli(url, "import", str(write_lines(folder / "p.jsonl", generate(40, 2))))
    assert result.exit_code == 1, result.stdout  # the synthetic province refuses some lines on purpose
    return url


def _table_rows(text: str, header: str) -> list[str]:
    """The rows of the table whose header line starts with ``header`` (up to a blank line or the footer)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header)) + 2
    rows = []
    for line in lines[start:]:
        if not line.strip() or line.startswith("("):
            break
        rows.append(line)
    return rows


def _json(url: str, *args: str) -> Any:
    result = cli(url, *args, "--json")
    assert result.exit_code in (0, 8), result.stderr
    return json.loads(result.stdout)


def test_report_enterprise_prints_its_first_rows_with_the_total_of_all(province):
    every = _json(province, "report", "enterprise")["enterprises"]
    assert len(every) > LIMIT
    cut = cli(province, "report", "enterprise", "--limit", str(LIMIT))
    whole = cli(province, "report", "enterprise", "--all")
    assert cut.exit_code == whole.exit_code == 0
    cut_rows, whole_rows = _table_rows(cut.stdout, "USCC"), _table_rows(whole.stdout, "USCC")
    assert [r.split()[0] for r in cut_rows[:LIMIT]] == [e["uscc"] for e in every[:LIMIT]]
    assert cut_rows[LIMIT].split() == whole_rows[-1].split()  # the Total row: every enterprise's
    assert len(whole_rows) == len(every) + 1 and "--all" not in whole.stdout
    assert cut.stdout.rstrip().endswith(f"({LIMIT} of {len(every)} rows shown; --all prints every row, --json "
                                        "gives them all)")
    assert _json(province, "report", "enterprise", "--limit", "1")["enterprises"] == every  # JSON: every row


def test_the_default_is_a_hundred_rows(province):
    every = _json(province, "report", "applications")["applications"]
    assert output.ROWS == 100 < len(every)
    result = cli(province, "report", "applications")
    assert len(_table_rows(result.stdout, "Ref")) == 100
    assert f"(100 of {len(every)} rows shown;" in result.stdout
    assert result.stdout.startswith(f"{len(every)} applications")


def test_the_awards_one_payer_has_paid_more_of_are_cut_in_shares_and_in_reconcile(province):
    gaps = _json(province, "audit", "reconcile")["gaps"]
    assert len(gaps) > LIMIT
    shares = cli(province, "report", "shares", "--limit", str(LIMIT))
    rows = _table_rows(shares.stdout, "Ref")
    assert [r.split()[0] for r in rows] == [g["ref"] for g in gaps[:LIMIT]]
    assert f"({LIMIT} of {len(gaps)} rows shown;" in shares.stdout
    reconcile = cli(province, "audit", "reconcile", "--limit", str(LIMIT))
    assert reconcile.exit_code == output.EXIT_GAP
    assert reconcile.stdout.startswith(f"{len(gaps)} awards with one half paid more than the other")
    assert [r.split()[0] for r in _table_rows(reconcile.stdout, "Ref")] == [g["ref"] for g in gaps[:LIMIT]]
    assert len(_table_rows(cli(province, "audit", "reconcile", "--all").stdout, "Ref")) == len(gaps)


def test_an_import_lists_its_first_refused_lines(tmp_path):
    url = new_ledger(tmp_path)
    lines = [{"op": "register", "uscc": "bad", "name": f"企业{n}", "area": "张湾区"} for n in range(LIMIT + 3)]
    result = cli(url, "import", str(write_lines(tmp_path / "bad.jsonl", lines)), "--limit", str(LIMIT))
    assert result.exit_code == output.EXIT_REFUSED
    assert [r.split()[0] for r in _table_rows(result.stdout, "line")] == [str(n) for n in range(1, LIMIT + 1)]
    assert f"({LIMIT} of {LIMIT + 3} rows shown;" in result.stdout


@pytest.mark.parametrize("args", [["report", "enterprise"], ["report", "shares"], ["audit", "reconcile"],
                                  ["report", "applications"]])
def test_limit_and_all_together_are_refused(province, args):
    result = cli(province, *args, "--limit", "5", "--all")
    assert result.exit_code == output.EXIT_INVALID and result.stdout == ""
    assert "limit: give --limit or --all, not both" in result.stderr


@pytest.mark.parametrize("limit", ["0", "-3", "1000000001", "9223372036854775808"])
@pytest.mark.parametrize("args", [["report", "enterprise"], ["report", "shares"], ["audit", "reconcile"]])
def test_a_limit_out_of_range_is_a_usage_error(province, args, limit):
    """From 1 to a thousand million: a limit the database could not take is refused like any bad option."""
    result = cli(province, *args, "--limit", limit)
    assert result.exit_code == 2 and "--limit" in result.stderr and result.stdout == ""


def test_a_page_is_one_line_a_row_as_the_whole_list_is(province, monkeypatch):
    """A page of a longer list keeps each row on one line however narrow the terminal (searchable, sortable),
    as the whole list of more than ``LONG`` rows is; a list that fits is laid out to the width."""
    monkeypatch.setenv("COLUMNS", "60")
    every = _json(province, "report", "enterprise")["enterprises"]
    cut = cli(province, "report", "enterprise", "--limit", str(LIMIT)).stdout
    assert [r.split()[0] for r in _table_rows(cut, "USCC")[:LIMIT]] == [e["uscc"] for e in every[:LIMIT]]
    assert len(_table_rows(cut, "USCC")) == LIMIT + 1  # and the Total row: no row wrapped
    assert max(len(line) for line in cut.splitlines()[1:-1]) > 60
    whole = cli(province, "report", "enterprise", "--all").stdout
    assert len(_table_rows(whole, "USCC")) > len(every) + 1  # laid out to 60 columns, names wrap


def test_a_long_table_keeps_its_headers_whole_on_one_line_per_row():
    """More than ``LONG`` rows: one line a row however wide, each column at least as wide as its header
    (Rich would wrap a header over two lines, and take minutes over the rows)."""
    rows = [[f"SY-{n:05d}", output.yuan(n), "0.00"] for n in range(output.LONG + 1)]
    text = output.table(["Ref", "Awarded amount", "County due"], rows, right=(1, 2))
    lines = text.splitlines()
    assert "Awarded amount" in lines[0] and "County due" in lines[0] and len(lines) == output.LONG + 3
    assert lines[-1].endswith("0.00") and len({len(line) for line in lines[2:]}) == 1


def test_pages_on_both_stores_and_a_rerun_import_changes_nothing(db_url, tmp_path):
    """On SQLite and PostgreSQL: each page is the head of the whole list with its count, and the same file
    imported again decides nothing again and prints the same refused lines, cut alike."""
    path = write_lines(tmp_path / "p.jsonl", generate(25, 3))
    first = cli(db_url, "import", str(path), "--limit", str(LIMIT))
    again = cli(db_url, "import", str(path), "--limit", str(LIMIT))
    assert first.exit_code == again.exit_code == output.EXIT_REFUSED
    assert _table_rows(first.stdout, "line") == _table_rows(again.stdout, "line") and "not decided again" in again.stdout
    gaps = _json(db_url, "audit", "reconcile")["gaps"]
    enterprises = _json(db_url, "report", "enterprise")["enterprises"]
    assert len(gaps) > LIMIT and len(enterprises) > LIMIT
    shares = cli(db_url, "report", "shares", "--limit", str(LIMIT)).stdout
    assert [r.split()[0] for r in _table_rows(shares, "Ref")] == [g["ref"] for g in gaps[:LIMIT]]
    assert f"({LIMIT} of {len(gaps)} rows shown;" in shares
    page = cli(db_url, "report", "enterprise", "--limit", str(LIMIT)).stdout
    assert [r.split()[0] for r in _table_rows(page, "USCC")[:LIMIT]] == [e["uscc"] for e in enterprises[:LIMIT]]
    assert f"({LIMIT} of {len(enterprises)} rows shown;" in page
