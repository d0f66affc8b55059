"""Separation of duties (不相容岗位相互分离): incompatible duties never fall to one operator.

Pure functions of the application as recorded and the command. They apply in enforced
mode only (``ledger/operators.py``): in single-user mode the ledger has one
trust-based identity, and ``by`` is free text, so a rule on names would prove nothing.

1. An application is never approved or rejected by the operator who filed it or who
   amended it (补正).
2. A payment is never recorded by the operator who approved that application.
3. An award is never revoked by the operator who approved it.
4. An operator never registers, changes the roles of, suspends or reinstates itself.
"""

from __future__ import annotations

from ledger import intake
from ledger.domain import APPROVED, ApplicationState
from ledger.errors import SEPARATION_OF_DUTIES, Refused


def _refuse(message: str) -> Refused:
    return Refused(SEPARATION_OF_DUTIES, message, field="by")


def check_application_duties(cmd: intake.Command, app: ApplicationState) -> None:
    """Rules 1 to 3, for a command on the recorded application ``app``."""
    by = cmd.by
    if isinstance(cmd, (intake.Approve, intake.Reject)):
        verb = "approve" if isinstance(cmd, intake.Approve) else "reject"
        if by == app.by:
            raise _refuse(f"by: {by!r} filed {app.ref} and may not {verb} it (不相容岗位相互分离)")
        if any(a.by == by for a in app.amendments):
            raise _refuse(f"by: {by!r} amended {app.ref} and may not {verb} it (不相容岗位相互分离)")
    elif isinstance(cmd, intake.Pay) and app.status == APPROVED and app.decided_by == by:
        raise _refuse(f"by: {by!r} approved {app.ref} and may not record its payment (不相容岗位相互分离)")
    elif isinstance(cmd, intake.Revoke) and app.status == APPROVED and app.decided_by == by:
        raise _refuse(f"by: {by!r} approved {app.ref} and may not revoke it (不相容岗位相互分离)")


def check_self_administration(cmd: intake.OperatorCommand) -> None:
    """Rule 4."""
    if cmd.name == cmd.by:
        raise _refuse(f"by: {cmd.by!r} may not administer its own operator record (不相容岗位相互分离)")
