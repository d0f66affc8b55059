"""The audit trail: an enterprise's events in order, each with its effective date, its
recording time, who, what, the amounts, the facts an amendment changed and the
computation trace; and an enterprise as the ledger knew it at a moment. Pure: the
caller hands in the decoded events of the enterprise's stream."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from ledger.domain.aggregates import APPROVED, REVOKED, Enterprise
from ledger.domain.areas import CITY, COUNTY
from ledger.domain.kinds import TRAIL, TRAIL_LABELS, event_name
from ledger.i18n import pgettext, pgettext_zh

AMOUNTS = ("amount_fen", "entitlement_fen", "awarded_fen", "city_share_fen", "county_share_fen")
DETAILS = ("payer", "voucher", "reason", "document", "basis", "project", "policy", "measure", "note", "name", "area",
           "policy_version")


def what(event_name: str) -> str:
    """What an event is called in the trail, in the current language (``what`` or ``what_zh`` of a row)."""
    label = TRAIL_LABELS.get(event_name)
    return event_name if label is None else pgettext(TRAIL, label)


def _what(event_name: str) -> tuple[str, str]:
    """What an event is called in the trail in English and in Chinese (the kinds' labels; else its name)."""
    label = TRAIL_LABELS.get(event_name)
    return (event_name, event_name) if label is None else (label, pgettext_zh(TRAIL, label))


def known_at(events: Iterable[Any], moment: datetime | None) -> Enterprise | None:
    """The enterprise replayed from the events recorded up to ``moment`` (all of them when None)."""
    enterprise = None
    for event in events:
        if moment is not None and event.timestamp > moment:
            break
        enterprise = event.mutate(enterprise)
    return enterprise


def entries(events: Iterable[Any], ref: str | None = None, moment: datetime | None = None) -> list[dict[str, Any]]:
    """The trail of an enterprise's events (only those of application ``ref`` when given), in recorded order."""
    rows: list[dict[str, Any]] = []
    facts: dict[str, dict[str, Any]] = {}
    for event in events:
        if moment is not None and event.timestamp > moment:
            break
        name = event_name(event)
        event_ref: str = getattr(event, "ref", None) or ""
        if name == "ApplicationSubmitted":
            facts[event_ref] = dict(event.facts)
        if ref is not None and event_ref != ref:
            continue
        en, zh = _what(name)
        effective = getattr(event, "date", None)
        row: dict[str, Any] = {
            "version": event.originator_version,
            "event": name,
            "what": en,
            "what_zh": zh,
            "ref": event_ref,
            "date": effective.isoformat() if effective else None,
            "recorded_at": event.timestamp.isoformat(),
            "by": getattr(event, "by", None),
        }
        row.update({k: getattr(event, k) for k in AMOUNTS if hasattr(event, k)})
        row.update({k: getattr(event, k) for k in DETAILS if getattr(event, k, None) is not None})
        if name == "ApplicationSubmitted":
            row["facts"] = dict(event.facts)
        if name == "ApplicationAmended":
            row["facts_before"] = facts.get(event_ref, {})
            row["facts_after"] = dict(event.facts)
            facts[event_ref] = dict(event.facts)
        if name in ("ApplicationApproved", "AwardRedecided"):
            row["trace"] = list(event.trace)
        if name == "AwardRedecided":
            row["cites"] = list(event.cites)
        if name == "SetAsideEvent":
            row["topic"] = event.topic
        rows.append(row)
    return rows


def summary(enterprise: Enterprise, as_of: date | None = None) -> dict[str, Any]:
    """An enterprise as plain data: each application's status and money (as of a day), its external awards."""
    apps: list[dict[str, Any]] = []
    for app in enterprise.applications.values():
        if as_of is not None and app.applied_on > as_of:
            continue
        view = app.as_of(as_of)
        in_force = view.status == APPROVED
        awarded, city, county = app.award_on(as_of)
        share = {p: (city if p == CITY else county) if in_force else 0 for p in (CITY, COUNTY)}
        paid = {p: view.paid_fen(p) for p in (CITY, COUNTY)}
        apps.append({"ref": app.ref, "measure": app.measure, "project": app.project,
                     "applied_on": app.applied_on.isoformat(), "status": view.status,
                     "awarded_fen": awarded if in_force else 0,
                     "city_share_fen": share[CITY], "county_share_fen": share[COUNTY],
                     "city_paid_fen": paid[CITY], "county_paid_fen": paid[COUNTY],
                     "city_outstanding_fen": share[CITY] - paid[CITY] if in_force else 0,
                     "county_outstanding_fen": share[COUNTY] - paid[COUNTY] if in_force else 0,
                     "to_recover_fen": paid[CITY] + paid[COUNTY] if view.status == REVOKED else 0})
    external: list[dict[str, Any]] = [{"project": e.project, "policy": e.policy, "amount_fen": e.amount_fen, "date": e.date.isoformat(),
                 "by": e.by, "note": e.note} for e in enterprise.external_awards
                if as_of is None or e.date <= as_of]
    totals = {k: sum(a[k] for a in apps) for k in ("awarded_fen", "city_paid_fen", "county_paid_fen",
                                                   "city_outstanding_fen", "county_outstanding_fen",
                                                   "to_recover_fen")}
    totals["external_fen"] = sum(e["amount_fen"] for e in external)
    return {"uscc": enterprise.uscc, "name": enterprise.name, "area": enterprise.area,
            "registered_on": enterprise.registered_on.isoformat() if enterprise.registered_on else None,
            "as_of": as_of.isoformat() if as_of else None, "applications": apps, "external_awards": external,
            "total": totals}
