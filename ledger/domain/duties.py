"""Separation of duties (不相容岗位相互分离): incompatible duties never fall to one operator.

Pure functions of the application as recorded and the command. They apply in enforced
mode only (``ledger/domain/operators.py``): in single-user mode the ledger has one
trust-based identity, and ``by`` is free text, so a rule on names would prove nothing.

1. An application is never approved, rejected or re-decided (改判) by the operator who filed it or
   who amended it (补正).
2. A payment is never recorded by the operator who approved that application.
3. An award is never revoked by the operator who approved it.
4. An operator never registers, changes the roles of, suspends or reinstates itself.
"""

from __future__ import annotations

from ledger.domain.aggregates import APPROVED, ApplicationState
from ledger.errors import SEPARATION_OF_DUTIES, Refused
from ledger.i18n import _
from ledger.intake import commands as intake
from ledger.text import shown


def _refuse(message: str) -> Refused:
    return Refused(SEPARATION_OF_DUTIES, message, field="by")


def check_application_duties(cmd: intake.Command, app: ApplicationState) -> None:
    """Rules 1 to 3, for a command on the recorded application ``app``."""
    by = cmd.by
    if isinstance(cmd, (intake.Approve, intake.Reject)):
        approve = isinstance(cmd, intake.Approve)
        if by == app.by:
            raise _refuse((_("by: {by} filed {ref} and may not approve it (不相容岗位相互分离)") if approve else
                           _("by: {by} filed {ref} and may not reject it (不相容岗位相互分离)")).format(
                by=shown(by), ref=app.ref))
        if any(a.by == by for a in app.amendments):
            raise _refuse((_("by: {by} amended {ref} and may not approve it (不相容岗位相互分离)") if approve else
                           _("by: {by} amended {ref} and may not reject it (不相容岗位相互分离)")).format(
                by=shown(by), ref=app.ref))
    elif isinstance(cmd, intake.Redecide) and (by == app.by or any(a.by == by for a in app.amendments)):
        raise _refuse(_("by: {by} filed or amended {ref} and may not re-decide it (不相容岗位相互分离)").format(
            by=shown(by), ref=app.ref))
    elif isinstance(cmd, intake.Pay) and app.status == APPROVED and app.decided_by == by:
        raise _refuse(_("by: {by} approved {ref} and may not record its payment (不相容岗位相互分离)").format(
            by=shown(by), ref=app.ref))
    elif isinstance(cmd, intake.Revoke) and app.status == APPROVED and app.decided_by == by:
        raise _refuse(_("by: {by} approved {ref} and may not revoke it (不相容岗位相互分离)").format(
            by=shown(by), ref=app.ref))


def check_self_administration(cmd: intake.OperatorCommand) -> None:
    """Rule 4."""
    if cmd.name == cmd.by:
        raise _refuse(_("by: {by} may not administer its own operator record (不相容岗位相互分离)").format(
            by=shown(cmd.by)))
