"""The general rules of the policy, as pure functions of state and command.

No clock, no I/O: the write side calls them before recording a decision, and an
auditor's replay can call the very same functions over the recorded history.
Each returns what is to be recorded, or raises ``Refused`` with a stable code.

Why one module of ~840 lines (issue 21 asks a reason above ~400): it holds one ``decide_*``
function per command, in the order of an application's life (adoption, submission, amendment,
approval, payment, correction), and the checks they share: the version in force and its
catalogue (``catalogue_of``, the one way to a version's catalogue), the one-time rule, 就高不重复
and the yearly quota serve approval and redecision alike, and ``validation.py`` re-runs the same
functions over the recorded log. Split by command, each module would import most of the others'
private helpers; read top to bottom, the module is the policy's general rules as one text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.domain.aggregates import (
    APPROVED,
    REVOKED,
    SUBMITTED,
    ApplicationState,
    Enterprise,
    PolicyBook,
    PolicyVersion,
    QuotaSpan,
    TaskQuota,
)
from ledger.domain.areas import CITY
from ledger.domain.money import amount, format_fen, split_shares
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
from ledger.intake import commands as intake
from ledger.labels import label
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
    """The catalogue a policy version decides by: the edition its adoption recorded (the one way to a
    version's catalogue: every command, retry and check goes through here or ``measure_of``)."""
    return catalogue_for(version.catalogue, version.edition)


def catalogue_or_current(version: PolicyVersion | None) -> Catalogue:
    """The catalogue of ``version``, or, where no version is in force (a question asked before any adoption),
    the built-in current one: the one fallback, used by every place that allows none."""
    return catalogue_of(version) if version is not None else catalogue(CURRENT_CATALOGUE)


def measure_of(book: PolicyBook, app: ApplicationState) -> Measure:
    """The measure an application was filed under, in the catalogue of the version it was filed under."""
    return catalogue_of(book.versions[app.policy_version]).measure(app.measure)


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
    cat = catalogue_or_current(in_force)
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
class AmendmentDecision:
    measure: Measure
    facts: dict[str, Any]
    assessment: Assessment


def decide_amendment(book: PolicyBook, enterprise: Enterprise, cmd: intake.Amend) -> AmendmentDecision:
    """补正: only an undecided application is amended; its new facts are checked and re-assessed
    under the version it was filed under, as of the day it was filed."""
    app = _undecided(enterprise, cmd.ref, cmd.date, "amended")
    version = book.versions[app.policy_version]
    measure = catalogue_of(version).measure(app.measure)
    facts = measure.normalize(cmd.facts)
    if facts == app.facts:
        raise invalid("facts", _("the facts given are the facts {ref} already has; an amendment must change "
                                 "them").format(ref=cmd.ref))
    return AmendmentDecision(measure, facts, measure.evaluate(facts, app.applied_on, app.policy_version))


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


def decide_approval(book: PolicyBook, enterprise: Enterprise, cmd: intake.Approve,
                    quota: TaskQuota | None) -> Approval:
    """An approval as of its own date (``cmd.date``), against every award on file on that day and after."""
    app = _undecided(enterprise, cmd.ref, cmd.date, "approved")
    measure = measure_of(book, app)
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

    unit = unit_of_book(book)
    check_one_time(enterprise, app, measure, entitlement, cmd.date, unit)
    quota_item = _check_quota(app, measure, quota, cmd.ref, cmd.date)
    awarded, deduction_steps = highest_not_duplicated(enterprise, app, entitlement, cmd.date, unit)
    steps.extend(deduction_steps)
    city, county = split_shares(awarded)
    steps.append(_split_step(enterprise, awarded, city, county))
    return Approval(cmd.ref, entitlement, awarded, city, county, cmd.basis, steps, quota_item)


def _split_step(enterprise: Enterprise, awarded: int, city: int, county: int) -> dict[str, Any]:
    return {"step": "split", "awarded_fen": awarded, "city_fen": city, "county_fen": county,
            "area": enterprise.area, "rule": SPLIT_RULE_EN,
            "en": f"split: city treasury {format_fen(city)} + {enterprise.area} treasury {format_fen(county)} "
                  f"= {format_fen(awarded)} ({SPLIT_RULE_EN})",
            "zh": f"分担:市级财政{format_fen(city)}元 + {enterprise.area}财政{format_fen(county)}元 = "
                  f"{format_fen(awarded)}元({SPLIT_RULE_ZH})"}


# --- the one-time unit, and the days an award is in force ------------------------------------
#
# Every rule below is judged as of the decision's own date, against every record on file whatever
# the order they were keyed in (ADR 0003, "Every day, not just today"): an award counts on the days
# it is in force, from its approval to its revocation (exclusive). A revocation dated after a decision
# does not free a slot for it, and a decision that would break a rule on a later day already on record
# (an award approved later but keyed earlier) is refused, naming that award.

Unit = tuple[str, Any]  # (project, task): what one award is for, for 就高不重复 and the one-time rule
UnitOf = Callable[[ApplicationState], Unit]


def unit_of_book(book: PolicyBook | None) -> UnitOf:
    """What an application is an award for: its project, and for a measure counted by task under a yearly
    quota (clause 16, 每个奖励50万元) its task: two tasks filed under one project name are two units."""
    def unit(app: ApplicationState) -> Unit:
        if book is None or app.policy_version not in book.versions:
            return app.project, None
        measure = measure_of(book, app)
        return app.project, app.facts.get(measure.quota.item_fact) if measure.quota is not None else None
    return unit


def check_one_time(enterprise: Enterprise, app: ApplicationState, measure: Measure, entitlement: int, day: date,
                   unit_of: UnitOf) -> None:
    """一次性奖励: at most one award in force per unit (the enterprise, or the project: a base, a park, a data
    centre) on any day from ``day`` on, except a tier upgrade on the same project."""
    if not measure.once:
        return
    for prior in enterprise.applications.values():
        if prior.ref == app.ref or prior.measure != measure.id or not prior.in_force_from(day):
            continue
        same_project = unit_of(prior) == unit_of(app)
        if measure.once != ONCE_PER_ENTERPRISE and not same_project:
            continue
        upgrade = bool(measure.tiers) and same_project and _higher_tier(measure, app, prior)
        if upgrade:
            continue  # 就高不重复 decides what the higher tier adds
        if measure.once == ONCE_PER_ENTERPRISE:
            message = _("{measure} is a one-time award (一次性) per enterprise and {uscc} already has it: {prior} "
                        "approved {day}, {amount}")
        else:
            message = _("{measure} is a one-time award (一次性) per project {project} and {uscc} already has it: "
                        "{prior} approved {day}, {amount}")
        message = message.format(measure=measure.id, project=app.project, uscc=enterprise.uscc, prior=prior.ref,
                                 day=prior.decided_on, amount=amount(prior.entitlement_fen))
        message += _in_force_note(prior, day)
        if measure.tiers and prior.project != app.project:
            message += _("; a higher tier is topped up only on the same project ({project})").format(
                project=prior.project)
        raise Refused(ALREADY_AWARDED, message, field="ref")


def _higher_tier(measure: Measure, app: ApplicationState, prior: ApplicationState) -> bool:
    """省级升级为国家级: the application's tier is above the prior award's (the catalogue lists tiers highest
    first). The same tier again is no upgrade, even where a later edition pays it more."""
    tiers = list(measure.tiers)
    mine, theirs = app.facts.get("tier"), prior.facts.get("tier")
    return mine in tiers and theirs in tiers and tiers.index(mine) < tiers.index(theirs)


def _in_force_note(prior: ApplicationState, day: date) -> str:
    """Why an award revoked or approved on another day still counts against a decision dated ``day``."""
    span = prior.in_force_span()
    assert span is not None
    if span[0] > day:
        return _(" (in force from {start}, after this decision's date {day}: the two would be in force together)"
                 ).format(start=span[0], day=day)
    if span[1] is not None:
        return _(" (in force until its revocation on {end}, after this decision's date {day})").format(
            end=span[1], day=day)
    return ""


def quota_conflict(spans: Iterable[QuotaSpan], limit: int, item: str, ref: str, day: date
                   ) -> tuple[str, str, date, list[str]] | None:
    """A yearly quota on every day from ``day`` on, were ``item`` awarded to ``ref`` from ``day``:
    ``("already", prior ref, day, [])`` when the task is in force for another award on some such day,
    ``("exhausted", "", that day, the tasks in force)`` when ``limit`` tasks are, else None."""
    spans = [s for s in spans if s.ref != ref]
    for s in spans:
        if s.item == item and (s.end is None or s.end > day):
            return "already", s.ref, max(s.start, day), []
    for t in sorted({day, *(s.start for s in spans if s.start > day)}):
        in_force = {s.item: s.ref for s in spans if s.start <= t and (s.end is None or t < s.end)}
        if len(in_force) >= limit:  # each task named with the award that holds it
            return "exhausted", "", t, [f"{item} {ref}" for item, ref in sorted(in_force.items())]
    return None


def _check_quota(app: ApplicationState, measure: Measure, quota: TaskQuota | None, ref: str,
                 day: date) -> tuple[str, int, str] | None:
    if measure.quota is None:
        return None
    year = app.facts[measure.quota.year_fact]
    item = app.facts[measure.quota.item_fact]
    conflict = quota_conflict(quota.spans if quota else (), measure.quota.limit, item, ref, day)
    if conflict is not None:
        raise quota_refusal(measure, year, item, conflict)
    return (measure.id, year, item)


def quota_refusal(measure: Measure, year: Any, item: str, conflict: tuple[str, str, date, list[str]]) -> Refused:
    kind, prior, on, in_force = conflict
    assert measure.quota is not None
    if kind == "already":
        return Refused(ALREADY_AWARDED, _("{measure}: {item} of {year} was already awarded ({prior}, in force on "
                                          "{day}); each task is awarded once").format(
            measure=measure.id, item=item, year=year, prior=prior, day=on), field=f"facts.{measure.quota.item_fact}")
    return Refused(QUOTA_EXHAUSTED, _("{measure}: {count} of {limit} tasks of {year} are already awarded and in "
                                      "force on {day} ({items}); 每年发布{limit}个重点创新任务").format(
        measure=measure.id, count=len(in_force), limit=measure.quota.limit, year=year, day=on,
        items=", ".join(in_force)), field=f"facts.{measure.quota.year_fact}")


def _awards_on_unit(enterprise: Enterprise, app: ApplicationState, unit_of: UnitOf) -> list[ApplicationState]:
    """The other awards ever approved on the same unit (project, task) as ``app``."""
    unit = unit_of(app)
    return [p for p in enterprise.applications.values()
            if p.ref != app.ref and p.in_force_span() is not None and unit_of(p) == unit]


def highest_not_duplicated(enterprise: Enterprise, app: ApplicationState, entitlement: int, day: date,
                           unit_of: UnitOf) -> tuple[int, list[dict[str, Any]]]:
    """就高不重复: what one enterprise collects for one project never exceeds its highest single award.

    As of the decision's date ``day``, a higher award pays only the difference over what the awards in
    force that day (and the awards under other policies dated by then) already give (补差); an equal or
    lower one is refused. An award of this policy on the project approved on a later day already on record
    is counted on its days: a decision that would take the project above its highest award then is refused.
    """
    priors = _awards_on_unit(enterprise, app, unit_of)
    earlier: list[dict[str, Any]] = []
    for prior in priors:
        if prior.in_force_on(day):
            assert prior.decided_on is not None
            earlier.append({"source": prior.ref, "measure": prior.measure, "entitlement_fen": prior.entitlement_fen,
                            "awarded_fen": prior.award_on(day)[0], "date": prior.decided_on.isoformat()})
    for ext in enterprise.external_awards:
        if ext.project == app.project and ext.date <= day:
            earlier.append({"source": f"external: {ext.policy}", "measure": None, "entitlement_fen": ext.amount_fen,
                            "awarded_fen": ext.amount_fen, "date": ext.date.isoformat()})
    awarded, steps = _top_up(enterprise, app, entitlement, earlier)
    for later in sorted(d for d in _change_days(priors) if d > day):
        in_force, held, single = _held_on(priors, later)
        total, highest = awarded + held, max(entitlement, single)
        if total > highest:
            starting = [p for p in in_force if p.decided_on == later or any(r.date == later for r in p.redecisions)]
            raise Refused(DUPLICATE_AWARD, _(
                "就高不重复: project {project} of {uscc} has {prior} approved {later}, {prior_amount}, on file; with "
                "this award of {amount} dated {day} the project would hold {total} from {later}, above its highest "
                "single award {highest}").format(
                    project=app.project, uscc=enterprise.uscc, prior=", ".join(p.ref for p in starting), later=later,
                    prior_amount=amount(sum(p.award_on(later)[0] for p in starting)), amount=amount(awarded), day=day,
                    total=amount(total), highest=amount(highest)), field="project")
    return awarded, steps


def _change_days(awards: Iterable[ApplicationState]) -> set[date]:
    """The days one of these awards starts or is raised (its approval, its re-decisions): the only days on
    which what they hold together can grow."""
    return {d for a in awards for d in (a.decided_on, *(r.date for r in a.redecisions)) if d is not None}


def _held_on(awards: Iterable[ApplicationState], day: date) -> tuple[list[ApplicationState], int, int]:
    """The awards in force on ``day``, what they hold together as decided by then, and the highest single
    entitlement among them (0 when none is)."""
    in_force = [a for a in awards if a.in_force_on(day)]
    return (in_force, sum(a.award_on(day)[0] for a in in_force),
            max((a.entitlement_fen for a in in_force), default=0))


def _top_up(enterprise: Enterprise, app: ApplicationState, entitlement: int,
            earlier: list[dict[str, Any]]) -> tuple[int, list[dict[str, Any]]]:
    """What an award of ``entitlement`` adds over ``earlier`` awards on its project (补差), with its step."""
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


# --- 就高不重复 after the fact: overlaps with other policies, and top-ups owed a re-decision --------

@dataclass(frozen=True)
class ProjectFinding:
    """A project whose awards in force do not add up to its highest single award on some day.

    ``overlap``: more (an award under another policy, a fact the ledger cannot refuse, counted beside
    this policy's); ``redecide``: less (a lower award revoked under a top-up: the top-up ``ref`` is owed a
    re-decision of ``owed_fen`` more, which only a reviewer's ``redecide`` pays)."""

    kind: str  # "overlap" | "redecide"
    uscc: str
    project: str
    day: date  # the first day it holds
    total_fen: int
    highest_fen: int
    ref: str | None  # redecide: the award to re-decide
    cites: tuple[str, ...]  # redecide: the revoked awards that left it short

    @property
    def owed_fen(self) -> int:
        return self.highest_fen - self.total_fen

    def as_dict(self) -> dict[str, Any]:
        """As `show` and `audit reconcile` give it in JSON (``owed_fen``: 0 for an overlap)."""
        return {"kind": self.kind, "uscc": self.uscc, "project": self.project, "day": self.day.isoformat(),
                "total_fen": self.total_fen, "highest_fen": self.highest_fen, "ref": self.ref,
                "cites": list(self.cites), "owed_fen": self.owed_fen if self.kind == "redecide" else 0,
                "message": self.message()}

    def message(self) -> str:
        if self.kind == "overlap":
            return _("就高不重复: project {project} of {uscc} holds {total} across policies from {day}, {excess} more "
                     "than its highest single award {highest}; review with the other policy's office").format(
                project=self.project, uscc=self.uscc, total=amount(self.total_fen), day=self.day,
                excess=amount(self.total_fen - self.highest_fen), highest=amount(self.highest_fen))
        return _("就高不重复: project {project} of {uscc} holds {total} from {day}, {owed} less than its highest award "
                 "in force {highest} ({ref}), since {cites} was revoked; {ref} is owed a re-decision (grants "
                 "redecide)").format(project=self.project, uscc=self.uscc, total=amount(self.total_fen), day=self.day,
                                     owed=amount(self.owed_fen), highest=amount(self.highest_fen), ref=self.ref,
                                     cites=", ".join(self.cites))


def project_findings(enterprise: Enterprise, unit_of: UnitOf) -> list[ProjectFinding]:
    """Every project of the enterprise whose awards in force add up to more than its highest single award
    on some day (an overlap with another policy's award), or, as things stand now, to less (a top-up owed a
    re-decision)."""
    found: list[ProjectFinding] = []
    awarded = [a for a in enterprise.applications.values() if a.in_force_span() is not None]
    projects = {a.project for a in awarded}
    if not enterprise.external_awards and len(projects) == len(awarded):
        return found  # one award per project and none under other policies: each holds its own amount
    units: dict[Unit, list[ApplicationState]] = {}
    for a in awarded:
        units.setdefault(unit_of(a), []).append(a)
    for (project, _task), awards in sorted(units.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        externals = [e for e in enterprise.external_awards if e.project == project]
        for t in sorted(_change_days(awards) | {e.date for e in externals}):
            in_force, held, single = _held_on(awards, t)
            if not in_force:
                continue
            ext = [e.amount_fen for e in externals if e.date <= t]
            total, highest = held + sum(ext), max([single, *ext])
            if total > highest:
                found.append(ProjectFinding("overlap", enterprise.uscc, project, t, total, highest, None, ()))
                break
        in_force = [a for a in awards if a.status == APPROVED]
        if not in_force:
            continue
        top = max(in_force, key=lambda a: (a.entitlement_fen, a.decided_on or date.min, a.ref))
        total = sum(a.awarded_fen for a in in_force) + sum(e.amount_fen for e in externals)
        if total < top.entitlement_fen:
            revoked = [a for a in awards if a.revocation is not None]
            cites = tuple(a.ref for a in revoked)
            since = max([top.decided_on or date.min, *(a.revocation.date for a in revoked if a.revocation)])
            found.append(ProjectFinding("redecide", enterprise.uscc, project, since, total, top.entitlement_fen,
                                        top.ref, cites))
    return found


def overlap_on_project(enterprise: Enterprise, project: str, unit_of: UnitOf) -> str | None:
    """After the fact: does what the project has collected exceed its highest single award on some day?

    An award under another policy is a fact the ledger records, not a decision it
    makes; when it overlaps this policy's award on the same project, the overlap is
    reported for review with the other policy's office (就高不重复).
    """
    for finding in project_findings(enterprise, unit_of):
        if finding.kind == "overlap" and finding.project == project:
            return finding.message()
    return None


@dataclass(frozen=True)
class Redecision:
    awarded_fen: int
    city_share_fen: int
    county_share_fen: int
    cites: list[str]
    trace: list[dict[str, Any]]


def decide_redecision(book: PolicyBook, enterprise: Enterprise, cmd: intake.Redecide) -> Redecision:
    """改判 under 就高不重复: a top-up decided as the difference over a lower award on its project, which has
    since been revoked, is raised (as of the re-decision's date) to its entitlement less what the awards
    in force that day already give; nothing else changes what is owed (ADR 0003)."""
    app = _application(enterprise, cmd.ref)
    if app.status != APPROVED:
        raise Refused(WRONG_STATE, _("{ref} is {status}; only an award in force can be re-decided").format(
            ref=cmd.ref, status=label(app.status)), field="ref")
    assert app.decided_on is not None
    last = max([app.decided_on, *(r.date for r in app.redecisions)])
    if cmd.date < last:
        raise invalid("date", _("the re-decision date {day} is before {ref}'s last decision, on {last}").format(
            day=cmd.date, ref=cmd.ref, last=last))
    unit = unit_of_book(book)
    awarded, steps = highest_not_duplicated(enterprise, app, app.entitlement_fen, cmd.date, unit)
    current = app.award_on(cmd.date)[0]
    revoked = [p for p in _awards_on_unit(enterprise, app, unit)
               if p.revocation is not None and p.revocation.date <= cmd.date]
    if awarded <= current or not revoked:
        pending = [p for p in _awards_on_unit(enterprise, app, unit)
                   if p.revocation is not None and p.revocation.date > cmd.date]
        why = (_("; {refs} is revoked only from {day}: date the re-decision on or after it").format(
            refs=", ".join(p.ref for p in pending), day=min(p.revocation.date for p in pending if p.revocation))
               if pending else "")
        raise Refused(WRONG_STATE, _("{ref}: nothing is owed on project {project} as of {day}; its award of {current} "
                                     "already makes up the highest award in force with the others{why}").format(
            ref=cmd.ref, project=app.project, day=cmd.date, current=amount(current), why=why), field="ref")
    cites = [p.ref for p in revoked]
    city, county = split_shares(awarded)
    steps.append({"step": "redecision", "cites": cites, "before_fen": current, "fen": awarded,
                  "reason": cmd.reason,
                  "en": f"re-decided on {cmd.date.isoformat()} after the revocation of {', '.join(cites)}: "
                        f"{format_fen(current)} -> {format_fen(awarded)} yuan ({cmd.reason})",
                  "zh": f"{cmd.date.isoformat()}改判({'、'.join(cites)}已撤销):{format_fen(current)}元 -> "
                        f"{format_fen(awarded)}元({cmd.reason})"})
    steps.append(_split_step(enterprise, awarded, city, county))
    return Redecision(awarded, city, county, cites, steps)


def check_application(book: PolicyBook | None, measure_id: str, raw_facts: Any, day: date) -> dict[str, Any]:
    """What an application with these facts would get under the version in force, and why."""
    in_force = book.version_for(day) if book else None
    version_id = in_force.version if in_force else f"{CURRENT_CATALOGUE} (not adopted)"
    measure = catalogue_or_current(in_force).measure(measure_id)
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
    excess = payment_excess(app, cmd.payer, cmd.amount_fen, cmd.date)
    if excess is not None:
        day, owed, paid = excess
        message = _("amount_fen: the {payer} share of {ref} is {owed}, {paid} already paid; at most {left} more "
                    "may be paid, not {amount}").format(payer=label(cmd.payer), ref=cmd.ref, owed=amount(owed),
                                                        paid=amount(paid), left=amount(max(owed - paid, 0)),
                                                        amount=amount(cmd.amount_fen))
        if day != cmd.date:
            message += _(" (as of {day}, a later day on file)").format(day=day)
        raise Refused(OVER_PAYMENT, message, field="amount_fen")
    return treasury_of(enterprise, cmd.payer)


def payment_excess(app: ApplicationState, payer: str, amount_fen: int, day: date) -> tuple[date, int, int] | None:
    """A payment of ``amount_fen`` dated ``day``, judged on that day and on every later day on file: the first
    day on which the payer would have paid net more than its share in force, as (day, share, paid before
    this payment), or None."""
    later = {d for d in (*(p.date for p in app.payments), *(r.date for r in app.reversals),
                         *(r.date for r in app.recoveries), *(r.date for r in app.redecisions)) if d > day}
    for t in sorted({day, *later}):
        owed = app.share_on(payer, t)
        paid = app.paid_on(payer, t)
        if paid + amount_fen > owed:
            return t, owed, paid
    return None


def _last_money_movement(app: ApplicationState) -> date | None:
    """The latest date of a payment or reversal on the application."""
    return max([*(p.date for p in app.payments), *(r.date for r in app.reversals)], default=None)


def treasury_of(enterprise: Enterprise, payer: str) -> str:
    """The treasury behind a payer: the city's, or the enterprise's county-level area's."""
    return CITY if payer == CITY else enterprise.area


# --- corrections ------------------------------------------------------------------

@dataclass(frozen=True)
class RevocationDecision:
    awarded_fen: int
    city_share_fen: int
    county_share_fen: int
    quota_item: tuple[str, int, str] | None  # the yearly-quota task the award released, if any


def decide_revocation(book: PolicyBook, enterprise: Enterprise, cmd: intake.Revoke) -> RevocationDecision:
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
    redecided = max((r.date for r in app.redecisions), default=None)
    if redecided is not None and cmd.date < redecided:
        raise invalid("date", _("the revocation date {day} is before {ref} was re-decided on {redecided}; a "
                                "revocation is dated no earlier than the decisions it ends").format(
            day=cmd.date, ref=cmd.ref, redecided=redecided))
    measure = measure_of(book, app)
    quota_item = None
    if measure.quota is not None:
        quota_item = (measure.id, app.facts[measure.quota.year_fact], app.facts[measure.quota.item_fact])
    return RevocationDecision(app.awarded_fen, app.city_share_fen, app.county_share_fen, quota_item)


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
