"""The fields each event the read models take is read by, and their types: an event without one of them, or
with one of the wrong type, is malformed (a row written past the ledger, issue 19). The read models pass
such an event over before applying it, so nothing of it is half applied; an admin may set it aside
(``grants admin set-aside``), which is refused for an event that reads fine. Pure: no I/O."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from ledger.domain.aggregates import Enterprise, PolicyBook, SetAsides
from ledger.domain.kinds import event_class


def _by_topic(fields: dict[type[Aggregate.Event], tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    return {get_topic(cls): names for cls, names in fields.items()}


_E, _P, _S = Enterprise, PolicyBook, SetAsides
# By event class (the registry's names, ledger/domain/kinds.py); looked up by the stored topic.
FIELDS = _by_topic({
    event_class(_E, "Registered"): ("uscc", "name", "area", "date"),
    event_class(_E, "ApplicationSubmitted"): ("ref", "measure", "project", "date", "policy_version"),
    event_class(_E, "ApplicationApproved"): ("ref", "date", "entitlement_fen", "awarded_fen", "city_share_fen",
                                             "county_share_fen"),
    event_class(_E, "ApplicationRejected"): ("ref", "date"),
    event_class(_E, "ApplicationWithdrawn"): ("ref", "date"),
    event_class(_E, "AwardRevoked"): ("ref", "date", "awarded_fen", "city_share_fen", "county_share_fen"),
    event_class(_E, "PaymentRecorded"): ("ref", "date", "payer", "amount_fen", "voucher"),
    event_class(_E, "PaymentReversed"): ("ref", "date", "payer", "amount_fen", "voucher"),
    event_class(_E, "RecoveryRecorded"): ("ref", "date", "payer", "amount_fen", "voucher"),
    event_class(_E, "AwardRedecided"): ("ref", "date", "awarded_fen", "city_share_fen", "county_share_fen"),
    event_class(_E, "ExternalAwardRecorded"): ("date", "amount_fen", "policy"),
    event_class(_P, "PolicyAdopted"): ("version", "catalogue", "effective", "ends", "date"),
    event_class(_S, "MalformedEventSetAside"): ("position", "stream", "stream_version", "topic", "reason", "date",
                                                "by"),
})
_REGISTERED = get_topic(event_class(_E, "Registered"))
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
            if not (name == "date" and topic == _REGISTERED):  # a registration may be undated
                wrong.append(name)
        elif value is _NOTHING or (expected is not None and (
                not isinstance(value, expected) or (expected is int and isinstance(value, bool)))):
            wrong.append(name)
    return wrong
