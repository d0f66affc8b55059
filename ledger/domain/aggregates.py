"""Aggregates and their events. Every change is an immutable event; nothing is
updated or deleted. A mistake is fixed by a new event.

Consistency boundaries (what the store checks with optimistic concurrency):

- ``Enterprise``: one stream per enterprise holding its registration, its
  applications, their decisions and payments, and the awards it got under other
  policies. The one-time rule, 就高不重复 and the per-payer payment limit all
  concern one enterprise, so two writers deciding on the same enterprise collide
  on this stream's version and one of them is retried.
- ``ApplicationRef`` / ``VoucherRef`` / ``ReceiptRef``: index aggregates whose ids
  are uuid5 of the natural key (filing number; treasury and payment voucher number;
  treasury and receipt voucher number). Saved in the same transaction as the event
  they index, they make the key unique in the store.
- ``TaskQuota``: one per (measure, year), for the annual quota of clause 16 that
  spans enterprises. A revoked award releases its task in the same transaction.

Corrections are new events, never edits (红字冲销): an undecided application is
amended (补正) or withdrawn (撤回); an approved award is revoked (撤销) by a
document; a payment is reversed; money paid on a revoked award is recovered (追回).
- ``PolicyBook``: the adopted policy versions.

Every event of an enterprise and every policy adoption carries ``by`` (who did
it) and ``date`` (the day it takes effect; optional only on a registration); the
index and quota aggregates record what they index, in the same transaction as
the event that carries those. The library stamps every event's ``timestamp``
(when it was recorded).

Why one module of ~780 lines (issue 21 asks a reason above ~400): it is the list of what the
log records, every aggregate and its events in one place, read as one by ``docs/events.md``,
the docs test that walks the aggregates and the audit replay. About half is ``Enterprise`` and
the values its stream holds (applications, payments, corrections), which belong together as one
consistency boundary; the rest are the small index, quota, policy, import, roster and set-aside
aggregates (15-60 lines each). Topics are explicit (``grants:...``), so a split would not change
what is recorded; it waits for the registry of kinds (issue 21), which decides where each
kind's event classes live, rather than moving them twice.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple, Protocol
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.domain.status import Status

NAMESPACE = uuid5(NAMESPACE_URL, "https://grants-ledger.shiyan/ids")

SUBMITTED = Status.SUBMITTED
APPROVED = Status.APPROVED
REJECTED = Status.REJECTED
WITHDRAWN = Status.WITHDRAWN
REVOKED = Status.REVOKED


def enterprise_id(uscc: str) -> UUID:
    return uuid5(NAMESPACE, f"enterprise:{uscc}")


def application_ref_id(ref: str) -> UUID:
    return uuid5(NAMESPACE, f"application:{ref}")


def voucher_ref_id(treasury: str, voucher: str) -> UUID:
    return uuid5(NAMESPACE, f"voucher:{treasury}:{voucher}")


def receipt_ref_id(treasury: str, voucher: str) -> UUID:
    return uuid5(NAMESPACE, f"receipt:{treasury}:{voucher}")


def task_quota_id(measure: str, year: int) -> UUID:
    return uuid5(NAMESPACE, f"quota:{measure}:{year}")


POLICY_BOOK_ID = uuid5(NAMESPACE, "policy-book")


@dataclass
class Payment:
    payer: str
    amount_fen: int
    voucher: str
    date: date
    by: str


@dataclass(frozen=True)
class Reversal:
    """红字冲销 of one payment: it no longer counts as paid; its voucher stays used."""

    payer: str
    voucher: str
    amount_fen: int
    date: date
    by: str
    reason: str


@dataclass(frozen=True)
class Recovery:
    """追回: money paid on a revoked award, back in the payer's treasury under a receipt voucher."""

    payer: str
    amount_fen: int
    voucher: str
    date: date
    by: str
    reason: str | None


@dataclass(frozen=True)
class Amendment:
    """补正: the whole set of facts replaced; both versions stay in the history."""

    date: date
    by: str
    reason: str
    facts_before: dict[str, Any]
    facts: dict[str, Any]


@dataclass(frozen=True)
class Revocation:
    date: date
    by: str
    reason: str
    document: str
    awarded_fen: int
    city_share_fen: int
    county_share_fen: int


@dataclass(frozen=True)
class Redecision:
    """改判 (re-decision) of an award in force: its amount raised from ``date`` on, after a lower award on
    the same project was revoked (就高不重复: the top-up is no longer the difference). ``cites`` names the
    revoked award(s) it follows."""

    date: date
    by: str
    reason: str
    cites: tuple[str, ...]
    awarded_before_fen: int
    awarded_fen: int
    city_share_fen: int
    county_share_fen: int


@dataclass
class ApplicationState:
    ref: str
    measure: str
    project: str
    facts: dict[str, Any]
    applied_on: date
    policy_version: str
    by: str
    status: str = SUBMITTED
    decided_on: date | None = None
    decided_by: str | None = None
    entitlement_fen: int = 0
    awarded_fen: int = 0
    city_share_fen: int = 0
    county_share_fen: int = 0
    basis: str | None = None
    reason: str | None = None
    trace: list[dict[str, Any]] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    reversals: list[Reversal] = field(default_factory=list)
    recoveries: list[Recovery] = field(default_factory=list)
    amendments: list[Amendment] = field(default_factory=list)
    revocation: Revocation | None = None
    redecisions: list[Redecision] = field(default_factory=list)
    approved_award: tuple[int, int, int] = (0, 0, 0)  # (awarded, city, county) as approved, before any re-decision

    def in_force_span(self) -> tuple[date, date | None] | None:
        """The days the award is in force: from its approval to its revocation (exclusive; None: still in
        force); None when it was never approved."""
        if self.decided_on is None or self.status not in (APPROVED, REVOKED):
            return None
        return self.decided_on, self.revocation.date if self.revocation is not None else None

    def in_force_on(self, day: date) -> bool:
        span = self.in_force_span()
        return span is not None and span[0] <= day and (span[1] is None or day < span[1])

    def in_force_from(self, day: date) -> bool:
        """In force on ``day`` or on some later day (approved, and not revoked on or before ``day``)."""
        span = self.in_force_span()
        return span is not None and (span[1] is None or span[1] > day)

    def award_on(self, day: date | None) -> tuple[int, int, int]:
        """(awarded, city share, county share) as decided by the end of ``day`` (its approval and any
        re-decision dated by then; all of them when None), whether or not it is in force that day."""
        if not self.redecisions:
            return self.awarded_fen, self.city_share_fen, self.county_share_fen
        awarded, city, county = self.approved_award
        for r in self.redecisions:
            if day is None or r.date <= day:
                awarded, city, county = r.awarded_fen, r.city_share_fen, r.county_share_fen
        return awarded, city, county

    def share_on(self, payer: str, day: date | None) -> int:
        """The payer's half of the award in force on ``day`` (nothing on a day it is not in force)."""
        if day is None:
            return self.share_fen(payer)
        if not self.in_force_on(day):
            return 0
        _awarded, city, county = self.award_on(day)
        return city if payer == "city" else county

    def paid_on(self, payer: str, day: date) -> int:
        """What the payer had paid net by the end of ``day``."""
        return (sum(p.amount_fen for p in self.payments if p.payer == payer and p.date <= day)
                - sum(r.amount_fen for r in self.reversals if r.payer == payer and r.date <= day)
                - sum(r.amount_fen for r in self.recoveries if r.payer == payer and r.date <= day))

    def payment(self, payer: str, voucher: str) -> Payment | None:
        return next((p for p in self.payments if p.payer == payer and p.voucher == voucher), None)

    def reversal_of(self, payer: str, voucher: str) -> Reversal | None:
        return next((r for r in self.reversals if r.payer == payer and r.voucher == voucher), None)

    def paid_fen(self, payer: str) -> int:
        """What the payer has paid net: payments, less reversed payments, less recoveries (``as_of(None)``'s
        figure, summed here without building the view: the audit's replay asks it at every payment)."""
        return (sum(p.amount_fen for p in self.payments if p.payer == payer)
                - sum(r.amount_fen for r in self.reversals if r.payer == payer)
                - sum(r.amount_fen for r in self.recoveries if r.payer == payer))

    @property
    def last_dated(self) -> date:
        """The latest day of the application's own history before a decision: filed or last amended."""
        return max([self.applied_on, *(a.date for a in self.amendments)])

    def as_of(self, day: date | None) -> ApplicationView:
        """The application as it stood at the end of ``day`` (business date); all of it when None."""
        def on(d: date) -> bool:
            return day is None or d <= day

        amendments = [a for a in self.amendments if on(a.date)]
        if amendments:
            facts = amendments[-1].facts
        else:
            facts = self.amendments[0].facts_before if self.amendments else self.facts
        if self.revocation is not None and on(self.revocation.date):
            status = REVOKED
        elif self.decided_on is not None and on(self.decided_on):
            status = APPROVED if self.status == REVOKED else Status(self.status)
        else:
            status = SUBMITTED
        return ApplicationView(
            status=status, facts=dict(facts), amendments=amendments,
            payments=[p for p in self.payments if on(p.date)],
            reversals=[r for r in self.reversals if on(r.date)],
            recoveries=[r for r in self.recoveries if on(r.date)],
            revocation=self.revocation if status == REVOKED else None,
        )

    def share_fen(self, payer: str) -> int:
        """The payer's half of the award in force (nothing once it is revoked)."""
        if self.status != APPROVED:
            return 0
        return self.city_share_fen if payer == "city" else self.county_share_fen


@dataclass(frozen=True)
class ApplicationView:
    """An application's status, facts and money movements as they stood on a day."""

    status: str
    facts: dict[str, Any]
    amendments: list[Amendment]
    payments: list[Payment]
    reversals: list[Reversal]
    recoveries: list[Recovery]
    revocation: Revocation | None

    def paid_fen(self, payer: str) -> int:
        """Net: payments, less reversed payments, less recoveries."""
        return (sum(p.amount_fen for p in self.payments if p.payer == payer)
                - sum(r.amount_fen for r in self.reversals if r.payer == payer)
                - sum(r.amount_fen for r in self.recoveries if r.payer == payer))


@dataclass(frozen=True)
class AwardUnderOtherPolicy:
    project: str
    policy: str
    amount_fen: int
    date: date
    by: str
    note: str | None = None


class ApprovalDecision(Protocol):
    """An approval as the rules decided it (``rules.Approval``): what ``Enterprise.record_approval`` records."""

    @property
    def ref(self) -> str: ...
    @property
    def entitlement_fen(self) -> int: ...
    @property
    def awarded_fen(self) -> int: ...
    @property
    def city_share_fen(self) -> int: ...
    @property
    def county_share_fen(self) -> int: ...
    @property
    def basis(self) -> str | None: ...
    @property
    def trace(self) -> list[dict[str, Any]]: ...


def _shared(trace: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy of a decision's trace whose keys and texts are interned: the clause quotes, readings and
    rules are the same in every decision of a measure, and a decoded event holds its own copy of each.
    An enterprise kept in memory (an import's cache, a replay) then holds them once (``sys.intern``
    forgets a string no one holds any more)."""
    intern = sys.intern
    return [{intern(k): intern(v) if type(v) is str else v for k, v in step.items()} if type(step) is dict else step
            for step in trace]


class Enterprise(Aggregate):
    """An enterprise and everything the ledger holds about its awards."""

    TOPIC = "grants:Enterprise"

    class Created(Aggregate.Created):
        TOPIC = "grants:Enterprise.Created"

    @staticmethod
    def create_id(uscc: str, **_: Any) -> UUID:
        return enterprise_id(uscc)

    @event("Registered", topic="grants:Enterprise.Registered")
    def __init__(self, uscc: str, name: str, area: str, date: date | None, by: str) -> None:
        self.uscc = uscc
        self.name = name
        self.area = area
        self.registered_on = date
        self.registered_by = by
        self.applications: dict[str, ApplicationState] = {}
        self.external_awards: list[AwardUnderOtherPolicy] = []

    @event("ApplicationSubmitted", topic="grants:Enterprise.ApplicationSubmitted")
    def submit(self, ref: str, measure: str, project: str, facts: dict[str, Any], date: date,
               policy_version: str, by: str) -> None:
        self.applications[ref] = ApplicationState(
            ref=ref, measure=measure, project=project, facts=dict(facts), applied_on=date,
            policy_version=policy_version, by=by,
        )

    @event("ApplicationApproved", topic="grants:Enterprise.ApplicationApproved")
    def approve(self, ref: str, date: date, by: str, policy_version: str, entitlement_fen: int, awarded_fen: int,
                city_share_fen: int, county_share_fen: int, basis: str | None, trace: list[dict[str, Any]]) -> None:
        app = self.applications[ref]
        app.status = APPROVED
        app.decided_on, app.decided_by = date, by
        app.entitlement_fen, app.awarded_fen = entitlement_fen, awarded_fen
        app.city_share_fen, app.county_share_fen = city_share_fen, county_share_fen
        app.basis, app.trace = basis, _shared(trace)
        app.approved_award = (awarded_fen, city_share_fen, county_share_fen)

    def record_approval(self, decision: ApprovalDecision, *, date: date, by: str, policy_version: str) -> None:
        """Record a decided approval as one value; the event keeps its field names (replay is unchanged)."""
        self.approve(ref=decision.ref, date=date, by=by, policy_version=policy_version,
                     entitlement_fen=decision.entitlement_fen, awarded_fen=decision.awarded_fen,
                     city_share_fen=decision.city_share_fen, county_share_fen=decision.county_share_fen,
                     basis=decision.basis, trace=decision.trace)

    @event("AwardRedecided", topic="grants:Enterprise.AwardRedecided")
    def redecide(self, ref: str, date: date, by: str, reason: str, cites: list[str], awarded_fen: int,
                 city_share_fen: int, county_share_fen: int, trace: list[dict[str, Any]]) -> None:
        app = self.applications[ref]
        app.redecisions.append(Redecision(date, by, reason, tuple(cites), app.awarded_fen, awarded_fen,
                                          city_share_fen, county_share_fen))
        app.awarded_fen, app.city_share_fen, app.county_share_fen = awarded_fen, city_share_fen, county_share_fen
        app.trace = [*app.trace, *_shared(trace)]

    @event("ApplicationRejected", topic="grants:Enterprise.ApplicationRejected")
    def reject(self, ref: str, date: date, by: str, reason: str) -> None:
        app = self.applications[ref]
        app.status = REJECTED
        app.decided_on, app.decided_by, app.reason = date, by, reason

    @event("PaymentRecorded", topic="grants:Enterprise.PaymentRecorded")
    def record_payment(self, ref: str, payer: str, treasury: str, amount_fen: int, voucher: str, date: date,
                       by: str) -> None:
        self.applications[ref].payments.append(Payment(payer, amount_fen, voucher, date, by))

    @event("ApplicationAmended", topic="grants:Enterprise.ApplicationAmended")
    def amend(self, ref: str, facts: dict[str, Any], date: date, by: str, reason: str) -> None:
        app = self.applications[ref]
        app.amendments.append(Amendment(date, by, reason, dict(app.facts), dict(facts)))
        app.facts = dict(facts)

    @event("ApplicationWithdrawn", topic="grants:Enterprise.ApplicationWithdrawn")
    def withdraw(self, ref: str, date: date, by: str, reason: str) -> None:
        app = self.applications[ref]
        app.status = WITHDRAWN
        app.decided_on, app.decided_by, app.reason = date, by, reason

    @event("AwardRevoked", topic="grants:Enterprise.AwardRevoked")
    def revoke(self, ref: str, date: date, by: str, reason: str, document: str, awarded_fen: int,
               city_share_fen: int, county_share_fen: int) -> None:
        app = self.applications[ref]
        app.status = REVOKED
        app.revocation = Revocation(date, by, reason, document, awarded_fen, city_share_fen, county_share_fen)

    @event("PaymentReversed", topic="grants:Enterprise.PaymentReversed")
    def reverse_payment(self, ref: str, payer: str, voucher: str, amount_fen: int, date: date, by: str,
                        reason: str) -> None:
        self.applications[ref].reversals.append(Reversal(payer, voucher, amount_fen, date, by, reason))

    @event("RecoveryRecorded", topic="grants:Enterprise.RecoveryRecorded")
    def record_recovery(self, ref: str, payer: str, treasury: str, amount_fen: int, voucher: str, date: date,
                        by: str, reason: str | None) -> None:
        self.applications[ref].recoveries.append(Recovery(payer, amount_fen, voucher, date, by, reason))

    @event("ExternalAwardRecorded", topic="grants:Enterprise.ExternalAwardRecorded")
    def record_external_award(self, project: str, policy: str, amount_fen: int, date: date, by: str,
                              note: str | None) -> None:
        self.external_awards.append(AwardUnderOtherPolicy(project, policy, amount_fen, date, by, note))


class ApplicationRef(Aggregate):
    """Index: a filing number (ref) belongs to one application of one enterprise."""

    TOPIC = "grants:ApplicationRef"

    class Created(Aggregate.Created):
        TOPIC = "grants:ApplicationRef.Created"

    @staticmethod
    def create_id(ref: str, **_: Any) -> UUID:
        return application_ref_id(ref)

    @event("Filed", topic="grants:ApplicationRef.Filed")
    def __init__(self, ref: str, uscc: str) -> None:
        self.ref = ref
        self.uscc = uscc


class VoucherRef(Aggregate):
    """Index: a voucher number is used once per treasury."""

    TOPIC = "grants:VoucherRef"

    class Created(Aggregate.Created):
        TOPIC = "grants:VoucherRef.Created"

    @staticmethod
    def create_id(treasury: str, voucher: str, **_: Any) -> UUID:
        return voucher_ref_id(treasury, voucher)

    @event("Used", topic="grants:VoucherRef.Used")
    def __init__(self, treasury: str, voucher: str, ref: str, payer: str, amount_fen: int) -> None:
        self.treasury, self.voucher, self.ref = treasury, voucher, ref
        self.payer, self.amount_fen = payer, amount_fen


class ReceiptRef(Aggregate):
    """Index: a receipt voucher number (for money recovered, 追回) is used once per treasury."""

    TOPIC = "grants:ReceiptRef"

    class Created(Aggregate.Created):
        TOPIC = "grants:ReceiptRef.Created"

    @staticmethod
    def create_id(treasury: str, voucher: str, **_: Any) -> UUID:
        return receipt_ref_id(treasury, voucher)

    @event("Used", topic="grants:ReceiptRef.Used")
    def __init__(self, treasury: str, voucher: str, ref: str, payer: str, amount_fen: int) -> None:
        self.treasury, self.voucher, self.ref = treasury, voucher, ref
        self.payer, self.amount_fen = payer, amount_fen


class QuotaSpan(NamedTuple):
    """One award of a task under a yearly quota: from its approval to its revocation (exclusive; None:
    in force). Events recorded before quotas kept dates have none: such an award counts from the
    beginning, and such a release as if the award had never been made (as the quota counted then)."""

    item: str
    ref: str
    start: date
    end: date | None


class TaskQuota(Aggregate):
    """The distinct items awarded under a measure with a yearly quota (clause 16), with the days each
    award is in force, so the quota is judged on every day, not only today."""

    TOPIC = "grants:TaskQuota"

    class Created(Aggregate.Created):
        TOPIC = "grants:TaskQuota.Created"

    @staticmethod
    def create_id(measure: str, year: int, **_: Any) -> UUID:
        return task_quota_id(measure, year)

    @event("Opened", topic="grants:TaskQuota.Opened")
    def __init__(self, measure: str, year: int, limit: int) -> None:
        self.measure, self.year, self.limit = measure, year, limit
        self.spans: list[QuotaSpan] = []

    @property
    def awarded(self) -> dict[str, str]:
        """The tasks awarded and not released, each with the award that holds it (derived from the spans)."""
        return {s.item: s.ref for s in self.spans if s.end is None}

    @event("ItemAwarded", topic="grants:TaskQuota.ItemAwarded")
    def award(self, item: str, ref: str, date: date | None = None) -> None:
        self.spans.append(QuotaSpan(item, ref, date or _BEGINNING, None))

    @event("ItemReleased", topic="grants:TaskQuota.ItemReleased")
    def release(self, item: str, ref: str, date: date | None = None) -> None:
        """The award of ``item`` (by ``ref``) was revoked from ``date``: from then on the task counts as never
        awarded."""
        self.spans = [s._replace(end=max(s.start, date) if date else s.start)
                      if s.ref == ref and s.item == item and s.end is None else s for s in self.spans]


_BEGINNING = date.min


@dataclass(frozen=True)
class PolicyVersion:
    version: str
    catalogue: str
    effective: date
    ends: date  # first day outside the window
    adopted_on: date
    by: str
    edition: dict[str, Any] | None = None  # the edition's full content; None: the built-in catalogue named

    def covers(self, day: date) -> bool:
        return self.effective <= day < self.ends


class PolicyBook(Aggregate):
    """The policy versions adopted, each with its catalogue and validity window."""

    TOPIC = "grants:PolicyBook"

    class Created(Aggregate.Created):
        TOPIC = "grants:PolicyBook.Created"

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return POLICY_BOOK_ID

    @event("Opened", topic="grants:PolicyBook.Opened")
    def __init__(self) -> None:
        self.versions: dict[str, PolicyVersion] = {}

    @event("PolicyAdopted", topic="grants:PolicyBook.PolicyAdopted")
    def adopt(self, version: str, catalogue: str, effective: date, ends: date, date: date, by: str,
              edition: dict[str, Any] | None = None) -> None:
        """``edition`` is the full content of the edition adopted, so replay needs no file; events
        recorded before editions were data have none and mean the built-in catalogue ``catalogue``."""
        self.versions[version] = PolicyVersion(version, catalogue, effective, ends, date, by, edition)

    def version_for(self, day: date) -> PolicyVersion | None:
        """The version in force on ``day``: of those whose window holds it, the latest to take effect."""
        return in_force_among(self.versions.values(), day)


def in_force_among(versions: Iterable[PolicyVersion], day: date) -> PolicyVersion | None:
    """Of ``versions``, the one in force on ``day``: of those whose window holds it, the latest to take effect
    (``PolicyBook.version_for``, and an adoption asking what it would change)."""
    return max((v for v in versions if v.covers(day)), key=lambda v: (v.effective, v.adopted_on), default=None)


def import_run_id(digest: str, by: str | None = None) -> UUID:
    """The import run of one operator's import of the file with this SHA-256: a file is decided once per
    operator, so an import by someone without the authority never decides it for another (issue 19). Runs
    recorded before were keyed by the file alone (``by`` None); the operator who ran one goes on with it."""
    return uuid5(NAMESPACE, f"import:{digest}" if by is None else f"import:{by}:{digest}")


class RefusedLine(NamedTuple):
    """A refused line's outcome as an import run keeps it: a tuple, not the event's dicts (a file of
    600,000 lines with 28,000 refused held 31 MB of dicts), with the codes interned."""

    line: int
    code: str
    message: str
    field: str | None
    other: tuple[tuple[str, Any], ...]  # any further item of the refusal, in order

    @classmethod
    def of(cls, line: int, refusal: dict[str, Any]) -> RefusedLine:
        other = tuple((k, v) for k, v in refusal.items() if k not in ("code", "message", "field"))
        return cls(line, sys.intern(refusal["code"]), refusal["message"], refusal.get("field"), other)

    def as_dict(self) -> dict[str, Any]:
        """``{"line", "code", "message", "field"?, ...}``: the line and the refusal as it was recorded."""
        data: dict[str, Any] = {"line": self.line, "code": self.code, "message": self.message}
        if self.field is not None:
            data["field"] = self.field
        data.update(self.other)
        return data


class ImportRun(Aggregate):
    """One operator's import of one file (by the SHA-256 of its bytes) and the outcomes of its lines.

    Each chunk of an import records its lines' outcomes here in the same transaction
    as the chunk's events, so a line is decided once: a later run of the same file
    reports the recorded outcomes and goes on after the last recorded line, and two
    processes importing the file at once collide on this stream's version. An
    outcome is ``{"line": n}`` (accepted), ``{"line": n, "warning": text}`` (accepted,
    with a warning) or ``{"line": n, "refused": {"code", "message", "field"?}}``. The lines are
    decided in order, so the aggregate keeps how many are decided and the last of them, and the
    outcomes of the refused lines and of those with a warning; not one record per line, which
    would grow with the file.
    """

    TOPIC = "grants:ImportRun"

    class Created(Aggregate.Created):
        TOPIC = "grants:ImportRun.Created"

    @staticmethod
    def create_id(digest: str, by: str, **_: Any) -> UUID:
        return import_run_id(digest, by)

    @event("Started", topic="grants:ImportRun.Started")
    def __init__(self, digest: str, file: str, lines: int, by: str) -> None:
        self.digest, self.file, self.lines, self.by = digest, file, lines, by
        self.decided = 0  # lines decided
        self.through = 0  # the last line decided (blank and comment lines are not decided)
        self.refused: list[RefusedLine] = []  # the outcomes of the refused lines, in order
        self.warnings: list[tuple[int, str]] = []  # (line, warning) of the lines accepted with a warning

    @event("LinesDecided", topic="grants:ImportRun.LinesDecided")
    def decide(self, outcomes: list[dict[str, Any]], by: str) -> None:
        for outcome in outcomes:
            self.decided += 1
            self.through = max(self.through, outcome["line"])
            if "refused" in outcome:
                self.refused.append(RefusedLine.of(outcome["line"], outcome["refused"]))
            elif "warning" in outcome:
                self.warnings.append((outcome["line"], outcome["warning"]))


ROSTER_ID = uuid5(NAMESPACE, "operator-roster")


@dataclass
class Operator:
    """One operator: who may act in the ledger, with which roles, between which days."""

    name: str
    display_name: str
    roles: list[str]
    valid_from: date
    valid_to: date | None  # the last day it may act; None: no end
    registered_on: date
    by: str
    suspended: bool = False

    def active_on(self, day: date) -> bool:
        return (not self.suspended and self.valid_from <= day
                and (self.valid_to is None or day <= self.valid_to))


class OperatorRoster(Aggregate):
    """The operators of the ledger. Its first event is the one-time switch to enforced mode.

    Until it exists the ledger runs in single-user mode (any ``by``); the command that
    registers the first operator creates it, and from then on every command is checked
    against it (``ledger/domain/operators.py``). Every command reads this one stream, so a
    command decided on a roster that has since changed (an operator suspended) is run
    again (the stale-read check of ``save()``).
    """

    TOPIC = "grants:OperatorRoster"

    class Created(Aggregate.Created):
        TOPIC = "grants:OperatorRoster.Created"

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return ROSTER_ID

    @event("EnforcementStarted", topic="grants:OperatorRoster.EnforcementStarted")
    def __init__(self, date: date, by: str) -> None:
        self.enforced_on, self.enforced_by = date, by
        self.operators: dict[str, Operator] = {}

    @event("OperatorRegistered", topic="grants:OperatorRoster.OperatorRegistered")
    def register(self, name: str, display_name: str, roles: list[str], valid_from: date, valid_to: date | None,
                 date: date, by: str) -> None:
        self.operators[name] = Operator(name, display_name, list(roles), valid_from, valid_to, date, by)

    @event("RolesChanged", topic="grants:OperatorRoster.RolesChanged")
    def change_roles(self, name: str, roles: list[str], date: date, by: str, reason: str) -> None:
        self.operators[name].roles = list(roles)

    @event("OperatorSuspended", topic="grants:OperatorRoster.OperatorSuspended")
    def suspend(self, name: str, date: date, by: str, reason: str) -> None:
        self.operators[name].suspended = True

    @event("OperatorReinstated", topic="grants:OperatorRoster.OperatorReinstated")
    def reinstate(self, name: str, date: date, by: str, reason: str) -> None:
        self.operators[name].suspended = False


SET_ASIDES_ID = uuid5(NAMESPACE, "set-asides")


@dataclass(frozen=True)
class SetAside:
    """An admin's finding that the event stored at ``position`` is malformed (written past the ledger, its
    fields missing or of the wrong type), and that its stream replays without it from now on."""

    position: int
    stream: str  # the stream (originator id, a UUID as text) of the event set aside
    stream_version: int  # the event's version in that stream
    topic: str
    reason: str
    date: date
    by: str


class SetAsides(Aggregate):
    """The malformed events an admin has set aside (issue 19), one stream with a fixed id.

    Its own stream, not the roster's: every command reads the roster, so a set-aside recorded there would
    make every command decided meanwhile run again; and a stream is read only when it fails to replay, so
    the set-asides are looked up in this one place, only then. The original rows stay in the log, under the
    hash chain; a second set-aside of the same position collides on this stream's version.
    """

    TOPIC = "grants:SetAsides"

    class Created(Aggregate.Created):
        TOPIC = "grants:SetAsides.Created"

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return SET_ASIDES_ID

    @event("Opened", topic="grants:SetAsides.Opened")
    def __init__(self) -> None:
        self.entries: dict[int, SetAside] = {}

    @event("MalformedEventSetAside", topic="grants:SetAsides.MalformedEventSetAside")
    def set_aside(self, position: int, stream: str, stream_version: int, topic: str, reason: str, date: date,
                  by: str) -> None:
        """``stream`` and ``stream_version``: the originator id and version of the event set aside (the event's
        own ``originator_id`` and ``originator_version`` are this stream's)."""
        self.entries[position] = SetAside(position, stream, stream_version, topic, reason, date, by)

    def of_stream(self, originator_id: UUID) -> dict[int, SetAside]:
        """The set-asides of one stream, by the version of the event set aside."""
        return {s.stream_version: s for s in self.entries.values() if UUID(s.stream) == originator_id}


@dataclass(frozen=True)
class SetAsideEvent:
    """In its stream's replay, the place of an event set aside: it keeps the stream's version (the next event
    is the one after it) and changes nothing else. The trail shows it as set aside, with who and why."""

    originator_id: UUID
    originator_version: int
    timestamp: Any  # the recording time of the event before it (the row set aside may not be readable)
    topic: str
    date: date
    by: str
    reason: str

    def mutate(self, aggregate: Any) -> Any:
        if aggregate is not None:
            aggregate.version = self.originator_version
        return aggregate
