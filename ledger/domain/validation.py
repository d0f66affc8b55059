"""Whole-ledger checks for ``grants audit verify``: small functions that each return findings
(the pattern of Beancount's ``ops/validation.py``).

The log is replayed once, in its global order, into the same aggregates the write side
uses; at each decision the check re-runs the write side's own rule function
(``ledger.domain.rules``) on the state just before it, so a decision the rules would have
refused (an event written behind the ledger's back, or by a bug) is named with its
position. Pure: the caller decodes the events; nothing here reads a database.

Why one module of ~540 lines (issue 21 asks a reason above ~400): one small check per rule
(one-time, cap and split, 就高不重复, quota, money, duties, actors), then the replay that feeds
them the state before each decision; the checks are read together, one per rule of
``rules.py``, and share the replay's ``History``. It is being reshaped by the registry of kinds
(issue 21), which removes its tables of event names; it is not split before that lands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from ledger.domain import duties, rules
from ledger.domain.aggregates import (
    APPROVED,
    POLICY_BOOK_ID,
    ROSTER_ID,
    SET_ASIDES_ID,
    Enterprise,
    OperatorRoster,
    PolicyBook,
    QuotaSpan,
    SetAsides,
)
from ledger.domain.areas import PAYERS
from ledger.domain.kinds import OF_EVENT, ROLE_OF_OP, event_classes, event_name
from ledger.domain.money import amount, split_shares
from ledger.domain.operators import ADMIN
from ledger.errors import (
    ALREADY_AWARDED,
    DUPLICATE_AWARD,
    NOT_AUTHORISED,
    OVER_PAYMENT,
    OVER_RECOVERY,
    SEPARATION_OF_DUTIES,
    WRONG_STATE,
    Refused,
)
from ledger.i18n import _
from ledger.intake import commands as intake
from ledger.labels import label
from ledger.policy.measures import Measure
from ledger.text import shown

ABOVE_CAP = "above-cap"
SPLIT_MISMATCH = "split-mismatch"
VIEWS_DISAGREE = "views-disagree"
REPLAY_FAILED = "replay-failed"


@dataclass(frozen=True)
class Finding:
    code: str
    position: int | None
    ref: str | None
    uscc: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "position": self.position, "ref": self.ref, "uscc": self.uscc,
                "message": self.message}


@dataclass
class History:
    """The replayed ledger: aggregates as they stand after the last event, and where things happened."""

    enterprises: dict[UUID, Enterprise] = field(default_factory=dict)
    book: PolicyBook | None = None
    roster: OperatorRoster | None = None  # the operators, from enforced mode on
    set_asides: SetAsides | None = None  # the malformed events an admin set aside
    quota: dict[tuple[str, Any], list[QuotaSpan]] = field(default_factory=dict)  # (measure, year) -> its awards
    last_external: dict[tuple[str, str], int] = field(default_factory=dict)  # (uscc, project) -> position
    events: int = 0

    def measure_of(self, enterprise: Enterprise, ref: str) -> Measure:
        app = enterprise.applications[ref]
        assert self.book is not None
        return rules.measure_of(self.book, app)


# --- checks at each event, on the state just before it ------------------------------

APPROVALS = frozenset(event_classes(Enterprise, "ApplicationApproved"))
QUOTA_EVENTS = frozenset(event_classes(Enterprise, "ApplicationApproved", "AwardRevoked"))
MONEY_EVENTS = frozenset(event_classes(Enterprise, "PaymentRecorded", "RecoveryRecorded", "PaymentReversed"))
REDECISIONS = frozenset(event_classes(Enterprise, "AwardRedecided"))


def check_one_time(h: History, position: int, ev: Any) -> list[Finding]:
    """一次性奖励 awarded twice (rules.check_one_time, as at the approval)."""
    if type(ev) not in APPROVALS:
        return []
    enterprise = h.enterprises[ev.originator_id]
    app = enterprise.applications[ev.ref]
    try:
        rules.check_one_time(enterprise, app, h.measure_of(enterprise, ev.ref), ev.entitlement_fen, ev.date,
                             rules.unit_of_book(h.book))
    except Refused as refusal:
        return [Finding(ALREADY_AWARDED, position, ev.ref, enterprise.uscc, refusal.message)]
    return []


def check_cap_and_split(h: History, position: int, ev: Any) -> list[Finding]:
    """An award above what its clause gives for the facts, or halves that do not split it by the rule."""
    if type(ev) not in APPROVALS:
        return []
    enterprise = h.enterprises[ev.originator_id]
    app = enterprise.applications[ev.ref]
    measure = h.measure_of(enterprise, ev.ref)
    found = []
    if not measure.case_by_case:
        cap = measure.assess(app.facts, app.applied_on, app.policy_version).entitlement_fen or 0
        if ev.entitlement_fen > cap:
            found.append(Finding(ABOVE_CAP, position, ev.ref, enterprise.uscc,
                                 _("{measure} gives at most {cap} for the facts on file; the approval records "
                                   "{recorded}").format(measure=measure.id, cap=amount(cap),
                                                        recorded=amount(ev.entitlement_fen))))
    if ev.awarded_fen > ev.entitlement_fen:
        found.append(Finding(ABOVE_CAP, position, ev.ref, enterprise.uscc,
                             _("awarded {awarded}, more than the entitlement {entitlement}").format(
                                 awarded=amount(ev.awarded_fen), entitlement=amount(ev.entitlement_fen))))
    return found + _split_findings(position, ev, enterprise.uscc)


def _split_findings(position: int, ev: Any, uscc: str) -> list[Finding]:
    """Halves recorded with an award (an approval, a re-decision) that do not split it by the rule."""
    if (ev.city_share_fen, ev.county_share_fen) == split_shares(max(ev.awarded_fen, 0)):
        return []
    return [Finding(SPLIT_MISMATCH, position, ev.ref, uscc,
                    _("city {city} + county {county} is not the split of {awarded} (county half rounded down, city the "
                      "odd fen)").format(city=amount(ev.city_share_fen), county=amount(ev.county_share_fen),
                                         awarded=amount(ev.awarded_fen)))]


def _due_on_project(h: History, position: int, ev: Any, entitlement: int) -> int | Finding:
    """What 就高不重复 gives an award of ``entitlement`` as of the event's date, or the finding its refusal is."""
    enterprise = h.enterprises[ev.originator_id]
    app = enterprise.applications[ev.ref]
    try:
        due, _steps = rules.highest_not_duplicated(enterprise, app, entitlement, ev.date, rules.unit_of_book(h.book))
    except Refused as refusal:
        return Finding(DUPLICATE_AWARD, position, ev.ref, enterprise.uscc, refusal.message)
    return due


def check_highest_not_duplicated(h: History, position: int, ev: Any) -> list[Finding]:
    """就高不重复 at the approval: the amount the rule pays given the earlier awards on the project."""
    if type(ev) not in APPROVALS:
        return []
    enterprise = h.enterprises[ev.originator_id]
    app = enterprise.applications[ev.ref]
    due = _due_on_project(h, position, ev, ev.entitlement_fen)
    if isinstance(due, Finding):
        return [due]
    if due != ev.awarded_fen:
        return [Finding(DUPLICATE_AWARD, position, ev.ref, enterprise.uscc,
                        _("就高不重复: the rule pays {due} given the earlier awards on project {project}; the approval "
                          "records {recorded}").format(due=amount(due), project=app.project,
                                                       recorded=amount(ev.awarded_fen)))]
    return []


def check_quota(h: History, position: int, ev: Any) -> list[Finding]:
    """A yearly quota (clause 16): each task once, at most ``limit`` tasks a year, awards in force."""
    name = event_name(ev)
    if type(ev) not in QUOTA_EVENTS:
        return []
    enterprise = h.enterprises[ev.originator_id]
    measure = h.measure_of(enterprise, ev.ref)
    if measure.quota is None:
        return []
    facts = enterprise.applications[ev.ref].facts
    year, item = facts[measure.quota.year_fact], facts[measure.quota.item_fact]
    spans = h.quota.setdefault((measure.id, year), [])
    if name == "AwardRevoked":
        spans[:] = [s._replace(end=max(s.start, ev.date)) if s.ref == ev.ref and s.end is None else s for s in spans]
        return []
    found = []
    conflict = rules.quota_conflict(spans, measure.quota.limit, item, ev.ref, ev.date)
    if conflict is not None:
        refusal = rules.quota_refusal(measure, year, item, conflict)
        found.append(Finding(refusal.code, position, ev.ref, enterprise.uscc, refusal.message))
    spans.append(QuotaSpan(item, ev.ref, ev.date, None))
    return found


def check_redecision(h: History, position: int, ev: Any) -> list[Finding]:
    """改判: the amount the rule gives as of the re-decision's date, the awards then in force counted."""
    if type(ev) not in REDECISIONS:
        return []
    enterprise = h.enterprises[ev.originator_id]
    app = enterprise.applications[ev.ref]
    due = _due_on_project(h, position, ev, app.entitlement_fen)
    if isinstance(due, Finding):
        return [due]
    found = []
    if due != ev.awarded_fen or app.status != APPROVED:
        found.append(Finding(DUPLICATE_AWARD, position, ev.ref, enterprise.uscc,
                             _("就高不重复: as of its date the rule gives {due} on project {project}; the re-decision "
                               "records {recorded}").format(due=amount(due), project=app.project,
                                                            recorded=amount(ev.awarded_fen))))
    return found + _split_findings(position, ev, enterprise.uscc)


def check_money(h: History, position: int, ev: Any) -> list[Finding]:
    """A payer paid beyond its share (net of reversals and recoveries), paid on an award not in force,
    or more recovered than it paid."""
    name = event_name(ev)
    if type(ev) not in MONEY_EVENTS:
        return []
    enterprise = h.enterprises[ev.originator_id]
    app = enterprise.applications[ev.ref]
    paid = app.paid_fen(ev.payer)
    if name == "PaymentRecorded":
        if app.status != APPROVED:
            return [Finding(WRONG_STATE, position, ev.ref, enterprise.uscc,
                            _("a payment by {payer} on an application that is {status}").format(
                                payer=label(ev.payer), status=label(app.status)))]
        excess = rules.payment_excess(app, ev.payer, ev.amount_fen, ev.date)
        if excess is not None:
            day, owed, before = excess
            return [Finding(OVER_PAYMENT, position, ev.ref, enterprise.uscc,
                            _("the {payer} share is {owed} on {day}; with this payment {paid} would be paid").format(
                                payer=label(ev.payer), owed=amount(owed), day=day, paid=amount(before + ev.amount_fen)))]
    elif name == "RecoveryRecorded" and ev.amount_fen > paid:
        return [Finding(OVER_RECOVERY, position, ev.ref, enterprise.uscc,
                        _("{recovered} recovered from the {payer} treasury, which had {paid} paid net").format(
                            recovered=amount(ev.amount_fen), payer=label(ev.payer), paid=amount(paid)))]
    return []


# The op whose role an enterprise's event needs, from the registry of kinds (the registration is checked on its
# own, ``check_registration``).
EVENT_OPS: dict[type[Aggregate.Event], str] = {event: kind.op for event, kind in OF_EVENT.items()
                              if event.__qualname__.startswith("Enterprise.") and kind.op != "register"}


def _duty_command(ev: Any) -> intake.Command | None:
    """The command of an event, as far as the separation rules look at it (its kind, ref and who)."""
    name = event_name(ev)
    if name == "ApplicationApproved":
        return intake.Approve(ref=ev.ref, date=ev.date, by=ev.by)
    if name == "ApplicationRejected":
        return intake.Reject(ref=ev.ref, date=ev.date, by=ev.by, reason=ev.reason)
    if name == "PaymentRecorded":
        return intake.Pay(ref=ev.ref, payer=ev.payer, amount_fen=ev.amount_fen, voucher=ev.voucher, date=ev.date,
                          by=ev.by)
    if name == "AwardRevoked":
        return intake.Revoke(ref=ev.ref, date=ev.date, by=ev.by, reason=ev.reason, document=ev.document)
    if name == "AwardRedecided":
        return intake.Redecide(ref=ev.ref, date=ev.date, by=ev.by, reason=ev.reason)
    return None


CHINA = timezone(timedelta(hours=8))  # the ledger's day is China's (commands/clock.py)


def _recorded_on(ev: Any) -> date | None:
    """The day (in China) the ledger recorded the event: the day the write side checked its operator on."""
    stamp = getattr(ev, "timestamp", None)
    return stamp.astimezone(CHINA).date() if isinstance(stamp, datetime) else None


def not_authorised(h: History, ev: Any, role: str) -> str | None:
    """Why, in enforced mode, the act an event records was not its operator's to do, or None when it was: the
    write side's checks (``ledger/service/access.py``) again, on the roster as replayed up to the event. Its ``by`` is a
    registered operator, not suspended, holding ``role``, who may act on the day the ledger recorded the event
    (the operator at the keyboard) or, when an admin recorded another's act (``recorded_by``, migrating
    history), on the act's own date; that admin is an active admin on the day of recording."""
    assert h.roster is not None
    who = getattr(ev, "by", None)
    operator = h.roster.operators.get(who) if isinstance(who, str) else None
    recorder = getattr(ev, "recorded_by", None)
    recorded_on = _recorded_on(ev)
    act_date = getattr(ev, "date", None)
    if not isinstance(recorder, str) or recorder == who:
        days = [recorded_on] if recorded_on is not None else []
    else:
        days = [act_date] if isinstance(act_date, date) else []
    why = None
    if operator is None:
        why = _("{event} by {who}, not a registered operator, in enforced mode")
    elif operator.suspended:
        why = _("{event} by {who}, suspended, in enforced mode")
    elif role not in operator.roles:
        why = _("{event} by {who}, without the role {role}, in enforced mode")
    elif days and not operator.active_on(days[0]):
        why = _("{event} by {who}, who may act from {start} to {end}, not on {day}, in enforced mode")
    elif isinstance(recorder, str) and recorder != who:
        admin = h.roster.operators.get(recorder)
        if (admin is None or ADMIN not in admin.roles
                or not (admin.active_on(recorded_on) if recorded_on is not None else not admin.suspended)):
            why = _("{event} by {who}, recorded by {recorder}, who is not an active admin, in enforced mode")
    if why is None:
        return None
    return why.format(event=event_name(ev), who=shown(who), role=label(role), recorder=shown(recorder),
                      start=operator.valid_from if operator else "", day=days[0] if days else "",
                      end=(operator.valid_to or _("no end")) if operator else "")


def check_duties(h: History, position: int, ev: Any) -> list[Finding]:
    """In enforced mode, every recorded act is by a registered, unsuspended operator holding its role on its
    day (``not_authorised``), and no act breaks the separation of duties: an event written past the ledger (by
    plain SQL under an operator's own database role, say) is named."""
    op = EVENT_OPS.get(type(ev))
    if h.roster is None or op is None:
        return []
    enterprise = h.enterprises[ev.originator_id]
    ref = getattr(ev, "ref", None)
    found: list[Finding] = []
    why = not_authorised(h, ev, ROLE_OF_OP[op])
    if why is not None:
        found.append(Finding(NOT_AUTHORISED, position, ref, enterprise.uscc, why))
    command = _duty_command(ev)
    app = enterprise.applications.get(ref) if ref is not None else None
    if command is not None and app is not None:
        try:
            duties.check_application_duties(command, app)
        except Refused as refusal:
            found.append(Finding(SEPARATION_OF_DUTIES, position, ref, enterprise.uscc, refusal.message))
    return found


def check_registration(h: History, position: int, ev: Any) -> list[Finding]:
    """In enforced mode an enterprise is registered by a clerk (``register``), as any other act is checked."""
    if h.roster is None or event_name(ev) != "Registered":
        return []
    why = not_authorised(h, ev, ROLE_OF_OP["register"])
    uscc = getattr(ev, "uscc", None)
    return [] if why is None else [Finding(NOT_AUTHORISED, position, None, uscc if isinstance(uscc, str) else None,
                                           why)]


def check_administration(h: History, position: int, ev: Any) -> list[Finding]:
    """Every event of the roster stream: only an active admin administers operators (registers one, changes its
    roles, suspends or reinstates it), and never its own record (rule 4 of the separation of duties). The
    first operator, who starts enforced mode, registers itself (``EnforcementStarted`` and that first
    registration, recorded together, are checked by nobody: nobody was an operator before them); enforced
    mode started again on a roster that exists would drop every operator, and is named."""
    if h.roster is None:
        return []
    if event_name(ev) == "EnforcementStarted":
        return [Finding(NOT_AUTHORISED, position, None, None,
                        _("{event} by {who} on a ledger already in enforced mode (since {day})").format(
                            event=event_name(ev), who=shown(getattr(ev, "by", None)), day=h.roster.enforced_on))]
    name = getattr(ev, "name", None)
    if not h.roster.operators or name is None:
        return []
    who = getattr(ev, "by", None)
    found: list[Finding] = []
    why = not_authorised(h, ev, ADMIN)
    if why is not None:
        found.append(Finding(NOT_AUTHORISED, position, None, None,
                             _("{event} of operator {name} by {who}, who is not an active admin ({why})").format(
                                 event=event_name(ev), name=shown(name), who=shown(who), why=why)))
    if name == who:
        found.append(Finding(SEPARATION_OF_DUTIES, position, None, None,
                             _("{event}: {who} administered its own operator record").format(
                                 event=event_name(ev), who=shown(who))))
    return found


def check_policy_actor(h: History, position: int, ev: Any) -> list[Finding]:
    """In enforced mode only an active admin adopts a policy version (an adoption sets every award's amount):
    one written past the ledger under another role is named. ``PolicyBook.Opened`` is no act: it is recorded
    with the book's first adoption, which is checked."""
    if h.roster is None or not h.roster.operators or event_name(ev) != "PolicyAdopted":
        return []
    why = not_authorised(h, ev, ADMIN)
    if why is None:
        return []
    return [Finding(NOT_AUTHORISED, position, None, None,
                    _("{event} of policy version {version} by {who}, who is not an active admin ({why})").format(
                        event=event_name(ev), version=shown(getattr(ev, "version", "?")), who=shown(getattr(ev, "by", None)),
                        why=why))]


def check_set_aside_actor(h: History, position: int, ev: Any) -> list[Finding]:
    """In enforced mode only an active admin sets a malformed event aside (its stream then replays without it):
    one written past the ledger under another role is named."""
    if h.roster is None or not h.roster.operators or event_name(ev) != "MalformedEventSetAside":
        return []
    who = getattr(ev, "by", None)
    admin = h.roster.operators.get(who) if isinstance(who, str) else None
    if admin is not None and not admin.suspended and "admin" in admin.roles:
        return []
    return [Finding(NOT_AUTHORISED, position, None, None,
                    _("{event} of the event at position {at} by {who}, who is not an active admin, in enforced "
                      "mode").format(event=event_name(ev), at=getattr(ev, "position", "?"), who=shown(who)))]


def open_findings(h: History, found: list[Finding]) -> list[Finding]:
    """The findings less the malformed events an admin has set aside (listed apart by ``audit verify``): the
    replay meets a malformed event before its set-aside, so they are taken out at the end."""
    aside = set(h.set_asides.entries) if h.set_asides is not None else set()
    return [f for f in found if not (f.code == REPLAY_FAILED and f.position in aside)]


Check = Callable[[History, int, Any], list[Finding]]

EVENT_CHECKS: tuple[Check, ...] = (
    check_one_time, check_cap_and_split, check_highest_not_duplicated, check_quota, check_redecision, check_money,
    check_duties)

# The events each check looks at (it returns nothing for any other): the replay runs, for each event, only
# the checks that look at it, in the order of EVENT_CHECKS.
CHECKED_EVENTS: dict[Check, frozenset[type[Aggregate.Event]]] = {
    check_one_time: APPROVALS, check_cap_and_split: APPROVALS, check_highest_not_duplicated: APPROVALS,
    check_quota: QUOTA_EVENTS, check_redecision: REDECISIONS, check_money: MONEY_EVENTS,
    check_duties: frozenset(EVENT_OPS)}
CHECKS_OF: dict[type[Aggregate.Event], tuple[Check, ...]] = {
    event: tuple(check for check in EVENT_CHECKS if event in CHECKED_EVENTS[check])
    for event in sorted(frozenset[type[Aggregate.Event]]().union(*CHECKED_EVENTS.values()), key=get_topic)}


# --- checks over the whole history ---------------------------------------------------

def check_overlap_with_external_awards(h: History) -> list[Finding]:
    """就高不重复 broken on some day once awards under other policies are counted (rules.project_findings)."""
    found = []
    unit = rules.unit_of_book(h.book)
    for enterprise in h.enterprises.values():
        for finding in rules.project_findings(enterprise, unit):
            if finding.kind == "overlap":
                found.append(Finding(DUPLICATE_AWARD, h.last_external.get((enterprise.uscc, finding.project)), None,
                                     enterprise.uscc, finding.message()))
    return found


def check_final_balances(h: History) -> list[Finding]:
    """At the end: no payer's net payment above its share of an award in force, nor below zero."""
    found = []
    for enterprise in h.enterprises.values():
        for app in enterprise.applications.values():
            for payer in PAYERS:
                paid = app.paid_fen(payer)
                if paid < 0 or (app.status == APPROVED and paid > app.share_fen(payer)):
                    found.append(Finding(OVER_PAYMENT if paid > 0 else OVER_RECOVERY, None, app.ref, enterprise.uscc,
                                         _("{payer} has {paid} paid net against a share of {share}").format(
                                             payer=label(payer), paid=amount(paid),
                                             share=amount(app.share_fen(payer)))))
    return found


FINAL_CHECKS: tuple[Callable[[History], list[Finding]], ...] = (check_overlap_with_external_awards,
                                                                 check_final_balances)


@dataclass(frozen=True)
class Unreadable:
    """A stored event that could not be decoded (its topic or state is not one the ledger writes)."""

    topic: str
    error: Exception
    originator_id: Any = None  # as stored, when the row gives it: the replay goes on with its stream's next event
    originator_version: int | None = None


def replay(events: Iterable[tuple[int, Any]], checkpoint: int | None = None,
           at_checkpoint: Callable[[History], list[Finding]] | None = None) -> tuple[History, list[Finding]]:
    """Replay (position, domain event) pairs in log order, running every check; the history and the findings.

    ``at_checkpoint(history)`` runs on the history as it stands after the event at ``checkpoint`` (the
    read models' position, for comparing them), while the replay goes on to the end of the log."""
    h = History()
    found: list[Finding] = []
    pending = at_checkpoint
    for position, ev in events:
        if pending is not None and checkpoint is not None and position > checkpoint:
            found.extend(pending(h))
            pending = None
        h.events += 1
        if isinstance(ev, Unreadable):
            found.append(Finding(REPLAY_FAILED, position, None, None,
                                 _("the event {topic} cannot be read ({error}: {detail})").format(
                                     topic=shown(ev.topic), error=type(ev.error).__name__, detail=ev.error)))
            passed = h.enterprises.get(ev.originator_id) if isinstance(ev.originator_id, UUID) else None
            if passed is not None and isinstance(ev.originator_version, int):
                passed.version = ev.originator_version
            continue
        originator = ev.originator_id
        if isinstance(originator, UUID) and originator in (POLICY_BOOK_ID, ROSTER_ID):
            found.extend((check_policy_actor if originator == POLICY_BOOK_ID else check_administration)(h, position, ev))
            try:
                if originator == POLICY_BOOK_ID:
                    h.book = ev.mutate(h.book)
                elif not (h.roster is not None and event_name(ev) == "EnforcementStarted"):  # (named above, not applied)
                    h.roster = ev.mutate(h.roster)
            except Exception as exc:  # noqa: BLE001 - a log the aggregates cannot take is itself a finding
                found.append(Finding(REPLAY_FAILED, position, None, None,
                                     _("{event} cannot be applied as replayed ({error}: {detail})").format(
                                         event=event_name(ev), error=type(exc).__name__, detail=exc)))
            continue
        if isinstance(originator, UUID) and originator == SET_ASIDES_ID:
            found.extend(check_set_aside_actor(h, position, ev))
            h.set_asides = ev.mutate(h.set_asides)
            continue
        topic_owner = type(ev).__qualname__.split(".", 1)[0]
        if topic_owner != "Enterprise":
            # Indexes and quotas (ApplicationRef, VoucherRef, ReceiptRef, TaskQuota) carry no ``by``: each is
            # recorded in the same save as the enterprise's event it indexes, whose act is checked; an import
            # run's Started and LinesDecided are the import's note of which lines it decided, each line's act
            # checked on its own event. The checks rebuild what they need from the enterprises.
            continue
        name = event_name(ev)
        found.extend(check_registration(h, position, ev))
        try:
            if originator in h.enterprises:
                for check in CHECKS_OF.get(type(ev), ()):
                    found.extend(check(h, position, ev))
            h.enterprises[originator] = ev.mutate(h.enterprises.get(originator))
        except Exception as exc:  # noqa: BLE001 - a log the aggregates cannot take is itself a finding
            found.append(Finding(REPLAY_FAILED, position, getattr(ev, "ref", None), None,
                                 _("{event} cannot be applied to its enterprise as replayed ({error}: {detail})").format(
                                     event=name, error=type(exc).__name__, detail=exc)))
            passed_over = h.enterprises.get(originator)
            if passed_over is not None and isinstance(getattr(ev, "originator_version", None), int):
                passed_over.version = ev.originator_version  # the replay goes on with the stream's next event
            continue
        if name == "ExternalAwardRecorded":
            h.last_external[(h.enterprises[originator].uscc, ev.project)] = position
    if pending is not None:
        found.extend(pending(h))
    for final in FINAL_CHECKS:
        found.extend(final(h))
    return h, open_findings(h, found)
