"""Separation of duties over any history: whatever operators (each holding every role but
admin) try in whatever order, the recorded history never has an application decided by
its filer or an amender, a payment by its approver, or a revocation by its approver;
and a command is refused ``separation-of-duties`` only when it would have broken one
of those rules. In memory (eventsourcing's POPO store), through ``GrantsLedger.execute``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import SEPARATION_OF_DUTIES, Refused
from ledger.intake.commands import parse_command
from tests.conftest import USCC_A, memory_ledger

PEOPLE = ("p0", "p1", "p2")
REFS = ("R-0", "R-1")
FACTS = {"city_enterprises": 11, "annual_revenue_yuan": "500万", "contract_yuan": "10万"}
ACTIONS = ("amend", "approve", "approve", "reject", "pay", "pay", "pay", "revoke")  # weighted: reach payments


def _line(action: str, ref: str, n: int) -> dict[str, Any]:
    day = f"2023-{3 + n // 28:02d}-{1 + n % 28:02d}"  # each step a later day
    return {
        "apply": {"op": "apply", "ref": ref, "uscc": USCC_A, "measure": "M03-security", "project": ref,
                  "date": "2023-02-01", "facts": FACTS},
        "amend": {"op": "amend", "ref": ref, "facts": {**FACTS, "contract_yuan": f"{10 + n}万"}, "date": day,
                  "reason": "补正"},
        "approve": {"op": "approve", "ref": ref, "date": day},
        "reject": {"op": "reject", "ref": ref, "date": day, "reason": "不予支持"},
        "pay": {"op": "pay", "ref": ref, "payer": "city", "amount_fen": 100, "voucher": f"V-{n}", "date": day},
        "revoke": {"op": "revoke", "ref": ref, "date": day, "reason": "撤销", "document": f"D-{n}"},
    }[action]


def _conflicts(action: str, who: str, app: dict[str, Any] | None) -> bool:
    """Whether ``who`` doing ``action`` on ``app`` (as shown before it) breaks a separation rule."""
    if app is None:
        return False
    if action in ("approve", "reject"):
        return who == app["filed_by"] or who in {a["by"] for a in app["amendments"]}
    if action in ("pay", "revoke"):
        return app["status"] == "approved" and who == app["decided_by"]
    return False


@settings(max_examples=150, deadline=None)
@given(st.tuples(*(st.sampled_from(PEOPLE) for _ in REFS)),
       st.lists(st.tuples(st.sampled_from(ACTIONS), st.sampled_from(PEOPLE), st.sampled_from(REFS)),
                min_size=1, max_size=30))
def test_no_recorded_history_lets_one_operator_hold_incompatible_duties(filers, steps):
    ledger = memory_ledger()
    ledger.clock = lambda: date(2024, 6, 1)

    def run(line: dict[str, Any], by: str) -> Any:
        try:
            return ledger.execute(parse_command(line, by))
        except Refused as refusal:
            return refusal

    run({"op": "adopt-policy", "effective": "2022-09-01"}, "boss")
    run({"op": "register", "uscc": USCC_A, "name": "十堰安盾", "area": "张湾区", "date": "2023-01-01"}, "boss")
    run({"op": "register-operator", "name": "boss", "display_name": "B", "roles": ["admin"], "date": "2022-01-01"},
        "boss")
    for person in PEOPLE:
        run({"op": "register-operator", "name": person, "display_name": person,
             "roles": ["clerk", "reviewer", "treasurer"], "date": "2022-01-01"}, "boss")
    filed_by: dict[str, str] = {}
    for ref, filer in zip(REFS, filers, strict=True):
        assert not isinstance(run(_line("apply", ref, 0), filer), Refused)
        filed_by[ref] = filer
    for n, (action, who, ref) in enumerate(steps):
        before = _shown(ledger, ref, filed_by)
        outcome = run(_line(action, ref, n), who)
        refused_for_duties = isinstance(outcome, Refused) and outcome.code == SEPARATION_OF_DUTIES
        assert refused_for_duties == _conflicts(action, who, before), (action, who, before, outcome)
    for ref, filer in filed_by.items():
        app = _shown(ledger, ref, filed_by)
        assert app is not None
        deciders = {filer} | {a["by"] for a in app["amendments"]}
        if app["status"] in ("approved", "rejected", "revoked"):
            assert app["decided_by"] not in deciders
        assert all(p["by"] != app["decided_by"] for p in app["payments"])
        if app["revocation"]:
            assert app["revocation"]["by"] != app["decided_by"]


def _shown(ledger: Any, ref: str, filed_by: dict[str, str]) -> dict[str, Any] | None:
    if ref not in filed_by:
        return None
    return {**ledger.show(ref), "filed_by": filed_by[ref]}
