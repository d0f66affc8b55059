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
from ledger.i18n import N_, _
from ledger.labels import label
from ledger.money import amount, format_fen, split_shares
from ledger.policy import CURRENT_CATALOGUE, Catalogue, builtin_catalogues, catalogue, catalogue_for, edition_of
from ledger.policy.assess import Assessment
from ledger.policy.facts import add_years
from ledger.policy.measures import ONCE_PER_ENTERPRISE, PROPORTIONAL_CAP, Measure
from ledger.text import shown

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
            raise invalid("edition.id", _("{id} is the id of a built-in edition; an edition with other content "
                                          "needs its own id").format(id=shown(edition.id)))
        if edition.effective is not None and edition.effective != cmd.effective:
            raise invalid("effective", _("the edition says it takes effect on {edition_day}, not {day}").format(
                edition_day=edition.effective, day=cmd.effective))
        cat = catalogue_for(edition.id, edition.content)
    else:
        cat = catalogue(cmd.catalogue or CURRENT_CATALOGUE)
    version = version_id(cmd)
    if book is not None and version in book.versions:
        raise Refused(DUPLICATE_REF, _("version: policy version {version} was already adopted").format(
            version=shown(version)), field="version")
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
            raise Refused(OUTSIDE_VALIDITY, _("{field}: no policy version has been adopted; adopt one first "
                                              "(adopt-policy with its effective date)").format(field=field),
                          field=field)
        windows = "; ".join(_("{version}: {start} to {end} (exclusive)").format(
            version=v.version, start=v.effective, end=v.ends) for v in book.versions.values())
        raise Refused(OUTSIDE_VALIDITY, _("{field}: {day} is outside the validity window of every adopted policy "
                                          "version ({windows}); 有效期为3年").format(field=field, day=day,
                                                                                 windows=windows), field=field)
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
    return _("{ref} is recorded, but the facts as filed do not meet the clause: {why}. It cannot be approved as it "
             "stands (not-eligible); amend it (补正), or reject it").format(ref=ref, why=refusal.message)


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
        raise invalid("facts", _("the facts given are the facts {ref} already has; an amendment must change "
                                 "them").format(ref=cmd.ref))
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
        raise invalid(field, _("{day} is before {uscc} was registered ({registered}); nothing about an enterprise "
                               "may be dated before its registration date").format(
            day=day, uscc=enterprise.uscc, registered=enterprise.registered_on))


def not_before_registration(enterprise: Enterprise, day: date) -> None:
    """The service's entry to the rule for the commands whose rules do not receive the enterprise."""
    _not_before_registration(enterprise, day, "date")


def _application(enterprise: Enterprise, ref: str) -> ApplicationState:
    return enterprise.applications[ref]


_ONLY_SUBMITTED = {  # what is done to an undecided application, for the wrong-state message
    "amended": N_("{ref} is {status}; only a submitted application can be amended"),
    "withdrawn": N_("{ref} is {status}; only a submitted application can be withdrawn"),
    "approved": N_("{ref} is {status}; only a submitted application can be approved"),
    "rejected": N_("{ref} is {status}; only a submitted application can be rejected"),
}


def _undecided(enterprise: Enterprise, ref: str, day: date, verb: str) -> ApplicationState:
    """The application a decision or amendment is about: still submitted, and dated no earlier than it was filed."""
    app = _application(enterprise, ref)
    if app.status != SUBMITTED:
        raise Refused(WRONG_STATE, _(_ONLY_SUBMITTED[verb]).format(ref=ref, status=label(app.status)), field="ref")
    _not_before_registration(enterprise, day, "date")
    if day < app.last_dated:
        if app.last_dated != app.applied_on:
            message = _("the date {day} is before the day the application was last amended, {last}")
        else:
            message = _("the date {day} is before the day the application was filed, {last}")
        raise invalid("date", message.format(day=day, last=app.last_dated))
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
            raise invalid("amount_fen", _("{measure} is decided case by case (一事一议): the approval must give the "
                                          "amount (amount_fen; on the command line --amount or --amount-fen) and "
                                          "its basis (the meeting or document that decided it)").format(
                measure=measure.id))
        if not cmd.basis:
            raise invalid("basis", _("{measure} is decided case by case (一事一议): the approval must name its basis "
                                     "(the meeting or document that decided it)").format(measure=measure.id))
        entitlement = cmd.amount_fen
        steps.append({"step": "amount", "formula": "decided case by case", "fen": entitlement, "basis": cmd.basis,
                      "en": f"amount decided case by case: {format_fen(entitlement)} yuan, basis: {cmd.basis}",
                      "zh": f"一事一议确定金额:{format_fen(entitlement)}元,依据:{cmd.basis}"})
    else:
        entitlement = assessment.entitlement_fen or 0
        if cmd.amount_fen is not None and cmd.amount_fen != entitlement:
            if measure.kind != PROPORTIONAL_CAP or cmd.amount_fen > entitlement:
                if measure.kind == PROPORTIONAL_CAP:
                    message = _("the amount of {measure} is at most {amount} under clause {clause}, not {given}; "
                                "omit amount_fen")
                else:
                    message = _("the amount of {measure} is set by clause {clause} at {amount}, not {given}; omit "
                                "amount_fen")
                raise invalid("amount_fen", message.format(measure=measure.id, amount=amount(entitlement),
                                                           clause=measure.clause, given=amount(cmd.amount_fen)))
            if not cmd.basis:
                raise invalid("basis", _("an award below the {amount} that clause {clause} allows must name its basis "
                                         "(the review that set it)").format(amount=amount(entitlement),
                                                                            clause=measure.clause))
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
        if measure.once == ONCE_PER_ENTERPRISE:
            message = _("{measure} is a one-time award (一次性) per enterprise and {uscc} already has it: {prior} "
                        "approved {day}, {amount}")
        else:
            message = _("{measure} is a one-time award (一次性) per project {project} and {uscc} already has it: "
                        "{prior} approved {day}, {amount}")
        message = message.format(measure=measure.id, project=app.project, uscc=enterprise.uscc, prior=prior.ref,
                                 day=prior.decided_on, amount=amount(prior.entitlement_fen))
        if measure.tiers and prior.project != app.project:
            message += _("; a higher tier is topped up only on the same project ({project})").format(
                project=prior.project)
        raise Refused(ALREADY_AWARDED, message, field="ref")


def _check_quota(app: ApplicationState, measure: Measure, quota: TaskQuota | None, ref: str) -> tuple[str, int, str] | None:
    if measure.quota is None:
        return None
    year = app.facts[measure.quota.year_fact]
    item = app.facts[measure.quota.item_fact]
    awarded = quota.awarded if quota else {}
    if item in awarded:
        raise Refused(ALREADY_AWARDED, _("{measure}: {item} of {year} was already awarded ({prior}); each task is "
                                         "awarded once").format(measure=measure.id, item=item, year=year,
                                                                prior=awarded[item]),
                      field=f"facts.{measure.quota.item_fact}")
    if len(awarded) >= measure.quota.limit:
        raise Refused(QUOTA_EXHAUSTED, _("{measure}: {count} of {limit} tasks of {year} are already awarded "
                                         "({items}); 每年发布{limit}个重点创新任务").format(
            measure=measure.id, count=len(awarded), limit=measure.quota.limit, year=year,
            items=", ".join(sorted(awarded))), field=f"facts.{measure.quota.year_fact}")
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
        shown_listing = ", ".join(_earlier_award(e) for e in earlier)
        raise Refused(DUPLICATE_AWARD,
                      _("就高不重复: project {project} of {uscc} already has an award of {highest} ({listing}) and "
                        "{already} already awarded on it; this award of {amount} is not more than that, so nothing "
                        "more is due").format(project=app.project, uscc=enterprise.uscc, highest=amount(highest),
                                              listing=shown_listing, already=amount(already),
                                              amount=amount(entitlement)),
                      field="project")
    awarded = entitlement - already
    step = {"step": "deduction", "earlier": earlier, "already_fen": already, "fen": awarded,
            "en": f"就高不重复 on project {app.project}: earlier awards {listing}; pays the difference "
                  f"{format_fen(entitlement)} - {format_fen(already)} = {format_fen(awarded)} yuan (就高补差)",
            "zh": f"同一企业同一项目就高不重复:已获{format_fen(already)}元,补差{format_fen(awarded)}元"}
    return awarded, [step]


def _earlier_award(earlier: dict[str, Any]) -> str:
    """An earlier award on the project, for a message: its filing number, or the other policy, and its amount."""
    if earlier["measure"] is None:
        source = _("under {policy}").format(policy=earlier["source"].removeprefix("external: "))
    else:
        source = earlier["source"]
    return f"{source} {amount(earlier['entitlement_fen'])}"


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
    return _("就高不重复: project {project} of {uscc} has now collected {total} across policies, {excess} more than "
             "its highest single award {highest}; review with the other policy's office").format(
        project=project, uscc=enterprise.uscc, total=amount(total), excess=amount(total - highest),
        highest=amount(highest))


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
        notes.append(_("no adopted policy version covers this date; an application dated so would be refused "
                       "(outside-validity)"))
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
        raise Refused(WRONG_STATE, _("{ref} is {status}; payments are recorded only on approved applications").format(
            ref=cmd.ref, status=label(app.status)), field="ref")
    assert app.decided_on is not None
    _not_before_registration(enterprise, cmd.date, "date")
    if cmd.date < app.decided_on:
        raise invalid("date", _("the payment date {day} is before the approval date {approved}").format(
            day=cmd.date, approved=app.decided_on))
    reversed_on = max((r.date for r in app.reversals if r.payer == cmd.payer), default=None)
    if reversed_on is not None and cmd.date < reversed_on:
        # Else, as of a day between, the payment replacing a reversed one would count beside it (paid twice).
        raise invalid("date", _("the payment date {day} is before the {payer} treasury's payment reversed on "
                                "{reversed}; a payment that replaces a reversed one is dated no earlier than the "
                                "reversal").format(day=cmd.date, payer=label(cmd.payer), reversed=reversed_on))
    owed = app.share_fen(cmd.payer)
    paid = app.paid_fen(cmd.payer)
    if paid + cmd.amount_fen > owed:
        raise Refused(OVER_PAYMENT,
                      _("amount_fen: the {payer} share of {ref} is {owed}, {paid} already paid; at most {left} more "
                        "may be paid, not {amount}").format(payer=label(cmd.payer), ref=cmd.ref, owed=amount(owed),
                                                            paid=amount(paid), left=amount(owed - paid),
                                                            amount=amount(cmd.amount_fen)),
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
        raise Refused(WRONG_STATE, _("{ref} is {status}; only an approved award can be revoked").format(
            ref=cmd.ref, status=label(app.status)), field="ref")
    assert app.decided_on is not None
    if cmd.date < app.decided_on:
        raise invalid("date", _("the revocation date {day} is before the approval date {approved}").format(
            day=cmd.date, approved=app.decided_on))
    moved = _last_money_movement(app)
    if moved is not None and cmd.date < moved:
        # Else, as of a day between, money recovered would not yet have been paid (a negative paid).
        raise invalid("date", _("the revocation date {day} is before money recorded on {ref} on {moved}; a "
                                "revocation is dated no earlier than the payments it ends").format(
            day=cmd.date, ref=cmd.ref, moved=moved))
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
        raise Refused(UNKNOWN_PAYMENT, _("voucher: no payment by the {payer} treasury with voucher {voucher} is "
                                         "recorded on {ref}").format(payer=label(cmd.payer),
                                                                     voucher=shown(cmd.voucher), ref=cmd.ref),
                      field="voucher")
    earlier = app.reversal_of(cmd.payer, cmd.voucher)
    if earlier is not None:
        raise Refused(WRONG_STATE, _("voucher: the payment {voucher} by the {payer} treasury on {ref} was already "
                                     "reversed on {day} by {by}").format(voucher=shown(cmd.voucher),
                                                                         payer=label(cmd.payer), ref=cmd.ref,
                                                                         day=earlier.date, by=earlier.by),
                      field="voucher")
    if cmd.date < payment.date:
        raise invalid("date", _("the reversal date {day} is before the payment date {paid}").format(
            day=cmd.date, paid=payment.date))
    if app.paid_fen(cmd.payer) - payment.amount_fen < 0:
        recovered = sum(r.amount_fen for r in app.recoveries if r.payer == cmd.payer)
        raise Refused(OVER_RECOVERY, _("voucher: {recovered} were already recovered from the {payer} treasury's "
                                       "payments on {ref}; reversing {voucher} ({amount}) would leave more recovered "
                                       "than paid").format(recovered=amount(recovered), payer=label(cmd.payer),
                                                           ref=cmd.ref, voucher=shown(cmd.voucher),
                                                           amount=amount(payment.amount_fen)),
                      field="voucher")
    return payment.amount_fen


def decide_recovery(enterprise: Enterprise, cmd: intake.Recover) -> str:
    """追回: money paid on a revoked award comes back to the payer's treasury, at most what that
    payer paid net of reversals and earlier recoveries. Returns the treasury."""
    app = _application(enterprise, cmd.ref)
    if app.status != REVOKED:
        raise Refused(WRONG_STATE, _("{ref} is {status}; money is recovered only on a revoked award").format(
            ref=cmd.ref, status=label(app.status)), field="ref")
    assert app.revocation is not None
    if cmd.date < app.revocation.date:
        raise invalid("date", _("the recovery date {day} is before the revocation date {revoked}").format(
            day=cmd.date, revoked=app.revocation.date))
    paid = app.paid_fen(cmd.payer)
    if cmd.amount_fen > paid:
        raise Refused(OVER_RECOVERY, _("amount_fen: the {payer} treasury has {paid} paid on {ref} net of reversals "
                                       "and earlier recoveries; at most that may be recovered, not {amount}").format(
            payer=label(cmd.payer), paid=amount(paid), ref=cmd.ref, amount=amount(cmd.amount_fen)),
                      field="amount_fen")
    return treasury_of(enterprise, cmd.payer)
