"""A command sent again is answered once and never recorded twice, on SQLite and PostgreSQL.

The same natural key with the same content: "already recorded", exit 0, nothing written.
The same key with other content: ``conflicting-retry``, exit 1, nothing written. A key
taken by another subject (another enterprise's filing number, another application's
voucher) stays ``duplicate-ref``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import USCC_A, USCC_B
from tests.helpers import TWO_ENTERPRISES, cli, write_lines

SETUP = [
    *TWO_ENTERPRISES,
    {"op": "apply", "ref": "S-1", "uscc": USCC_A, "measure": "M07-base", "project": "BASE", "date": "2023-01-10",
     "facts": {"tier": "national"}},
    {"op": "apply", "ref": "S-2", "uscc": USCC_A, "measure": "M18-park", "project": "PARK", "date": "2023-01-10",
     "facts": {"enterprises": 19, "revenue_yuan": "30亿"}},
    {"op": "apply", "ref": "S-3", "uscc": USCC_A, "measure": "M07-digital-commerce", "project": "DC",
     "date": "2023-01-10"},
    {"op": "apply", "ref": "S-4", "uscc": USCC_B, "measure": "M07-digital-commerce", "project": "DC",
     "date": "2023-01-10"},
]

# (the command, the same key with other content)
CASES = {
    "register": (["register", "--uscc", USCC_A, "--name", "十堰安盾网络安全服务有限公司", "--area", "张湾区"],
                 ["register", "--uscc", USCC_A, "--name", "十堰安盾科技有限公司", "--area", "张湾区"]),
    "apply": (["apply", "--ref", "S-1", "--uscc", USCC_A, "--measure", "M07-base", "--project", "BASE",
               "--date", "2023-01-10", "--fact", "tier=national"],
              ["apply", "--ref", "S-1", "--uscc", USCC_A, "--measure", "M07-base", "--project", "BASE",
               "--date", "2023-01-10", "--fact", "tier=provincial"]),
    "approve": (["approve", "S-1", "--date", "2023-02-01"], ["approve", "S-1", "--date", "2023-02-02"]),
    "pay": (["pay", "S-1", "--payer", "city", "--amount", "10万", "--voucher", "V-1", "--date", "2023-03-01"],
            ["pay", "S-1", "--payer", "city", "--amount", "10万", "--voucher", "V-1", "--date", "2023-03-02"]),
    "reverse-payment": (["reverse-payment", "S-1", "--payer", "city", "--voucher", "V-1", "--date", "2023-03-05",
                         "--reason", "录错"],
                        ["reverse-payment", "S-1", "--payer", "city", "--voucher", "V-1", "--date", "2023-03-05",
                         "--reason", "另一理由"]),
    "pay again": (["pay", "S-1", "--payer", "city", "--amount", "10万", "--voucher", "V-2", "--date", "2023-03-06"],
                  ["pay", "S-1", "--payer", "city", "--amount", "9万", "--voucher", "V-2", "--date", "2023-03-06"]),
    "amend": (["amend", "S-2", "--date", "2023-01-20", "--reason", "补正", "--fact", "enterprises=21",
               "--fact", "revenue_yuan=30亿"],
              ["amend", "S-2", "--date", "2023-01-21", "--reason", "补正", "--fact", "enterprises=21",
               "--fact", "revenue_yuan=30亿"]),
    "reject": (["reject", "S-2", "--date", "2023-02-01", "--reason", "材料不全"],
               ["reject", "S-2", "--date", "2023-02-01", "--reason", "另一理由"]),
    "withdraw": (["withdraw", "S-3", "--date", "2023-02-01", "--reason", "撤回"],
                 ["withdraw", "S-3", "--date", "2023-02-03", "--reason", "撤回"]),
    "revoke": (["revoke", "S-1", "--date", "2023-06-01", "--reason", "不实", "--document", "文1"],
               ["revoke", "S-1", "--date", "2023-06-01", "--reason", "不实", "--document", "文2"]),
    "recover": (["recover", "S-1", "--payer", "city", "--amount", "5万", "--voucher", "R-1", "--date", "2023-07-01"],
                ["recover", "S-1", "--payer", "city", "--amount", "6万", "--voucher", "R-1", "--date", "2023-07-01"]),
    "external-award": (["external-award", "--uscc", USCC_B, "--project", "X", "--policy", "其他政策",
                        "--amount", "10万", "--date", "2023-01-05"], None),
    "policy adopt": (["policy", "adopt", "--effective", "2022-09-01"],
                     ["policy", "adopt", "--effective", "2022-09-01", "--date", "2022-09-05"]),
}


def _events(db_url: str) -> int:
    from ledger.service.application import GrantsLedger
    from ledger.store.storage import parse_store

    ledger = GrantsLedger(parse_store(db_url), create_tables=False)
    try:
        return ledger.recorder.max_notification_id() or 0
    finally:
        ledger.close()


def _error(result: Any) -> dict[str, Any]:
    errors = [json.loads(line)["error"] for line in result.stderr.splitlines() if line.startswith('{"error"')]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_every_command_sent_twice_is_answered_once_and_conflicts_are_refused(db_url, tmp_path):
    assert json.loads(cli(db_url, "import", str(write_lines(tmp_path / "s.jsonl", SETUP)), "--json").stdout)[
        "refused"] == []
    for name, (command, other) in CASES.items():  # in order: each builds on the state the one before left
        first = cli(db_url, *command, "--json")
        assert first.exit_code == 0, (name, first.stderr)
        assert not json.loads(first.stdout).get("already_recorded") or name in ("register", "apply", "policy adopt")
        before = _events(db_url)
        again = cli(db_url, *command, "--json")
        assert again.exit_code == 0, (name, again.stderr)
        assert json.loads(again.stdout)["already_recorded"] is True, name
        human = cli(db_url, *command)
        assert human.exit_code == 0 and "already recorded" in human.stdout, (name, human.stdout)
        if other is not None:
            conflict = cli(db_url, *other, "--json")
            assert conflict.exit_code == 1, (name, conflict.stderr)
            error = _error(conflict)
            assert error["code"] == "conflicting-retry", (name, error)
            assert "recorded" in error["message"] and "given" in error["message"], error
        assert _events(db_url) == before, f"{name}: a repeat or a conflict wrote events"


@pytest.mark.parametrize("args", [
    ["apply", "--ref", "S-1", "--uscc", USCC_B, "--measure", "M07-base", "--project", "BASE", "--date", "2023-01-10",
     "--fact", "tier=national"],                                   # another enterprise's filing number
    ["pay", "S-4", "--payer", "city", "--amount", "10万", "--voucher", "V-1", "--date", "2023-03-01"],
])
def test_a_key_taken_by_another_subject_is_duplicate_ref(db_url, tmp_path, args):
    lines = [*SETUP, {"op": "approve", "ref": "S-1", "date": "2023-02-01"},
             {"op": "approve", "ref": "S-4", "date": "2023-02-01"},
             {"op": "pay", "ref": "S-1", "payer": "city", "amount_fen": 10000000, "voucher": "V-1",
              "date": "2023-03-01"}]
    assert json.loads(cli(db_url, "import", str(write_lines(tmp_path / "s.jsonl", lines)), "--json").stdout)[
        "refused"] == []
    result = cli(db_url, *args, "--json")
    assert result.exit_code == 1 and _error(result)["code"] == "duplicate-ref"


def test_a_reversed_payments_voucher_is_not_a_retry(db_url, tmp_path):
    lines = [*SETUP, {"op": "approve", "ref": "S-1", "date": "2023-02-01"},
             {"op": "pay", "ref": "S-1", "payer": "city", "amount_fen": 10000000, "voucher": "V-1",
              "date": "2023-03-01"},
             {"op": "reverse-payment", "ref": "S-1", "payer": "city", "voucher": "V-1", "date": "2023-03-02",
              "reason": "录错"}]
    assert json.loads(cli(db_url, "import", str(write_lines(tmp_path / "s.jsonl", lines)), "--json").stdout)[
        "refused"] == []
    again = cli(db_url, "pay", "S-1", "--payer", "city", "--amount", "10万", "--voucher", "V-1", "--date",
                "2023-03-01", "--json")
    assert again.exit_code == 1 and _error(again)["code"] == "duplicate-ref"
    assert "new voucher" in _error(again)["message"]
