"""Putting a mistake right with a new event (红字冲销), on SQLite and on PostgreSQL.

Every state an application can be in, against every command that changes one: which are
accepted and which are refused ``wrong-state`` (or ``unknown-payment``), then the new
refusal codes, the rules that see a revoked award as never made, the net figures of
every report, ``--as-of`` before a correction, and the read models rebuilt.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import USCC_A, USCC_B
from tests.helpers import SECURITY_FACTS, TWO_ENTERPRISES, cli, cli_json, views_snapshot, write_lines

STATES = ("submitted", "approved", "rejected", "withdrawn", "revoked")
OPS = ("amend", "withdraw", "revoke", "reverse-payment", "recover", "approve", "reject", "pay")

# M03-security: 10% of the contract, one-time per contract (the project): 10万 gives 1万.
FACTS = SECURITY_FACTS
SETUP = [
    *TWO_ENTERPRISES,
]


def _into_state(ref: str, state: str) -> list[dict[str, Any]]:
    """Lines that bring a new application ``ref`` into ``state``; approved and revoked ones have a city payment."""
    lines: list[dict[str, Any]] = [{"op": "apply", "ref": ref, "uscc": USCC_A, "measure": "M03-security",
                                    "project": ref, "date": "2023-01-10", "facts": FACTS}]
    if state in ("approved", "revoked"):
        lines += [{"op": "approve", "ref": ref, "date": "2023-02-01"},
                  {"op": "pay", "ref": ref, "payer": "city", "amount_fen": 100000, "voucher": f"V-{ref}",
                   "date": "2023-03-01"}]
    if state == "revoked":
        lines.append({"op": "revoke", "ref": ref, "date": "2023-04-01", "reason": "材料不实", "document": "文件1号"})
    if state == "rejected":
        lines.append({"op": "reject", "ref": ref, "date": "2023-02-01", "reason": "材料不全"})
    if state == "withdrawn":
        lines.append({"op": "withdraw", "ref": ref, "date": "2023-02-01", "reason": "企业申请撤回"})
    return lines


def _op(ref: str, op: str) -> dict[str, Any]:
    day = "2023-05-01"
    return {
        "amend": {"op": "amend", "ref": ref, "facts": {**FACTS, "contract_yuan": "20万"}, "date": day, "reason": "补正"},
        "withdraw": {"op": "withdraw", "ref": ref, "date": day, "reason": "撤回"},
        "revoke": {"op": "revoke", "ref": ref, "date": day, "reason": "撤销", "document": "文件2号"},
        "reverse-payment": {"op": "reverse-payment", "ref": ref, "payer": "city", "voucher": f"V-{ref}", "date": day,
                            "reason": "录错"},
        "recover": {"op": "recover", "ref": ref, "payer": "city", "amount_fen": 50000, "voucher": f"R-{ref}",
                    "date": day},
        "approve": {"op": "approve", "ref": ref, "date": day},
        "reject": {"op": "reject", "ref": ref, "date": day, "reason": "不予支持"},
        "pay": {"op": "pay", "ref": ref, "payer": "county", "amount_fen": 1000, "voucher": f"P-{ref}", "date": day},
    }[op]


ALLOWED = {"amend": {"submitted"}, "withdraw": {"submitted"}, "revoke": {"approved"},
           "reverse-payment": {"approved", "revoked"}, "recover": {"revoked"}, "approve": {"submitted"},
           "reject": {"submitted"}, "pay": {"approved"}}


# The op was done before (to reach the state), on another day: a repeat with other content.
DONE_BEFORE = {("approved", "approve"), ("revoked", "approve"), ("revoked", "revoke"), ("rejected", "reject"),
               ("withdrawn", "withdraw")}


def _expected(state: str, op: str) -> str:
    if state in ALLOWED[op]:
        return "ok"
    if (state, op) in DONE_BEFORE:
        return "conflicting-retry"
    if op == "reverse-payment":
        return "unknown-payment"  # only approved and revoked applications have a payment to reverse
    return "wrong-state"


def _import(db_url: str, tmp_path: Any, lines: list[dict[str, Any]], name: str = "lines.jsonl") -> dict[str, Any]:
    result = cli(db_url, "import", str(write_lines(tmp_path / name, lines)), "--json")
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)


def _outcomes(data: dict[str, Any], lines: list[dict[str, Any]]) -> list[str]:
    refused = {r["line"]: r["code"] for r in data["refused"]}
    return [refused.get(n, "ok") for n in range(1, len(lines) + 1)]


def test_every_state_against_every_correcting_command(db_url, tmp_path):
    lines = list(SETUP)
    for state in STATES:
        for op in OPS:
            lines += _into_state(f"{state}-{op}", state)
    setup = _import(db_url, tmp_path, lines, "setup.jsonl")
    assert setup["refused"] == []
    combos = [(state, op) for state in STATES for op in OPS]
    ops = [_op(f"{state}-{op}", op) for state, op in combos]
    got = dict(zip(combos, _outcomes(_import(db_url, tmp_path, ops, "ops.jsonl"), ops), strict=True))
    expected = {(state, op): _expected(state, op) for state, op in combos}
    assert got == expected
    after = {row["ref"]: row["status"] for row in cli_json(db_url, "report", "applications")["applications"]}
    assert after["submitted-amend"] == "submitted"
    assert after["submitted-withdraw"] == "withdrawn"
    assert after["approved-revoke"] == "revoked"
    assert after["submitted-approve"] == "approved" and after["submitted-reject"] == "rejected"


@pytest.fixture
def paid(db_url, tmp_path):
    """A-1 approved for 1万 (city 5,000 and county 5,000 yuan), the city half paid in two payments."""
    lines = [*SETUP, *_into_state("A-1", "approved"),
             {"op": "pay", "ref": "A-1", "payer": "city", "amount_fen": 400000, "voucher": "V-2", "date": "2023-03-05"}]
    assert _import(db_url, tmp_path, lines, "paid.jsonl")["refused"] == []
    return db_url


def _enterprise(db_url: str, uscc: str) -> dict[str, Any]:
    return {r["uscc"]: r for r in cli_json(db_url, "report", "enterprise")["enterprises"]}[uscc]


def _run(db_url: str, *args: str) -> Any:
    return cli(db_url, *args, "--json")


def _code(result: Any) -> str:
    errors = [json.loads(line)["error"] for line in result.stderr.splitlines() if line.startswith('{"error"')]
    assert len(errors) == 1, result.stderr
    return errors[0]["code"]


def test_a_reversed_payment_no_longer_counts_and_its_voucher_stays_used(paid):
    db = paid
    reversed_ = _run(db, "reverse-payment", "A-1", "--payer", "city", "--voucher", "V-2", "--date", "2023-03-06",
                     "--reason", "金额录错")
    assert reversed_.exit_code == 0, reversed_.stderr
    assert json.loads(reversed_.stdout) == {"op": "reverse-payment", "ref": "A-1", "payer": "city", "voucher": "V-2",
                                            "amount_fen": 400000, "paid_fen": 100000}
    shown = cli_json(db, "show", "A-1")
    assert (shown["city_paid_fen"], shown["city_outstanding_fen"]) == (100000, 400000)
    assert [p["reversed"] for p in shown["payments"]] == [False, True]
    assert shown["reversals"][0]["reason"] == "金额录错"
    again = _run(db, "pay", "A-1", "--payer", "city", "--amount-fen", "400000", "--voucher", "V-2",
                 "--date", "2023-03-07")
    assert again.exit_code == 1 and _code(again) == "duplicate-ref"
    right = _run(db, "pay", "A-1", "--payer", "city", "--amount-fen", "400000", "--voucher", "V-3",
                 "--date", "2023-03-07")
    assert right.exit_code == 0, right.stderr
    twice = _run(db, "reverse-payment", "A-1", "--payer", "city", "--voucher", "V-2", "--date", "2023-03-08",
                 "--reason", "再次")
    assert twice.exit_code == 1 and _code(twice) == "conflicting-retry"  # reversed once, on another day
    rows = {r["area"]: r for r in cli_json(db, "report", "shares")["areas"]}
    assert rows["张湾区"]["city_paid_fen"] == 500000
    assert _enterprise(db, USCC_A)["city_paid_fen"] == 500000


@pytest.mark.parametrize("args", [
    ("--payer", "city", "--voucher", "V-9"),       # no such voucher
    ("--payer", "county", "--voucher", "V-A-1"),   # a voucher of the other payer
])
def test_reversing_a_payment_that_is_not_there_is_unknown_payment(paid, args):
    result = _run(paid, "reverse-payment", "A-1", *args, "--date", "2023-04-01", "--reason", "x")
    assert result.exit_code == 1 and _code(result) == "unknown-payment"


def test_dates_of_corrections_follow_what_they_correct(paid):
    early_reversal = _run(paid, "reverse-payment", "A-1", "--payer", "city", "--voucher", "V-2", "--date",
                          "2023-03-04", "--reason", "x")
    assert early_reversal.exit_code == 2 and "before the payment date" in early_reversal.stderr
    early_revocation = _run(paid, "revoke", "A-1", "--date", "2023-01-31", "--reason", "x", "--document", "d")
    assert early_revocation.exit_code == 2 and "before the approval date" in early_revocation.stderr


def test_a_revoked_award_is_owed_no_more_and_what_was_paid_is_recovered_at_most_once(paid, tmp_path):
    db = paid
    revoked = _run(db, "revoke", "A-1", "--date", "2023-06-01", "--reason", "材料不实", "--document", "十经信〔2023〕9号")
    assert revoked.exit_code == 0, revoked.stderr
    assert json.loads(revoked.stdout)["city_paid_fen"] == 500000
    shown = cli_json(db, "show", "A-1")
    assert shown["status"] == "revoked" and shown["awarded_fen"] == 0
    assert (shown["city_outstanding_fen"], shown["county_outstanding_fen"]) == (0, 0)
    assert shown["city_to_recover_fen"] == 500000
    assert shown["revocation"]["document"] == "十经信〔2023〕9号" and shown["revocation"]["awarded_fen"] == 1000000
    early = _run(db, "recover", "A-1", "--payer", "city", "--amount-fen", "1", "--voucher", "R-0", "--date",
                 "2023-05-31")
    assert early.exit_code == 2 and "before the revocation date" in early.stderr
    too_much = _run(db, "recover", "A-1", "--payer", "city", "--amount-fen", "500001", "--voucher", "R-1",
                    "--date", "2023-07-01")
    assert too_much.exit_code == 1 and _code(too_much) == "over-recovery"
    nothing_paid = _run(db, "recover", "A-1", "--payer", "county", "--amount-fen", "1", "--voucher", "R-1",
                        "--date", "2023-07-01")
    assert nothing_paid.exit_code == 1 and _code(nothing_paid) == "over-recovery"
    part = _run(db, "recover", "A-1", "--payer", "city", "--amount", "3000", "--voucher", "R-1", "--date",
                "2023-07-01")
    assert part.exit_code == 0, part.stderr
    same_receipt = _run(db, "recover", "A-1", "--payer", "city", "--amount-fen", "1", "--voucher", "R-1",
                        "--date", "2023-07-02")
    assert same_receipt.exit_code == 1 and _code(same_receipt) == "conflicting-retry"  # same receipt, other amount
    repeated = _run(db, "recover", "A-1", "--payer", "city", "--amount", "3000", "--voucher", "R-1", "--date",
                    "2023-07-01")
    assert repeated.exit_code == 0 and json.loads(repeated.stdout)["already_recorded"] is True
    other_payer = _run(db, "recover", "A-1", "--payer", "county", "--amount-fen", "1", "--voucher", "R-1",
                       "--date", "2023-07-02")
    assert other_payer.exit_code == 1 and _code(other_payer) == "over-recovery"  # the area's own series; it paid 0
    rest = _run(db, "recover", "A-1", "--payer", "city", "--amount-fen", "200001", "--voucher", "R-2",
                "--date", "2023-07-02")
    assert rest.exit_code == 1 and _code(rest) == "over-recovery"
    # reversing a payment whose money was recovered would leave more recovered than paid
    reverse = _run(db, "reverse-payment", "A-1", "--payer", "city", "--voucher", "V-2", "--date", "2023-07-03",
                   "--reason", "x")
    assert reverse.exit_code == 1 and _code(reverse) == "over-recovery"
    pay = _run(db, "pay", "A-1", "--payer", "county", "--amount-fen", "1", "--voucher", "P-9", "--date", "2023-07-03")
    assert pay.exit_code == 1 and _code(pay) == "wrong-state"

    area = {r["area"]: r for r in cli_json(db, "report", "shares")["areas"]}["张湾区"]
    assert (area["city_owed_fen"], area["county_owed_fen"]) == (0, 0)
    assert (area["city_paid_fen"], area["city_to_recover_fen"]) == (200000, 200000)
    row = {r["ref"]: r for r in cli_json(db, "report", "applications")["applications"]}["A-1"]
    assert (row["status"], row["awarded_fen"], row["city_to_recover_fen"], row["revoked_on"]) == (
        "revoked", 0, 200000, "2023-06-01")
    assert _enterprise(db, USCC_A)["awarded_fen"] == 0

    # as it stood before the revocation and the recovery
    before = cli_json(db, "show", "A-1", "--as-of", "2023-05-31")
    assert before["status"] == "approved" and before["revocation"] is None and before["recoveries"] == []
    assert (before["awarded_fen"], before["city_outstanding_fen"]) == (1000000, 0)
    then = {r["area"]: r for r in cli_json(db, "report", "shares", "--as-of", "2023-05-31")["areas"]}["张湾区"]
    assert (then["city_owed_fen"], then["city_paid_fen"], then["city_to_recover_fen"]) == (500000, 500000, 0)
    was = {r["ref"]: r for r in cli_json(db, "report", "applications", "--as-of", "2023-05-31")["applications"]}
    assert (was["A-1"]["status"], was["A-1"]["awarded_fen"], was["A-1"]["revoked_on"]) == ("approved", 1000000, None)
    revoked_then = cli_json(db, "report", "applications", "--as-of", "2023-06-15", "--status", "revoked")
    assert [r["ref"] for r in revoked_then["applications"]] == ["A-1"]
    assert revoked_then["applications"][0]["city_to_recover_fen"] == 500000


def test_an_amendment_replaces_the_facts_keeps_both_and_is_reassessed(db_url, tmp_path):
    lines = [*SETUP, {"op": "apply", "ref": "P-1", "uscc": USCC_B, "measure": "M18-park", "project": "PARK",
                      "date": "2023-01-10", "facts": {"enterprises": 19, "revenue_yuan": "30亿"}}]
    data = _import(db_url, tmp_path, lines)
    assert data["refused"] == [] and [w["line"] for w in data["warnings"]] == [4]
    refused = _run(db_url, "approve", "P-1", "--date", "2023-02-01")
    assert refused.exit_code == 1 and _code(refused) == "not-eligible"
    early = _run(db_url, "amend", "P-1", "--date", "2023-01-09", "--reason", "x", "--fact", "enterprises=21",
                 "--fact", "revenue_yuan=30亿")
    assert early.exit_code == 2
    same = _run(db_url, "amend", "P-1", "--date", "2023-01-20", "--reason", "x", "--fact", "enterprises=19",
                "--fact", "revenue_yuan=30亿")
    assert same.exit_code == 2 and "already has" in same.stderr
    missing = _run(db_url, "amend", "P-1", "--date", "2023-01-20", "--reason", "x", "--fact", "enterprises=21")
    assert missing.exit_code == 2 and "revenue_yuan" in missing.stderr  # the whole set is replaced
    amended = _run(db_url, "amend", "P-1", "--date", "2023-01-20", "--reason", "补正名单", "--fact", "enterprises=21",
                   "--fact", "revenue_yuan=30亿")
    assert amended.exit_code == 0, amended.stderr
    assert json.loads(amended.stdout)["eligible"] is True
    approve_before_amendment = _run(db_url, "approve", "P-1", "--date", "2023-01-15")
    assert approve_before_amendment.exit_code == 2 and "last amended" in approve_before_amendment.stderr
    assert _run(db_url, "approve", "P-1", "--date", "2023-02-01").exit_code == 0
    shown = cli_json(db_url, "show", "P-1")
    assert shown["facts"]["enterprises"] == 21 and shown["awarded_fen"] == 500000000
    assert [(a["facts_before"]["enterprises"], a["facts"]["enterprises"]) for a in shown["amendments"]] == [(19, 21)]
    before = cli_json(db_url, "show", "P-1", "--as-of", "2023-01-19")
    assert before["facts"]["enterprises"] == 19 and before["eligible"] is False and before["amendments"] == []
    assert before["entitlement_fen"] is None
    human = cli(db_url, "show", "P-1")
    assert "补正" in human.stdout and "enterprises=19" in human.stdout


def test_a_withdrawn_application_takes_nothing_more(db_url, tmp_path):
    lines = [*SETUP, *_into_state("W-1", "withdrawn")]
    assert _import(db_url, tmp_path, lines)["refused"] == []
    shown = cli_json(db_url, "show", "W-1")
    assert (shown["status"], shown["reason"], shown["decided_on"]) == ("withdrawn", "企业申请撤回", "2023-02-01")
    assert cli_json(db_url, "show", "W-1", "--as-of", "2023-01-31")["status"] == "submitted"
    for args in (("approve", "W-1", "--date", "2023-03-01"),
                 ("amend", "W-1", "--date", "2023-03-01", "--reason", "x", "--facts-json", json.dumps(FACTS))):
        result = _run(db_url, *args)
        assert result.exit_code == 1 and _code(result) == "wrong-state", args


def test_a_revoked_award_counts_as_never_made_for_one_time_highest_and_quota(db_url, tmp_path):
    tasks = [{"op": "apply", "ref": f"T-{n}", "uscc": USCC_A, "measure": "M16-task", "project": f"任务{n}",
              "date": "2023-06-01", "facts": {"task_year": 2023, "task": f"JB-{n}"}} for n in range(1, 12)]
    lines = [
        *SETUP,
        # one-time per enterprise
        {"op": "apply", "ref": "O-1", "uscc": USCC_B, "measure": "M03-platform", "project": "P1", "date": "2023-01-10",
         "facts": {"route": "dual-cross"}},
        {"op": "approve", "ref": "O-1", "date": "2023-02-01"},
        {"op": "apply", "ref": "O-2", "uscc": USCC_B, "measure": "M03-platform", "project": "P2", "date": "2023-01-11",
         "facts": {"route": "dual-cross"}},
        {"op": "approve", "ref": "O-2", "date": "2023-02-02"},                                      # already-awarded
        {"op": "revoke", "ref": "O-1", "date": "2023-03-01", "reason": "x", "document": "d"},
        {"op": "approve", "ref": "O-2", "date": "2023-03-02"},                                      # ok now
        # 就高不重复: a revoked provincial award is not deducted from the national one
        {"op": "apply", "ref": "H-1", "uscc": USCC_A, "measure": "M07-base", "project": "BASE", "date": "2023-01-10",
         "facts": {"tier": "provincial"}},
        {"op": "approve", "ref": "H-1", "date": "2023-02-01"},
        {"op": "revoke", "ref": "H-1", "date": "2023-03-01", "reason": "x", "document": "d"},
        {"op": "apply", "ref": "H-2", "uscc": USCC_A, "measure": "M07-base", "project": "BASE", "date": "2023-04-01",
         "facts": {"tier": "national"}},
        {"op": "approve", "ref": "H-2", "date": "2023-04-10"},
        # the yearly quota: ten tasks, two revoked; the eleventh task fits, and a revoked task is free again
        *tasks,
        *[{"op": "approve", "ref": f"T-{n}", "date": "2023-07-01"} for n in range(1, 12)],      # T-11: quota
        {"op": "revoke", "ref": "T-3", "date": "2023-08-01", "reason": "x", "document": "d"},
        {"op": "revoke", "ref": "T-4", "date": "2023-08-01", "reason": "x", "document": "d"},
        {"op": "approve", "ref": "T-11", "date": "2023-08-02"},
    ]
    data = _import(db_url, tmp_path, lines)
    refused = {r["line"]: r["code"] for r in data["refused"]}
    assert refused == {7: "already-awarded", 8 + 6 + 11 + 11: "quota-exhausted"}
    assert cli_json(db_url, "show", "O-2")["status"] == "approved"
    assert cli_json(db_url, "show", "H-2")["awarded_fen"] == 50000000  # not 50万 - 30万
    assert cli_json(db_url, "show", "T-11")["status"] == "approved"
    again = _run(db_url, "apply", "--ref", "T-12", "--uscc", USCC_B, "--measure", "M16-task", "--project", "再揭榜",
                 "--date", "2023-09-01", "--fact", "task_year=2023", "--fact", "task=JB-3")
    assert again.exit_code == 0
    assert _run(db_url, "approve", "T-12", "--date", "2023-09-10").exit_code == 0  # JB-3 is free again
    full = _run(db_url, "apply", "--ref", "T-13", "--uscc", USCC_B, "--measure", "M16-task", "--project", "又揭榜",
                "--date", "2023-09-01", "--fact", "task_year=2023", "--fact", "task=JB-12")
    assert full.exit_code == 0
    refused = _run(db_url, "approve", "T-13", "--date", "2023-09-10")
    assert refused.exit_code == 1 and _code(refused) == "quota-exhausted"  # ten again


def test_read_models_rebuilt_after_corrections_equal_the_incremental_ones(paid, tmp_path):

    from ledger.store.storage import parse_store
    from projections import runner

    db = paid
    lines = [
        {"op": "reverse-payment", "ref": "A-1", "payer": "city", "voucher": "V-2", "date": "2023-03-06", "reason": "x"},
        {"op": "revoke", "ref": "A-1", "date": "2023-06-01", "reason": "x", "document": "d"},
        {"op": "recover", "ref": "A-1", "payer": "city", "amount_fen": 50000, "voucher": "R-1", "date": "2023-07-01"},
        *_into_state("W-1", "withdrawn"),
        {"op": "apply", "ref": "M-1", "uscc": USCC_B, "measure": "M18-park", "project": "PARK", "date": "2023-01-10",
         "facts": {"enterprises": 19, "revenue_yuan": "30亿"}},
        {"op": "amend", "ref": "M-1", "facts": {"enterprises": 20, "revenue_yuan": "30亿"}, "date": "2023-01-20",
         "reason": "补正"},
    ]
    assert _import(db, tmp_path, lines, "more.jsonl")["refused"] == []
    engine = runner.make_engine(parse_store(db))


    incremental = views_snapshot(engine)
    kinds = {row[1] for row in incremental["rm_entries"]}
    assert {"reversal", "revocation", "recovery"} <= kinds
    assert cli_json(db, "projections", "rebuild")["rebuilt"] is True
    assert views_snapshot(engine) == incremental
    engine.dispose()


@pytest.mark.parametrize("page", [1, 3, 1000])
def test_views_written_a_page_at_a_time_equal_those_written_an_event_at_a_time(paid, tmp_path, page):
    """A page's rows are written together (one executemany per table and kind of update): an
    approval, revocation or payment of an application submitted in the same page, or in an
    earlier one, ends in the same rows whatever the page size, and as the rebuild."""
    from sqlalchemy import update

    from ledger.service.application import GrantsLedger
    from ledger.store.storage import parse_store
    from projections import runner, schema

    db = paid
    lines = [
        {"op": "reverse-payment", "ref": "A-1", "payer": "city", "voucher": "V-2", "date": "2023-03-06", "reason": "x"},
        {"op": "revoke", "ref": "A-1", "date": "2023-06-01", "reason": "x", "document": "d"},
        {"op": "recover", "ref": "A-1", "payer": "city", "amount_fen": 50000, "voucher": "R-1", "date": "2023-07-01"},
        *_into_state("W-1", "withdrawn"),
    ]
    assert _import(db, tmp_path, lines, "more.jsonl")["refused"] == []
    store = parse_store(db)
    engine = runner.make_engine(store)
    ledger = GrantsLedger(store, create_tables=False)


    runner.rebuild(ledger, engine)
    rebuilt = views_snapshot(engine)
    with engine.begin() as conn:
        for table in reversed(schema.VIEW_TABLES):
            conn.execute(table.delete())
        conn.execute(update(schema.tracking).where(schema.tracking.c.name == runner.TRACKING_NAME).values(position=0))
    assert runner.catch_up(ledger, engine, page=page) == ledger.recorder.max_notification_id()
    assert views_snapshot(engine) == rebuilt
    ledger.close()
    engine.dispose()


def test_the_human_output_of_each_correction_says_what_happened(paid):
    db = paid
    out = cli(db, "reverse-payment", "A-1", "--payer", "city", "--voucher", "V-2", "--date", "2023-03-06",
              "--reason", "x")
    assert out.exit_code == 0 and "reversed;" in out.stdout
    out = cli(db, "revoke", "A-1", "--date", "2023-06-01", "--reason", "x", "--document", "d")
    assert out.exit_code == 0 and "revoked;" in out.stdout and "to recover: city 1,000.00" in out.stdout
    out = cli(db, "recover", "A-1", "--payer", "city", "--amount", "1000", "--voucher", "R-1", "--date", "2023-07-01")
    assert out.exit_code == 0 and "recovered to the city treasury" in out.stdout
    shown = cli(db, "show", "A-1").stdout
    assert "REVOKED" in shown and "reversal" in shown and "recovery" in shown and "to recover" in shown


def test_no_correction_is_dated_so_that_a_past_day_shows_money_paid_twice_or_below_zero(paid):
    """As of any day, what a payer has paid stays between nothing and its share: a revocation is dated no
    earlier than the payments it ends (else money recovered before it was paid), and a payment replacing a
    reversed one no earlier than the reversal (else, between the two days, both counted)."""
    early = _run(paid, "revoke", "A-1", "--date", "2023-03-02", "--reason", "x", "--document", "d")  # paid 03-05
    assert early.exit_code == 2 and "no earlier than the payments" in early.stderr
    assert _run(paid, "reverse-payment", "A-1", "--payer", "city", "--voucher", "V-2", "--date", "2023-03-10",
                "--reason", "录错").exit_code == 0
    before = _run(paid, "pay", "A-1", "--payer", "city", "--amount-fen", "400000", "--voucher", "V-3",
                  "--date", "2023-03-08")
    assert before.exit_code == 2 and "no earlier than the reversal" in before.stderr
    assert _run(paid, "pay", "A-1", "--payer", "city", "--amount-fen", "400000", "--voucher", "V-3",
                "--date", "2023-03-10").exit_code == 0
    for day in ("2023-03-01", "2023-03-05", "2023-03-09", "2023-03-10", "2023-12-31"):
        shown = cli_json(paid, "show", "A-1", "--as-of", day)
        assert 0 <= shown["city_paid_fen"] <= shown["city_share_fen"], (day, shown["city_paid_fen"])


def test_every_amendment_sent_again_is_answered_not_recorded_twice(db_url, tmp_path):
    lines = [*SETUP, {"op": "apply", "ref": "F-1", "uscc": USCC_B, "measure": "M18-park", "project": "PARK",
                      "date": "2023-01-10", "facts": {"enterprises": 19, "revenue_yuan": "30亿"}},
             {"op": "amend", "ref": "F-1", "facts": {"enterprises": 22, "revenue_yuan": "30亿"}, "date": "2023-04-20",
              "reason": "a"},
             {"op": "amend", "ref": "F-1", "facts": {"enterprises": 23, "revenue_yuan": "30亿"}, "date": "2023-04-20",
              "reason": "b"}]
    assert _import(db_url, tmp_path, lines, "first.jsonl")["refused"] == []
    again = _import(db_url, tmp_path, [*lines, {"op": "withdraw", "ref": "NOPE", "date": "2023-05-01",
                                                 "reason": "x"}], "edited.jsonl")  # another file, same lines
    assert [r["line"] for r in again["refused"]] == [len(lines) + 1]
    assert len(cli_json(db_url, "show", "F-1")["amendments"]) == 2  # not four: each answered "already recorded"
    resent = _run(db_url, "amend", "F-1", "--date", "2023-04-20", "--reason", "a", "--fact", "enterprises=22",
                  "--fact", "revenue_yuan=30亿")
    assert resent.exit_code == 0 and json.loads(resent.stdout)["already_recorded"] is True
    assert len(cli_json(db_url, "show", "F-1")["amendments"]) == 2
