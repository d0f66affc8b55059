"""Every output gives the same figures (projections/figures.py): the text and JSON of `report shares`,
`report enterprise` and `report applications`, `audit reconcile`, the HTML report, the CSV and xlsx
exports and the Beancount ledger, on the demo ledger and on seeded random histories with payments,
reversals, revocations and recoveries, on SQLite and PostgreSQL.

Each output is read back as its reader would read it (the text table's Total row, the page's cards,
the 合计 row of the sheet, the Beancount accounts' balances from their postings) and turned into the
same figures per payer: owed, paid (net, on every award), due, to recover, and the gap."""

from __future__ import annotations

import csv
import json
import random
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from ledger.domain.areas import AREAS
from ledger.domain.uscc import make_uscc
from tests.helpers import cli, cli_json, write_lines

PAYERS = ("city", "county")
FIGURES = ("owed", "paid", "due", "to_recover")
Figures = dict[str, int]  # "city_owed", ..., "county_to_recover", "gap": fen


def fen(text: Any) -> int:
    return int((Decimal(str(text).replace(",", "")) * 100).to_integral_exact())


def from_json(row: dict[str, Any]) -> Figures:
    """The figures as the JSON names them (due is ``*_outstanding_fen``)."""
    found = {f"{p}_{k}": row[f"{p}_{'outstanding' if k == 'due' else k}_fen"] for p in PAYERS for k in FIGURES}
    return found | {"gap": row["gap_fen"]}


def from_text(stdout: str) -> Figures:
    """The first Total row of `report shares`: owed, paid, due, to recover per payer, then the gap."""
    row = next(line for line in stdout.splitlines() if line.startswith("Total"))
    cells = [fen(c) for c in row.split()[1:]]
    assert len(cells) == 9, row
    return {f"{p}_{k}": cells[4 * i + j] for i, p in enumerate(PAYERS) for j, k in enumerate(FIGURES)} | {
        "gap": cells[8]}


class _Page(HTMLParser):
    """The totals cards of the HTML report (their data-*-fen and the yuan they show) and the total row
    of the areas table (its cells' data-*-fen)."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: dict[str, tuple[int, str]] = {}
        self.total_row: dict[str, int] = {}
        self._card: str | None = None
        self._in_bold = False
        self._in_table = self._in_total = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "div" and a.get("class") == "card":
            self._card = next(k[5:-4] for k in a if k.startswith("data-") and k.endswith("-fen"))
            self.cards[self._card] = (int(a[f"data-{self._card}-fen"] or 0), "")
        elif tag == "b" and self._card:
            self._in_bold = True
        elif tag == "table" and a.get("id") == "areas-table":
            self._in_table = True
        elif tag == "tr" and self._in_table and a.get("class") == "total":
            self._in_total = True
        elif tag == "td" and self._in_total:
            name = next(k[5:-4] for k in a if k.startswith("data-") and k.endswith("-fen"))
            self.total_row[name] = int(a[f"data-{name}-fen"] or 0)

    def handle_endtag(self, tag: str) -> None:
        if tag == "b":
            self._in_bold = False
        elif tag == "div":
            self._card = None
        elif tag == "table":
            self._in_table = self._in_total = False

    def handle_data(self, data: str) -> None:
        if self._in_bold and self._card:
            self.cards[self._card] = (self.cards[self._card][0], data)


def from_html(page: str) -> tuple[Figures, Figures]:
    """(the cards at the top, the areas table's total row); the cards show the yuan of their fen."""
    parser = _Page()
    parser.feed(page)
    for name, (value, shown) in parser.cards.items():
        assert fen(shown) == value, name
    cards, row = {k: v for k, (v, _) in parser.cards.items()}, parser.total_row
    names = {"owed": "owed", "paid": "net-paid", "due": "outstanding"}
    shown = {f"{p}_{k}": cards[f"{p}-{n}"] for p in PAYERS for k, n in names.items()}
    shown |= {"to_recover": cards["to-recover"], "gap": cards["gap"]}
    table = {f"{p}_{k}": row[f"{p}-{n}"] for p in PAYERS for k, n in (*names.items(), ("to_recover", "to-recover"))}
    return shown, table | {"gap": row["gap"]}


SHEET = {"owed": "应付", "paid": "已付(净额)", "due": "未付", "to_recover": "待追回"}
LEVEL = {"city": "市级", "county": "县级"}


def from_sheet(header: list[Any], total: list[Any]) -> Figures:
    """The 合计 row of the shares table, as the CSV file and the xlsx sheet have it."""
    assert total[0] == "合计"
    found = {f"{p}_{k}": fen(total[header.index(LEVEL[p] + name)]) for p in PAYERS for k, name in SHEET.items()}
    return found | {"gap": fen(total[header.index("两级差额")])}


def from_beancount(path: Path) -> dict[str, int]:
    """Owed, paid and the gap from the accounts' balances, summed from the postings (not the assertions):
    a treasury has paid out -paid, a payable holds paid - owed, the grants expenses both halves owed."""
    from beancount import loader
    from beancount.core import realization

    entries, errors, _ = loader.load_file(str(path))
    assert not errors, errors
    real = realization.realize(entries)

    def balance(account: str) -> int:
        node = realization.get(real, account)
        if node is None:
            return 0
        return fen(sum((p.units.number for p in realization.compute_balance(node) if p.units.currency == "CNY"),
                       Decimal(0)))

    paid = {"city": -balance("Assets:Treasury:City"), "county": -balance("Assets:Treasury:County")}
    owed = {p: paid[p] - balance(f"Liabilities:Payable:{p.title()}") for p in PAYERS}
    return {"city_owed": owed["city"], "county_owed": owed["county"], "city_paid": paid["city"],
            "county_paid": paid["county"], "gap": paid["city"] - paid["county"],
            "expenses": balance("Expenses:Grants")}


def every_output(url: str, tmp_path: Path, as_of: str | None) -> None:
    """Write every output of the ledger at ``url`` (as of ``as_of``) and check they give the same figures."""
    cut = ("--as-of", as_of) if as_of else ()
    shares = cli_json(url, "report", "shares", *cut)
    expected = from_json(shares["total"])

    # The JSON adds up: for each payer paid = owed - due + to recover; gap = city paid - county paid.
    for row in [shares["total"], *shares["areas"], *shares["measures"]]:
        figures = from_json(row)
        for p in PAYERS:
            assert figures[f"{p}_paid"] == figures[f"{p}_owed"] - figures[f"{p}_due"] + figures[f"{p}_to_recover"]
        assert figures["gap"] == figures["city_paid"] - figures["county_paid"]
    for key in expected:
        assert expected[key] == sum(from_json(a)[key] for a in shares["areas"]), key

    text = cli(url, "report", "shares", *cut, "--all")
    assert text.exit_code == 0, text.stderr
    assert from_text(text.stdout) == expected

    page_file = tmp_path / "report.html"
    assert cli(url, "report", "html", str(page_file), *cut).exit_code == 0
    cards, table = from_html(page_file.read_text(encoding="utf-8"))
    recover = expected["city_to_recover"] + expected["county_to_recover"]
    assert cards == {k: v for k, v in expected.items() if "to_recover" not in k} | {"to_recover": recover}
    assert table == expected

    out = tmp_path / "csv"
    assert cli(url, "export", "csv", str(out), *cut).exit_code == 0
    with (out / "shares.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert from_sheet(rows[0], rows[-1]) == expected

    from openpyxl import load_workbook

    book_file = tmp_path / "ledger.xlsx"
    assert cli(url, "export", "xlsx", str(book_file), *cut).exit_code == 0
    sheet = list(load_workbook(book_file)["分担"].iter_rows(values_only=True))
    assert from_sheet(list(sheet[0]), list(sheet[-1])) == expected

    bean = tmp_path / "ledger.beancount"
    assert cli(url, "export", "beancount", str(bean), *cut).exit_code == 0
    books = from_beancount(bean)
    assert books == {k: expected[k] for k in ("city_owed", "county_owed", "city_paid", "county_paid", "gap")} | {
        "expenses": expected["city_owed"] + expected["county_owed"]}

    # The other reports, summed, give the same totals.
    enterprises = cli_json(url, "report", "enterprise", *cut)["enterprises"]
    assert sum(e["awarded_fen"] for e in enterprises) == expected["city_owed"] + expected["county_owed"]
    for p in PAYERS:
        assert sum(e[f"{p}_paid_fen"] for e in enterprises) == expected[f"{p}_paid"]
    applications = cli_json(url, "report", "applications", *cut)["applications"]
    for p in PAYERS:
        assert sum(a[f"{p}_share_fen"] for a in applications) == expected[f"{p}_owed"]
        for k in ("paid", "outstanding", "to_recover"):
            assert sum(a[f"{p}_{k}_fen"] for a in applications) == expected[f"{p}_{'due' if k == 'outstanding' else k}"]
    assert sum(a["gap_fen"] for a in applications) == expected["gap"]
    reconcile = cli(url, "audit", "reconcile", "--json", *cut)
    assert reconcile.exit_code in (0, 8)
    assert json.loads(reconcile.stdout)["gap_fen"] == expected["gap"]


def test_every_output_gives_the_demo_ledgers_figures(db_url, tmp_path):
    assert cli(db_url, "demo").exit_code == 0
    every_output(db_url, tmp_path, None)
    total = cli_json(db_url, "report", "shares")["total"]
    # The numbers: 25,000.00 paid by the county on a revoked award is paid, and to recover.
    assert (total["county_paid_fen"], total["county_to_recover_fen"], total["gap_fen"]) == (239300000, 2500000,
                                                                                             47500000)
    every_output(db_url, tmp_path, "2024-03-31")


START = date(2023, 1, 2)


def random_history(seed: int, enterprises: int = 10) -> list[dict[str, Any]]:
    """Registrations, applications and approvals: most approved, each on a contract with fen, so some
    awards have an odd fen. What is paid on them is written once their halves are known (``moves``)."""
    rng = random.Random(seed)
    first: list[dict[str, Any]] = [{"op": "adopt-policy", "effective": "2022-09-01"}]
    for n in range(enterprises):
        uscc = make_uscc(f"91420303MA4F{seed % 10}{n:04d}")
        first.append({"op": "register", "uscc": uscc, "name": f"十堰测试{seed}-{n}有限公司", "area": rng.choice(AREAS)})
        contract = f"{rng.randint(20_000, 1_500_000)}.{rng.randint(0, 99):02d}"
        ref = f"R-{seed}-{n}"
        applied = START + timedelta(days=rng.randint(0, 60))
        first.append({"op": "apply", "ref": ref, "uscc": uscc, "measure": "M03-security", "project": f"P{n}",
                      "date": applied.isoformat(),
                      "facts": {"city_enterprises": 11, "annual_revenue_yuan": "500万", "contract_yuan": contract}})
        if rng.random() < 0.85:
            first.append({"op": "approve", "ref": ref, "date": (applied + timedelta(days=10)).isoformat()})
    return first


def moves(seed: int, awards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Payments (whole or part of a half), reversals of some, revocations of some awards and recoveries of
    part or all of what was paid on them, in date order, every line one the ledger accepts."""
    rng = random.Random(seed * 7919)
    lines: list[dict[str, Any]] = []
    for award in awards:
        ref, day = award["ref"], date.fromisoformat(award["decided_on"]) + timedelta(days=1)
        left = {p: award[f"{p}_share_fen"] for p in PAYERS}
        paid: dict[str, int] = dict.fromkeys(PAYERS, 0)
        vouchers: list[tuple[str, str, int]] = []
        for step in range(rng.randint(0, 6)):
            day += timedelta(days=rng.randint(1, 40))
            payer = rng.choice(PAYERS)
            roll = rng.random()
            if roll < 0.25 and vouchers:
                voucher_payer, voucher, amount = vouchers.pop(rng.randrange(len(vouchers)))
                lines.append({"op": "reverse-payment", "ref": ref, "payer": voucher_payer, "voucher": voucher,
                              "date": day.isoformat(), "reason": "录错"})
                left[voucher_payer] += amount
                paid[voucher_payer] -= amount
            elif left[payer] > 0:
                amount = left[payer] if rng.random() < 0.6 else rng.randint(1, left[payer])
                voucher = f"V-{ref}-{step}"
                lines.append({"op": "pay", "ref": ref, "payer": payer, "amount_fen": amount, "voucher": voucher,
                              "date": day.isoformat()})
                vouchers.append((payer, voucher, amount))
                left[payer] -= amount
                paid[payer] += amount
        if rng.random() < 0.3:
            day += timedelta(days=rng.randint(1, 60))
            lines.append({"op": "revoke", "ref": ref, "date": day.isoformat(), "reason": "不符合条件",
                          "document": f"十经信〔2024〕{rng.randint(1, 99)}号"})
            for n, payer in enumerate(PAYERS):
                if paid[payer] > 0 and rng.random() < 0.7:
                    day += timedelta(days=rng.randint(1, 30))
                    amount = paid[payer] if rng.random() < 0.5 else rng.randint(1, paid[payer])
                    lines.append({"op": "recover", "ref": ref, "payer": payer, "amount_fen": amount,
                                  "voucher": f"SR-{ref}-{n}", "date": day.isoformat(), "reason": "追回"})
    return lines


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_output_gives_the_same_figures_on_a_random_history(db_url, tmp_path, seed):
    first = random_history(seed)
    assert cli(db_url, "import", str(write_lines(tmp_path / "first.jsonl", first))).exit_code == 0
    awards = [a for a in cli_json(db_url, "report", "applications")["applications"] if a["status"] == "approved"]
    assert any(a["city_share_fen"] != a["county_share_fen"] for a in awards)  # an odd fen, the city's
    later = moves(seed, awards)
    result = cli(db_url, "import", str(write_lines(tmp_path / "moves.jsonl", later)))
    assert result.exit_code == 0, result.stdout + result.stderr
    total = cli_json(db_url, "report", "shares")["total"]
    assert total["city_paid_fen"] + total["county_paid_fen"] > 0
    every_output(db_url, tmp_path, None)
    days = sorted({line["date"] for line in later})
    for as_of in (days[len(days) // 3], days[2 * len(days) // 3]):
        every_output(db_url, tmp_path, as_of)


def test_the_random_histories_hold_every_kind_of_correction():
    """The seeds above are not trivial: among them, payments, reversals, revocations and recoveries."""
    kinds: set[str] = set()
    for seed in (1, 2, 3):
        first = random_history(seed)
        awards = [{"ref": a["ref"], "decided_on": "2023-03-01", "city_share_fen": 5001, "county_share_fen": 5000}
                  for a in first if a["op"] == "approve"]
        kinds |= {line["op"] for line in moves(seed, awards)}
    assert {"pay", "reverse-payment", "revoke", "recover"} <= kinds
