"""`grants audit trail`: every event of an application or an enterprise, in order, with who,
when recorded, amounts, facts before/after an amendment and the trace; `grants show USCC`."""

from __future__ import annotations

from tests.conftest import USCC_A, USCC_B, new_ledger
from tests.helpers import SECURITY_FACTS, TWO_ENTERPRISES, cli, cli_json, write_lines

FACTS = SECURITY_FACTS
LINES = [
    *TWO_ENTERPRISES,
    {"op": "apply", "ref": "A-1", "uscc": USCC_A, "measure": "M03-security", "project": "P1", "date": "2023-01-10",
     "facts": {**FACTS, "city_enterprises": 9}, "by": "clerk.wang"},
    {"op": "amend", "ref": "A-1", "date": "2023-01-20", "reason": "补正", "facts": FACTS, "by": "clerk.wang"},
    {"op": "approve", "ref": "A-1", "date": "2023-02-01", "by": "li.wei"},
    {"op": "pay", "ref": "A-1", "payer": "city", "amount_fen": 500000, "voucher": "V-1", "date": "2023-03-01",
     "by": "zhao.min"},
    {"op": "reverse-payment", "ref": "A-1", "payer": "city", "voucher": "V-1", "date": "2023-03-02", "reason": "录错"},
    {"op": "pay", "ref": "A-1", "payer": "city", "amount_fen": 500000, "voucher": "V-2", "date": "2023-03-03"},
    {"op": "external-award", "uscc": USCC_A, "project": "P7", "policy": "省级奖励", "amount_fen": 300000,
     "date": "2023-04-01"},
    {"op": "apply", "ref": "B-1", "uscc": USCC_B, "measure": "M03-security", "project": "Q1", "date": "2023-01-12",
     "facts": FACTS},
]


def _ledger(tmp_path) -> str:
    url = new_ledger(tmp_path, "l.db")
    assert cli(url, "import", str(write_lines(tmp_path / "l.jsonl", LINES))).exit_code == 0
    return url


def test_the_trail_of_an_application_lists_its_events_in_order_with_who_when_and_what(tmp_path):
    url = _ledger(tmp_path)
    data = cli_json(url, "audit", "trail", "A-1")
    events = data["events"]
    assert [e["what"] for e in events] == ["applied", "amended", "approved", "payment", "reversal", "payment"]
    assert [e["by"] for e in events][:3] == ["clerk.wang", "clerk.wang", "li.wei"]
    assert [e["recorded_at"] for e in events] == sorted(e["recorded_at"] for e in events)
    amended = events[1]
    assert amended["facts_before"]["city_enterprises"] == 9 and amended["facts_after"]["city_enterprises"] == 11
    approved = events[2]
    assert approved["awarded_fen"] == approved["city_share_fen"] + approved["county_share_fen"] == 1000000
    assert approved["trace"] and approved["trace"][-1]["step"] == "split"
    assert (events[4]["voucher"], events[4]["amount_fen"]) == ("V-1", 500000)
    text = cli(url, "audit", "trail", "A-1").stdout
    assert "city_enterprises: 9 -> 11" in text and "computation of A-1" in text


def test_the_trail_of_an_enterprise_has_its_registration_and_external_awards_and_not_others(tmp_path):
    url = _ledger(tmp_path)
    events = cli_json(url, "audit", "trail", "--uscc", USCC_A)["events"]
    whats = [e["what"] for e in events]
    assert whats[0] == "registered" and "external award" in whats
    assert {e["ref"] for e in events if e["ref"]} == {"A-1"}
    assert cli(url, "audit", "trail").exit_code == 2
    assert cli(url, "audit", "trail", "NOPE-1").exit_code == 1


def test_show_with_a_uscc_summarises_the_enterprise_as_the_reports_do(tmp_path):
    url = _ledger(tmp_path)
    data = cli_json(url, "show", USCC_A)
    assert [a["ref"] for a in data["applications"]] == ["A-1"]
    report = {e["uscc"]: e for e in cli_json(url, "report", "enterprise")["enterprises"]}[USCC_A]
    assert data["total"]["awarded_fen"] == report["awarded_fen"]
    assert data["total"]["city_paid_fen"] == report["city_paid_fen"] == 500000
    assert data["total"]["external_fen"] == 300000
    assert "十堰安盾网络安全服务有限公司" in cli(url, "show", USCC_A).stdout
