"""Spreadsheets in, as a finance clerk uses them: write the template, fill it in Excel (here
openpyxl, with the cells Excel really makes: floats, date cells, 万 strings), import it,
and find the same data as the JSON Lines import of the same entries gives; hostile cells
are refused naming sheet, row and column while the other rows apply; the same workbook
imported again writes nothing."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from commands.spreadsheet import CellError, read_cell, sheets
from ledger.policy import catalogue
from tests.conftest import USCC_A, USCC_B, new_ledger
from tests.e2e.test_import_experience import _events
from tests.helpers import cli, cli_json, write_lines

POLICY = [{"op": "adopt-policy", "effective": "2022-09-01"}]
REF = "SY-2023-0002"


def _template(tmp_path: Path) -> Any:
    path = tmp_path / "template.xlsx"
    result = cli(f"sqlite:///{tmp_path / 'unused.db'}", "template", "xlsx", str(path))
    assert result.exit_code == 0, result.stderr
    return load_workbook(path)


def _fill(book: Any, sheet: str, rows: list[dict[str, Any]]) -> None:
    """Type rows into a sheet by English field name (the header's last word)."""
    ws = next(w for w in book.worksheets if w.title.endswith(" " + sheet))
    columns = {cell.value.split()[-1]: cell.column for cell in ws[1]}
    for n, row in enumerate(rows, 2):
        for name, value in row.items():
            ws.cell(row=n, column=columns[name], value=value)


def _db(tmp_path: Path, name: str) -> str:
    db = new_ledger(tmp_path, name)
    assert cli(db, "import", str(write_lines(tmp_path / f"{name}.policy.jsonl", POLICY))).exit_code == 0
    return db


def _filled_workbook(tmp_path: Path) -> Path:
    book = _template(tmp_path)
    _fill(book, "enterprises", [{"uscc": USCC_B, "name": "十堰安盾网络安全服务有限公司", "area": "茅箭区",
                                 "date": datetime(2022, 10, 1)}])  # an Excel date cell
    _fill(book, "applications", [{"ref": REF, "uscc": USCC_B, "measure": "M03-security",
                                  "project": "HT-2022-087 安全运维合同", "date": datetime(2023, 3, 1),
                                  "city_enterprises": 14.0,  # Excel keeps every number as a float
                                  "annual_revenue_yuan": "620万", "contract_yuan": 860000.0}])
    _fill(book, "decisions", [{"op": "approve", "ref": REF, "date": "2023-03-20"}])
    _fill(book, "payments", [
        {"ref": REF, "payer": "county", "amount_yuan": "4.3万", "voucher": "MJ-2023-0050",
         "date": datetime(2023, 5, 6)},
        {"ref": REF, "payer": "city", "amount_yuan": 43000.0, "voucher": "SZ-2023-0402", "date": "2023-04-15"}])
    path = tmp_path / "filled.xlsx"
    book.save(path)
    return path


SAME_AS_JSONL = [
    {"op": "register", "uscc": USCC_B, "name": "十堰安盾网络安全服务有限公司", "area": "茅箭区", "date": "2022-10-01"},
    {"op": "apply", "ref": REF, "uscc": USCC_B, "measure": "M03-security", "project": "HT-2022-087 安全运维合同",
     "date": "2023-03-01", "facts": {"city_enterprises": 14, "annual_revenue_yuan": "620万",
                                     "contract_yuan": "860000.00"}},
    {"op": "approve", "ref": REF, "date": "2023-03-20"},
    {"op": "pay", "ref": REF, "payer": "city", "amount_fen": 4300000, "voucher": "SZ-2023-0402",
     "date": "2023-04-15"},
    {"op": "pay", "ref": REF, "payer": "county", "amount_fen": 4300000, "voucher": "MJ-2023-0050",
     "date": "2023-05-06"},
]


def _timeless(data: Any) -> Any:
    """The data without the moments of recording (the two ledgers were written a moment apart)."""
    if isinstance(data, dict):
        return {k: _timeless(v) for k, v in data.items() if k != "recorded_at"}
    return [_timeless(v) for v in data] if isinstance(data, list) else data


def test_a_filled_template_round_trips_to_the_same_data_as_the_jsonl_import(tmp_path):
    path = _filled_workbook(tmp_path)
    db = _db(tmp_path, "xlsx.db")
    result = cli_json(db, "import", str(path))
    assert (result["accepted"], result["refused"]) == (5, [])

    reference = _db(tmp_path, "jsonl.db")
    assert cli_json(reference, "import", str(write_lines(tmp_path / "same.jsonl", SAME_AS_JSONL)))["accepted"] == 5
    for report in (["report", "applications"], ["report", "shares"], ["show", REF]):
        assert _timeless(cli_json(db, *report)) == _timeless(cli_json(reference, *report)), report
    shown = cli_json(db, "show", REF)
    assert shown["facts"] == {"city_enterprises": 14, "annual_revenue_yuan": "6200000.00",
                              "contract_yuan": "860000.00"}

    export = tmp_path / "out.xlsx"
    assert cli(db, "export", "xlsx", str(export)).exit_code == 0
    applications = load_workbook(export)["申请"]
    header = [c.value for c in applications[1]]
    row = dict(zip(header, [c.value for c in applications[2]], strict=True))
    assert (row["申报编号"], row["统一社会信用代码"], row["核定金额"], row["市级已付"], row["县级已付"]) == (
        REF, USCC_B, 86000, 43000, 43000)


def test_importing_the_same_workbook_again_writes_nothing(tmp_path):
    path = _filled_workbook(tmp_path)
    db = _db(tmp_path, "l.db")
    first = cli_json(db, "import", str(path))
    events = _events(tmp_path / "l.db")
    again = cli_json(db, "import", str(path))
    assert _events(tmp_path / "l.db") == events
    assert (again["accepted"], again["already"], again["refused"]) == (first["accepted"], 5, [])


def test_hostile_cells_are_refused_naming_sheet_row_and_column_and_the_other_rows_apply(tmp_path):
    book = _template(tmp_path)
    _fill(book, "enterprises", [
        {"uscc": USCC_A, "name": "十堰数智科技有限公司", "area": "张湾区"},
        {"uscc": USCC_B, "name": "北京某公司", "area": "朝阳区"}])  # row 3: not an area of Shiyan
    _fill(book, "applications", [
        {"ref": "A-1", "uscc": USCC_A, "measure": "M07-base", "project": "=CONCAT(B2,C2)",  # a formula
         "date": datetime(2023, 1, 10), "tier": "national"},
        {"ref": "A-2", "uscc": USCC_A, "measure": "M99", "project": "P", "date": "2023-01-10"},
        {"ref": "A-3", "uscc": USCC_A, "measure": "M07-base", "project": "省级基地", "date": "2023-01-10",
         "tier": "provincial"}])
    _fill(book, "decisions", [{"op": "approve", "ref": "A-3", "date": "2023-02-01"}])
    _fill(book, "payments", [
        {"ref": "A-3", "payer": "city", "amount_yuan": 1234.567, "voucher": "V1", "date": "2023-03-01"},
        {"ref": "A-3", "payer": "city", "amount_yuan": 100, "voucher": 9.142030212345679e17,  # Excel rounded it
             "date": "2023-03-01"},
        {"ref": "A-3", "payer": "city", "amount_yuan": 1234.5, "voucher": "V3", "date": "2023-03-01"}])
    path = tmp_path / "hostile.xlsx"
    book.save(path)
    db = _db(tmp_path, "l.db")
    result = cli(db, "import", str(path), "--json")
    assert result.exit_code == 1, result.stderr
    data = json.loads(result.stdout)
    refused = {(r["sheet"], r["row"], r["column"].split()[0], r["code"]) for r in data["refused"]}
    assert refused == {("企业 enterprises", 3, "C", "invalid-input"),
                       ("申请 applications", 2, "D", "invalid-input"),
                       ("申请 applications", 3, "C", "unknown-measure"),
                       ("支付 payments", 2, "C", "invalid-input"),
                       ("支付 payments", 3, "D", "invalid-input")}
    messages = {(r["sheet"], r["row"]): r["message"] for r in data["refused"]}
    assert "formula" in messages[("申请 applications", 2)]
    assert "1234.567 has more than two decimals" in messages[("支付 payments", 2)]
    assert "Excel may have rounded" in messages[("支付 payments", 3)]
    assert "朝阳区" in messages[("企业 enterprises", 3)]
    assert data["accepted"] == 4  # the good enterprise, application, approval and the 1234.5 payment
    paid = cli_json(db, "show", "A-3")
    assert paid["payments"][0]["amount_fen"] == 123450, paid["payments"]
    human = cli(db, "import", str(path))
    assert "支付 payments row 2, C 支付金额(元) amount_yuan" in human.stdout


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("amount_fen", 2000000.0, 200000000), ("amount_fen", 1234.5, 123450), ("amount_fen", "200万", 200000000),
    ("amount_fen", "2,000,000", 200000000), ("amount_fen", "2000000.00", 200000000), ("amount_fen", 12, 1200),
    ("facts.racks", 220.0, 220), ("facts.contract_yuan", 860000.1, "860000.10"),
    ("facts.cloud_share_percent", 0.035, "0.035"), ("facts.registered_on", datetime(2021, 5, 4), "2021-05-04"),
    ("facts.dual_software_certified", "是", True), ("voucher", 20230415.0, "20230415"),
])
def test_cells_excel_makes_are_read_exactly(field, value, expected):
    column = next(c for s in sheets() for c in s.columns if c.field == field)
    assert read_cell(value, column) == expected


@pytest.mark.parametrize(("field", "value", "why"), [
    ("amount_fen", 0.1 + 0.2, "more than two decimals"), ("amount_fen", 1234.567, "more than two decimals"),
    ("amount_fen", -5, "negative"), ("amount_fen", float("nan"), "not a number"),
    ("facts.racks", 220.5, "not a whole number"), ("date", datetime(2023, 1, 1, 9, 30), "time of day"),
    ("date", 44927, "not a date"), ("uscc", 9.14203e17, "rounded"), ("project", "=A1", "formula"),
    ("facts.tier", datetime(2023, 1, 1), "date"),
])
def test_cells_that_are_not_what_the_column_asks_are_refused(field, value, why):
    column = next(c for s in sheets() for c in s.columns if c.field == field)
    with pytest.raises(CellError, match=why):
        read_cell(value, column)


def test_the_template_has_chinese_headers_lists_and_instructions(tmp_path):
    book = _template(tmp_path)
    assert book.worksheets[0].title == "说明 instructions"
    assert [ws.title for ws in book.worksheets[2:]] == [s.title for s in sheets()]
    assert book["列表 lists"].sheet_state == "hidden"
    applications = book["申请 applications"]
    assert applications["C1"].value == "措施 measure"
    facts = {f.name for m in catalogue().measures.values() for f in m.facts}
    assert {c.value.split()[-1] for c in applications[1]} >= facts
    lists = book["列表 lists"]
    listed = {lists.cell(row=1, column=n).value: [c.value for c in col[1:] if c.value is not None]
              for n, col in enumerate(lists.iter_cols(), 1)}
    assert listed["measures"] == list(catalogue().measures)
    assert listed["tier"] == ["national", "provincial"]
    validated = {str(dv.sqref): dv.formula1 for dv in applications.data_validations.dataValidation}
    assert validated["C2:C5000"].endswith("$B$2:$B$" + str(len(catalogue().measures) + 1))
    payments = book["支付 payments"]
    assert any("$C$2:$C$3" in dv.formula1 for dv in payments.data_validations.dataValidation)  # city, county
    assert book["企业 enterprises"]["C1"].value == "所属区域 area"


def test_a_sheet_or_column_not_of_the_template_refuses_the_workbook_and_a_chinese_sheet_name_is_enough(tmp_path):
    db = _db(tmp_path, "l.db")
    book = _template(tmp_path)
    book["支付 payments"].title = "支付"
    _fill(book, "enterprises", [{"uscc": USCC_A, "name": "十堰数智科技有限公司", "area": "张湾区"}])
    renamed = tmp_path / "renamed.xlsx"
    book.save(renamed)
    assert cli_json(db, "import", str(renamed))["accepted"] == 1
    book["企业 enterprises"]["F1"] = "备注 note"
    extra_column = tmp_path / "column.xlsx"
    book.save(extra_column)
    result = cli(db, "import", str(extra_column))
    assert result.exit_code == 2 and "'备注 note') is not a column of this sheet" in result.stderr, result.stderr
    book["企业 enterprises"]["F1"] = None
    book.create_sheet("草稿")
    extra_sheet = tmp_path / "sheet.xlsx"
    book.save(extra_sheet)
    result = cli(db, "import", str(extra_sheet))
    assert result.exit_code == 2 and "sheet '草稿' is not a sheet of the template" in result.stderr, result.stderr


def test_an_old_format_xls_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))
    result = cli(_db(tmp_path, "l.db"), "import", str(path))
    assert result.exit_code == 2 and "save it as .xlsx" in result.stderr, result.stderr


EXTERNAL = {"uscc": USCC_B, "project": "HT-2022-087 安全运维合同", "policy": "十堰市促进园区高质量发展奖励办法",
            "note": "十经信〔2023〕5号", "date": "2023-01-20"}


def test_an_award_under_another_policy_round_trips_through_its_sheet(tmp_path):
    book = _template(tmp_path)
    ws = book["其他政策奖励 external_awards"]
    assert [c.value for c in ws[1]] == ["统一社会信用代码 uscc", "项目名称 project", "政策名称 policy",
                                        "奖励金额(元) amount_yuan", "奖励日期 date", "备注(如文号) note", "经办人 by"]
    assert [w.title for w in book.worksheets].index(ws.title) == 3  # after the enterprises, before the applications
    guide = " ".join(str(c.value) for row in book["说明 instructions"].iter_rows() for c in row if c.value)
    assert "其他政策奖励 external_awards" in guide and "external-award" in guide and "就高不重复" in guide
    _fill(book, "enterprises", [{"uscc": USCC_B, "name": "十堰安盾网络安全服务有限公司", "area": "茅箭区",
                                 "date": datetime(2022, 10, 1)}])
    _fill(book, "external_awards", [{**EXTERNAL, "amount_yuan": 150000.0, "date": datetime(2023, 1, 20)}])
    path = tmp_path / "external.xlsx"
    book.save(path)
    db = _db(tmp_path, "xlsx.db")
    result = cli_json(db, "import", str(path))
    assert (result["accepted"], result["refused"]) == (2, [])

    reference = _db(tmp_path, "jsonl.db")
    lines = [SAME_AS_JSONL[0], {"op": "external-award", **EXTERNAL, "amount_fen": 15000000}]
    assert cli_json(reference, "import", str(write_lines(tmp_path / "same.jsonl", lines)))["accepted"] == 2
    recorded = _timeless(cli_json(db, "show", USCC_B))["external_awards"]
    assert recorded == _timeless(cli_json(reference, "show", USCC_B))["external_awards"]
    assert [(e["project"], e["policy"], e["amount_fen"], e["date"], e["note"]) for e in recorded] == [
        (EXTERNAL["project"], EXTERNAL["policy"], 15000000, "2023-01-20", EXTERNAL["note"])]


def test_a_refused_external_award_cell_names_its_sheet_row_and_column(tmp_path):
    book = _template(tmp_path)
    _fill(book, "enterprises", [{"uscc": USCC_B, "name": "十堰安盾网络安全服务有限公司", "area": "茅箭区"}])
    _fill(book, "external_awards", [{**EXTERNAL, "amount_yuan": 1500.005}])
    path = tmp_path / "external.xlsx"
    book.save(path)
    result = cli(_db(tmp_path, "l.db"), "import", str(path), "--json")
    assert result.exit_code == 1, result.stderr
    [refused] = json.loads(result.stdout)["refused"]
    assert (refused["sheet"], refused["row"], refused["column"]) == (
        "其他政策奖励 external_awards", 2, "D 奖励金额(元) amount_yuan")
    assert "has more than two decimals" in refused["message"]


@pytest.fixture
def chinese(monkeypatch: pytest.MonkeyPatch) -> Any:
    from ledger import i18n

    def speak(language: str) -> None:
        monkeypatch.setenv("GRANTS_LANG", language)
        i18n.set_language(language)

    yield speak
    i18n.set_language("en")


def test_refusals_of_cells_speak_the_chosen_language_and_the_workbook_is_the_same_file_in_both(tmp_path, chinese):
    book = _template(tmp_path)
    _fill(book, "enterprises", [{"uscc": USCC_A, "name": "十堰数智科技有限公司", "area": "张湾区"}])
    _fill(book, "payments", [{"ref": "A-3", "payer": "city", "amount_yuan": 1234.567, "voucher": "V1",
                              "date": "2023-03-01"}])
    path = tmp_path / "mixed.xlsx"
    book.save(path)
    db = _db(tmp_path, "l.db")
    chinese("zh")
    first = cli(db, "import", str(path), "--json")
    assert first.exit_code == 1, first.stderr
    [refused] = json.loads(first.stdout)["refused"]
    assert refused["message"] == ("支付 payments 第2行，C 支付金额(元) amount_yuan：1234.567 超过两位小数；以元计的金额精确到分"
                                  "（请在 Excel 中取整，或以文本输入，如 1234.56）")
    events = _events(tmp_path / "l.db")
    chinese("en")
    again = cli(db, "import", str(path), "--json")
    data = json.loads(again.stdout)
    assert _events(tmp_path / "l.db") == events  # the same file in either language: nothing is recorded twice
    assert data["already"] == 1 and data["refused"][0]["message"].startswith(
        "支付 payments row 2, C 支付金额(元) amount_yuan: 1234.567 has more than two decimals")


@pytest.mark.parametrize("registered", ["2025/1/8", "2025年1月8日", "2025-1-8", datetime(2025, 1, 8)],
                         ids=["slashes", "chinese", "no-leading-zero", "date-cell"])
def test_rows_are_applied_by_the_date_as_read_in_every_accepted_form_then_in_sheet_order(tmp_path, registered):
    book = _template(tmp_path)
    _fill(book, "enterprises", [{"uscc": USCC_A, "name": "十堰数智科技有限公司", "area": "张湾区",
                                 "date": registered}])
    _fill(book, "applications", [
        {"ref": "A-1", "uscc": USCC_A, "measure": "M07-base", "project": "基地", "date": "2025-01-10",
         "tier": "provincial"},
        {"ref": "A-2", "uscc": USCC_A, "measure": "M07-base", "project": "基地二", "date": "2025/1/8",
         "tier": "provincial"}])
    path = tmp_path / "dates.xlsx"
    book.save(path)
    db = _db(tmp_path, "l.db")
    result = cli(db, "import", str(path), "--json")
    data = json.loads(result.stdout)
    # The registration of 2025-01-08 first, then (same day, sheet order) A-2, then A-1 of 2025-01-10: no
    # unknown-enterprise. A-2 is the same project kind on another project: both recorded.
    assert [r["code"] for r in data["refused"]] == [], data["refused"]
    assert data["accepted"] == 3
    trail = cli_json(db, "audit", "trail", "--uscc", USCC_A)
    refs = [e.get("ref") for e in trail["events"] if e.get("ref")]
    assert refs[:2] == ["A-2", "A-1"], refs


def test_a_refused_row_is_named_by_its_sheet_row_in_every_message(tmp_path):
    book = _template(tmp_path)
    _fill(book, "enterprises", [{"uscc": USCC_A, "name": "十堰数智科技有限公司", "area": "张湾区",
                                 "date": "2025/1/8"}])
    _fill(book, "applications", [
        {"ref": "A-1", "uscc": USCC_A, "measure": "M07-base", "project": "基地", "date": "2025-01-10",
         "tier": "provincial"},
        {"ref": "A-2", "uscc": USCC_A, "measure": "M99", "project": "基地二", "date": "2025年1月9日"},
        {"ref": "A-3", "uscc": USCC_A, "measure": "M07-base", "project": "基地三", "date": "2025/1/2",
         "tier": "provincial"}])  # dated before the registration: applied first, refused
    path = tmp_path / "rows.xlsx"
    book.save(path)
    db = _db(tmp_path, "l.db")
    data = json.loads(cli(db, "import", str(path), "--json").stdout)
    rows = {(r["sheet"], r["row"], r["code"]) for r in data["refused"]}
    assert rows == {("申请 applications", 3, "unknown-measure"), ("申请 applications", 4, "unknown-enterprise")}
    for r in data["refused"]:
        assert r["message"].startswith(f"{r['sheet']} row {r['row']}")
    human = cli(db, "import", str(path)).stdout
    table = [ln.split() for ln in human.splitlines() if ln.split()[:1] in (["3"], ["4"])]
    assert sorted(cells[0] for cells in table) == ["3", "4"] and human.splitlines()[4].split()[0] == "row", human
