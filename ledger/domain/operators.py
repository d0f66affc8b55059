"""Who may do what: the roles, the command each role may give, and the operator commands.

Pure functions of the roster and the command (no clock, no I/O). A ledger without an
``OperatorRoster`` runs in single-user mode: any ``by`` is accepted, as before
operators existed. The command that registers the first operator creates the roster
(its first event, ``EnforcementStarted``); from then on every command is checked here
and refused ``not-authorised`` when its operator is unknown, suspended, outside its
from/to days, or without the role the command needs. The day is the day of recording
for the operator who gives the command, and the command's own date for an operator an
admin names in an import line (history migrated: was it theirs to do, then).
"""

from __future__ import annotations

from datetime import date

from ledger.domain.aggregates import Operator, OperatorRoster
from ledger.domain.kinds import ROLE_OF_OP
from ledger.errors import DUPLICATE_REF, NOT_AUTHORISED, WRONG_STATE, Refused, invalid
from ledger.i18n import _
from ledger.intake import commands as intake
from ledger.intake.commands import ROLES
from ledger.labels import label
from ledger.text import shown

CLERK, REVIEWER, TREASURER, AUDITOR, ADMIN = ROLES

#: Roles that write events (and so, on PostgreSQL, may INSERT into the event table).
WRITING_ROLES = (CLERK, REVIEWER, TREASURER, ADMIN)


def refuse(message: str) -> Refused:
    return Refused(NOT_AUTHORISED, message, field="by")


def active_operator(roster: OperatorRoster, name: str, day: date) -> Operator:
    """The operator ``name``, if it may act on ``day``; else refused ``not-authorised``."""
    operator = roster.operators.get(name)
    if operator is None:
        raise refuse(_("by: {name} is not a registered operator of this ledger (enforced since {day}); ask an admin "
                       "to register it").format(name=shown(name), day=roster.enforced_on))
    if operator.suspended:
        raise refuse(_("by: operator {name} is suspended").format(name=shown(name)))
    if not operator.active_on(day):
        until = operator.valid_to.isoformat() if operator.valid_to else _("no end")
        raise refuse(_("by: operator {name} may act from {start} to {end}, not on {day}").format(
            name=shown(name), start=operator.valid_from, end=until, day=day))
    return operator


def authorise(roster: OperatorRoster, op: str, by: str, day: date) -> Operator:
    """Refuse unless ``by`` is an active operator on ``day`` holding the role that ``op`` needs."""
    operator = active_operator(roster, by, day)
    role = ROLE_OF_OP[op]
    if role not in operator.roles:
        raise refuse(_("by: {op} needs the role {role}; operator {name} has {roles}").format(
            op=op, role=label(role), name=shown(by), roles=", ".join(label(r) for r in operator.roles)))
    return operator


def authorise_reader(roster: OperatorRoster, name: str, day: date) -> Operator:
    """Reading (show, reports, the roster): any active operator, whatever its roles."""
    return active_operator(roster, name, day)


def may_act_for(roster: OperatorRoster, acting: str, by: str, day: date) -> None:
    """A command whose ``by`` is someone else (an import line naming who did it) is accepted only
    from an active admin: an admin migrating history. The named operator is then checked too."""
    operator = active_operator(roster, acting, day)
    if ADMIN not in operator.roles:
        raise refuse(_("by: {acting} may not record a command by {by}; only an admin may (migrating history), and "
                       "only for a registered operator").format(acting=shown(acting), by=shown(by)))


def decide_operator_command(roster: OperatorRoster | None, cmd: intake.OperatorCommand) -> None:
    """Whether an operator command may be recorded on this roster (the roles are checked elsewhere)."""
    operators = roster.operators if roster is not None else {}
    if isinstance(cmd, intake.RegisterOperator):
        if cmd.name in operators:
            raise Refused(DUPLICATE_REF, _("name: operator {name} is already registered").format(name=shown(cmd.name)),
                          field="name")
        if roster is None and ADMIN not in cmd.roles:
            raise invalid("roles", _("the first operator switches the ledger to enforced mode for good and must hold "
                                     "the role admin, or nobody could register the next one"))
        return
    if roster is None or cmd.name not in operators:
        raise Refused(WRONG_STATE, _("name: {name} is not a registered operator").format(name=shown(cmd.name)),
                      field="name")
    operator = operators[cmd.name]
    if isinstance(cmd, intake.SuspendOperator) and operator.suspended:
        raise Refused(WRONG_STATE, _("name: operator {name} is already suspended").format(name=shown(cmd.name)),
                      field="name")
    if isinstance(cmd, intake.ReinstateOperator) and not operator.suspended:
        raise Refused(WRONG_STATE, _("name: operator {name} is not suspended").format(name=shown(cmd.name)),
                      field="name")
    if isinstance(cmd, intake.ChangeRoles) and tuple(operator.roles) == cmd.roles:
        raise Refused(WRONG_STATE, _("roles: operator {name} already has exactly {roles}").format(
            name=shown(cmd.name), roles=", ".join(label(r) for r in cmd.roles)), field="roles")
    loses_admin = (isinstance(cmd, intake.SuspendOperator)
                   or (isinstance(cmd, intake.ChangeRoles) and ADMIN not in cmd.roles))
    if loses_admin and ADMIN in operator.roles:
        others = [o for o in operators.values() if o.name != cmd.name and ADMIN in o.roles and not o.suspended
                  and (o.valid_to is None or o.valid_to >= cmd.date)]
        if not others:
            raise Refused(WRONG_STATE, _("name: {name} is the last active admin; register another admin first, or "
                                         "nobody could administer the operators").format(name=shown(cmd.name)),
                          field="name")
