"""Spreadsheets in: `grants template xlsx FILE` and the xlsx side of `grants import`.

Finance staff keep their lists in Excel or WPS. The template has one sheet per kind of
entry with Chinese headers (the English field name beside), drop-down lists for the
closed sets, and an instructions sheet. Importing a filled workbook turns every filled
row into the very dict a JSON line would be, serialises it, and hands the lines to the
same import machinery as a JSON Lines file: same parser, same rules, same refusals,
same exactly-once (the file is known by the digest of the converted lines, so the same
workbook again, even saved again, writes nothing). Cells are read strictly: a float
Excel made of an amount is taken only when it is an exact amount of fen; a formula, a
float with three decimals or a number where text belongs is refused, naming the sheet,
the row and the column, and the other rows go on.

Why one module of ~600 lines (issue 21 asks a reason above ~400): the template and the reader
are one contract (each sheet's headers, drop-down lists and cell rules are written and read
by the same tables here); kept together, a column cannot be added to one side only.
"""

from __future__ import annotations

import io
import json
import math
import warnings
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from commands import output
from commands.options import Json
from commands.output import handled
from ledger import i18n
from ledger.domain.areas import AREAS, PAYERS
from ledger.domain.money import MoneyError, format_fen, parse_yuan
from ledger.errors import INVALID_INPUT, invalid
from ledger.i18n import N_, _, ngettext
from ledger.policy import catalogue
from ledger.policy.facts import BOOL, CHOICE, DATE, DECIMAL, INT, TEXT, YEAR, YUAN, Fact, FactKind

TEXT_CELL, DATE_CELL, FEN_CELL, OP_CELL = "text", "date", "fen", "op"
MAX_ROWS = 5000  # rows the template's drop-down lists cover
EXACT_NUMBER = 10**15  # beyond 15 significant digits Excel has already rounded the number


@dataclass(frozen=True)
class Column:
    """One column of a sheet: the JSON field it fills, its Chinese name, how its cells are read."""

    field: str
    zh: str
    cell: str = TEXT_CELL
    fact: Fact | None = None
    choices: str | None = None  # the name of a drop-down list on the lists sheet

    @property
    def name(self) -> str:
        """The English name in the header: the field, or for an amount the yuan it is typed in."""
        if self.fact is not None:
            return self.fact.name
        return "amount_yuan" if self.cell == FEN_CELL else self.field

    @property
    def header(self) -> str:
        return f"{self.zh} {self.name}"


@dataclass(frozen=True)
class Sheet:
    key: str
    zh: str
    ops: tuple[str, ...]
    columns: tuple[Column, ...]
    about_zh: str
    about_en: str

    @property
    def title(self) -> str:
        return f"{self.zh} {self.key}"


def _fact_columns() -> tuple[Column, ...]:
    """One column per fact name over every measure (a name several measures share is one column)."""
    facts: dict[str, Fact] = {}
    zh: dict[str, list[str]] = {}
    choices: dict[str, list[str]] = {}
    for measure in catalogue().measures.values():
        for fact in measure.facts:
            facts.setdefault(fact.name, fact)
            if fact.kind != facts[fact.name].kind:  # pragma: no cover - the catalogue's test keeps names typed
                raise AssertionError(f"fact {fact.name} has two kinds")
            if fact.zh not in zh.setdefault(fact.name, []):
                zh[fact.name].append(fact.zh)
            choices.setdefault(fact.name, [])
            choices[fact.name] += [c for c in fact.choices if c not in choices[fact.name]]
    columns = []
    for name, fact in facts.items():
        listed = name if fact.kind == CHOICE else ("boolean" if fact.kind == BOOL else None)
        columns.append(Column(f"facts.{name}", "/".join(zh[name]), DATE_CELL if fact.kind == DATE else TEXT_CELL,
                              fact=Fact(name, fact.kind, "/".join(zh[name]), fact.en, tuple(choices[name])),
                              choices=listed))
    return tuple(columns)


def sheets() -> tuple[Sheet, ...]:
    facts = _fact_columns()
    ref, uscc, by = Column("ref", "申报编号"), Column("uscc", "统一社会信用代码"), Column("by", "经办人")
    return (
        Sheet("enterprises", "企业", ("register",), (
            uscc, Column("name", "企业名称"), Column("area", "所属区域", choices="areas"),
            Column("date", "登记日期", DATE_CELL), by),
              "企业登记 (register): 每行一家企业。", "Enterprises (register): one enterprise a row."),
        Sheet("external_awards", "其他政策奖励", ("external-award",), (
            uscc, Column("project", "项目名称"), Column("policy", "政策名称"),
            Column("amount_fen", "奖励金额(元)", FEN_CELL), Column("date", "奖励日期", DATE_CELL),
            Column("note", "备注(如文号)"), by),
              "其他政策奖励 (external-award): 企业按本市其他政策就同一项目获得的奖励,每行一项;用于就高不重复,"
              "本账本不据此支付。项目名称须与申请中的项目名称一致。",
              "Awards under other policies (external-award): one award a row that the enterprise got for a project "
              "under another city policy; it counts for 就高不重复 and pays nothing here. Name the project as the "
              "applications do."),
        Sheet("applications", "申请", ("apply",), (
            ref, uscc, Column("measure", "措施", choices="measures"), Column("project", "项目名称"),
            Column("date", "申请日期", DATE_CELL), by, *facts),
              "申请 (apply): 每行一项申请;只填所选措施的事实列,其余留空。",
              "Applications (apply): one a row; fill only the fact columns of the row's measure."),
        Sheet("decisions", "决定", ("approve", "reject"), (
            Column("op", "操作", OP_CELL, choices="decision_ops"), ref, Column("date", "决定日期", DATE_CELL),
            Column("amount_fen", "核定金额(元)", FEN_CELL), Column("basis", "核定依据"),
            Column("reason", "不予支持理由"), by),
              "决定: approve 核定(金额只用于一事一议或低于条款金额,附依据) / reject 不予支持(填理由)。",
              "Decisions: approve (amount only for case-by-case or a lower amount, with its basis) or reject "
              "(with a reason)."),
        Sheet("payments", "支付", ("pay",), (
            ref, Column("payer", "支付方", choices="payers"), Column("amount_fen", "支付金额(元)", FEN_CELL),
            Column("voucher", "凭证号"), Column("date", "支付日期", DATE_CELL), by),
              "支付 (pay): 支付方 city 市级财政 / county 企业所在区域财政;金额以元计。",
              "Payments (pay): payer city or county; the amount in yuan."),
        Sheet("corrections", "更正", ("amend", "withdraw", "revoke", "reverse-payment", "recover"), (
            Column("op", "操作", OP_CELL, choices="correction_ops"), ref, Column("date", "日期", DATE_CELL),
            Column("reason", "理由"), Column("document", "撤销文件"), Column("payer", "支付方", choices="payers"),
            Column("voucher", "凭证号/收据号"), Column("amount_fen", "追回金额(元)", FEN_CELL), by, *facts),
              "更正: amend 补正(填全部新事实) / withdraw 撤回 / revoke 撤销(填文件) / reverse-payment 红字冲销"
              "(支付方、凭证号) / recover 追回(支付方、收据号、金额)。",
              "Corrections: amend (the whole new set of facts), withdraw, revoke (with the document), "
              "reverse-payment (payer, voucher), recover (payer, receipt, amount)."),
    )


def _sheet(key: str) -> Sheet:
    return next(s for s in sheets() if s.key == key)


LISTS_TITLE = "列表 lists"
INSTRUCTIONS_TITLE = "说明 instructions"


def _lists() -> dict[str, list[str]]:
    measures = catalogue().measures
    lists: dict[str, list[str]] = {"areas": list(AREAS), "measures": list(measures), "payers": [str(p) for p in PAYERS],
                                   "decision_ops": ["approve", "reject"],
                                   "correction_ops": list(_sheet("corrections").ops), "boolean": ["true", "false"]}
    for column in _fact_columns():
        if column.fact is not None and column.fact.kind == CHOICE:
            lists[column.fact.name] = list(column.fact.choices)
    return lists


INSTRUCTIONS = (
    ("用途", "Purpose",
     "填好后用 grants import 文件.xlsx 导入;规则与拒绝理由同 JSON Lines 导入。",
     "Fill it in and run grants import FILE.xlsx; the rules and refusals are those of a JSON Lines import."),
    ("表头", "Headers",
     "每列表头为中文名和英文字段名;不要改表头,不要增加列。第1行之后每行一条记录,空行跳过。",
     "Each header is the Chinese name and the English field; keep headers, add no columns. One entry a row "
     "after row 1; blank rows are skipped."),
    ("顺序", "Order",
     "所有工作表的行按日期排序后逐条导入;同一日期按工作表顺序(企业、其他政策奖励、申请、决定、支付、更正)和行号。",
     "Rows of all sheets are applied by date; on the same date in sheet order (enterprises, awards under other "
     "policies, applications, decisions, payments, corrections), then by row."),
    ("其他政策奖励", "Other policies",
     "企业按本市其他政策获得的奖励填入“其他政策奖励”工作表:同一项目就高不重复,后来的较高奖励只补差额。",
     "Awards the enterprise got under another city policy go on the sheet 其他政策奖励 external_awards: on the "
     "same project the highest award counts and is not duplicated (就高不重复)."),
    ("金额", "Amounts",
     "以元填写:2000000、2000000.00、2,000,000 或 200万;最多两位小数。公式不接受,请粘贴为数值。",
     "In yuan: 2000000, 2000000.00, 2,000,000 or 200万; at most two decimals. Formulas are refused: paste "
     "values."),
    ("日期", "Dates",
     "日期单元格或文本 YYYY-MM-DD;不得晚于录入当天。",
     "A date cell or text YYYY-MM-DD; not later than the day of recording."),
    ("编号", "Codes",
     "统一社会信用代码、凭证号等请设为文本格式,以免 Excel 改写数字。",
     "Format USCCs, vouchers and refs as text so that Excel does not rewrite them as numbers."),
    ("重复导入", "Again",
     "同一工作簿再次导入不会重复记账;被拒绝的行改正后可再导入。",
     "Importing the same workbook again records nothing twice; correct refused rows and import again."),
)


def write_template(path: Path) -> dict[str, int]:
    """The blank workbook: instructions, one sheet per kind of entry, drop-down lists."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    guide = book.active
    guide.title = INSTRUCTIONS_TITLE
    guide.append(["项目", "Item", "说明", "Explanation"])
    for row in INSTRUCTIONS:
        guide.append(list(row))
    guide.append([])
    guide.append(["工作表", "Sheet", "内容", "Content"])
    all_sheets = sheets()
    for sheet in all_sheets:
        guide.append([sheet.title, ", ".join(sheet.ops), sheet.about_zh, sheet.about_en])
    guide.append([])
    guide.append(["措施", "Measure", "事实列", "Fact columns"])
    for measure in catalogue().measures.values():
        guide.append([measure.title_zh, measure.id, "、".join(f.zh for f in measure.facts) or "无",
                      ", ".join(f.name + ("" if f.required else " (optional)") for f in measure.facts) or "none"])
    for width, letter in zip((16, 16, 70, 70), "ABCD", strict=True):
        guide.column_dimensions[letter].width = width
    for cells in guide.iter_rows():
        for cell in cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    lists = book.create_sheet(LISTS_TITLE)
    ranges: dict[str, str] = {}
    for n, (name, values) in enumerate(_lists().items(), 1):
        letter = get_column_letter(n)
        lists.cell(row=1, column=n, value=name)
        for r, value in enumerate(values, 2):
            lists.cell(row=r, column=n, value=value)
        ranges[name] = f"'{LISTS_TITLE}'!${letter}$2:${letter}${len(values) + 1}"
    lists.sheet_state = "hidden"

    for sheet in all_sheets:
        ws = book.create_sheet(sheet.title)
        ws.append([c.header for c in sheet.columns])
        for n, column in enumerate(sheet.columns, 1):
            cell = ws.cell(row=1, column=n)
            cell.font = Font(bold=True)
            letter = get_column_letter(n)
            ws.column_dimensions[letter].width = max(14, 2 * len(column.zh) + len(column.name) + 2)
            if column.fact is not None:
                uses = [m.id for m in catalogue().measures.values() if column.fact.name in {f.name for f in m.facts}]
                cell.comment = Comment(f"{column.fact.describe()}; measures: {', '.join(uses)}", "grants")
            if column.cell in (TEXT_CELL, OP_CELL) and column.fact is None:
                for (body,) in ws.iter_rows(min_row=2, max_row=MAX_ROWS, min_col=n, max_col=n):
                    body.number_format = "@"  # text: Excel keeps codes and refs as typed
            if column.cell == DATE_CELL:
                for (body,) in ws.iter_rows(min_row=2, max_row=MAX_ROWS, min_col=n, max_col=n):
                    body.number_format = "yyyy-mm-dd"
            if column.choices is not None:
                check = DataValidation(type="list", formula1=ranges[column.choices], allow_blank=True,
                                       showErrorMessage=True, errorTitle=column.header,
                                       error="请从列表中选择 / choose from the list")
                ws.add_data_validation(check)
                check.add(f"{letter}2:{letter}{MAX_ROWS}")
        ws.freeze_panes = "A2"
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return {s.key: len(s.columns) for s in all_sheets}


# --- reading a filled workbook ---------------------------------------------------------------


class CellError(ValueError):
    """A cell that cannot be read as its column asks; the message says why and what to type."""

    def __init__(self, column: Column, message: str) -> None:
        super().__init__(message)
        self.column = column


def _exact(value: float, column: Column) -> Decimal:
    """A float Excel stored, as the exact decimal it shows (its shortest repr), or refused."""
    if not math.isfinite(value):
        raise CellError(column, _("{value} is not a number").format(value=repr(value)))
    return Decimal(repr(value))


def _decimals(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f") if number != number.to_integral_value() else str(int(number))


def _whole(value: Any, column: Column) -> int | None:
    """An int, or a float Excel made of one (220.0); None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float):
        number = _exact(value, column)
        if number == number.to_integral_value() and abs(number) < EXACT_NUMBER:
            return int(number)
    return None


def _text_cell(value: Any, column: Column) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return value
    whole = _whole(value, column)
    if whole is not None and abs(whole) < EXACT_NUMBER:
        return str(whole)
    if isinstance(value, (int, float)):
        raise CellError(column, _("{value} is a number Excel may have rounded or rewritten; format the column as "
                                  "text and type the value again").format(value=repr(value)))
    if isinstance(value, (datetime, date, time)):
        raise CellError(column, _("Excel turned this cell into a date or time ({value}); format the column as text "
                                  "and type the value again").format(value=value))
    raise CellError(column, _("{value} is not text").format(value=repr(value)))


def _date_cell(value: Any, column: Column) -> Any:
    if isinstance(value, datetime):
        if value.time() != time(0, 0):
            raise CellError(column, _("{value} has a time of day; a date is expected").format(
                value=value.isoformat(sep=" ")))
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    raise CellError(column, _("{value} is not a date; use a date cell or the text YYYY-MM-DD").format(
        value=repr(value)))


def _fen_cell(value: Any, column: Column) -> int:
    """An amount of yuan (a number, or text such as 2,000,000 or 200万) to integer fen, exactly."""
    if isinstance(value, float):
        number = _exact(value, column)
        if _decimals(number) > 2:
            raise CellError(column, _("{value} has more than two decimals; an amount of yuan is exact to the fen "
                                      "(round it in Excel, or type it as text such as 1234.56)").format(
                                          value=repr(value)))
        value = _plain(number) if number < 0 or _decimals(number) else int(number)
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        raise CellError(column, _("{value} is negative; amounts are more than 0").format(value=value))
    try:
        return parse_yuan(value)
    except MoneyError as exc:
        raise CellError(column, str(exc)) from None


def _fact_cell(value: Any, column: Column) -> Any:
    """A fact in the form the JSON line carries it: integers, decimal and yuan strings, booleans, text."""
    fact = column.fact
    assert fact is not None
    kind: FactKind = fact.kind
    if kind == DATE:
        return _date_cell(value, column)
    if isinstance(value, (datetime, date, time)):
        raise CellError(column, _("Excel turned this cell into a date ({value}); expected {expected}").format(
            value=value, expected=fact.describe()))
    if kind in (INT, YEAR):
        whole = _whole(value, column)
        if whole is not None:
            return whole
        if isinstance(value, float):
            raise CellError(column, _("{value} is not a whole number; expected {expected}").format(
                value=repr(value), expected=fact.describe()))
        return value
    if kind == DECIMAL:
        if isinstance(value, float):
            return _plain(_exact(value, column))
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if kind == YUAN:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return format_fen(_fen_cell(value, column)).replace(",", "")
        return value
    if kind == BOOL:
        if isinstance(value, str) and value.strip() in ("是", "否"):
            return value.strip() == "是"
        return value
    if kind in (CHOICE, TEXT):
        return _text_cell(value, column)
    raise AssertionError(f"unknown fact kind {kind}")  # pragma: no cover


def read_cell(value: Any, column: Column) -> Any:
    """One non-empty cell as its JSON value (raises CellError)."""
    if isinstance(value, str) and value.startswith("="):
        raise CellError(column, _("holds a formula ({formula}); paste the value instead (粘贴为数值)").format(
            formula=value[:40]))
    if column.fact is not None:
        return _fact_cell(value, column)
    if column.cell == DATE_CELL:
        return _date_cell(value, column)
    if column.cell == FEN_CELL:
        return _fen_cell(value, column)
    return _text_cell(value, column)


@dataclass(frozen=True)
class Where:
    sheet: str
    row: int
    columns: dict[str, str]  # JSON field -> "D 金额(元) amount_yuan"


@dataclass
class Workbook:
    """A filled workbook, converted: the JSON lines to import, and where each came from."""

    jsonl: bytes
    where: list[Where]  # by line number - 1
    refused: list[dict[str, Any]] = field(default_factory=list)  # rows refused while reading their cells

    def annotate(self, result: dict[str, Any]) -> None:
        """Name the sheet, row and column of every refusal and warning; add the rows refused while reading."""
        for entry in [*result["refused"], *result["warnings"]]:
            place = self.where[entry["line"] - 1]
            column = place.columns.get(entry.get("field", ""), "")
            entry.update(sheet=place.sheet, row=place.row, column=column)
            entry["message"] = _where(place.sheet, place.row, column, entry["message"])
        result["refused"] = sorted([*result["refused"], *self.refused], key=lambda r: r["line"])
        codes: dict[str, int] = {}
        for r in result["refused"]:
            codes[r["code"]] = codes.get(r["code"], 0) + 1
        result["refused_by_code"] = dict(sorted(codes.items(), key=lambda kv: -kv[1]))


OLD_EXCEL = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls (Excel 97-2003) and .et, a compound file


def is_workbook(data: bytes) -> bool:
    """A zip (xlsx) or an old binary workbook (refused with what to do), rather than JSON Lines."""
    return data.startswith((b"PK\x03\x04", OLD_EXCEL))


def _header_name(value: Any) -> str:
    return str(value).split()[-1] if isinstance(value, str) and value.strip() else ""


def _rows(ws: Any, sheet: Sheet) -> Iterable[tuple[int, dict[str, tuple[str, Any]], dict[str, str]]]:
    """Each filled row: its number, {field: (label, value)} and the labels of the sheet's columns."""
    by_name = {c.name: c for c in sheet.columns}
    header = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())
    columns: dict[int, Column] = {}
    for n, value in enumerate(header):
        name = _header_name(value)
        if not name:
            continue
        if name not in by_name:
            raise invalid("file", _("sheet {sheet}, column {n} ({header}) is not a column of this sheet; its "
                                    "columns are: {columns} (write the template again with `grants template xlsx "
                                    "FILE`)").format(sheet=repr(ws.title), n=n + 1, header=repr(value),
                                                     columns=", ".join(by_name)))
        columns[n] = by_name[name]
    from openpyxl.utils import get_column_letter

    labels = {c.field: f"{get_column_letter(n + 1)} {c.header}" for n, c in columns.items()}
    for number, cells in enumerate(ws.iter_rows(min_row=2, values_only=True), 2):
        filled = {columns[n].field: value for n, value in enumerate(cells)
                  if n in columns and value is not None and not (isinstance(value, str) and not value.strip())}
        if filled:
            yield number, {f: (labels[f], v) for f, v in filled.items()}, labels


def read_workbook(data: bytes) -> Workbook:
    """The rows of a filled template as JSON lines, ordered by date (as read, ``_day``), then sheet, then row."""
    from openpyxl import load_workbook

    if data.startswith(OLD_EXCEL):
        raise invalid("file", _("is an old-format workbook (.xls); save it as .xlsx (Excel 工作簿) and import that"))
    try:
        with warnings.catch_warnings():  # Excel's extensions openpyxl does not keep (kept lists, slicers)
            warnings.simplefilter("ignore", UserWarning)
            book = load_workbook(io.BytesIO(data), data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise invalid("file", _("is not an xlsx workbook Excel or WPS saved ({kind}: {error})").format(
            kind=type(exc).__name__, error=exc)) from None
    all_sheets = sheets()
    known = {s.key: s for s in all_sheets}
    known.update({s.zh: s for s in all_sheets})  # a sheet renamed to its Chinese name alone
    entries: list[tuple[tuple[date, int, int], bytes, Where, dict[str, Any] | None]] = []
    for ws in book.worksheets:
        sheet = next((known[t] for t in ws.title.split() if t in known), None)
        if sheet is None:
            if ws.title not in (INSTRUCTIONS_TITLE, LISTS_TITLE):
                raise invalid("file", _("sheet {sheet} is not a sheet of the template; its sheets are: {sheets} "
                                        "(move other sheets to another workbook)").format(
                                            sheet=repr(ws.title), sheets=", ".join(s.title for s in all_sheets)))
            continue
        order = [s.key for s in all_sheets].index(sheet.key)
        for number, filled, labels in _rows(ws, sheet):
            line, problem = _line(sheet, filled)
            key = (_day(line.get("date")), order, number)
            where = Where(ws.title, number, labels)
            if problem is None:
                entries.append((key, json.dumps(line, ensure_ascii=False).encode("utf-8"), where, None))
                continue
            name, label, message = problem
            refusal = {"code": INVALID_INPUT, "field": name, "sheet": ws.title, "row": number, "column": label,
                       "message": _where(ws.title, number, label, message)}
            # The note is part of the converted lines, whose digest identifies the workbook: the same in every
            # language, as it was written before there was a choice (English, the row in both).
            with output.english():
                english = _why(filled[name][1], sheet, name)
            note = {"sheet": ws.title, "row": number,
                    "refused": f"{ws.title} 第{number}行 row {number}, {label}: {english}"}
            entries.append((key, b"# " + json.dumps(note, ensure_ascii=False).encode("utf-8"), where, refusal))
    if not any(t in known for ws in book.worksheets for t in ws.title.split()):
        raise invalid("file", _("holds none of the template's sheets ({sheets}); write one with `grants template "
                                "xlsx FILE`").format(sheets=", ".join(s.title for s in all_sheets)))
    entries.sort(key=lambda e: e[0])
    refused = [{"line": n, **e[3]} for n, e in enumerate(entries, 1) if e[3] is not None]
    return Workbook(b"".join(e[1] + b"\n" for e in entries), [e[2] for e in entries], refused)


def _day(value: Any) -> date:
    """The day a row is ordered by: its date read as the import reads it (every form it accepts: a date
    cell, 2025-01-08, 2025/1/8, 2025年1月8日); a row without one, or with one the import will refuse,
    comes first (the date as typed would put 2025/1/8 after 2025-01-10)."""
    from ledger.policy.facts import parse_date

    if isinstance(value, str):
        try:
            return parse_date(value)
        except ValueError:
            pass
    return date.min


def _where(sheet: str, row: int, column: str, message: str) -> str:
    """A message prefixed with the sheet, the row and (when known) the column it is about."""
    if column:
        return _("{sheet} row {row}, {column}: {message}").format(sheet=sheet, row=row, column=column,
                                                                  message=message)
    return _("{sheet} row {row}: {message}").format(sheet=sheet, row=row, message=message)


def _why(value: Any, sheet: Sheet, name: str) -> str:
    """Why a cell cannot be read, in the current language."""
    try:
        read_cell(value, next(c for c in sheet.columns if c.field == name))
    except CellError as exc:
        return str(exc)
    raise AssertionError("the cell was refused once and read the second time")  # pragma: no cover



def _line(sheet: Sheet, filled: dict[str, tuple[str, Any]]) -> tuple[dict[str, Any], tuple[str, str, str] | None]:
    """The JSON line of one row, and the first cell that could not be read (field, column, why)."""
    by_field = {c.field: c for c in sheet.columns}
    line: dict[str, Any] = {"op": sheet.ops[0]} if len(sheet.ops) == 1 else {}
    facts: dict[str, Any] = {}
    problem = None
    for name, (label, value) in filled.items():
        try:
            converted = read_cell(value, by_field[name])
        except CellError as exc:
            problem = problem or (name, label, str(exc))
            continue
        if name.startswith("facts."):
            facts[name.removeprefix("facts.")] = converted
        else:
            line[name] = converted
    if facts or line.get("op") in ("apply", "amend"):
        line["facts"] = facts
    return line, problem


# --- the command ------------------------------------------------------------------------------

template_app = typer.Typer(help=N_("Blank workbooks to fill in and import (grants import FILE.xlsx)."),
                           no_args_is_help=True)


@template_app.command("xlsx", help=N_(
    "A workbook to fill in Excel or WPS: one sheet per kind of entry (enterprises, external awards, applications, "
    "decisions, payments, corrections), Chinese sheet names and headers with the English field, drop-down lists, "
    "and an instructions sheet."))
@handled
def template_xlsx(file: Annotated[Path, typer.Argument(help=N_("The .xlsx file to write."))],
                  as_json: Json = False) -> None:
    columns = write_template(file)
    output.log.info("template", kind="xlsx")
    if as_json:
        output.emit_json({"template": "xlsx", "path": str(file), "columns": columns})
    else:
        zh = i18n.language() == "zh"
        shown = ", ".join(ngettext("{sheet} {count} column", "{sheet} {count} columns", count).format(
            sheet=sheet.zh if zh else sheet.key, count=count) for sheet, count in zip(sheets(), columns.values(),
                                                                                     strict=True))
        output.echo(_("template written to {file}: {sheets}").format(file=file, sheets=shown))
        output.echo(_("fill it in, then: grants import {file}").format(file=file))
