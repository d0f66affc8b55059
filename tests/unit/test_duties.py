"""Who may do what, as pure rules: the roles, the operators' dates and suspension, and the
separation of duties (不相容岗位相互分离). No database: the roster and the application are
built by their own events, as the ledger replays them."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.domain import duties, kinds, operators
from ledger.domain.aggregates import APPROVED, Amendment, ApplicationState, OperatorRoster
from ledger.errors import NOT_AUTHORISED, SEPARATION_OF_DUTIES, WRONG_STATE, Refused
from ledger.intake import commands as intake

D = date(2023, 5, 1)


def roster() -> OperatorRoster:
    r = OperatorRoster(date=date(2022, 1, 1), by="boss")
    r.register(name="boss", display_name="B", roles=["admin"], valid_from=date(2022, 1, 1), valid_to=None,
               date=date(2022, 1, 1), by="boss")
    r.register(name="wang", display_name="W", roles=["clerk"], valid_from=date(2022, 1, 1),
               valid_to=date(2023, 6, 30), date=date(2022, 1, 1), by="boss")
    r.register(name="li", display_name="L", roles=["reviewer", "treasurer"], valid_from=date(2023, 3, 1),
               valid_to=None, date=date(2022, 1, 1), by="boss")
    r.register(name="zhao", display_name="Z", roles=["auditor"], valid_from=date(2022, 1, 1), valid_to=None,
               date=date(2022, 1, 1), by="boss")
    return r


def refusal(func, *args) -> str:
    with pytest.raises(Refused) as caught:
        func(*args)
    return caught.value.code


@pytest.mark.parametrize("op, role", sorted(kinds.ROLE_OF_OP.items()))
def test_each_command_needs_exactly_its_role(op, role):
    r = roster()
    for name, holder in r.operators.items():
        allowed = role in holder.roles
        if allowed:
            operators.authorise(r, op, name, D)
        else:
            assert refusal(operators.authorise, r, op, name, D) == NOT_AUTHORISED


def test_every_command_of_the_ledger_needs_a_role_and_auditors_give_none():
    assert set(kinds.ROLE_OF_OP) == set(kinds.BY_OP) and len(kinds.OF_COMMAND) == len(kinds.KINDS)
    assert "auditor" not in kinds.ROLE_OF_OP.values()


def test_an_unknown_operator_is_not_authorised():
    assert refusal(operators.authorise, roster(), "apply", "nobody", D) == NOT_AUTHORISED


def test_an_operator_acts_only_between_its_from_and_to_dates_inclusive():
    r = roster()
    operators.authorise(r, "apply", "wang", date(2023, 6, 30))
    assert refusal(operators.authorise, r, "apply", "wang", date(2023, 7, 1)) == NOT_AUTHORISED
    operators.authorise(r, "approve", "li", date(2023, 3, 1))
    assert refusal(operators.authorise, r, "approve", "li", date(2023, 2, 28)) == NOT_AUTHORISED


def test_a_suspended_operator_is_not_authorised_until_reinstated():
    r = roster()
    r.suspend(name="wang", date=D, by="boss", reason="调岗")
    assert refusal(operators.authorise, r, "apply", "wang", D) == NOT_AUTHORISED
    assert refusal(operators.authorise_reader, r, "wang", D) == NOT_AUTHORISED
    r.reinstate(name="wang", date=D, by="boss", reason="复岗")
    operators.authorise(r, "apply", "wang", D)


def test_only_an_admin_may_record_a_command_in_another_operators_name():
    r = roster()
    operators.may_act_for(r, "boss", "wang", D)
    assert refusal(operators.may_act_for, r, "li", "wang", D) == NOT_AUTHORISED


def test_the_first_operator_must_be_an_admin():
    cmd = intake.RegisterOperator("wang", "W", ("clerk",), D, None, D, "x")
    assert refusal(operators.decide_operator_command, None, cmd) == "invalid-input"
    operators.decide_operator_command(None, intake.RegisterOperator("boss", "B", ("admin",), D, None, D, "x"))


def test_the_last_active_admin_cannot_be_suspended_or_lose_the_role():
    r = roster()
    assert refusal(operators.decide_operator_command, r,
                   intake.SuspendOperator("boss", D, "someone", "x")) == WRONG_STATE
    assert refusal(operators.decide_operator_command, r,
                   intake.ChangeRoles("boss", ("clerk",), D, "someone", "x")) == WRONG_STATE
    r.register(name="qian", display_name="Q", roles=["admin"], valid_from=D, valid_to=None, date=D, by="boss")
    operators.decide_operator_command(r, intake.SuspendOperator("boss", D, "qian", "x"))


def app(**kw) -> ApplicationState:
    state = ApplicationState(ref="R-1", measure="M03-security", project="p", facts={}, applied_on=date(2023, 1, 10),
                             policy_version="v", by="wang")
    for k, v in kw.items():
        setattr(state, k, v)
    return state


def test_an_application_is_never_approved_or_rejected_by_its_filer():
    a = app()
    assert refusal(duties.check_application_duties, intake.Approve("R-1", D, "wang"), a) == SEPARATION_OF_DUTIES
    assert refusal(duties.check_application_duties, intake.Reject("R-1", D, "wang", "x"), a) == SEPARATION_OF_DUTIES
    duties.check_application_duties(intake.Approve("R-1", D, "li"), a)


def test_an_application_is_never_approved_or_rejected_by_one_who_amended_it():
    a = app()
    a.amendments.append(Amendment(D, "li", "补正", {}, {}))
    assert refusal(duties.check_application_duties, intake.Approve("R-1", D, "li"), a) == SEPARATION_OF_DUTIES
    assert refusal(duties.check_application_duties, intake.Reject("R-1", D, "li", "x"), a) == SEPARATION_OF_DUTIES
    duties.check_application_duties(intake.Approve("R-1", D, "zhou"), a)


def test_a_payment_is_never_recorded_by_the_approver():
    a = app(status=APPROVED, decided_by="li")
    pay = intake.Pay("R-1", "city", 100, "V-1", D, "li")
    assert refusal(duties.check_application_duties, pay, a) == SEPARATION_OF_DUTIES
    duties.check_application_duties(intake.Pay("R-1", "city", 100, "V-1", D, "sun"), a)


def test_an_award_is_never_revoked_by_its_approver():
    a = app(status=APPROVED, decided_by="li")
    assert refusal(duties.check_application_duties, intake.Revoke("R-1", D, "li", "r", "doc"),
                   a) == SEPARATION_OF_DUTIES
    duties.check_application_duties(intake.Revoke("R-1", D, "zhou", "r", "doc"), a)


@pytest.mark.parametrize("cmd", [
    intake.RegisterOperator("boss", "B", ("admin",), D, None, D, "boss"),
    intake.ChangeRoles("boss", ("admin", "reviewer"), D, "boss", "x"),
    intake.SuspendOperator("boss", D, "boss", "x"),
    intake.ReinstateOperator("boss", D, "boss", "x"),
])
def test_no_operator_administers_itself(cmd):
    assert refusal(duties.check_self_administration, cmd) == SEPARATION_OF_DUTIES
