"""Exports for the tools auditors use: CSV (UTF-8 with BOM, for Excel and WPS), xlsx (one
sheet per table, Chinese headers, yuan with two decimals) and a Beancount ledger whose
balances are asserted against ``report shares``. Everything is read from the read models
(live, or rebuilt as known at a moment), cut at an as-of date like the reports."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from ledger.domain.areas import AREAS, CITY, COUNTY
from projections import figures, reports, schema
from projections import known_at as known

MONEY, TEXT = "money", "text"


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    kind: str = TEXT


@dataclass(frozen=True)
class Table:
    name: str
    zh: str
    columns: Sequence[Column]
    rows: list[dict[str, Any]]


_ENTRY = [Column("position", "日志位置"), Column("date", "日期"), Column("ref", "申报编号"),
          Column("uscc", "统一社会信用代码"), Column("area", "区域"), Column("measure", "措施")]
_SHARES = [Column("city_owed_fen", "市级应付", MONEY), Column("city_paid_fen", "市级已付(净额)", MONEY),
           Column("city_to_recover_fen", "市级待追回", MONEY), Column("city_outstanding_fen", "市级未付", MONEY),
           Column("county_owed_fen", "县级应付", MONEY), Column("county_paid_fen", "县级已付(净额)", MONEY),
           Column("county_to_recover_fen", "县级待追回", MONEY), Column("county_outstanding_fen", "县级未付", MONEY),
           Column("gap_fen", "两级差额", MONEY)]


def tables(engine: Engine, as_of: date | None, *, known_at: datetime | None = None) -> list[Table]:
    apps = reports.applications_report(engine, as_of, known_at=known_at)["applications"]
    shares = reports.shares_report(engine, as_of, known_at=known_at)
    x = known.entries(known_at)
    query = select(x).order_by(x.c.date, x.c.position)
    if as_of is not None:
        query = query.where(x.c.date <= as_of)
    with engine.connect() as conn:
        entries = [dict(r._mapping) for r in conn.execute(query)]
    for e in entries:
        e["date"] = e["date"].isoformat()

    def kind(*kinds: str) -> list[dict[str, Any]]:
        return [e for e in entries if e["kind"] in kinds]

    return [
        Table("applications", "申请", [
            Column("ref", "申报编号"), Column("uscc", "统一社会信用代码"), Column("measure", "措施"),
            Column("project", "项目"), Column("applied_on", "申请日期"), Column("status", "状态"),
            Column("decided_on", "决定日期"), Column("revoked_on", "撤销日期"),
            Column("awarded_fen", "核定金额", MONEY), Column("city_share_fen", "市级分担", MONEY),
            Column("county_share_fen", "县级分担", MONEY), Column("city_paid_fen", "市级已付", MONEY),
            Column("county_paid_fen", "县级已付", MONEY), Column("city_outstanding_fen", "市级未付", MONEY),
            Column("county_outstanding_fen", "县级未付", MONEY), Column("city_to_recover_fen", "市级待追回", MONEY),
            Column("county_to_recover_fen", "县级待追回", MONEY)], apps),
        Table("decisions", "核定与撤销", [*_ENTRY, Column("kind", "类别"), Column("amount_fen", "金额", MONEY),
                                      Column("city_fen", "市级", MONEY), Column("county_fen", "县级", MONEY)],
              kind(*schema.OWED_KINDS)),
        Table("payments", "支付", [*_ENTRY, Column("payer", "付款方"), Column("voucher", "凭证号"),
                                   Column("amount_fen", "金额", MONEY)], kind(schema.PAYMENT)),
        Table("reversals", "冲销", [*_ENTRY, Column("payer", "付款方"), Column("voucher", "凭证号"),
                                    Column("amount_fen", "金额(负数)", MONEY)], kind(schema.REVERSAL)),
        Table("recoveries", "追回", [*_ENTRY, Column("payer", "付款方"), Column("voucher", "收款凭证号"),
                                     Column("amount_fen", "金额(负数)", MONEY)], kind(schema.RECOVERY)),
        Table("shares", "分担", [Column("area", "区域"), *_SHARES],
              [*shares["areas"], {"area": "合计", **shares["total"]}]),
        Table("external_awards", "其他政策奖励", [Column("position", "日志位置"), Column("date", "日期"),
                                               Column("uscc", "统一社会信用代码"), Column("area", "区域"),
                                               Column("policy", "政策"), Column("amount_fen", "金额", MONEY)],
              kind(schema.EXTERNAL)),
    ]


def yuan(fen: int | None) -> Decimal | None:
    return None if fen is None else (Decimal(fen) / 100).quantize(Decimal("0.01"))


# A text cell beginning with one of these is read as a formula (or by some programs as the start of
# one) when a spreadsheet opens the file: a ref "=HYPERLINK(...)" or a project "@SUM(...)" would run.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(text: str) -> str:
    """A text cell as OWASP advises against CSV injection: a single quote before a leading ``=``, ``+``,
    ``-``, ``@``, TAB or CR, so a spreadsheet shows the text and never evaluates it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _cell(column: Column, value: Any) -> Any:
    """A cell as both exports write it: money as yuan numbers, text never a formula."""
    if column.kind == MONEY:
        return yuan(value)
    if value is None:
        return ""
    return neutralised(value) if isinstance(value, str) else value


Progress = Callable[[int], None] | None  # told the rows written so far, after each table


def write_csv(directory: Path, all_tables: list[Table], progress: Progress = None) -> dict[str, int]:
    """One file per table, ``<name>.csv``, UTF-8 with a BOM, Chinese headers, amounts in yuan; text cells
    never formulas (``neutralised``)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = 0
    for table in all_tables:
        with (directory / f"{table.name}.csv").open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow([c.zh for c in table.columns])
            for row in table.rows:
                writer.writerow([_cell(c, row.get(c.key)) for c in table.columns])
        written += len(table.rows)
        if progress is not None:
            progress(written)
    return {t.name: len(t.rows) for t in all_tables}


def write_xlsx(path: Path, all_tables: list[Table], progress: Progress = None) -> dict[str, int]:
    """One sheet per table (named in Chinese), Chinese headers, amounts as yuan numbers shown with two decimals;
    text cells strings (data type ``s``), neutralised as in the CSV files, so none is a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    written = 0
    for table in all_tables:
        sheet = book.create_sheet(table.zh)
        sheet.append([c.zh for c in table.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        text = [n for n, c in enumerate(table.columns, 1) if c.kind == TEXT]
        for row in table.rows:
            sheet.append([_cell(c, row.get(c.key)) for c in table.columns])
            for n in text:  # a string, whatever it begins with (openpyxl makes "=..." a formula)
                cell = sheet.cell(row=sheet.max_row, column=n)
                if isinstance(cell.value, str):
                    cell.data_type = "s"
        for n, column in enumerate(table.columns, 1):
            letter = sheet.cell(row=1, column=n).column_letter
            sheet.column_dimensions[letter].width = max(10, 2 * len(column.zh) + 2)
            if column.kind == MONEY:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=n, max_col=n):
                    cell.number_format = "#,##0.00"
        sheet.freeze_panes = "A2"
        written += len(table.rows)
        if progress is not None:
            progress(written)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return {t.name: len(t.rows) for t in all_tables}


# --- Beancount -----------------------------------------------------------------------

AREA_ACCOUNTS = {  # Beancount account names are ASCII here (pinyin of each area)
    "茅箭区": "Maojian", "张湾区": "Zhangwan", "郧阳区": "Yunyang", "丹江口市": "Danjiangkou", "郧西县": "Yunxi",
    "竹山县": "Zhushan", "竹溪县": "Zhuxi", "房县": "Fangxian", "十堰经济技术开发区": "ShiyanETDZ",
    "武当山旅游经济特区": "Wudangshan",
}
assert set(AREA_ACCOUNTS) == set(AREAS)


def payable(payer: str, area: str) -> str:
    return "Liabilities:Payable:City" if payer == CITY else f"Liabilities:Payable:County:{AREA_ACCOUNTS[area]}"


def treasury(payer: str, area: str) -> str:
    return "Assets:Treasury:City" if payer == CITY else f"Assets:Treasury:County:{AREA_ACCOUNTS[area]}"


def expense(measure: str) -> str:
    return f"Expenses:Grants:{measure}"


def _amount(fen: int) -> str:
    return f"{yuan(fen)} CNY"


def _quote(text: Any) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def beancount_entries(engine: Engine, as_of: date | None, *, known_at: datetime | None = None) -> list[Any]:
    """The entries the Beancount ledger books, one transaction each (awards under other policies pay nothing)."""
    x = known.entries(known_at)
    query = select(x).where(x.c.kind != schema.EXTERNAL).order_by(x.c.date, x.c.position)
    if as_of is not None:
        query = query.where(x.c.date <= as_of)
    with engine.connect() as conn:
        return [r._mapping for r in conn.execute(query)]


def postings(e: Any) -> list[tuple[str, int]]:
    """The postings of one entry: what is owed (``schema.OWED_KINDS``: an award, a re-decision, a revocation's
    red ink) charges the measure's grant expense against the two payables; what is paid (a payment, a
    reversal or a recovery, negative) moves the payer's money between its treasury and its payable."""
    if e["kind"] in schema.OWED_KINDS:
        return [(expense(e["measure"]), e["amount_fen"]), (payable(CITY, e["area"]), -e["city_fen"]),
                (payable(COUNTY, e["area"]), -e["county_fen"])]
    return [(payable(e["payer"], e["area"]), e["amount_fen"]), (treasury(e["payer"], e["area"]), -e["amount_fen"])]


BEANCOUNT_STEP = 1000  # transactions between two reports of progress


def write_beancount(path: Path, engine: Engine, as_of: date | None, title: str, entries: list[Any] | None = None,
                    progress: Progress = None, *, known_at: datetime | None = None) -> dict[str, int]:
    """A double-entry ledger: each award charges its measure's grant expense and owes each payer its half
    (payables per treasury and area); payments move money from the treasury to settle the payable;
    revocations, reversals and recoveries are the same postings reversed. Balance assertions, dated the
    day after the last entry, state what ``report shares`` prints for each account. ``entries`` are
    ``beancount_entries(engine, as_of, known_at=known_at)`` when the caller has them already; ``progress`` is told the
    transactions written so far."""
    if entries is None:
        entries = beancount_entries(engine, as_of, known_at=known_at)
    shares = reports.shares_report(engine, as_of, known_at=known_at)
    measures = shares["measures"]
    first = min((e["date"] for e in entries), default=as_of or date(2022, 1, 1))
    last = max((e["date"] for e in entries), default=first)
    check_day = (as_of or last) + timedelta(days=1)
    accounts = {"Liabilities:Payable:City", "Assets:Treasury:City"}
    accounts |= {payable(COUNTY, a) for a in AREAS} | {treasury(COUNTY, a) for a in AREAS}
    accounts |= {expense(m["measure"]) for m in measures} | {expense(e["measure"]) for e in entries}
    lines = [f"; {title}", 'option "title" ' + _quote(title), 'option "operating_currency" "CNY"', ""]
    lines += [f"{first.isoformat()} open {a} CNY" for a in sorted(accounts)]
    lines.append("")
    for n, e in enumerate(entries, 1):
        narration = _quote(f"{e['kind']} {e['ref']}")
        head = (f"{e['date'].isoformat()} * {_quote(e['uscc'])} {narration}\n"
                f"  ref: {_quote(e['ref'])}\n  position: {e['position']}")
        if e["voucher"]:
            head += f"\n  voucher: {_quote(e['voucher'])}"
        lines.append(head + "".join(f"\n  {account}  {_amount(fen)}" for account, fen in postings(e)))
        lines.append("")
        if progress is not None and (n % BEANCOUNT_STEP == 0 or n == len(entries)):
            progress(n)
    day = check_day.isoformat()
    lines.append(f"; balances as report shares prints them{' as of ' + as_of.isoformat() if as_of else ''}: "
                 "a treasury has paid out its paid; a payable holds owed less paid (due less to recover)")
    total = shares["total"]
    lines.append(f"{day} balance Liabilities:Payable:City  "
                 f"{_amount(-figures.payable(total['city_owed_fen'], total['city_paid_fen']))}")
    lines.append(f"{day} balance Assets:Treasury:City  {_amount(-total['city_paid_fen'])}")
    by_area = {a["area"]: a for a in shares["areas"]}
    for area in AREAS:
        row = by_area.get(area, {"county_owed_fen": 0, "county_paid_fen": 0})
        lines.append(f"{day} balance {payable(COUNTY, area)}  "
                     f"{_amount(-figures.payable(row['county_owed_fen'], row['county_paid_fen']))}")
        lines.append(f"{day} balance {treasury(COUNTY, area)}  {_amount(-row['county_paid_fen'])}")
    for m in measures:
        lines.append(f"{day} balance {expense(m['measure'])}  {_amount(m['city_owed_fen'] + m['county_owed_fen'])}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"transactions": len(entries), "balance_assertions": 2 + 2 * len(AREAS) + len(measures)}
