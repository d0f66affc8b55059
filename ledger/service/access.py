"""Who may do what, in the application service: the check at the start of every decision
and the stamp of who recorded each event.

Held by ``GrantsLedger`` (``ledger/service/application.py``), whose retry loop is given each command
and checks it here inside the command's decision; the operator commands are handled in
``ledger/service/handlers.py``. The rules are pure, in ``ledger/domain/operators.py`` and
``ledger/domain/duties.py``; the threat model is docs/security.md.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any
from uuid import UUID

from ledger.domain import duties, operators
from ledger.domain.aggregates import ROSTER_ID, OperatorRoster, application_ref_id, enterprise_id
from ledger.domain.kinds import op_of
from ledger.i18n import _
from ledger.intake import commands as intake
from ledger.text import shown


def os_user() -> str:
    """The operating-system account of this process."""
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user database in some containers
        return "unknown"


def stamp(events: Iterable[Any], os_user: str, acting: str | None) -> None:
    """Stamp events with the OS user of the process and the operator who recorded them (the runner of an
    import, which may differ from the `by` of its lines; none when nobody is named)."""
    for ev in events:
        ev.__dict__["os_user"] = os_user
        if acting is not None:
            ev.__dict__["recorded_by"] = acting


class AccessControl:
    """Enforced mode (an ``OperatorRoster`` exists): every command's operator, roles, days and
    duties are checked inside its decision; single-user mode (none): nothing is checked.

    It reads through ``get`` (the ledger's read inside the current decision, so the roster and the
    application it reads are checked at the write like any other read) and asks ``recorder`` for the
    database role of the session."""

    def __init__(self, get: Callable[[UUID], Any], recorder: Any) -> None:
        self._get = get
        self._recorder = recorder
        self._db_user: str | None = None

    def authorise(self, command: intake.Command, acting: str, today: date) -> None:
        """Refuse ``not-authorised`` unless ``acting`` may give ``command`` on ``today`` (``acting`` is the
        command's ``by``, or the operator who runs an import of others' lines)."""
        roster = self.roster()
        if roster is None:
            return  # single-user mode: any `by`, as before operators existed
        db_user = self.db_user()
        if db_user is not None and acting != db_user:
            raise operators.refuse(_("by: this session is the database role {role}, not {name}; each operator "
                                     "connects as its own role").format(role=shown(db_user), name=shown(acting)))
        op = op_of(command)
        if command.by == acting:  # the operator at the keyboard: may it act today?
            operators.authorise(roster, op, acting, today)
        else:  # an admin records another's act (migrating history): the admin today, the other on the act's day
            operators.may_act_for(roster, acting, command.by, today)
            operators.authorise(roster, op, command.by, getattr(command, "date", None) or today)
        if isinstance(command, (intake.RegisterOperator, intake.ChangeRoles, intake.SuspendOperator,
                                intake.ReinstateOperator)):
            duties.check_self_administration(command)
        ref = getattr(command, "ref", None)
        if ref is not None and not isinstance(command, intake.Apply):
            index = self._get(application_ref_id(ref))
            enterprise = self._get(enterprise_id(index.uscc)) if index is not None else None
            if enterprise is not None and ref in enterprise.applications:
                duties.check_application_duties(command, enterprise.applications[ref])

    def roster(self) -> OperatorRoster | None:
        """The operators; None while the ledger runs in single-user mode."""
        roster: OperatorRoster | None = self._get(ROSTER_ID)
        return roster

    def db_user(self) -> str | None:
        """The database role of this ledger's sessions (PostgreSQL), None on SQLite."""
        if self._db_user is None and hasattr(self._recorder, "session_user"):
            self._db_user = self._recorder.session_user()
        return self._db_user

    def authorise_reader(self, name: str, today: date) -> None:
        """Refuse ``not-authorised`` unless ``name`` may read this ledger (any active operator; anyone in
        single-user mode; on PostgreSQL the session's own role)."""
        roster = self.roster()
        if roster is None:
            return
        db_user = self.db_user()
        if db_user is not None and name == db_user and self._recorder.session_owns_ledger():
            return  # the ledger's owner (the database role that ran `grants init`) may always read and verify
        if db_user is not None and name != db_user:
            raise operators.refuse(_("by: this session is the database role {role}, not {name}").format(
                role=shown(db_user), name=shown(name)))
        operators.authorise_reader(roster, name, today)
