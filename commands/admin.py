"""`grants admin`: operators and their roles, and (PostgreSQL) their database roles."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from commands import clock, output
from commands.context import Context
from commands.options import By, Json
from commands.output import handled
from commands.records import record
from ledger.errors import WRONG_STATE, Refused, invalid
from ledger.i18n import N_, _
from ledger.labels import label
from ledger.store.storage import POSTGRES

admin_app = typer.Typer(help=N_("Operators, their roles, and their database roles."), no_args_is_help=True)
operator_app = typer.Typer(help=N_("Register, change, suspend and reinstate operators."), no_args_is_help=True)
admin_app.add_typer(operator_app, name="operator")

Name = Annotated[str, typer.Argument(help=N_("The operator's name (also its PostgreSQL role)."))]
Roles = Annotated[list[str], typer.Option("--role", help=N_("A role: clerk, reviewer, treasurer, auditor, admin; "
                                                             "repeat for each."))]
Day = Annotated[str | None, typer.Option("--date", metavar="YYYY-MM-DD", help=N_("The day it takes effect "
                                                                                "(default today)."))]
Reason = Annotated[str, typer.Option("--reason", help=N_("Why, for the record."))]


def _day(value: str | None) -> str:
    return value or clock.today().isoformat()


@operator_app.command("add", help=N_("Register an operator. The first one (it must be an admin) switches the "
                                     "ledger to enforced mode for good."))
@handled
def add(
    ctx: typer.Context,
    name: Name,
    role: Roles,
    display_name: Annotated[str, typer.Option("--display-name", help=N_("The person's name as people read it."))],
    valid_from: Annotated[str | None, typer.Option("--from", metavar="YYYY-MM-DD",
                                                   help=N_("First day it may act (default --date)."))] = None,
    valid_to: Annotated[str | None, typer.Option("--to", metavar="YYYY-MM-DD",
                                                 help=N_("Last day it may act (default: no end)."))] = None,
    date: Day = None,
    by: By = None,
    as_json: Json = False,
) -> None:
    record(ctx, {"op": "register-operator", "name": name, "display_name": display_name, "roles": role,
                 "valid_from": valid_from, "valid_to": valid_to, "date": _day(date), "by": by}, as_json)


@operator_app.command("roles", help=N_("Replace an operator's roles with the --role options given."))
@handled
def roles(ctx: typer.Context, name: Name, role: Roles, reason: Reason, date: Day = None, by: By = None,
          as_json: Json = False) -> None:
    record(ctx, {"op": "change-roles", "name": name, "roles": role, "reason": reason, "date": _day(date), "by": by},
           as_json)


@operator_app.command("suspend", help=N_("Suspend an operator: from now on every command it gives is refused "
                                         "(not-authorised)."))
@handled
def suspend(ctx: typer.Context, name: Name, reason: Reason, date: Day = None, by: By = None,
            as_json: Json = False) -> None:
    record(ctx, {"op": "suspend-operator", "name": name, "reason": reason, "date": _day(date), "by": by}, as_json)


@operator_app.command("reinstate", help=N_("Lift an operator's suspension."))
@handled
def reinstate(ctx: typer.Context, name: Name, reason: Reason, date: Day = None, by: By = None,
              as_json: Json = False) -> None:
    record(ctx, {"op": "reinstate-operator", "name": name, "reason": reason, "date": _day(date), "by": by},
           as_json)


@admin_app.command("set-aside", help=N_(
    "Set aside the malformed event at POSITION (one `grants audit verify` names, written past the ledger): its "
    "record replays without it from now on, so commands on that record work again; the row stays in the log. "
    "Refused for an event that reads fine."))
@handled
def set_aside(
    ctx: typer.Context,
    position: Annotated[int, typer.Argument(min=1, help=N_(
        "The event's position in the log, as audit verify names it."))],
    reason: Reason,
    date: Day = None,
    by: By = None,
    as_json: Json = False,
) -> None:
    record(ctx, {"op": "set-aside", "position": position, "reason": reason, "date": _day(date), "by": by}, as_json)


def render_operators(data: dict[str, Any]) -> str:
    if not data["enforced"]:
        return _("single-user mode: no operator is registered, any --by is accepted (trust-based)")
    rows = [[o["name"], o["display_name"], ", ".join(label(role) for role in o["roles"]), o["valid_from"],
             o["valid_to"] or "-", _("SUSPENDED") if o["suspended"] else _("active")] for o in data["operators"]]
    return _("enforced mode") + "\n" + output.table(
        [_("name"), _("display name"), _("roles"), _("from"), _("to"), _("status")], rows)


@admin_app.command("operators", help=N_("The registered operators, their roles, dates and status."))
@handled
def operators(ctx: typer.Context, as_json: Json = False) -> None:
    context: Context = ctx.obj
    ledger = context.reader()
    rows = ledger.operator_list()
    output.render({"enforced": ledger.roster() is not None, "operators": rows}, as_json, render_operators)


@admin_app.command("grant", help=N_("PostgreSQL: the SQL that creates the operator's own database role with "
                                    "just what its roles need."))
@handled
def grant(
    ctx: typer.Context,
    name: Name,
    apply_: Annotated[bool, typer.Option("--apply", help=N_("Execute the SQL (as the owner of the tables) "
                                                        "instead of printing it."))] = False,
    as_json: Json = False,
) -> None:
    from projections import identity

    context: Context = ctx.obj
    store = context.store
    if store.kind != POSTGRES:
        raise invalid("db", _("database roles exist on PostgreSQL only; on SQLite the operator is --by, GRANTS_USER "
                              "or the OS user, on trust"))
    ledger = context.ledger()
    roster = ledger.roster()
    operator = roster.operators.get(name) if roster is not None else None
    if operator is None:
        raise Refused(WRONG_STATE, _("name: {name} is not a registered operator; register it first "
                                     "(grants admin operator add)").format(name=repr(name)), field="name")
    statements = identity.install_statements() + identity.grant_statements(
        operator.name, operator.roles, database=store.event_store_env["POSTGRES_DBNAME"],
        suspended=operator.suspended)
    if apply_:
        identity.apply(context.engine, statements)
        output.log.info("grant", applied=True)
    if as_json:
        output.emit_json({"operator": name, "roles": list(operator.roles), "applied": apply_, "sql": statements})
    else:
        output.echo("\n".join(s + ";" for s in statements)
                    + ("\n-- " + _("applied to {db}").format(db=store.shown) if apply_ else ""))
