"""Who may do what, in the application service: the check at the start of every decision,
the operator commands, and the stamp of who recorded each event.

A mixin of ``GrantsLedger`` (``ledger/service/application.py``), which calls ``_authorised`` from
``_retrying`` and dispatches the operator commands from ``execute``. The rules are pure,
in ``ledger/domain/operators.py`` and ``ledger/domain/duties.py``; the threat model is docs/security.md.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from datetime import date
from typing import Any

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


class AccessControl:
    """Enforced mode (an ``OperatorRoster`` exists): every command's operator, roles, days and
    duties are checked inside its decision; single-user mode (none): nothing is checked."""

    operator: str | None  # who runs this process's commands, when not each command's `by` (an import's runner)
    os_user: str
    clock: Callable[[], date]  # the day of recording, for a command without a date of its own
    _command: intake.Command | None  # the command being executed
    _db_user: str | None
    _get: Callable[[Any], Any]
    save: Callable[..., Any]
    _retrying: Callable[[Any], Any]
    recorder: Any

    def _init_access(self) -> None:
        self.operator = None
        self.os_user = os_user()
        self.clock = date.today  # the CLI sets China's day (commands/clock.py)
        self._command = None
        self._db_user = None

    def _authorised(self, attempt: Any) -> Any:
        """The attempt, preceded by the check of who gives the command, inside the same decision:
        the roster and the application it reads are checked at the write like any other read."""
        command = self._command
        if command is None:
            return attempt

        def checked() -> Any:
            self._authorise(command)
            return attempt()
        return checked

    def _authorise(self, command: intake.Command) -> None:
        roster = self.roster()
        if roster is None:
            return  # single-user mode: any `by`, as before operators existed
        today = self.clock()
        acting = self.operator or command.by
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
        if self._db_user is None and hasattr(self.recorder, "session_user"):
            self._db_user = self.recorder.session_user()
        return self._db_user

    def authorise_reader(self, name: str, today: date) -> None:
        """Refuse ``not-authorised`` unless ``name`` may read this ledger (any active operator; anyone in
        single-user mode; on PostgreSQL the session's own role)."""
        roster = self.roster()
        if roster is None:
            return
        db_user = self.db_user()
        if db_user is not None and name == db_user and self.recorder.session_owns_ledger():
            return  # the ledger's owner (the database role that ran `grants init`) may always read and verify
        if db_user is not None and name != db_user:
            raise operators.refuse(_("by: this session is the database role {role}, not {name}").format(
                role=shown(db_user), name=shown(name)))
        operators.authorise_reader(roster, name, today)

    def _record(self, processing_event: Any) -> Any:
        """Stamp every event with the OS user of the process and the operator who recorded it (the
        runner of an import, which may differ from the `by` of its lines)."""
        acting = self.operator or (self._command.by if self._command is not None else None)
        for ev in processing_event.events:
            ev.__dict__["os_user"] = self.os_user
            if acting is not None:
                ev.__dict__["recorded_by"] = acting
        return super()._record(processing_event)  # type: ignore[misc]  # the Application's, after this mixin

    def register_operator(self, cmd: intake.RegisterOperator) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            roster = self.roster()
            operators.decide_operator_command(roster, cmd)
            enforced_now = roster is None
            if roster is None:
                roster = OperatorRoster(date=cmd.date, by=cmd.by)
            roster.register(name=cmd.name, display_name=cmd.display_name, roles=list(cmd.roles),
                            valid_from=cmd.valid_from, valid_to=cmd.valid_to, date=cmd.date, by=cmd.by)
            self.save(roster)
            return {"op": "register-operator", "name": cmd.name, "roles": list(cmd.roles),
                    "valid_from": cmd.valid_from.isoformat(),
                    "valid_to": cmd.valid_to.isoformat() if cmd.valid_to else None, "enforced_now": enforced_now}
        result: dict[str, Any] = self._retrying(attempt)
        return result

    def change_operator(self, cmd: intake.ChangeRoles | intake.SuspendOperator | intake.ReinstateOperator
                        ) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            roster = self.roster()
            operators.decide_operator_command(roster, cmd)
            assert roster is not None
            if isinstance(cmd, intake.ChangeRoles):
                roster.change_roles(name=cmd.name, roles=list(cmd.roles), date=cmd.date, by=cmd.by, reason=cmd.reason)
            elif isinstance(cmd, intake.SuspendOperator):
                roster.suspend(name=cmd.name, date=cmd.date, by=cmd.by, reason=cmd.reason)
            else:
                roster.reinstate(name=cmd.name, date=cmd.date, by=cmd.by, reason=cmd.reason)
            self.save(roster)
            operator = roster.operators[cmd.name]
            return {"op": op_of(cmd), "name": cmd.name, "roles": list(operator.roles),
                    "suspended": operator.suspended}
        result: dict[str, Any] = self._retrying(attempt)
        return result

    def operator_list(self) -> list[dict[str, Any]]:
        """Every registered operator as plain data (empty in single-user mode)."""
        roster = self.roster()
        if roster is None:
            return []
        return [{"name": o.name, "display_name": o.display_name, "roles": list(o.roles),
                 "valid_from": o.valid_from.isoformat(), "valid_to": o.valid_to.isoformat() if o.valid_to else None,
                 "suspended": o.suspended, "registered_on": o.registered_on.isoformat(), "by": o.by}
                for o in roster.operators.values()]
