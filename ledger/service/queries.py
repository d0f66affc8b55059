"""The queries: what the ledger holds, as plain data (nothing is recorded). One application as it stands
(``show``), an enterprise's summary and its events, the audit trail, the set-asides and the operators, and
what an application would get (``check``). They read through the ledger outside any decision."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.application import project_aggregate

from ledger.domain import rules
from ledger.domain.aggregates import (
    APPROVED,
    REJECTED,
    REVOKED,
    SET_ASIDES_ID,
    SUBMITTED,
    WITHDRAWN,
    ApplicationState,
    Enterprise,
    SetAsides,
    application_ref_id,
    enterprise_id,
)
from ledger.domain.areas import CITY, COUNTY, PAYERS
from ledger.errors import UNKNOWN_APPLICATION, UNKNOWN_ENTERPRISE, Refused
from ledger.i18n import _
from ledger.service import retries, set_asides
from ledger.service import trail as trails
from ledger.service.unit_of_work import UNREADABLE
from ledger.text import shown

if TYPE_CHECKING:
    from ledger.service.application import GrantsLedger


def enterprise_events(ledger: GrantsLedger, uscc: str) -> list[Any]:
    """Every event of one enterprise's stream, decoded, in order (each with its recording ``timestamp``);
    an event an admin set aside is in its place as a ``SetAsideEvent``. A stream that does not replay is
    refused malformed-event, as a command on it is."""
    aggregate_id = enterprise_id(uscc)
    stored = list(ledger.recorder.select_events(aggregate_id))
    try:
        events = [ledger.mapper.to_domain_event(s) for s in stored]
        project_aggregate(None, events)
    except UNREADABLE as exc:
        return set_asides.events_setting_aside(ledger, aggregate_id, exc, stored)
    return events


def set_aside_list(ledger: GrantsLedger) -> list[dict[str, Any]]:
    """The malformed events an admin has set aside, by position, as plain data."""
    book: SetAsides | None = ledger._get(SET_ASIDES_ID)
    if book is None:
        return []
    return [retries.set_aside_result(s) for _, s in sorted(book.entries.items())]


def trail(ledger: GrantsLedger, ref: str | None = None, uscc: str | None = None,
          known_at: datetime | None = None) -> dict[str, Any]:
    """Every event of one application (``ref``) or one enterprise (``uscc``), in recorded order."""
    if ref is not None:
        index = ledger._get(application_ref_id(ref))
        if index is None:
            raise Refused(UNKNOWN_APPLICATION, _("ref: no application has the filing number {ref}").format(ref=shown(ref)), field="ref")
        uscc = index.uscc
    assert uscc is not None
    events = enterprise_events(ledger, uscc)
    if not events:
        raise Refused(UNKNOWN_ENTERPRISE, _("uscc: {uscc} is not registered").format(uscc=uscc), field="uscc")
    return {"ref": ref, "uscc": uscc, "name": events[0].name, "area": events[0].area,
            "known_at": known_at.isoformat() if known_at else None,
            "events": trails.entries(events, ref, known_at)}


def enterprise_summary(ledger: GrantsLedger, uscc: str, as_of: date | None = None,
                       known_at: datetime | None = None) -> dict[str, Any]:
    """One enterprise: its applications with their status and money, and its awards under other policies."""
    enterprise = trails.known_at(enterprise_events(ledger, uscc), known_at)
    if enterprise is None:
        message = (_("uscc: {uscc} is not registered (as known at {moment})") if known_at else
                   _("uscc: {uscc} is not registered"))
        raise Refused(UNKNOWN_ENTERPRISE, message.format(uscc=uscc, moment=known_at.isoformat() if known_at else ""),
                      field="uscc")
    return trails.summary(enterprise, as_of) | {"known_at": known_at.isoformat() if known_at else None}


def show(ledger: GrantsLedger, ref: str, as_of: date | None = None, known_at: datetime | None = None) -> dict[str, Any]:
    """One application as plain data, as it stood at the end of a day when one is given, as the
    ledger knew it at ``known_at`` (only events recorded by then) when one is given."""
    index = ledger._get(application_ref_id(ref))
    if index is None:
        raise Refused(UNKNOWN_APPLICATION, _("ref: no application has the filing number {ref}").format(ref=shown(ref)), field="ref")
    events = enterprise_events(ledger, index.uscc)
    enterprise = trails.known_at(events, known_at)
    if enterprise is None or ref not in enterprise.applications:
        raise Refused(UNKNOWN_APPLICATION, _("ref: {ref} was not yet recorded at {moment}").format(
            ref=ref, moment=known_at), field="ref")
    app = enterprise.applications[ref]
    if as_of is not None and app.applied_on > as_of:
        raise Refused(UNKNOWN_APPLICATION, _("ref: {ref} was filed on {day}, after {as_of}").format(
            ref=ref, day=app.applied_on, as_of=as_of), field="ref")
    view = app.as_of(as_of)
    status = view.status
    in_force = status == APPROVED
    decided = status != SUBMITTED
    entitlement: int | None
    if in_force or status == REVOKED:
        entitlement, trace, preview, eligible = app.entitlement_fen, app.trace, False, True
    else:
        entitlement, trace, preview, eligible = _preview(ledger, app, view.facts)
    paid = {payer: view.paid_fen(payer) for payer in PAYERS}
    awarded, city_share, county_share = app.award_on(as_of)
    share = {CITY: city_share if in_force else 0, COUNTY: county_share if in_force else 0}
    reversed_vouchers = {(r.payer, r.voucher) for r in view.reversals}
    revocation = view.revocation
    data: dict[str, Any] = {
        "ref": ref,
        "status": status,
        "measure": app.measure,
        "project": app.project,
        "uscc": enterprise.uscc,
        "name": enterprise.name,
        "area": enterprise.area,
        "applied_on": app.applied_on.isoformat(),
        "policy_version": app.policy_version,
        "facts": view.facts,
        "eligible": eligible,
        "entitlement_fen": entitlement,
        "awarded_fen": awarded if in_force else 0,
        "city_share_fen": share[CITY],
        "county_share_fen": share[COUNTY],
        "city_paid_fen": paid[CITY],
        "county_paid_fen": paid[COUNTY],
        "city_outstanding_fen": share[CITY] - paid[CITY] if in_force else 0,
        "county_outstanding_fen": share[COUNTY] - paid[COUNTY] if in_force else 0,
        "city_to_recover_fen": paid[CITY] if status == REVOKED else 0,
        "county_to_recover_fen": paid[COUNTY] if status == REVOKED else 0,
        "decided_on": app.decided_on.isoformat() if decided and app.decided_on else None,
        "decided_by": app.decided_by if decided else None,
        "basis": app.basis if in_force or status == REVOKED else None,
        "reason": app.reason if status in (REJECTED, WITHDRAWN) else None,
        "payments": [{**asdict(p), "date": p.date.isoformat(), "reversed": (p.payer, p.voucher) in reversed_vouchers}
                     for p in view.payments],
        "amendments": [{**asdict(a), "date": a.date.isoformat()} for a in view.amendments],
        "reversals": [{**asdict(r), "date": r.date.isoformat()} for r in view.reversals],
        "recoveries": [{**asdict(r), "date": r.date.isoformat()} for r in view.recoveries],
        "redecisions": [{**asdict(r), "date": r.date.isoformat(), "cites": list(r.cites)} for r in app.redecisions
                        if as_of is None or r.date <= as_of],
        "findings": _findings_of(ledger, enterprise, app, as_of),
        "revocation": {**asdict(revocation), "date": revocation.date.isoformat()} if revocation else None,
        "trace_is_preview": preview,
        "trace": trace,
        "as_of": as_of.isoformat() if as_of else None,
        "known_at": known_at.isoformat() if known_at else None,
        "history": [e for e in trails.entries(events, ref, known_at) if as_of is None or e["date"] is None
                    or e["date"] <= as_of.isoformat()],
    }
    return data


def _findings_of(ledger: GrantsLedger, enterprise: Enterprise, app: ApplicationState,
                 as_of: date | None) -> list[dict[str, Any]]:
    """就高不重复 on the application's project: an overlap with another policy's award, or the award owed a
    re-decision (``rules.project_findings``), as the ledger stands (on or before ``as_of`` when given)."""
    unit = rules.unit_of_book(ledger.policy_book())
    return [f.as_dict() for f in rules.project_findings(enterprise, unit)
            if f.project == app.project and (as_of is None or f.day <= as_of)]


def _preview(ledger: GrantsLedger, app: ApplicationState,
             facts: dict[str, Any]) -> tuple[int | None, list[dict[str, Any]], bool, bool]:
    """What the clause gives for an undecided, rejected or withdrawn application's facts, and whether
    they meet it (nothing is recorded): (entitlement, trace, is a preview, eligible)."""
    book = ledger.policy_book()
    version = book.versions[app.policy_version] if book else None
    cat = rules.catalogue_or_current(version)
    assessment = cat.measure(app.measure).evaluate(facts, app.applied_on, app.policy_version)
    return assessment.due_fen, assessment.steps, True, assessment.eligible


def check(ledger: GrantsLedger, measure_id: str, raw_facts: dict[str, Any], applied_on: date) -> dict[str, Any]:
    """What an application with these facts would get, and why; nothing is recorded."""
    return rules.check_application(ledger.policy_book(), measure_id, raw_facts, applied_on)


def operator_list(ledger: GrantsLedger) -> list[dict[str, Any]]:
    """Every registered operator as plain data (empty in single-user mode)."""
    roster = ledger.roster()
    if roster is None:
        return []
    return [{"name": o.name, "display_name": o.display_name, "roles": list(o.roles),
             "valid_from": o.valid_from.isoformat(), "valid_to": o.valid_to.isoformat() if o.valid_to else None,
             "suspended": o.suspended, "registered_on": o.registered_on.isoformat(), "by": o.by}
            for o in roster.operators.values()]
