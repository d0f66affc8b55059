"""The machine contract, on SQLite and on PostgreSQL: same commands, same results."""

from __future__ import annotations

import json

import pytest

from tests.conftest import USCC_A, USCC_B
from tests.helpers import cli, cli_json, views_snapshot, write_lines

CONTRACT_LINES = [
    {"op": "adopt-policy", "effective": "2022-09-01"},
    {"op": "register", "uscc": USCC_A, "name": "十堰数智科技有限公司", "area": "张湾区"},
    {"op": "register", "uscc": USCC_B, "name": "十堰安盾网络安全服务有限公司", "area": "茅箭区"},
    {"op": "apply", "ref": "A-001", "uscc": USCC_A, "measure": "M03-platform", "project": "P1",
     "date": "2023-01-10", "facts": {"route": "dual-cross"}},
    {"op": "approve", "ref": "A-001", "date": "2023-02-01", "by": "li.wei"},
    {"op": "pay", "ref": "A-001", "payer": "city", "amount_fen": 100000000, "voucher": "V-1",
     "date": "2023-03-01", "by": "zhao.min"},
    {"op": "pay", "ref": "A-001", "payer": "county", "amount_fen": 40000000, "voucher": "V-1",
     "date": "2024-01-05", "by": "zw.finance"},
    {"op": "apply", "ref": "A-002", "uscc": USCC_B, "measure": "M03-security", "project": "HT-1",
     "date": "2023-03-01", "facts": {"city_enterprises": 11, "annual_revenue_yuan": "500万",
                                     "contract_yuan": "123456.79"}},
    {"op": "approve", "ref": "A-002", "date": "2023-04-01", "by": "li.wei"},
    {"op": "external-award", "uscc": USCC_B, "project": "BASE", "policy": "十堰市电商发展奖励",
     "amount_fen": 20000000, "date": "2022-12-01"},
    {"op": "apply", "ref": "A-003", "uscc": USCC_B, "measure": "M07-base", "project": "BASE",
     "date": "2023-05-01", "facts": {"tier": "national"}},
    {"op": "approve", "ref": "A-003", "date": "2024-02-01", "by": "li.wei"},
    # refused lines, one per rule
    {"op": "apply", "ref": "A-004", "uscc": USCC_A, "measure": "M03-platform", "project": "P2",
     "date": "2023-06-01", "facts": {"route": "dual-cross"}},
    {"op": "approve", "ref": "A-004", "date": "2023-06-10", "by": "li.wei"},            # already-awarded
    {"op": "pay", "ref": "A-001", "payer": "city", "amount_fen": 1, "voucher": "V-9",
     "date": "2023-03-02", "by": "zhao.min"},                                               # over-payment
    {"op": "apply", "ref": "A-005", "uscc": USCC_A, "measure": "M01", "project": "P1",
     "date": "2023-01-10", "facts": {}},                                                   # not-grantable
    {"op": "apply", "ref": "A-006", "uscc": USCC_A, "measure": "M99", "project": "P1",
     "date": "2023-01-10", "facts": {}},                                                   # unknown-measure
    {"op": "apply", "ref": "A-007", "uscc": USCC_A, "measure": "M07-base", "project": "P7",
     "date": "2025-09-01", "facts": {"tier": "national"}},                                 # outside-validity
    {"op": "apply", "ref": "A-001", "uscc": USCC_A, "measure": "M07-base", "project": "P7",
     "date": "2023-01-10", "facts": {"tier": "national"}},                                 # conflicting-retry
    {"op": "pay", "ref": "A-004", "payer": "city", "amount_fen": 1, "voucher": "V-10",
     "date": "2023-07-01"},                                                                # wrong-state
    {"op": "approve", "ref": "NOPE", "date": "2023-06-10"},                               # unknown-application
    {"op": "register", "uscc": "91420303MA4F0A1B2X", "name": "x", "area": "张湾区"},      # invalid-input
    {"op": "apply", "ref": "A-008", "uscc": "91110000600037341L", "measure": "M07-base", "project": "P",
     "date": "2023-01-10", "facts": {"tier": "national"}},                                 # unknown-enterprise
    {"op": "apply", "ref": "A-009", "uscc": USCC_A, "measure": "M07-base", "project": "BASE",
     "date": "2023-01-10", "facts": {"tier": "provincial"}},
    {"op": "apply", "ref": "A-010", "uscc": USCC_A, "measure": "M03-security", "project": "P1",
     "date": "2023-02-10", "facts": {"city_enterprises": 20, "annual_revenue_yuan": "900万",
                                     "contract_yuan": "50万"}},
    {"op": "approve", "ref": "A-010", "date": "2023-02-20"},                               # duplicate-award
    {"op": "apply", "ref": "A-011", "uscc": USCC_A, "measure": "M18-park", "project": "PARK",
     "date": "2023-01-10", "facts": {"enterprises": 19, "revenue_yuan": "40亿"}},         # recorded, with a warning
    {"op": "approve", "ref": "A-011", "date": "2023-02-01"},                               # not-eligible
    {"op": "apply", "ref": "A-001", "uscc": USCC_B, "measure": "M07-base", "project": "P7",
     "date": "2023-01-10", "facts": {"tier": "national"}},                                 # duplicate-ref
    {"op": "pay", "ref": "A-002", "payer": "city", "amount_fen": 1, "voucher": "V-1",
     "date": "2023-05-01"},                                                                # duplicate-ref
]
EXPECTED_REFUSALS = [
    (14, "already-awarded"), (15, "over-payment"), (16, "not-grantable"), (17, "unknown-measure"),
    (18, "outside-validity"), (19, "conflicting-retry"), (20, "wrong-state"), (21, "unknown-application"),
    (22, "invalid-input"), (23, "unknown-enterprise"), (26, "duplicate-award"), (28, "not-eligible"), (29, "duplicate-ref"), (30, "duplicate-ref"),
]


@pytest.fixture
def loaded(db_url, tmp_path):
    path = write_lines(tmp_path / "contract.jsonl", CONTRACT_LINES)
    result = cli(db_url, "import", str(path), "--json")
    return db_url, result


def test_import_reports_accepted_lines_and_each_refusal_with_its_line_and_code(loaded):
    _, result = loaded
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["accepted"] == len(CONTRACT_LINES) - len(EXPECTED_REFUSALS)
    assert [(r["line"], r["code"]) for r in data["refused"]] == EXPECTED_REFUSALS
    assert all(r["message"] for r in data["refused"])
    assert [w["line"] for w in data["warnings"]] == [27]
    assert "enterprises = 19" in data["warnings"][0]["message"]


def test_an_application_whose_facts_miss_a_threshold_is_recorded_and_shown_as_not_eligible(loaded):
    db_url, _ = loaded
    shown = cli_json(db_url, "show", "A-011")
    assert shown["status"] == "submitted" and shown["eligible"] is False
    assert shown["entitlement_fen"] is None
    failed = [step for step in shown["trace"] if step.get("passed") is False]
    assert [step["fact"] for step in failed] == ["enterprises"]
    assert cli_json(db_url, "show", "A-001")["eligible"] is True


def test_show_gives_the_contract_fields_and_the_trace(loaded):
    db_url, _ = loaded
    shown = cli_json(db_url, "show", "A-002")
    assert shown["status"] == "approved"
    assert shown["measure"] == "M03-security" and shown["uscc"] == USCC_B
    # 10% of 123,456.79 yuan = 12,345.679 -> rounded down to 12,345.67
    assert shown["entitlement_fen"] == 1234567
    assert shown["awarded_fen"] == 1234567
    assert (shown["city_share_fen"], shown["county_share_fen"]) == (617284, 617283)
    assert (shown["city_paid_fen"], shown["county_paid_fen"]) == (0, 0)
    assert any(step["step"] == "amount" for step in shown["trace"])


def test_a_higher_award_on_a_project_with_an_external_award_pays_the_difference(loaded):
    db_url, _ = loaded
    shown = cli_json(db_url, "show", "A-003")
    assert shown["entitlement_fen"] == 50000000
    assert shown["awarded_fen"] == 30000000
    assert any(step["step"] == "deduction" for step in shown["trace"])


def test_enterprise_report_totals_awards_and_payments(loaded):
    db_url, _ = loaded
    report = cli_json(db_url, "report", "enterprise")
    rows = {row["uscc"]: row for row in report["enterprises"]}
    assert rows[USCC_A] == {"uscc": USCC_A, "name": "十堰数智科技有限公司", "area": "张湾区",
                            "awarded_fen": 200000000, "city_paid_fen": 100000000, "county_paid_fen": 40000000}
    assert rows[USCC_B]["awarded_fen"] == 1234567 + 30000000


def test_shares_report_owes_each_payer_its_half_of_every_award_in_the_area(loaded):
    db_url, _ = loaded
    areas = {row["area"]: row for row in cli_json(db_url, "report", "shares")["areas"]}
    assert areas["张湾区"] == {"area": "张湾区", "city_owed_fen": 100000000, "county_owed_fen": 100000000,
                              "city_paid_fen": 100000000, "county_paid_fen": 40000000,
                              "city_to_recover_fen": 0, "county_to_recover_fen": 0,
                              # the reconciliation's figures (issue 8), added to the row
                              "city_outstanding_fen": 0, "county_outstanding_fen": 60000000, "gap_fen": 60000000}
    assert areas["茅箭区"]["city_owed_fen"] + areas["茅箭区"]["county_owed_fen"] == 1234567 + 30000000


def test_reports_as_of_a_date_ignore_later_events(loaded):
    db_url, _ = loaded
    rows = {r["uscc"]: r for r in cli_json(db_url, "report", "enterprise", "--as-of", "2023-12-31")["enterprises"]}
    assert rows[USCC_A]["county_paid_fen"] == 0  # paid 2024-01-05
    assert rows[USCC_B]["awarded_fen"] == 1234567  # A-003 approved 2024-02-01
    areas = {r["area"]: r for r in cli_json(db_url, "report", "shares", "--as-of", "2023-02-28")["areas"]}
    assert areas["张湾区"]["city_paid_fen"] == 0 and areas["张湾区"]["city_owed_fen"] == 100000000
    shown = cli_json(db_url, "show", "A-003", "--as-of", "2023-12-31")
    assert shown["status"] == "submitted" and shown["awarded_fen"] == 0


def test_a_refused_command_changes_nothing(loaded, tmp_path):
    db_url, _ = loaded
    before = cli_json(db_url, "report", "shares")
    again = cli(db_url, "pay", "A-001", "--payer", "city", "--amount-fen", "5", "--voucher", "V-77",
                "--date", "2023-05-01")
    assert again.exit_code == 1 and "over-payment" in again.stderr
    assert cli_json(db_url, "report", "shares") == before
    assert cli_json(db_url, "projections", "status")["position"] == cli_json(db_url, "projections",
                                                                             "status")["log_end"]


def test_rebuilt_read_models_equal_the_incrementally_updated_ones(loaded):

    from ledger.store.storage import parse_store
    from projections import runner

    db_url, _ = loaded
    engine = runner.make_engine(parse_store(db_url))


    incremental = views_snapshot(engine)
    assert incremental["rm_entries"], "the contract import must have produced entries"
    assert cli_json(db_url, "projections", "rebuild")["rebuilt"] is True
    assert views_snapshot(engine) == incremental
    engine.dispose()


def test_applications_report_lists_status_and_what_each_payer_still_owes(loaded):
    db_url, _ = loaded
    rows = {r["ref"]: r for r in cli_json(db_url, "report", "applications")["applications"]}
    assert rows["A-001"]["city_outstanding_fen"] == 0 and rows["A-001"]["county_outstanding_fen"] == 60000000
    assert rows["A-004"]["status"] == "submitted"
    earlier = {r["ref"]: r for r in cli_json(db_url, "report", "applications", "--as-of", "2023-12-31")["applications"]}
    assert earlier["A-003"]["status"] == "submitted" and earlier["A-003"]["awarded_fen"] == 0
    assert earlier["A-001"]["county_paid_fen"] == 0
    pending = cli_json(db_url, "report", "applications", "--status", "submitted")["applications"]
    assert {r["ref"] for r in pending} == {"A-004", "A-009", "A-010", "A-011"}


def test_reading_an_empty_database_refuses_and_creates_nothing(empty_db_url):
    from sqlalchemy import inspect

    from ledger.store.storage import parse_store
    from projections import runner

    result = cli(empty_db_url, "report", "shares")
    assert result.exit_code == 3 and "grants init" in result.stderr
    engine = runner.make_engine(parse_store(empty_db_url))
    assert inspect(engine).get_table_names() == []
    engine.dispose()


def test_policy_check_does_not_guess_when_the_ledger_cannot_be_reached():
    result = cli("postgresql://postgres@127.0.0.1:1/none", "policy", "check", "--measure", "M07-base",
                 "--fact", "tier=national", "--date", "2023-01-01")
    assert result.exit_code == 3 and "connection-refused" in result.stderr and "127.0.0.1:1" in result.stderr
