"""General rules and aggregates, with no database (the in-memory event store)."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.domain.aggregates import Enterprise
from ledger.errors import Refused
from ledger.intake.commands import parse_command
from ledger.service.application import GrantsLedger
from ledger.store.storage import parse_store
from tests.conftest import USCC_A, memory_ledger


def run(app, **line):
    return app.execute(parse_command(line, "tester"))


@pytest.fixture
def app():
    ledger = memory_ledger()
    run(ledger, op="adopt-policy", effective="2022-09-01")
    run(ledger, op="register", uscc=USCC_A, name="十堰数智科技有限公司", area="张湾区")
    return ledger


def refusal(app, **line) -> str:
    with pytest.raises(Refused) as caught:
        run(app, **line)
    return caught.value.code


def security(app, ref, project="HT-1", contract="300000"):
    run(app, op="apply", ref=ref, uscc=USCC_A, measure="M03-security", project=project, date="2023-03-01",
        facts={"city_enterprises": 11, "annual_revenue_yuan": "600万", "contract_yuan": contract})


def test_a_review_may_award_less_than_the_ten_percent_ceiling_with_a_basis(app):
    security(app, "S-1")
    assert refusal(app, op="approve", ref="S-1", date="2023-04-01", amount_fen=2000000) == "invalid-input"
    result = run(app, op="approve", ref="S-1", date="2023-04-01", amount_fen=2000000, basis="评审会纪要2023-4")
    assert result["awarded_fen"] == 2000000
    assert app.show("S-1")["trace"][-2]["basis"] == "评审会纪要2023-4"


def test_a_review_may_not_award_more_than_the_clause_allows(app):
    security(app, "S-1")
    assert refusal(app, op="approve", ref="S-1", date="2023-04-01", amount_fen=3000001, basis="x") == "invalid-input"


def test_a_fixed_award_takes_no_amount_from_the_review(app):
    run(app, op="apply", ref="F-1", uscc=USCC_A, measure="M07-digital-commerce", project="D", date="2023-01-10")
    assert refusal(app, op="approve", ref="F-1", date="2023-02-01", amount_fen=1, basis="x") == "invalid-input"


def test_a_case_by_case_item_needs_amount_and_basis(app):
    run(app, op="apply", ref="K-1", uscc=USCC_A, measure="M13-platform", project="平台", date="2023-01-10")
    assert refusal(app, op="approve", ref="K-1", date="2023-02-01") == "invalid-input"
    assert refusal(app, op="approve", ref="K-1", date="2023-02-01", amount_fen=100) == "invalid-input"
    assert run(app, op="approve", ref="K-1", date="2023-02-01", amount_fen=123457, basis="纪要")["city_share_fen"] == 61729


def test_an_external_award_after_a_local_one_is_recorded_and_flagged(app):
    security(app, "S-1")
    run(app, op="approve", ref="S-1", date="2023-04-01")
    result = run(app, op="external-award", uscc=USCC_A, project="HT-1", policy="其他政策", amount_fen=100,
                 date="2023-05-01", note="文号 1")
    assert "就高不重复" in result["warning"]
    enterprise = app.repository.get(Enterprise.create_id(USCC_A))
    assert enterprise.external_awards[0].note == "文号 1"


def test_the_same_external_award_twice_is_recorded_once(app):
    line = {"op": "external-award", "uscc": USCC_A, "project": "P", "policy": "其他政策", "amount_fen": 100,
            "date": "2023-05-01"}
    run(app, **line)
    assert run(app, **line)["already_recorded"] is True
    enterprise = app.repository.get(Enterprise.create_id(USCC_A))
    assert len(enterprise.external_awards) == 1


def test_a_voucher_is_used_once_per_treasury(app):
    security(app, "S-1")
    run(app, op="approve", ref="S-1", date="2023-04-01")
    run(app, op="pay", ref="S-1", payer="city", amount_fen=100, voucher="V-1", date="2023-05-01")
    assert run(app, op="pay", ref="S-1", payer="city", amount_fen=100, voucher="V-1",
               date="2023-05-01")["already_recorded"] is True  # sent again
    assert refusal(app, op="pay", ref="S-1", payer="city", amount_fen=200, voucher="V-1",
                   date="2023-05-01") == "conflicting-retry"
    run(app, op="pay", ref="S-1", payer="county", amount_fen=100, voucher="V-1", date="2023-05-01")  # other treasury


def test_decisions_and_payments_keep_their_order_in_time(app):
    security(app, "S-1")
    assert refusal(app, op="approve", ref="S-1", date="2023-02-28") == "invalid-input"  # before the application
    run(app, op="approve", ref="S-1", date="2023-04-01")
    assert refusal(app, op="pay", ref="S-1", payer="city", amount_fen=1, voucher="V", date="2023-03-31") == \
        "invalid-input"
    assert refusal(app, op="reject", ref="S-1", date="2023-05-01", reason="x") == "wrong-state"


def test_replaying_an_enterprise_gives_the_same_state(app):
    security(app, "S-1")
    run(app, op="approve", ref="S-1", date="2023-04-01")
    enterprise = app.repository.get(Enterprise.create_id(USCC_A))
    events = list(app.events.get(enterprise.id))
    replayed = None
    for event in events:
        replayed = event.mutate(replayed)
    assert replayed.applications == enterprise.applications and replayed.version == len(events)


def test_settings_in_the_environment_cannot_move_the_event_store(tmp_path, monkeypatch):
    monkeypatch.setenv("GRANTS_SQLITE_DBNAME", str(tmp_path / "elsewhere.db"))
    monkeypatch.setenv("SQLITE_DBNAME", str(tmp_path / "elsewhere.db"))
    ledger = GrantsLedger(parse_store(f"sqlite:///{tmp_path / 'here.db'}"))
    run(ledger, op="adopt-policy", effective="2022-09-01")
    ledger.close()
    assert (tmp_path / "here.db").exists() and not (tmp_path / "elsewhere.db").exists()


def test_an_application_is_decided_under_the_version_it_was_filed_under(app):
    run(app, op="apply", ref="V-1", uscc=USCC_A, measure="M07-base", project="B", date="2025-08-31",
        facts={"tier": "national"})
    run(app, op="adopt-policy", effective="2025-09-01", version="2025-renewal")
    shown = app.show("V-1")
    assert shown["policy_version"] == "shiyan-digital-economy-2022-draft@2022-09-01"
    run(app, op="apply", ref="V-2", uscc=USCC_A, measure="M07-base", project="C", date="2025-09-01",
        facts={"tier": "provincial"})
    assert app.show("V-2")["policy_version"] == "2025-renewal"
    assert app.policy_book().version_for(date(2028, 8, 31)).version == "2025-renewal"
