"""`report shares` as the reconciliation, and `grants audit reconcile` (exit 8 on any gap)."""

from __future__ import annotations

import json

from tests.conftest import USCC_A, USCC_B, new_ledger
from tests.helpers import SECURITY_FACTS, TWO_ENTERPRISES, cli, cli_json, write_lines

FACTS = SECURITY_FACTS
ODD = {"city_enterprises": 11, "annual_revenue_yuan": "500万", "contract_yuan": "10000.10"}  # 1000.01 yuan
LINES = [
    *TWO_ENTERPRISES,
    {"op": "apply", "ref": "A-1", "uscc": USCC_A, "measure": "M03-security", "project": "P1", "date": "2023-01-10",
     "facts": FACTS},
    {"op": "approve", "ref": "A-1", "date": "2023-02-01"},
    {"op": "pay", "ref": "A-1", "payer": "city", "amount_fen": 1, "voucher": "V-0", "date": "2023-03-01"},
    {"op": "reverse-payment", "ref": "A-1", "payer": "city", "voucher": "V-0", "date": "2023-03-01", "reason": "录错"},
    {"op": "pay", "ref": "A-1", "payer": "city", "amount_fen": 500000, "voucher": "V-1", "date": "2023-03-02"},
    {"op": "apply", "ref": "B-1", "uscc": USCC_B, "measure": "M03-security", "project": "Q1", "date": "2023-01-12",
     "facts": ODD},
    {"op": "approve", "ref": "B-1", "date": "2023-02-10"},
    {"op": "pay", "ref": "B-1", "payer": "city", "amount_fen": 50001, "voucher": "V-2", "date": "2023-03-10"},
    {"op": "pay", "ref": "B-1", "payer": "county", "amount_fen": 50000, "voucher": "M-2", "date": "2023-03-12"},
]
OLD_KEYS = {"city_owed_fen", "county_owed_fen", "city_paid_fen", "county_paid_fen", "city_to_recover_fen",
            "county_to_recover_fen"}


def _ledger(tmp_path, lines=LINES) -> str:
    url = new_ledger(tmp_path, "l.db")
    assert cli(url, "import", str(write_lines(tmp_path / "l.jsonl", lines))).exit_code == 0
    return url


def test_shares_reconcile_per_area_and_measure_and_list_the_half_paid_award_with_its_days(tmp_path):
    url = _ledger(tmp_path)
    data = cli_json(url, "report", "shares", "--as-of", "2023-03-31")
    assert OLD_KEYS <= set(data["total"]) and all(OLD_KEYS <= set(a) for a in data["areas"])  # extended only
    area = {a["area"]: a for a in data["areas"]}
    assert (area["张湾区"]["city_outstanding_fen"], area["张湾区"]["county_outstanding_fen"]) == (0, 500000)
    assert area["张湾区"]["gap_fen"] == 500000
    assert area["茅箭区"]["gap_fen"] == 1 and area["茅箭区"]["county_outstanding_fen"] == 0  # the city's odd fen
    measures = {m["measure"]: m for m in data["measures"]}
    assert set(measures) == {"M03-security"}
    for key in OLD_KEYS | {"city_outstanding_fen", "county_outstanding_fen", "gap_fen"}:
        assert measures["M03-security"][key] == data["total"][key] == sum(a[key] for a in data["areas"])
    [half] = data["half_paid"]
    assert (half["ref"], half["paid_by"], half["not_paid_by"], half["behind_fen"]) == ("A-1", "city", "county", 500000)
    assert (half["since"], half["days_outstanding"]) == ("2023-03-01", 30)  # since the first payment ahead


def test_payments_per_treasury_between_two_dates_are_net_of_reversals(tmp_path):
    url = _ledger(tmp_path)
    period = cli_json(url, "report", "shares", "--from", "2023-03-01", "--to", "2023-03-10")["period"]
    treasuries = {t["treasury"]: t for t in period["treasuries"]}
    assert treasuries["city"] == {"treasury": "city", "payments": 3, "payments_fen": 550002, "reversals_fen": 1,
                                  "recoveries_fen": 0, "net_fen": 550001}
    assert "茅箭区" not in treasuries  # its payment is dated 2023-03-12
    assert cli(url, "report", "shares", "--from", "2023-03-01").exit_code == 2


def test_audit_reconcile_exits_8_while_a_gap_exists_and_0_once_both_halves_are_paid(tmp_path):
    url = _ledger(tmp_path)
    result = cli(url, "audit", "reconcile", "--json", "--as-of", "2023-03-31")
    assert result.exit_code == 8
    assert [g["ref"] for g in json.loads(result.stdout)["gaps"]] == ["A-1"]
    lines = [{"op": "pay", "ref": "A-1", "payer": "county", "amount_fen": 500000, "voucher": "Z-1",
              "date": "2023-04-05"}]
    assert cli(url, "import", str(write_lines(tmp_path / "more.jsonl", lines))).exit_code == 0
    assert cli(url, "audit", "reconcile", "--as-of", "2023-03-31").exit_code == 8  # not yet, as of then
    done = cli(url, "audit", "reconcile")
    assert done.exit_code == 0 and "reconciled" in done.stdout


# An award of 1,000.01 yuan: the city's half 500.01, the county's 500.00 (the city takes the odd fen).
ODD_AWARD = [
    *TWO_ENTERPRISES,
    {"op": "apply", "ref": "O-1", "uscc": USCC_B, "measure": "M03-security", "project": "Q1", "date": "2023-01-12",
     "facts": ODD},
    {"op": "approve", "ref": "O-1", "date": "2023-02-10"},
]


def _reconcile(url: str, *args: str) -> tuple[int, list[dict[str, object]]]:
    """`audit reconcile` as a script reads it (JSON) and as a person does (text): the exit code, the awards
    listed; the two agree."""
    as_json = cli(url, "audit", "reconcile", "--json", *args)
    text = cli(url, "audit", "reconcile", *args)
    assert as_json.exit_code == text.exit_code, text.stdout
    gaps = json.loads(as_json.stdout)["gaps"]
    assert ("reconciled" in text.stdout) == (not gaps)
    for gap in gaps:
        assert gap["ref"] in text.stdout
    return as_json.exit_code, gaps


def test_an_approved_award_with_an_odd_fen_and_nothing_paid_is_unpaid_not_lagging(db_url, tmp_path):
    assert cli(db_url, "import", str(write_lines(tmp_path / "l.jsonl", ODD_AWARD))).exit_code == 0
    shares = cli_json(db_url, "report", "shares")
    assert (shares["total"]["city_outstanding_fen"], shares["total"]["county_outstanding_fen"]) == (50001, 50000)
    assert shares["half_paid"] == []
    assert _reconcile(db_url) == (0, [])
    assert _reconcile(db_url, "--as-of", "2023-03-01") == (0, [])
    assert _reconcile(db_url, "--known-at", "2999-01-01T00:00:00+00:00") == (0, [])
    assert "O-1" not in cli(db_url, "report", "shares").stdout


def test_each_half_paid_in_the_same_part_of_its_own_is_not_lagging_either(db_url, tmp_path):
    """Half of each half: the city 250.01 of its 500.01, the county 250.00 of its 500.00; then each in full."""
    lines = [*ODD_AWARD,
             {"op": "pay", "ref": "O-1", "payer": "city", "amount_fen": 25001, "voucher": "C-1", "date": "2023-03-01"},
             {"op": "pay", "ref": "O-1", "payer": "county", "amount_fen": 25000, "voucher": "X-1",
              "date": "2023-03-01"},
             {"op": "pay", "ref": "O-1", "payer": "county", "amount_fen": 25000, "voucher": "X-2",
              "date": "2023-04-01"},
             {"op": "pay", "ref": "O-1", "payer": "city", "amount_fen": 25000, "voucher": "C-2", "date": "2023-04-01"}]
    assert cli(db_url, "import", str(write_lines(tmp_path / "l.jsonl", lines))).exit_code == 0
    for day in ("2023-03-15", "2023-04-15"):
        assert _reconcile(db_url, "--as-of", day) == (0, [])
    assert _reconcile(db_url) == (0, [])


def test_one_half_paid_and_the_other_not_is_listed_and_reconcile_exits_8(db_url, tmp_path):
    lines = [*ODD_AWARD,
             {"op": "pay", "ref": "O-1", "payer": "county", "amount_fen": 50000, "voucher": "X-1",
              "date": "2023-03-01"}]
    assert cli(db_url, "import", str(write_lines(tmp_path / "l.jsonl", lines))).exit_code == 0
    for args in ((), ("--as-of", "2023-03-31"), ("--known-at", "2999-01-01T00:00:00+00:00")):
        code, gaps = _reconcile(db_url, *args)
        assert code == 8, args
        [gap] = gaps
        assert (gap["ref"], gap["paid_by"], gap["not_paid_by"], gap["behind_fen"], gap["since"]) == (
            "O-1", "county", "city", 50001, "2023-03-01")
    assert _reconcile(db_url, "--as-of", "2023-02-28") == (0, [])  # before the county paid
    # The city pays all but its odd fen: the county has paid all of its half, the city not yet.
    more = [{"op": "pay", "ref": "O-1", "payer": "city", "amount_fen": 50000, "voucher": "C-1", "date": "2023-04-01"}]
    assert cli(db_url, "import", str(write_lines(tmp_path / "m.jsonl", more))).exit_code == 0
    code, [gap] = _reconcile(db_url)
    assert (code, gap["not_paid_by"], gap["behind_fen"]) == (8, "city", 1)
    last = [{"op": "pay", "ref": "O-1", "payer": "city", "amount_fen": 1, "voucher": "C-2", "date": "2023-04-02"}]
    assert cli(db_url, "import", str(write_lines(tmp_path / "n.jsonl", last))).exit_code == 0
    assert _reconcile(db_url) == (0, [])
    assert _reconcile(db_url, "--as-of", "2023-04-01")[0] == 8


def test_the_city_paid_and_the_county_not_lists_the_county_behind_by_its_half(db_url, tmp_path):
    lines = [*ODD_AWARD,
             {"op": "pay", "ref": "O-1", "payer": "city", "amount_fen": 50001, "voucher": "C-1", "date": "2023-03-01"}]
    assert cli(db_url, "import", str(write_lines(tmp_path / "l.jsonl", lines))).exit_code == 0
    code, [gap] = _reconcile(db_url)
    assert (code, gap["paid_by"], gap["not_paid_by"], gap["behind_fen"]) == (8, "city", "county", 50000)
