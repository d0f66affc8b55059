"""`grants projections`: the read models' state, and rebuilding them from the log."""

from __future__ import annotations

import typer

from commands import output, progress
from commands.context import Context
from commands.options import Json
from commands.output import handled
from ledger.i18n import N_, _, ngettext

projections_app = typer.Typer(help=N_("Read models: status and rebuild from the event log."), no_args_is_help=True)


@projections_app.command("rebuild", help=N_("Empty the read models and replay every event into them (gives the "
                                            "same rows)."))
@handled
def rebuild(ctx: typer.Context, as_json: Json = False) -> None:
    from projections import runner

    context: Context = ctx.obj
    ledger = context.ledger()
    runner.create_views(context.engine)
    with progress.bar(_("rebuilding read models"), ledger.recorder.max_notification_id() or 0,
                      as_json=as_json) as advance:
        applied = runner.rebuild(ledger, context.engine, advance)
    output.log.info("projections rebuilt", events=applied)
    if as_json:
        output.emit_json({"rebuilt": True, "events": applied})
    else:
        output.echo(ngettext("read models rebuilt from {count} event", "read models rebuilt from {count} events",
                             applied).format(count=applied))


@projections_app.command("status", help=N_("How far the read models have applied the event log."))
@handled
def status(ctx: typer.Context, as_json: Json = False) -> None:
    from projections import runner

    context: Context = ctx.obj
    ledger = context.ledger()
    runner.create_views(context.engine)
    data = {"position": runner.position(context.engine), "log_end": ledger.recorder.max_notification_id() or 0}
    if data["position"] > data["log_end"]:  # the read models saw events the log no longer holds
        data["events_removed_at_end"] = [data["log_end"] + 1, data["position"]]
    if as_json:
        output.emit_json(data)
    else:
        output.echo(_("read models at event {position} of {end}").format(position=data["position"],
                                                                          end=data["log_end"]))
        if "events_removed_at_end" in data:
            output.echo(_("warning: the log ends at event {end}, but the read models applied events up to {position}: "
                          "events {first} to {position} were removed from the log; run grants audit verify").format(
                end=data["log_end"], position=data["position"], first=data["log_end"] + 1))
    if "events_removed_at_end" in data:
        raise typer.Exit(output.EXIT_TAMPERED)
