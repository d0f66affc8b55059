"""Every cash measure item can be applied for, approved and paid through `grants import`,
with the amount its clause gives; every clause that pays nothing is refused. The facts
come from the first accepted worked example of each item in tests/examples/."""

from __future__ import annotations

import json

from ledger.domain.uscc import make_uscc
from ledger.policy import catalogue
from tests.conftest import new_ledger
from tests.helpers import cli, cli_json, write_lines
from tests.test_worked_examples import CLAUSE_FILES, load_cases


def _first_accepted_examples() -> dict[str, dict]:
    found: dict[str, dict] = {}
    for path in CLAUSE_FILES:
        for case in load_cases(path):
            if "refused" not in case and case["measure"] not in found:
                found[case["measure"]] = case
    return found


def test_every_cash_measure_item_is_applied_approved_and_paid_in_full(tmp_path):
    examples = _first_accepted_examples()
    measures = [m for m in catalogue().measures.values() if m.grantable]
    assert {m.id for m in measures} <= set(examples), "every cash measure item needs an accepted worked example"
    lines: list[dict] = [{"op": "adopt-policy", "effective": "2022-09-01"}]
    expected: dict[str, int] = {}
    for n, measure in enumerate(measures):
        case = examples[measure.id]
        uscc = make_uscc(f"91420303MA4F{n:05d}")  # one enterprise per item: no one-time or 就高 interplay
        ref = f"E-{measure.id}"
        lines.append({"op": "register", "uscc": uscc, "name": f"企业{n}", "area": "张湾区"})
        lines.append({"op": "apply", "ref": ref, "uscc": uscc, "measure": measure.id, "project": "P",
                      "date": case["date"].isoformat(), "facts": case["facts"]})
        approve = {"op": "approve", "ref": ref, "date": "2025-08-31", "by": "li.wei"}
        amount = case.get("amount_fen")
        if case.get("case_by_case"):
            amount = 12_345_67
            approve.update(amount_fen=amount, basis="市政府专题会议纪要〔2024〕1号")
        lines.append(approve)
        city = amount - amount // 2
        lines.append({"op": "pay", "ref": ref, "payer": "city", "amount_fen": city, "voucher": f"C-{n}",
                      "date": "2025-09-30", "by": "zhao.min"})
        lines.append({"op": "pay", "ref": ref, "payer": "county", "amount_fen": amount // 2, "voucher": f"Z-{n}",
                      "date": "2025-09-30", "by": "zw.finance"})
        expected[ref] = amount
    db = new_ledger(tmp_path, "every.db")
    result = cli(db, "import", str(write_lines(tmp_path / "every.jsonl", lines)), "--json")
    assert json.loads(result.stdout)["refused"] == [] and result.exit_code == 0
    for ref, amount in expected.items():
        shown = cli_json(db, "show", ref)
        assert (shown["status"], shown["awarded_fen"]) == ("approved", amount), ref
        assert shown["city_paid_fen"] + shown["county_paid_fen"] == amount, ref
        assert shown["city_outstanding_fen"] == shown["county_outstanding_fen"] == 0, ref


def test_every_clause_that_pays_nothing_is_refused_as_not_grantable(tmp_path):
    uscc = make_uscc("91420303MA4F99999")
    lines = [{"op": "adopt-policy", "effective": "2022-09-01"},
             {"op": "register", "uscc": uscc, "name": "企业", "area": "房县"}]
    no_cash = [m.id for m in catalogue().measures.values() if not m.grantable]
    assert no_cash == ["M01", "M02", "M04", "M05", "M06", "M08", "M14", "M15", "M17"]
    lines += [{"op": "apply", "ref": f"N-{m}", "uscc": uscc, "measure": m, "project": "P", "date": "2023-01-10"}
              for m in no_cash]
    db = new_ledger(tmp_path, "none.db")
    result = cli(db, "import", str(write_lines(tmp_path / "none.jsonl", lines)), "--json")
    refused = json.loads(result.stdout)["refused"]
    assert [r["code"] for r in refused] == ["not-grantable"] * len(no_cash)
    assert all("no cash" in r["message"] for r in refused)
