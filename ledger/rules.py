"""The general rules of the policy, as pure functions of state and command.

No clock, no I/O: the write side calls them before recording a decision, and an
auditor's replay can call the very same functions over the recorded history.
Each returns what is to be recorded, or raises ``Refused`` with a stable code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger import intake
from ledger.areas import CITY
from ledger.domain import (
    APPROVED,
    REVOKED,
    SUBMITTED,
    ApplicationState,
    Enterprise,
    PolicyBook,
    PolicyVersion,
    TaskQuota,
)
from ledger.errors import (
    ALREADY_AWARDED,
    DUPLICATE_AWARD,
    DUPLICATE_REF,
    OUTSIDE_VALIDITY,
    OVER_PAYMENT,
    OVER_RECOVERY,
    QUOTA_EXHAUSTED,
    UNKNOWN_PAYMENT,
    WRONG_STATE,
    Refused,
    invalid,
)
from ledger.money import format_fen, split_shares
from ledger.policy import CURRENT_CATALOGUE, Catalogue, builtin_catalogues, catalogue, catalogue_for, edition_of
from ledger.policy.assess import Assessment
from ledger.policy.facts import add_years
from ledger.policy.measures import ONCE_PER_ENTERPRISE, PROPORTIONAL_CAP, Measure

SPLIT_RULE_EN = "50% city treasury, 50% county treasury; the county half is rounded down and the city takes an odd fen"
SPLIT_RULE_ZH = "市级财政和各级地方财政各50%;县级份额向下取整到分,奇数分由市级财政承担"


# --- policy versions ----------------------------------------------------------

@dataclass(frozen=True)
class Adoption:
    version: str
    catalogue: str
    effective: date
    ends: date
    edition: dict[str, Any]  # the full content of the edition adopted, recorded with the adoption


def version_id(cmd: intake.AdoptPolicy) -> str:
    """The id an adoption is recorded under: given, or ``{edition or catalogue}@{effective}``."""
    if cmd.version:
        return cmd.version
    edition_id = edition_of(cmd.edition).id if cmd.edition is not None else catalogue(
        cmd.catalogue or CURRENT_CATALOGUE).id
    return f"{edition_id}@{cmd.effective.isoformat()}"


def adopted_content(cmd: intake.AdoptPolicy) -> dict[str, Any] | None:
    """The edition content an adoption command gives (without the source file's digest), if it gives one."""
    return None if cmd.edition is None else _without_digest(edition_of(cmd.edition).content)


def decide_adoption(book: PolicyBook | None, cmd: intake.AdoptPolicy) -> Adoption:
    """A policy version: an edition (given, or the built-in catalogue named) and its validity window.

    The edition's full content is recorded, so the version is decided by what was adopted
    whatever later happens to the file. An edition may not reuse the id of a built-in
    catalogue with other content, nor contradict its own effective date.
    """
    if cmd.edition is not None:
        edition = edition_of(cmd.edition)
        builtin = builtin_catalogues().get(edition.id)
        if builtin is not None and dict(builtin.edition.content) != _without_digest(edition.content):
            raise invalid("edition.id", f"{edition.id!r} is the id of a built-in edition; an edition with other "
                          "content needs its own id")
        if edition.effective is not None and edition.effective != cmd.effective:
            raise invalid("effective", f"the edition says it takes effect on {edition.effective}, not "
                          f"{cmd.effective}")
        cat = catalogue_for(edition.id, edition.content)
    else:
        cat = catalogue(cmd.catalogue or CURRENT_CATALOGUE)
    version = version_id(cmd)
    if book is not None and version in book.versions:
        raise Refused(DUPLICATE_REF, f"policy version {version!r} was already adopted", field="version")
    return Adoption(version, cat.id, cmd.effective, add_years(cmd.effective, cat.validity_years),
                    dict(cat.edition.content))


def _without_digest(content: Any) -> dict[str, Any]:
    return {k: v for k, v in dict(content).items() if k != "source_sha256"}


def adopted_content_of(version: PolicyVersion) -> dict[str, Any] | None:
    """The edition content an adoption recorded (without the source file's digest)."""
    return None if version.edition is None else _without_digest(version.edition)


def catalogue_of(version: PolicyVersion) -> Catalogue:
    """The catalogue a policy version decides by: the edition its adoption recorded."""
    return catalogue_for(version.catalogue, version.edition)


def version_in_force(book: PolicyBook | None, day: date, field: str = "date") -> PolicyVersion:
    version = book.version_for(day) if book else None
    if version is None:
        if book is None or not book.versions:
            raise Refused(OUTSIDE_VALIDITY, f"{field}: no policy version has been adopted; adopt one first "
                          "(adopt-policy with its effective date)", field=field)
        windows = "; ".join(f"{v.version}: {v.effective} to {v.ends} (exclusive)" for v in book.versions.values())
        raise Refused(OUTSIDE_VALIDITY, f"{field}: {day} is outside the validity window of every adopted policy "
                      f"version ({windows}); 有效期为3年", field=field)
    return version


# --- applications -------------------------------------------------------------

@dataclass(frozen=True)
class Submission:
    version: PolicyVersion
    measure: Measure
    facts: dict[str, Any]
    assessment: Assessment


def decide_submission(book: PolicyBook | None, cmd: intake.Apply) -> Submission:
    """An application is refused only when it is not an application under the policy: its
    measure is unknown or pays no cash, it is dated outside the window of every adopted
    version, or its facts are malformed or missing. Whether the facts meet the clause's
    thresholds is assessed and recorded with it (the office must decide on every
    application in writing); it is enforced when the application is approved."""
    in_force = book.version_for(cmd.date) if book else None
    cat = catalogue_of(in_force) if in_force else catalogue(CURRENT_CATALOGUE)
    measure = cat.measure(cmd.measure)
    measure.refuse_if_not_grantable()
    version = version_in_force(book, cmd.date)
    facts = measure.normalize(cmd.facts)
    assessment = measure.evaluate(facts, cmd.date, version.version)
    return Submission(version, measure, facts, assessment)


def ineligibility_warning(ref: str, assessment: Assessment) -> str | None:
    """What the clerk is told at once when the facts as filed miss a threshold."""
    refusal = assessment.refusal()
    if refusal is None:
        return None
    return (f"{ref} is recorded, but the facts as filed do not meet the clause: {refusal.message}. "
            "It cannot be approved as it stands (not-eligible); amend it (补正), or reject it")


@dataclass(frozen=True)
class Amendment:
    measure: Measure
    facts: dict[str, Any]
    assessment: Assessment


def decide_amendment(book: PolicyBook, enterprise: Enterprise, cmd: intake.Amend) -> Amendment:
    """补正: only an undecided application is amended; its new facts are checked and re-assessed
    under the version it was filed under, as of the day it was filed."""
    app = _undecided(enterprise, cmd.ref, cmd.date, "amended")
    version = book.versions[app.policy_version]
    measure = catalogue_of(version).measure(app.measure)
    facts = measure.normalize(cmd.facts)
    if facts == app.facts:
        raise invalid("facts", f"the facts given are the facts {cmd.ref} already has; an amendment must change them")
    return Amendment(measure, facts, measure.evaluate(facts, app.applied_on, app.policy_version))


def decide_withdrawal(enterprise: Enterprise, cmd: intake.Withdraw) -> None:
    """撤回: only an undecided application is withdrawn; nothing more can happen to it."""
    _undecided(enterprise, cmd.ref, cmd.date, "withdrawn")


def _not_before_registration(enterprise: Enterprise, day: date, field: str = "date") -> None:
    """Nothing about an enterprise is dated before its registration date (when it has one).

    Reports leave an enterprise out as of a day before its registration; an event
    dated earlier would count in one report and not in another (ADR 0003).
    """
    if enterprise.registered_on is not None and day < enterprise.registered_on:
        raise invalid(field, f"{day} is before {enterprise.uscc} was registered ({enterprise.registered_on}); "
                      "nothing about an enterprise may be dated before its registration date")


def not_before_registration(enterprise: Enterprise, day: date) -> None:
    """The service's entry to the rule for the commands whose rules do not receive the enterprise."""
    _not_before_registration(enterprise, day, "date")


def _application(enterprise: Enterprise, ref: str) -> ApplicationState:
    return enterprise.applications[ref]


def _undecided(enterprise: Enterprise, ref: str, day: date, verb: str) -> ApplicationState:
    """The application a decision or amendment is about: still submitted, and dated no earlier than it was filed."""
    app = _application(enterprise, ref)
    if app.status != SUBMITTED:
        raise Refused(WRONG_STATE, f"{ref} is {app.status}; only a submitted application can be {verb}",
                      field="ref")
    _not_before_registration(enterprise, day, "date")
    if day < app.last_dated:
        what = "last amended" if app.last_dated != app.applied_on else "filed"
        raise invalid("date", f"the date {day} is before the day the application was {what}, {app.last_dated}")
    return app


# --- approvals ----------------------------------------------------------------

@dataclass(frozen=True)
class Approval:
    ref: str
    entitlement_fen: int
    awarded_fen: int
    city_share_fen: int
    county_share_fen: int
    basis: str | None
    trace: list[dict[str, Any]]
    quota_item: tuple[str, int, str] | None  # (measure, year, item) when a yearly quota counts it


def decide_approval(enterprise: Enterprise, cmd: intake.Approve, version: PolicyVersion,
                    quota: TaskQuota | None) -> Approval:
    app = _undecided(enterprise, cmd.ref, cmd.date, "approved")
    measure = catalogue_of(version).measure(app.measure)
    assessment = measure.assess(app.facts, app.applied_on, app.policy_version)
    steps = assessment.steps

    if measure.case_by_case:
        if cmd.amount_fen is None:
            raise invalid("amount_fen", f"{measure.id} is decided case by case (一事一议): the approval must give "
                          "the amount (amount_fen; on the command line --amount or --amount-fen) and its basis "
                          "(the meeting or document that decided it)")
        if not cmd.basis:
            raise invalid("basis", f"{measure.id} is decided case by case (一事一议): the approval must name its "
                          "basis (the meeting or document that decided it)")
        entitlement = cmd.amount_fen
        steps.append({"step": "amount", "formula": "decided case by case", "fen": entitlement, "basis": cmd.basis,
                      "en": f"amount decided case by case: {format_fen(entitlement)} yuan, basis: {cmd.basis}",
                      "zh": f"一事一议确定金额:{format_fen(entitlement)}元,依据:{cmd.basis}"})
    else:
        entitlement = assessment.entitlement_fen or 0
        if cmd.amount_fen is not None and cmd.amount_fen != entitlement:
            if measure.kind != PROPORTIONAL_CAP or cmd.amount_fen > entitlement:
                most = "at most" if measure.kind == PROPORTIONAL_CAP else "set by clause"
                raise invalid("amount_fen", f"the amount of {measure.id} is {most} {entitlement} fen "
                              f"({format_fen(entitlement)} yuan) under clause {measure.clause}; omit amount_fen")
            if not cmd.basis:
                raise invalid("basis", f"an award below the {format_fen(entitlement)} yuan that clause "
                              f"{measure.clause} allows must name its basis (the review that set it)")
            entitlement = cmd.amount_fen
            steps.append({"step": "amount", "formula": "set lower by the review", "fen": entitlement,
                          "basis": cmd.basis,
                          "en": f"amount set by the review below the ceiling: {format_fen(entitlement)} yuan, "
                                f"basis: {cmd.basis}",
                          "zh": f"审批核定金额(低于上限):{format_fen(entitlement)}元,依据:{cmd.basis}"})

    check_one_time(enterprise, app, measure, entitlement)
    quota_item = _check_quota(app, measure, quota, cmd.ref)
    awarded, deduction_steps = highest_not_duplicated(enterprise, app, entitlement)
    steps.extend(deduction_steps)
    city, county = split_shares(awarded)
    steps.append({"step": "split", "awarded_fen": awarded, "city_fen": city, "county_fen": county,
                  "area": enterprise.area, "rule": SPLIT_RULE_EN,
                  "en": f"split: city treasury {format_fen(city)} + {enterprise.area} treasury {format_fen(county)} "
                        f"= {format_fen(awarded)} ({SPLIT_RULE_EN})",
                  "zh": f"分担:市级财政{format_fen(city)}元 + {enterprise.area}财政{format_fen(county)}元 = "
                        f"{format_fen(awarded)}元({SPLIT_RULE_ZH})"})
    return Approval(cmd.ref, entitlement, awarded, city, county, cmd.basis, steps, quota_item)


def check_one_time(enterprise: Enterprise, app: ApplicationState, measure: Measure, entitlement: int) -> None:
    """一次性奖励: at most once per enterprise (or per project), except a tier upgrade on the same project."""
    if not measure.once:
        return
    for prior in enterprise.approved():
        if prior.ref == app.ref or prior.measure != measure.id:
            continue
        if measure.once != ONCE_PER_ENTERPRISE and prior.project != app.project:
            continue
        upgrade = bool(measure.tiers) and prior.project == app.project and entitlement > prior.entitlement_fen
        if upgrade:
            continue
        scope = "enterprise" if measure.once == ONCE_PER_ENTERPRISE else f"project {app.project}"
        hint = ""
        if measure.tiers and prior.project != app.project:
            hint = f"; a higher tier is topped up only on the same project ({prior.project})"
        raise Refused(ALREADY_AWARDED,
                      f"{measure.id} is a one-time award (一次性) per {scope} and {enterprise.uscc} already has it: "
                      f"{prior.ref} approved {prior.decided_on}, {format_fen(prior.entitlement_fen)} yuan{hint}",
                      field="ref")


def _check_quota(app: ApplicationState, measure: Measure, quota: TaskQuota | None, ref: str) -> tuple[str, int, str] | None:
    if measure.quota is None:
        return None
    year = app.facts[measure.quota.year_fact]
    item = app.facts[measure.quota.item_fact]
    awarded = quota.awarded if quota else {}
    if item in awarded:
        raise Refused(ALREADY_AWARDED, f"{measure.id}: {item} of {year} was already awarded ({awarded[item]}); "
                      "each task is awarded once", field=f"facts.{measure.quota.item_fact}")
    if len(awarded) >= measure.quota.limit:
        raise Refused(QUOTA_EXHAUSTED, f"{measure.id}: {len(awarded)} of {measure.quota.limit} tasks of {year} are "
                      f"already awarded ({', '.join(sorted(awarded))}); 每年发布{measure.quota.limit}个重点创新任务",
                      field=f"facts.{measure.quota.year_fact}")
    return (measure.id, year, item)


def highest_not_duplicated(enterprise: Enterprise, app: ApplicationState, entitlement: int) -> tuple[int, list[dict[str, Any]]]:
    """就高不重复: what one enterprise collects for one project never exceeds its highest single award.

    A later higher award pays only the difference over what was already awarded
    (补差); an equal or lower one is refused.
    """
    earlier: list[dict[str, Any]] = []
    for prior in enterprise.approved():
        if prior.project == app.project and prior.ref != app.ref:
            assert prior.decided_on is not None  # an award in force was decided
            earlier.append({"source": prior.ref, "measure": prior.measure, "entitlement_fen": prior.entitlement_fen,
                            "awarded_fen": prior.awarded_fen, "date": prior.decided_on.isoformat()})
    for ext in enterprise.external_awards:
        if ext.project == app.project:
            earlier.append({"source": f"external: {ext.policy}", "measure": None, "entitlement_fen": ext.amount_fen,
                            "awarded_fen": ext.amount_fen, "date": ext.date.isoformat()})
    if not earlier:
        return entitlement, []
    highest = max(e["entitlement_fen"] for e in earlier)
    already = sum(e["awarded_fen"] for e in earlier)
    listing = ", ".join(f"{e['source']} {format_fen(e['entitlement_fen'])}" for e in earlier)
    if entitlement <= highest or entitlement - already <= 0:
        raise Refused(DUPLICATE_AWARD,
                      f"就高不重复: project {app.project} of {enterprise.uscc} already has an award of "
                      f"{format_fen(highest)} yuan ({listing}) and {format_fen(already)} yuan already awarded on it; "
                      f"this award of {format_fen(entitlement)} is not more than that, so nothing more is due",
                      field="project")
    awarded = entitlement - already
    step = {"step": "deduction", "earlier": earlier, "already_fen": already, "fen": awarded,
            "en": f"就高不重复 on project {app.project}: earlier awards {listing}; pays the difference "
                  f"{format_fen(entitlement)} - {format_fen(already)} = {format_fen(awarded)} yuan (就高补差)",
            "zh": f"同一企业同一项目就高不重复:已获{format_fen(already)}元,补差{format_fen(awarded)}元"}
    return awarded, [step]


def overlap_on_project(enterprise: Enterprise, project: str) -> str | None:
    """After the fact: does what the project has collected exceed its highest single award?

    An award under another policy is a fact the ledger records, not a decision it
    makes; when one arrives after this policy's award on the same project, the
    overlap is reported for review with the other policy's office (就高不重复).
    """
    amounts = [(a.entitlement_fen, a.awarded_fen) for a in enterprise.approved() if a.project == project]
    if not amounts:
        return None  # only awards under other policies: theirs to reconcile, not this ledger's
    amounts += [(e.amount_fen, e.amount_fen) for e in enterprise.external_awards if e.project == project]
    highest = max((entitled for entitled, _ in amounts), default=0)
    total = sum(awarded for _, awarded in amounts)
    if total <= highest:
        return None
    return (f"就高不重复: project {project} of {enterprise.uscc} has now collected {format_fen(total)} yuan across "
            f"policies, {format_fen(total - highest)} more than its highest single award {format_fen(highest)}; "
            "review with the other policy's office")


def check_application(book: PolicyBook | None, measure_id: str, raw_facts: Any, day: date) -> dict[str, Any]:
    """What an application with these facts would get under the version in force, and why."""
    in_force = book.version_for(day) if book else None
    version_id = in_force.version if in_force else f"{CURRENT_CATALOGUE} (not adopted)"
    measure = (catalogue_of(in_force) if in_force else catalogue(CURRENT_CATALOGUE)).measure(measure_id)
    measure.refuse_if_not_grantable()
    facts = measure.normalize(raw_facts)
    assessment = measure.evaluate(facts, day, version_id)
    refusal = assessment.refusal()
    notes = []
    if in_force is None:
        notes.append("no adopted policy version covers this date; an application dated so would be refused "
                     "(outside-validity)")
    return {"measure": measure.id, "clause": measure.clause, "policy_version": version_id, "facts": facts,
            "eligible": refusal is None, "entitlement_fen": assessment.due_fen, "case_by_case": assessment.case_by_case,
            "refusal": refusal.as_dict() if refusal else None, "trace": assessment.steps, "notes": notes}


# --- rejections and payments ----------------------------------------------------

def decide_rejection(enterprise: Enterprise, cmd: intake.Reject) -> None:
    _undecided(enterprise, cmd.ref, cmd.date, "rejected")


def decide_payment(enterprise: Enterprise, cmd: intake.Pay) -> str:
    """A payment is recorded only on an approved award in force and never beyond what its payer owes,
    net of reversed payments.

    Returns the treasury that pays: the city's, or the enterprise's county-level area's.
    """
    app = _application(enterprise, cmd.ref)
    if app.status != APPROVED:
        raise Refused(WRONG_STATE, f"{cmd.ref} is {app.status}; payments are recorded only on approved applications",
                      field="ref")
    assert app.decided_on is not None
    _not_before_registration(enterprise, cmd.date, "date")
    if cmd.date < app.decided_on:
        raise invalid("date", f"the payment date {cmd.date} is before the approval date {app.decided_on}")
    reversed_on = max((r.date for r in app.reversals if r.payer == cmd.payer), default=None)
    if reversed_on is not None and cmd.date < reversed_on:
        # Else, as of a day between, the payment replacing a reversed one would count beside it (paid twice).
        raise invalid("date", f"the payment date {cmd.date} is before the {cmd.payer} treasury's payment reversed "
                      f"on {reversed_on}; a payment that replaces a reversed one is dated no earlier than the reversal")
    owed = app.share_fen(cmd.payer)
    paid = app.paid_fen(cmd.payer)
    if paid + cmd.amount_fen > owed:
        raise Refused(OVER_PAYMENT,
                      f"amount_fen: the {cmd.payer} share of {cmd.ref} is {owed} fen ({format_fen(owed)} yuan), "
                      f"{paid} fen already paid; at most {owed - paid} fen more may be paid, not {cmd.amount_fen}",
                      field="amount_fen")
    return treasury_of(enterprise, cmd.payer)


def _last_money_movement(app: ApplicationState) -> date | None:
    """The latest date of a payment or reversal on the application."""
    return max([*(p.date for p in app.payments), *(r.date for r in app.reversals)], default=None)


def treasury_of(enterprise: Enterprise, payer: str) -> str:
    """The treasury behind a payer: the city's, or the enterprise's county-level area's."""
    return CITY if payer == CITY else enterprise.area


# --- corrections ------------------------------------------------------------------

@dataclass(frozen=True)
class Revocation:
    awarded_fen: int
    city_share_fen: int
    county_share_fen: int
    quota_item: tuple[str, int, str] | None  # the yearly-quota task the award released, if any


def decide_revocation(book: PolicyBook, enterprise: Enterprise, cmd: intake.Revoke) -> Revocation:
    """撤销: only an award in force is revoked, on or after the day it was approved. From then on it
    counts as never made for every rule, and a task it took under a yearly quota is free again."""
    app = _application(enterprise, cmd.ref)
    if app.status != APPROVED:
        raise Refused(WRONG_STATE, f"{cmd.ref} is {app.status}; only an approved award can be revoked", field="ref")
    assert app.decided_on is not None
    if cmd.date < app.decided_on:
        raise invalid("date", f"the revocation date {cmd.date} is before the approval date {app.decided_on}")
    moved = _last_money_movement(app)
    if moved is not None and cmd.date < moved:
        # Else, as of a day between, money recovered would not yet have been paid (a negative paid).
        raise invalid("date", f"the revocation date {cmd.date} is before money recorded on {cmd.ref} on {moved}; "
                      "a revocation is dated no earlier than the payments it ends")
    measure = catalogue_of(book.versions[app.policy_version]).measure(app.measure)
    quota_item = None
    if measure.quota is not None:
        quota_item = (measure.id, app.facts[measure.quota.year_fact], app.facts[measure.quota.item_fact])
    return Revocation(app.awarded_fen, app.city_share_fen, app.county_share_fen, quota_item)


def decide_reversal(enterprise: Enterprise, cmd: intake.ReversePayment) -> int:
    """红字冲销 of a payment: the payment with that voucher, by that payer, on that application no
    longer counts as paid. Returns the amount reversed."""
    app = _application(enterprise, cmd.ref)
    payment = app.payment(cmd.payer, cmd.voucher)
    if payment is None:
        raise Refused(UNKNOWN_PAYMENT, f"voucher: no payment by the {cmd.payer} treasury with voucher "
                      f"{cmd.voucher!r} is recorded on {cmd.ref}", field="voucher")
    earlier = app.reversal_of(cmd.payer, cmd.voucher)
    if earlier is not None:
        raise Refused(WRONG_STATE, f"voucher: the payment {cmd.voucher!r} by the {cmd.payer} treasury on {cmd.ref} "
                      f"was already reversed on {earlier.date} by {earlier.by}", field="voucher")
    if cmd.date < payment.date:
        raise invalid("date", f"the reversal date {cmd.date} is before the payment date {payment.date}")
    if app.paid_fen(cmd.payer) - payment.amount_fen < 0:
        recovered = sum(r.amount_fen for r in app.recoveries if r.payer == cmd.payer)
        raise Refused(OVER_RECOVERY, f"voucher: {format_fen(recovered)} yuan were already recovered from the "
                      f"{cmd.payer} treasury's payments on {cmd.ref}; reversing {cmd.voucher!r} "
                      f"({format_fen(payment.amount_fen)} yuan) would leave more recovered than paid", field="voucher")
    return payment.amount_fen


def decide_recovery(enterprise: Enterprise, cmd: intake.Recover) -> str:
    """追回: money paid on a revoked award comes back to the payer's treasury, at most what that
    payer paid net of reversals and earlier recoveries. Returns the treasury."""
    app = _application(enterprise, cmd.ref)
    if app.status != REVOKED:
        raise Refused(WRONG_STATE, f"{cmd.ref} is {app.status}; money is recovered only on a revoked award",
                      field="ref")
    assert app.revocation is not None
    if cmd.date < app.revocation.date:
        raise invalid("date", f"the recovery date {cmd.date} is before the revocation date {app.revocation.date}")
    paid = app.paid_fen(cmd.payer)
    if cmd.amount_fen > paid:
        raise Refused(OVER_RECOVERY, f"amount_fen: the {cmd.payer} treasury has {paid} fen ({format_fen(paid)} yuan) "
                      f"paid on {cmd.ref} net of reversals and earlier recoveries; at most that may be recovered, "
                      f"not {cmd.amount_fen}", field="amount_fen")
    return treasury_of(enterprise, cmd.payer)
