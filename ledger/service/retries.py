"""Commands sent again: answered once, never recorded twice.

A command repeated with the same natural key and the same content (a clerk retrying
after a time-out, an edited import file run again) is answered "already recorded",
writes nothing and succeeds. The same key with different content is refused
``conflicting-retry``: the ledger will not guess which of the two is right. A key
taken by a different subject (a filing number of another enterprise, a voucher of
another application or payer) is no retry: it stays ``duplicate-ref``.

Content is every field of the command but ``by``: the same fact entered again by a
colleague is the same fact. Each function returns the answer for a repeated command,
or None when the command is not a repeat (the rules then decide it as usual).
Pure functions of state and command, like ``ledger.domain.rules``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger.domain import rules
from ledger.domain.aggregates import (
    APPROVED,
    REJECTED,
    REVOKED,
    WITHDRAWN,
    ApplicationState,
    Enterprise,
    PolicyBook,
    PolicyVersion,
    SetAside,
    SetAsides,
)
from ledger.domain.money import amount
from ledger.errors import CONFLICTING_RETRY, DUPLICATE_REF, Refused
from ledger.i18n import N_, _
from ledger.intake import commands as intake
from ledger.labels import label
from ledger.text import shown


def _already(result: dict[str, Any], by: str | None, on: date | None) -> dict[str, Any]:
    return {**result, "already_recorded": True, "recorded_by": by, "recorded_on": on.isoformat() if on else None}


def _differs(field: str, what: str, recorded: dict[str, Any], given: dict[str, Any]) -> Refused:
    changed = [k for k in recorded if recorded[k] != given[k]]
    listing = "; ".join(_("{name}: recorded {recorded}, given {given}").format(
        name=k, recorded=_shown(k, recorded[k]), given=_shown(k, given[k])) for k in changed)
    return Refused(CONFLICTING_RETRY, _("{field}: {what} is already recorded with other content ({listing}); "
                                        "nothing was written. Correct the record with its own command (amend, "
                                        "reverse-payment, ...) or use a new key").format(
        field=field, what=what, listing=listing), field=field)


def _shown(name: str, value: Any) -> str:
    """A recorded or given value as a person reads it: a day as ISO, an amount in yuan, a set of facts as
    ``name = value`` pairs, text in quotation marks."""
    if isinstance(value, date):
        return value.isoformat()
    if value is None:
        return _("none")
    if name.endswith("_fen") and isinstance(value, int) and not isinstance(value, bool):
        return amount(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_shown(str(k), v)}" for k, v in value.items()) + "}"
    return shown(value)


_DECISIONS = {  # the decision sent again, for the conflicting-retry message
    "approve": N_("the approval of {ref}"),
    "reject": N_("the rejection of {ref}"),
    "withdraw": N_("the withdrawal of {ref}"),
}


def _check(field: str, what: str, recorded: dict[str, Any], given: dict[str, Any]) -> None:
    if recorded != given:
        raise _differs(field, what, recorded, given)


def adoption(book: PolicyBook | None, cmd: intake.AdoptPolicy, version_id: str) -> dict[str, Any] | None:
    if book is None or version_id not in book.versions:
        return None
    v: PolicyVersion = book.versions[version_id]
    given = rules.adopted_content(cmd)
    recorded = None if v.edition is None or given is None else rules.adopted_content_of(v)
    _check("version", _("policy version {version}").format(version=shown(version_id)),
           {"effective": v.effective, "catalogue": v.catalogue, "date": v.adopted_on, "edition": recorded},
           {"effective": cmd.effective, "catalogue": v.catalogue if cmd.edition is not None or not cmd.catalogue
            else cmd.catalogue, "date": cmd.date, "edition": given})
    return _already({"op": "adopt-policy", "version": v.version, "catalogue": v.catalogue,
                     "effective": v.effective.isoformat(), "ends": v.ends.isoformat()}, v.by, v.adopted_on)


def registration(enterprise: Enterprise | None, cmd: intake.Register) -> dict[str, Any] | None:
    if enterprise is None:
        return None
    _check("uscc", _("enterprise {uscc}").format(uscc=cmd.uscc),
           {"name": enterprise.name, "area": enterprise.area, "date": enterprise.registered_on},
           {"name": cmd.name, "area": cmd.area, "date": cmd.date})
    return _already({"op": "register", "uscc": cmd.uscc, "name": cmd.name, "area": cmd.area},
                    getattr(enterprise, "registered_by", None), enterprise.registered_on)


def _filed_facts(app: ApplicationState) -> dict[str, Any]:
    """The facts as first filed (amendments replace them later)."""
    return app.amendments[0].facts_before if app.amendments else app.facts


def submission(filed_by: Enterprise | None, book: PolicyBook | None, cmd: intake.Apply) -> dict[str, Any] | None:
    """``filed_by``: the enterprise the filing number already belongs to, if any."""
    if filed_by is None:
        return None
    if filed_by.uscc != cmd.uscc:
        raise Refused(DUPLICATE_REF, _("ref: the filing number {ref} is already used by an application of another "
                                       "enterprise ({uscc})").format(ref=shown(cmd.ref), uscc=filed_by.uscc),
                      field="ref")
    app = filed_by.applications[cmd.ref]
    facts: Any = cmd.facts
    if book is not None and cmd.measure == app.measure:
        measure = rules.measure_of(book, app)
        try:
            facts = measure.normalize(cmd.facts)
        except Refused:
            pass  # malformed facts cannot be the facts on record: a conflict, shown as given
    _check("ref", _("application {ref}").format(ref=cmd.ref),
           {"measure": app.measure, "project": app.project, "date": app.applied_on, "facts": _filed_facts(app)},
           {"measure": cmd.measure, "project": cmd.project, "date": cmd.date, "facts": facts})
    return _already({"op": "apply", "ref": cmd.ref, "status": app.status, "measure": app.measure,
                     "policy_version": app.policy_version}, app.by, app.applied_on)


def amendment(app: ApplicationState, facts: dict[str, Any], cmd: intake.Amend) -> dict[str, Any] | None:
    """An amendment sent again: any recorded with the same facts, date and reason is answered; the last one's
    facts (its key) with another date or reason is a conflict."""
    same = next((a for a in app.amendments if (a.facts, a.date, a.reason) == (facts, cmd.date, cmd.reason)), None)
    if same is not None:
        return _already({"op": "amend", "ref": cmd.ref, "status": app.status, "facts": facts}, same.by, same.date)
    last = app.amendments[-1] if app.amendments else None
    if last is None or last.facts != facts:
        return None
    _check("facts", _("the amendment of {ref} to these facts").format(ref=cmd.ref), {"date": last.date, "reason": last.reason},
           {"date": cmd.date, "reason": cmd.reason})
    return _already({"op": "amend", "ref": cmd.ref, "status": app.status, "facts": facts}, last.by, last.date)


def _decision(app: ApplicationState, status: str, op: str, recorded: dict[str, Any],
              given: dict[str, Any]) -> dict[str, Any] | None:
    """A decision sent again: the application already carries a decision of this kind."""
    done = app.status == status or (status == APPROVED and app.status == REVOKED)
    if not done:
        return None
    _check("ref", _(_DECISIONS[op]).format(ref=app.ref), recorded, given)
    return _already({"op": op, "ref": app.ref, "status": app.status}, app.decided_by, app.decided_on)


def approval(app: ApplicationState, cmd: intake.Approve) -> dict[str, Any] | None:
    amount = app.entitlement_fen if cmd.amount_fen is None else cmd.amount_fen
    found = _decision(app, APPROVED, "approve", {"date": app.decided_on, "amount_fen": app.entitlement_fen,
                                                 "basis": app.basis},
                      {"date": cmd.date, "amount_fen": amount, "basis": cmd.basis})
    if found is not None:
        found.update(entitlement_fen=app.entitlement_fen, awarded_fen=app.awarded_fen,
                     city_share_fen=app.city_share_fen, county_share_fen=app.county_share_fen)
    return found


def rejection(app: ApplicationState, cmd: intake.Reject) -> dict[str, Any] | None:
    return _decision(app, REJECTED, "reject", {"date": app.decided_on, "reason": app.reason},
                     {"date": cmd.date, "reason": cmd.reason})


def withdrawal(app: ApplicationState, cmd: intake.Withdraw) -> dict[str, Any] | None:
    return _decision(app, WITHDRAWN, "withdraw", {"date": app.decided_on, "reason": app.reason},
                     {"date": cmd.date, "reason": cmd.reason})


def revocation(app: ApplicationState, cmd: intake.Revoke) -> dict[str, Any] | None:
    r = app.revocation
    if r is None:
        return None
    _check("ref", _("the revocation of {ref}").format(ref=app.ref), {"date": r.date, "reason": r.reason, "document": r.document},
           {"date": cmd.date, "reason": cmd.reason, "document": cmd.document})
    return _already({"op": "revoke", "ref": app.ref, "status": REVOKED, "awarded_fen": r.awarded_fen,
                     "city_share_fen": r.city_share_fen, "county_share_fen": r.county_share_fen}, r.by, r.date)


def redecision(app: ApplicationState, cmd: intake.Redecide) -> dict[str, Any] | None:
    """The same re-decision sent again (same day and reason): answered from the record."""
    for r in app.redecisions:
        if r.date == cmd.date and r.reason == cmd.reason:
            return _already({"op": "redecide", "ref": app.ref, "status": app.status, "awarded_fen": r.awarded_fen,
                             "city_share_fen": r.city_share_fen, "county_share_fen": r.county_share_fen,
                             "cites": list(r.cites)}, r.by, r.date)
    return None


def payment(used: Any, app: ApplicationState | None, cmd: intake.Pay, treasury: str) -> dict[str, Any] | None:
    """``used``: the voucher index of that treasury, if the voucher number is taken."""
    if used is None:
        return None
    if (used.ref, used.payer) != (cmd.ref, cmd.payer) or app is None:
        raise Refused(DUPLICATE_REF, _("voucher: {voucher} of the {treasury} treasury was already used for {ref} "
                                       "({payer}, {amount})").format(
            voucher=shown(cmd.voucher), treasury=label(treasury), ref=used.ref, payer=label(used.payer),
            amount=amount(used.amount_fen)), field="voucher")
    paid = app.payment(cmd.payer, cmd.voucher)
    assert paid is not None  # the index and the enterprise are saved together
    reversed_ = app.reversal_of(cmd.payer, cmd.voucher)
    if reversed_ is not None:
        raise Refused(DUPLICATE_REF, _("voucher: {voucher} of the {treasury} treasury was used for a payment on {ref} "
                                       "that was reversed on {day}; a reversed payment's voucher stays used: record "
                                       "the right payment under a new voucher").format(
            voucher=shown(cmd.voucher), treasury=label(treasury), ref=cmd.ref, day=reversed_.date), field="voucher")
    _check("voucher", _("payment {voucher} of the {treasury} treasury").format(
        voucher=shown(cmd.voucher), treasury=label(treasury)),
           {"amount_fen": paid.amount_fen, "date": paid.date}, {"amount_fen": cmd.amount_fen, "date": cmd.date})
    return _already({"op": "pay", "ref": cmd.ref, "payer": cmd.payer, "treasury": treasury,
                     "amount_fen": paid.amount_fen, "voucher": cmd.voucher}, paid.by, paid.date)


def reversal(app: ApplicationState, cmd: intake.ReversePayment) -> dict[str, Any] | None:
    earlier = app.reversal_of(cmd.payer, cmd.voucher)
    if earlier is None:
        return None
    _check("voucher", _("the reversal of payment {voucher} by the {payer} treasury on {ref}").format(
        voucher=shown(cmd.voucher), payer=label(cmd.payer), ref=cmd.ref),
           {"date": earlier.date, "reason": earlier.reason}, {"date": cmd.date, "reason": cmd.reason})
    return _already({"op": "reverse-payment", "ref": cmd.ref, "payer": cmd.payer, "voucher": cmd.voucher,
                     "amount_fen": earlier.amount_fen, "paid_fen": app.paid_fen(cmd.payer)}, earlier.by, earlier.date)


def recovery(used: Any, app: ApplicationState | None, cmd: intake.Recover, treasury: str) -> dict[str, Any] | None:
    """``used``: the receipt-voucher index of that treasury, if the receipt number is taken."""
    if used is None:
        return None
    if (used.ref, used.payer) != (cmd.ref, cmd.payer) or app is None:
        raise Refused(DUPLICATE_REF, _("voucher: receipt {voucher} of the {treasury} treasury was already used for "
                                       "{ref} ({payer}, {amount})").format(
            voucher=shown(cmd.voucher), treasury=label(treasury), ref=used.ref, payer=label(used.payer),
            amount=amount(used.amount_fen)), field="voucher")
    done = next(r for r in app.recoveries if (r.payer, r.voucher) == (cmd.payer, cmd.voucher))
    _check("voucher", _("receipt {voucher} of the {treasury} treasury").format(
        voucher=shown(cmd.voucher), treasury=label(treasury)),
           {"amount_fen": done.amount_fen, "date": done.date, "reason": done.reason},
           {"amount_fen": cmd.amount_fen, "date": cmd.date, "reason": cmd.reason})
    return _already({"op": "recover", "ref": cmd.ref, "payer": cmd.payer, "treasury": treasury,
                     "amount_fen": done.amount_fen, "voucher": cmd.voucher, "paid_fen": app.paid_fen(cmd.payer)},
                    done.by, done.date)


def external_award(enterprise: Enterprise, cmd: intake.ExternalAward) -> dict[str, Any] | None:
    """The natural key of an award under another policy is all of it: the same award again."""
    for ext in enterprise.external_awards:
        if (ext.project, ext.policy, ext.amount_fen, ext.date) == (cmd.project, cmd.policy, cmd.amount_fen, cmd.date):
            return _already({"op": "external-award", "uscc": cmd.uscc, "project": cmd.project, "policy": cmd.policy,
                             "amount_fen": cmd.amount_fen}, ext.by, ext.date)
    return None


def set_aside(book: SetAsides | None, cmd: intake.SetAside) -> dict[str, Any] | None:
    """The set-aside of a position sent again: the same reason and date is answered; other content is a
    conflict (the position is the key: one event is set aside once)."""
    if book is None or cmd.position not in book.entries:
        return None
    s = book.entries[cmd.position]
    _check("position", _("the set-aside of position {position}").format(position=cmd.position),
           {"reason": s.reason, "date": s.date}, {"reason": cmd.reason, "date": cmd.date})
    return _already(set_aside_result(s), s.by, s.date)


def set_aside_result(s: SetAside) -> dict[str, Any]:
    """A set-aside as the command answers it (``--json``)."""
    return {"op": "set-aside", "position": s.position, "originator_id": s.stream,
            "originator_version": s.stream_version, "topic": s.topic, "reason": s.reason,
            "date": s.date.isoformat(), "by": s.by}
