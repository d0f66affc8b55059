"""The fields each event the read models take is read by, and their types: an event without one of them, or
with one of the wrong type, is malformed (a row written past the ledger, issue 19). The read models pass
such an event over before applying it, so nothing of it is half applied; an admin may set it aside
(``grants admin set-aside``), which is refused for an event that reads fine. Pure: no I/O."""

from __future__ import annotations

from datetime import date
from typing import Any

FIELDS = {
    "grants:Enterprise.Registered": ("uscc", "name", "area", "date"),
    "grants:Enterprise.ApplicationSubmitted": ("ref", "measure", "project", "date", "policy_version"),
    "grants:Enterprise.ApplicationApproved": ("ref", "date", "entitlement_fen", "awarded_fen", "city_share_fen",
                                              "county_share_fen"),
    "grants:Enterprise.ApplicationRejected": ("ref", "date"),
    "grants:Enterprise.ApplicationWithdrawn": ("ref", "date"),
    "grants:Enterprise.AwardRevoked": ("ref", "date", "awarded_fen", "city_share_fen", "county_share_fen"),
    "grants:Enterprise.PaymentRecorded": ("ref", "date", "payer", "amount_fen", "voucher"),
    "grants:Enterprise.PaymentReversed": ("ref", "date", "payer", "amount_fen", "voucher"),
    "grants:Enterprise.RecoveryRecorded": ("ref", "date", "payer", "amount_fen", "voucher"),
    "grants:Enterprise.AwardRedecided": ("ref", "date", "awarded_fen", "city_share_fen", "county_share_fen"),
    "grants:Enterprise.ExternalAwardRecorded": ("date", "amount_fen", "policy"),
    "grants:PolicyBook.PolicyAdopted": ("version", "catalogue", "effective", "ends", "date"),
    "grants:SetAsides.MalformedEventSetAside": ("position", "stream", "stream_version", "topic", "reason",
                                                "date", "by"),
}
_TYPES = {"ref": str, "uscc": str, "payer": str, "voucher": str, "date": date, "effective": date, "ends": date,
          "position": int, "stream": str, "stream_version": int, "topic": str, "reason": str, "by": str}
_NOTHING = object()


def missing(topic: str, ev: Any) -> list[str]:
    """The fields an event lacks, or holds with the wrong type (an amount not an integer, a date not a date)."""
    wrong = []
    for name in FIELDS.get(topic, ()):
        value = getattr(ev, name, _NOTHING)
        expected = int if name.endswith("_fen") else _TYPES.get(name)
        if value is None:
            if not (name == "date" and topic == "grants:Enterprise.Registered"):  # a registration may be undated
                wrong.append(name)
        elif value is _NOTHING or (expected is not None and (
                not isinstance(value, expected) or (expected is int and isinstance(value, bool)))):
            wrong.append(name)
    return wrong
