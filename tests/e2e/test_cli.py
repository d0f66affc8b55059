"""The command line: exit codes, JSON output, errors on stderr, never a traceback for a user's mistake."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import USCC_A, new_ledger
from tests.helpers import cli, cli_json, write_lines

START = [
    {"op": "adopt-policy", "effective": "2022-09-01"},
    {"op": "register", "uscc": USCC_A, "name": "十堰数智科技有限公司", "area": "张湾区"},
]


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = new_ledger(tmp_path, "cli.db")
    assert cli(url, "import", str(write_lines(tmp_path / "start.jsonl", START))).exit_code == 0
    return url


def test_a_whole_application_goes_through_the_cli(db):
    applied = cli_json(db, "apply", "--ref", "C-1", "--uscc", USCC_A, "--measure", "M10-edge", "--project", "边缘节点",
                       "--date", "2023-05-01", "--fact", "people_served=300001", "--fact", "racks=100")
    assert applied["entitlement_fen"] == 30000000
    approved = cli_json(db, "approve", "C-1", "--date", "2023-06-01")
    assert (approved["city_share_fen"], approved["county_share_fen"]) == (15000000, 15000000)
    paid = cli_json(db, "pay", "C-1", "--payer", "county", "--amount", "15万", "--voucher", "ZW-1",
                    "--date", "2023-07-01")
    assert paid["treasury"] == "张湾区" and paid["amount_fen"] == 15000000
    human = cli(db, "show", "C-1")
    assert human.exit_code == 0 and "APPROVED" in human.stdout and "3,000.00" in human.stdout


def test_bad_input_names_the_field_exits_2_and_writes_nothing(db):
    before = cli_json(db, "projections", "status")["log_end"]
    result = cli(db, "register", "--uscc", "91420303MA4F0A1B2X", "--name", "x", "--area", "张湾区")
    assert result.exit_code == 2
    assert "invalid-input" in result.stderr and "uscc" in result.stderr and "check character" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    bad_area = cli(db, "register", "--uscc", "91110000600037341L", "--name", "x", "--area", "北京")
    assert bad_area.exit_code == 2 and "张湾区" in bad_area.stderr  # says what is allowed
    assert cli_json(db, "projections", "status")["log_end"] == before


def test_a_refusal_under_a_rule_exits_1_with_its_code(db):
    result = cli(db, "show", "NOPE")
    assert result.exit_code == 1 and "unknown-application" in result.stderr
    as_json = cli(db, "show", "NOPE", "--json")
    errors = [json.loads(line) for line in as_json.stderr.splitlines() if line.startswith('{"error"')]
    assert errors[0]["error"]["code"] == "unknown-application" and errors[0]["error"]["field"] == "ref"


def test_import_json_lists_refused_lines_and_exits_non_zero(db, tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join([
        json.dumps({"op": "apply", "ref": "C-2", "uscc": USCC_A, "measure": "M07-digital-commerce",
                    "project": "数字商务", "date": "2023-01-10", "facts": {}}),
        "{not json",
        json.dumps({"op": ["unhashable"]}),
        json.dumps({"op": "apply", "ref": "C-3", "uscc": USCC_A, "measure": "M10-edge", "project": "E",
                    "date": "2023-01-10", "facts": {"people_served": 1.5, "racks": 3}}),
        json.dumps({"op": "external-award", "uscc": USCC_A, "project": "P", "policy": "x", "amount_fen": 10**21,
                    "date": "2023-01-01"}),
        json.dumps({"op": "adopt-policy", "effective": "9999-01-01"}),
        json.dumps([1, 2, 3]),
        "",
        json.dumps({"op": "approve", "ref": "C-2", "date": "2023-02-01", "extra": 1}),
        json.dumps({"op": "approve", "ref": "C-2", "date": "2023-02-01"}),
    ]) + "\n", encoding="utf-8")
    result = cli(db, "import", str(path), "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["accepted"] == 2
    assert [(r["line"], r["code"]) for r in data["refused"]] == [
        (2, "invalid-input"), (3, "invalid-input"), (4, "invalid-input"), (5, "invalid-input"),
        (6, "invalid-input"), (7, "invalid-input"), (9, "invalid-input")]
    assert "Traceback" not in result.stderr


def test_reports_print_tables_for_people_and_json_for_scripts(db):
    human = cli(db, "report", "shares")
    assert human.exit_code == 0 and "张湾区" in human.stdout and "Total" in human.stdout
    data = cli_json(db, "report", "shares", "--as-of", "2023-01-01")
    assert data["areas"][0].keys() >= {"area", "city_owed_fen", "county_owed_fen", "city_paid_fen", "county_paid_fen"}
    bad = cli(db, "report", "enterprise", "--as-of", "31/12/2023")
    assert bad.exit_code == 2 and "as_of" in bad.stderr


def test_reading_commands_do_not_create_a_ledger_where_there_is_none(tmp_path):
    missing = tmp_path / "absent.db"
    result = cli(f"sqlite:///{missing}", "report", "shares")
    assert result.exit_code == 3 and "grants init" in result.stderr
    checked = cli(f"sqlite:///{missing}", "policy", "check", "--measure", "M07-base", "--fact", "tier=national",
                  "--date", "2023-01-01", "--json")
    assert checked.exit_code == 0 and json.loads(checked.stdout)["entitlement_fen"] == 50000000
    assert not missing.exists()


def test_policy_commands_list_show_and_check_without_recording(db):
    listed = cli_json(db, "policy", "list")
    assert len(listed["measures"]) == 26
    shown = cli(db, "policy", "show", "M03-security")
    assert "不超过合同额10%" in shown.stdout
    before = cli_json(db, "projections", "status")["log_end"]
    answer = cli(db, "policy", "check", "--measure", "M03-security", "--fact", "city_enterprises=10",
                 "--fact", "annual_revenue_yuan=500万", "--fact", "contract_yuan=1000", "--date", "2023-01-01")
    assert answer.exit_code == 0 and "NOT ELIGIBLE" in answer.stdout  # 10 enterprises is not 超10家: an answer
    not_eligible = cli_json(db, "policy", "check", "--measure", "M03-security", "--fact", "city_enterprises=10",
                            "--fact", "annual_revenue_yuan=500万", "--fact", "contract_yuan=1000", "--date",
                            "2023-01-01")
    assert not_eligible["eligible"] is False and not_eligible["refusal"]["code"] == "not-eligible"
    assert not_eligible["entitlement_fen"] is None
    unknown = cli(db, "policy", "check", "--measure", "M99", "--date", "2023-01-01")
    assert unknown.exit_code == 1 and "unknown-measure" in unknown.stderr  # a question that cannot be asked
    check = cli_json(db, "policy", "check", "--measure", "M03-security", "--fact", "city_enterprises=11",
                     "--fact", "annual_revenue_yuan=500万", "--fact", "contract_yuan=1000", "--date", "2023-01-01")
    assert check["entitlement_fen"] == 10000  # 10% of 1,000.00 yuan
    assert cli_json(db, "projections", "status")["log_end"] == before


def test_the_console_script_runs_and_prints_no_traceback_for_a_bad_url(tmp_path):
    grants = Path(sys.executable).with_name("grants")
    result = subprocess.run([str(grants), "--db", "mysql://x/y", "report", "shares"], capture_output=True, text=True,
                            env={**os.environ, "GRANTS_LOG_LEVEL": "warning"}, timeout=60)
    assert result.returncode == 2
    assert "db" in result.stderr and "sqlite:///" in result.stderr and "Traceback" not in result.stderr


def test_db_and_by_may_follow_the_command(tmp_path):
    from commands.main import hoist_global_options

    assert hoist_global_options(["import", "f.jsonl", "--db", "sqlite:///a.db", "--json"]) == \
        ["--db", "sqlite:///a.db", "import", "f.jsonl", "--json"]
    assert hoist_global_options(["approve", "A-1", "--by=li.wei", "--date", "2023-01-01"]) == \
        ["--by=li.wei", "approve", "A-1", "--date", "2023-01-01"]
    grants = Path(sys.executable).with_name("grants")
    url = f"sqlite:///{tmp_path / 'after.db'}"
    result = subprocess.run([str(grants), "init", "--db", url, "--json"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and json.loads(result.stdout)["db"] == url
