"""The command handlers: for each parsed command (``ledger.intake.commands``), one attempt that reads
the aggregates through the ledger, asks the rules, and saves the events, run by the ledger's retry loop
with the command passed to it, so the command is authorised inside the same decision
(``GrantsLedger._retrying``).

``HANDLERS`` maps each command class to its handler; ``GrantsLedger.execute`` dispatches through it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

import structlog

from ledger.domain import operators, rules
from ledger.domain.aggregates import (
    APPROVED,
    REJECTED,
    REVOKED,
    SET_ASIDES_ID,
    SUBMITTED,
    WITHDRAWN,
    ApplicationRef,
    Enterprise,
    OperatorRoster,
    PolicyBook,
    PolicyVersion,
    ReceiptRef,
    SetAsides,
    TaskQuota,
    VoucherRef,
    application_ref_id,
    enterprise_id,
    in_force_among,
    receipt_ref_id,
    task_quota_id,
    voucher_ref_id,
)
from ledger.domain.areas import CITY, COUNTY, PAYERS
from ledger.domain.kinds import op_of
from ledger.errors import WRONG_STATE, Refused
from ledger.i18n import _
from ledger.intake import commands as intake
from ledger.service import retries, set_asides
from ledger.text import shown

if TYPE_CHECKING:
    from ledger.service.application import GrantsLedger

log = structlog.get_logger("grants")

_SUBMITTED_TOPIC = "grants:Enterprise.ApplicationSubmitted"


def _with_warning(result: dict[str, Any], warning: str | None) -> dict[str, Any]:
    if warning:
        result["warning"] = warning
    return result


def adopt_policy(ledger: GrantsLedger, cmd: intake.AdoptPolicy) -> dict[str, Any]:
    def attempt() -> dict[str, Any]:
        book = ledger.policy_book()
        again = retries.adoption(book, cmd, rules.version_id(cmd))
        if again is not None:
            return again
        book = book or PolicyBook()
        adoption = rules.decide_adoption(book, cmd)
        _refuse_taking_over(ledger, book, adoption, cmd)
        book.adopt(version=adoption.version, catalogue=adoption.catalogue, effective=adoption.effective,
                   ends=adoption.ends, date=cmd.date, by=cmd.by, edition=adoption.edition)
        ledger.save(book)
        return {"op": "adopt-policy", "version": adoption.version, "catalogue": adoption.catalogue,
                "effective": adoption.effective.isoformat(), "ends": adoption.ends.isoformat()}
    return ledger._retrying(attempt, cmd)


def set_aside(ledger: GrantsLedger, cmd: intake.SetAside) -> dict[str, Any]:
    """An admin sets aside the malformed event at a position (issue 19): only one that does not read (fields
    missing or of the wrong type, or one its stream cannot take) may be; its stream replays without it from
    then on, and the row stays in the log under the hash chain."""
    def attempt() -> dict[str, Any]:
        book: SetAsides | None = ledger._get(SET_ASIDES_ID)
        again = retries.set_aside(book, cmd)
        if again is not None:
            return again
        row = set_asides.stored_at(ledger, cmd.position)
        problem = set_asides.problem_of(ledger, row, book, cmd.position)
        book = book or SetAsides()
        book.set_aside(position=cmd.position, stream=str(UUID(str(row.originator_id))),
                       stream_version=row.originator_version, topic=row.topic, reason=cmd.reason,
                       date=cmd.date, by=cmd.by)
        ledger.save(book)
        return retries.set_aside_result(book.entries[cmd.position]) | {"problem": problem}
    return ledger._retrying(attempt, cmd)


def _refuse_taking_over(ledger: GrantsLedger, book: PolicyBook, adoption: rules.Adoption,
                        cmd: intake.AdoptPolicy) -> None:
    """An adoption judged against every application on file (issue 18): it may not become the version in force
    on the day of an application already filed under another version, else the same dated facts would be
    decided by one version or the other depending on whether the application was keyed before or after the
    adoption. Adoptions are rare; the applications are read from the log, a page at a time."""
    new = PolicyVersion(adoption.version, adoption.catalogue, adoption.effective, adoption.ends, cmd.date, cmd.by)
    start = 1
    while True:
        page = ledger.recorder.select_notifications(start, 1000, topics=(_SUBMITTED_TOPIC,))
        for note in page:
            ev: Any = ledger.mapper.to_domain_event(note)
            if ev.policy_version != new.version and in_force_among([*book.versions.values(), new], ev.date) is new:
                raise Refused(WRONG_STATE, _(
                    "effective: adopting {version} from {effective} would make it the version in force on {day}, "
                    "the date of application {ref}, filed under {old}; an application is decided by the version "
                    "in force on its date as recorded. Adopt it from a day after the applications filed under "
                    "another version").format(version=shown(new.version), effective=new.effective, day=ev.date,
                                              ref=ev.ref, old=ev.policy_version), field="effective")
        if len(page) < 1000:
            return
        start = page[-1].id + 1


def register(ledger: GrantsLedger, cmd: intake.Register) -> dict[str, Any]:
    def attempt() -> dict[str, Any]:
        again = retries.registration(ledger._get(enterprise_id(cmd.uscc)), cmd)
        if again is not None:
            return again
        enterprise = Enterprise(uscc=cmd.uscc, name=cmd.name, area=cmd.area, date=cmd.date, by=cmd.by)
        ledger.save(enterprise)
        return {"op": "register", "uscc": cmd.uscc, "name": cmd.name, "area": cmd.area}
    return ledger._retrying(attempt, cmd)


def apply(ledger: GrantsLedger, cmd: intake.Apply) -> dict[str, Any]:
    def attempt() -> dict[str, Any]:
        enterprise = ledger._enterprise(cmd.uscc)
        index = ledger._get(application_ref_id(cmd.ref))
        again = retries.submission(ledger._enterprise(index.uscc) if index else None, ledger.policy_book(), cmd)
        if again is not None:
            return again
        rules.not_before_registration(enterprise, cmd.date)
        submission = rules.decide_submission(ledger.policy_book(), cmd)
        enterprise.submit(ref=cmd.ref, measure=cmd.measure, project=cmd.project, facts=submission.facts,
                          date=cmd.date, policy_version=submission.version.version, by=cmd.by)
        ledger.save(enterprise, ApplicationRef(ref=cmd.ref, uscc=cmd.uscc))
        result = {"op": "apply", "ref": cmd.ref, "status": SUBMITTED, "measure": cmd.measure,
                  "policy_version": submission.version.version,
                  "entitlement_fen": submission.assessment.due_fen,
                  "eligible": submission.assessment.eligible}
        return _with_warning(result, rules.ineligibility_warning(cmd.ref, submission.assessment))
    return ledger._retrying(attempt, cmd)


def amend(ledger: GrantsLedger, cmd: intake.Amend) -> dict[str, Any]:
    def attempt() -> dict[str, Any]:
        enterprise = ledger._enterprise_of(cmd.ref)
        book = ledger.policy_book()
        assert book is not None  # an application exists only under an adopted version
        app = enterprise.applications[cmd.ref]
        if app.amendments:
            measure = rules.measure_of(book, app)
            again = retries.amendment(app, measure.normalize(cmd.facts), cmd)
            if again is not None:
                return again
        amendment = rules.decide_amendment(book, enterprise, cmd)
        enterprise.amend(ref=cmd.ref, facts=amendment.facts, date=cmd.date, by=cmd.by, reason=cmd.reason)
        ledger.save(enterprise)
        result = {"op": "amend", "ref": cmd.ref, "status": SUBMITTED, "facts": amendment.facts,
                  "entitlement_fen": amendment.assessment.due_fen,
                  "eligible": amendment.assessment.eligible}
        return _with_warning(result, rules.ineligibility_warning(cmd.ref, amendment.assessment))
    return ledger._retrying(attempt, cmd)


def withdraw(ledger: GrantsLedger, cmd: intake.Withdraw) -> dict[str, Any]:
    def attempt() -> dict[str, Any]:
        enterprise = ledger._enterprise_of(cmd.ref)
        again = retries.withdrawal(enterprise.applications[cmd.ref], cmd)
        if again is not None:
            return again
        rules.decide_withdrawal(enterprise, cmd)
        enterprise.withdraw(ref=cmd.ref, date=cmd.date, by=cmd.by, reason=cmd.reason)
        ledger.save(enterprise)
        return {"op": "withdraw", "ref": cmd.ref, "status": WITHDRAWN}
    return ledger._retrying(attempt, cmd)


def revoke(ledger: GrantsLedger, cmd: intake.Revoke) -> dict[str, Any]:
    def attempt() -> dict[str, Any]:
        enterprise = ledger._enterprise_of(cmd.ref)
        book = ledger.policy_book()
        assert book is not None
        again = retries.revocation(enterprise.applications[cmd.ref], cmd)
        if again is not None:
            return again
        revocation = rules.decide_revocation(book, enterprise, cmd)
        app = enterprise.applications[cmd.ref]
        paid = {payer: app.paid_fen(payer) for payer in PAYERS}
        enterprise.revoke(ref=cmd.ref, date=cmd.date, by=cmd.by, reason=cmd.reason, document=cmd.document,
                          awarded_fen=revocation.awarded_fen, city_share_fen=revocation.city_share_fen,
                          county_share_fen=revocation.county_share_fen)
        touched: list[Any] = [enterprise]
        if revocation.quota_item is not None:
            measure_id, year, item = revocation.quota_item
            quota = ledger._get(task_quota_id(measure_id, year))
            assert quota is not None  # the approval recorded the task
            quota.release(item=item, ref=cmd.ref, date=cmd.date)
            touched.append(quota)
        ledger.save(*touched)
        return {"op": "revoke", "ref": cmd.ref, "status": REVOKED, "awarded_fen": revocation.awarded_fen,
                "city_share_fen": revocation.city_share_fen, "county_share_fen": revocation.county_share_fen,
                "city_paid_fen": paid[CITY], "county_paid_fen": paid[COUNTY]}
    return ledger._retrying(attempt, cmd)


def reverse_payment(ledger: GrantsLedger, cmd: intake.ReversePayment) -> dict[str, Any]:
    def attempt() -> dict[str, Any]:
        enterprise = ledger._enterprise_of(cmd.ref)
        again = retries.reversal(enterprise.applications[cmd.ref], cmd)
        if again is not None:
            return again
        amount = rules.decide_reversal(enterprise, cmd)
        enterprise.reverse_payment(ref=cmd.ref, payer=cmd.payer, voucher=cmd.voucher, amount_fen=amount,
                                   date=cmd.date, by=cmd.by, reason=cmd.reason)
        ledger.save(enterprise)
        app = enterprise.applications[cmd.ref]
        return {"op": "reverse-payment", "ref": cmd.ref, "payer": cmd.payer, "voucher": cmd.voucher,
                "amount_fen": amount, "paid_fen": app.paid_fen(cmd.payer)}
    return ledger._retrying(attempt, cmd)


def recover(ledger: GrantsLedger, cmd: intake.Recover) -> dict[str, Any]:
    def attempt() -> dict[str, Any]:
        enterprise = ledger._enterprise_of(cmd.ref)
        treasury = rules.treasury_of(enterprise, cmd.payer)
        again = retries.recovery(ledger._get(receipt_ref_id(treasury, cmd.voucher)),
                                 enterprise.applications.get(cmd.ref), cmd, treasury)
        if again is not None:
            return again
        rules.decide_recovery(enterprise, cmd)
        enterprise.record_recovery(ref=cmd.ref, payer=cmd.payer, treasury=treasury, amount_fen=cmd.amount_fen,
                                   voucher=cmd.voucher, date=cmd.date, by=cmd.by, reason=cmd.reason)
        index = ReceiptRef(treasury=treasury, voucher=cmd.voucher, ref=cmd.ref, payer=cmd.payer,
                           amount_fen=cmd.amount_fen)
        ledger.save(enterprise, index)
        app = enterprise.applications[cmd.ref]
        return {"op": "recover", "ref": cmd.ref, "payer": cmd.payer, "treasury": treasury,
                "amount_fen": cmd.amount_fen, "voucher": cmd.voucher, "paid_fen": app.paid_fen(cmd.payer)}
    return ledger._retrying(attempt, cmd)


def approve(ledger: GrantsLedger, cmd: intake.Approve) -> dict[str, Any]:
    def attempt() -> dict[str, Any]:
        enterprise = ledger._enterprise_of(cmd.ref)
        app = enterprise.applications[cmd.ref]
        again = retries.approval(app, cmd)
        if again is not None:
            return again
        book = ledger.policy_book()
        assert book is not None  # an application exists only under an adopted version
        measure = rules.measure_of(book, app)
        quota = None
        if measure.quota is not None:
            quota = ledger._get(task_quota_id(measure.id, app.facts[measure.quota.year_fact]))
        decision = rules.decide_approval(book, enterprise, cmd, quota)
        enterprise.record_approval(decision, date=cmd.date, by=cmd.by, policy_version=app.policy_version)
        touched: list[Any] = [enterprise]
        if decision.quota_item is not None:
            measure_id, year, item = decision.quota_item
            if quota is None:
                quota = TaskQuota(measure=measure_id, year=year, limit=measure.quota.limit)  # type: ignore[union-attr]
            quota.award(item=item, ref=cmd.ref, date=cmd.date)
            touched.append(quota)
        ledger.save(*touched)
        return {"op": "approve", "ref": cmd.ref, "status": APPROVED, "entitlement_fen": decision.entitlement_fen,
                "awarded_fen": decision.awarded_fen, "city_share_fen": decision.city_share_fen,
                "county_share_fen": decision.county_share_fen}
    return ledger._retrying(attempt, cmd)


def redecide(ledger: GrantsLedger, cmd: intake.Redecide) -> dict[str, Any]:
    def attempt() -> dict[str, Any]:
        enterprise = ledger._enterprise_of(cmd.ref)
        again = retries.redecision(enterprise.applications[cmd.ref], cmd)
        if again is not None:
            return again
        book = ledger.policy_book()
        assert book is not None  # an application exists only under an adopted version
        decision = rules.decide_redecision(book, enterprise, cmd)
        enterprise.redecide(ref=cmd.ref, date=cmd.date, by=cmd.by, reason=cmd.reason, cites=decision.cites,
                            awarded_fen=decision.awarded_fen, city_share_fen=decision.city_share_fen,
                            county_share_fen=decision.county_share_fen, trace=decision.trace)
        ledger.save(enterprise)
        return {"op": "redecide", "ref": cmd.ref, "status": APPROVED, "awarded_fen": decision.awarded_fen,
                "city_share_fen": decision.city_share_fen, "county_share_fen": decision.county_share_fen,
                "cites": decision.cites}
    return ledger._retrying(attempt, cmd)


def reject(ledger: GrantsLedger, cmd: intake.Reject) -> dict[str, Any]:
    def attempt() -> dict[str, Any]:
        enterprise = ledger._enterprise_of(cmd.ref)
        again = retries.rejection(enterprise.applications[cmd.ref], cmd)
        if again is not None:
            return again
        rules.decide_rejection(enterprise, cmd)
        enterprise.reject(ref=cmd.ref, date=cmd.date, by=cmd.by, reason=cmd.reason)
        ledger.save(enterprise)
        return {"op": "reject", "ref": cmd.ref, "status": REJECTED}
    return ledger._retrying(attempt, cmd)


def pay(ledger: GrantsLedger, cmd: intake.Pay) -> dict[str, Any]:
    def attempt() -> dict[str, Any]:
        enterprise = ledger._enterprise_of(cmd.ref)
        treasury = rules.treasury_of(enterprise, cmd.payer)
        again = retries.payment(ledger._get(voucher_ref_id(treasury, cmd.voucher)),
                                enterprise.applications.get(cmd.ref), cmd, treasury)
        if again is not None:
            return again
        rules.decide_payment(enterprise, cmd)
        enterprise.record_payment(ref=cmd.ref, payer=cmd.payer, treasury=treasury, amount_fen=cmd.amount_fen,
                                  voucher=cmd.voucher, date=cmd.date, by=cmd.by)
        index = VoucherRef(treasury=treasury, voucher=cmd.voucher, ref=cmd.ref, payer=cmd.payer,
                           amount_fen=cmd.amount_fen)
        ledger.save(enterprise, index)
        return {"op": "pay", "ref": cmd.ref, "payer": cmd.payer, "treasury": treasury,
                "amount_fen": cmd.amount_fen, "voucher": cmd.voucher}
    return ledger._retrying(attempt, cmd)


def record_external_award(ledger: GrantsLedger, cmd: intake.ExternalAward) -> dict[str, Any]:
    def attempt() -> dict[str, Any]:
        enterprise = ledger._enterprise(cmd.uscc)
        again = retries.external_award(enterprise, cmd)
        if again is not None:
            return again
        rules.not_before_registration(enterprise, cmd.date)
        enterprise.record_external_award(project=cmd.project, policy=cmd.policy, amount_fen=cmd.amount_fen,
                                         date=cmd.date, by=cmd.by, note=cmd.note)
        ledger.save(enterprise)
        result = {"op": "external-award", "uscc": cmd.uscc, "project": cmd.project, "policy": cmd.policy,
                  "amount_fen": cmd.amount_fen}
        overlap = rules.overlap_on_project(enterprise, cmd.project, rules.unit_of_book(ledger.policy_book()))
        if overlap:
            result["warning"] = overlap
            log.warning("external award overlaps", uscc=cmd.uscc, project=cmd.project)
        return result
    return ledger._retrying(attempt, cmd)


def register_operator(ledger: GrantsLedger, cmd: intake.RegisterOperator) -> dict[str, Any]:
    def attempt() -> dict[str, Any]:
        roster = ledger.roster()
        operators.decide_operator_command(roster, cmd)
        enforced_now = roster is None
        if roster is None:
            roster = OperatorRoster(date=cmd.date, by=cmd.by)
        roster.register(name=cmd.name, display_name=cmd.display_name, roles=list(cmd.roles),
                        valid_from=cmd.valid_from, valid_to=cmd.valid_to, date=cmd.date, by=cmd.by)
        ledger.save(roster)
        return {"op": "register-operator", "name": cmd.name, "roles": list(cmd.roles),
                "valid_from": cmd.valid_from.isoformat(),
                "valid_to": cmd.valid_to.isoformat() if cmd.valid_to else None, "enforced_now": enforced_now}
    return ledger._retrying(attempt, cmd)


def change_operator(ledger: GrantsLedger, cmd: intake.ChangeRoles | intake.SuspendOperator | intake.ReinstateOperator
                    ) -> dict[str, Any]:
    def attempt() -> dict[str, Any]:
        roster = ledger.roster()
        operators.decide_operator_command(roster, cmd)
        assert roster is not None
        if isinstance(cmd, intake.ChangeRoles):
            roster.change_roles(name=cmd.name, roles=list(cmd.roles), date=cmd.date, by=cmd.by, reason=cmd.reason)
        elif isinstance(cmd, intake.SuspendOperator):
            roster.suspend(name=cmd.name, date=cmd.date, by=cmd.by, reason=cmd.reason)
        else:
            roster.reinstate(name=cmd.name, date=cmd.date, by=cmd.by, reason=cmd.reason)
        ledger.save(roster)
        operator = roster.operators[cmd.name]
        return {"op": op_of(cmd), "name": cmd.name, "roles": list(operator.roles),
                "suspended": operator.suspended}
    return ledger._retrying(attempt, cmd)


HANDLERS: dict[type, Callable[[GrantsLedger, Any], dict[str, Any]]] = {
    intake.AdoptPolicy: adopt_policy,
    intake.Register: register,
    intake.Apply: apply,
    intake.Approve: approve,
    intake.Reject: reject,
    intake.Pay: pay,
    intake.ExternalAward: record_external_award,
    intake.Amend: amend,
    intake.Withdraw: withdraw,
    intake.Revoke: revoke,
    intake.ReversePayment: reverse_payment,
    intake.Recover: recover,
    intake.Redecide: redecide,
    intake.RegisterOperator: register_operator,
    intake.ChangeRoles: change_operator,
    intake.SuspendOperator: change_operator,
    intake.ReinstateOperator: change_operator,
    intake.SetAside: set_aside,
}
