"""`grants`: the finance staff's command line. Thin: parse, call the ledger, render."""

from __future__ import annotations

import signal
import sys
from typing import Annotated, Any

import typer

from commands import imports, logs, output, policy, records, report
from commands.context import Context
from commands.options import Json
from commands.output import handled
from commands.views import projections_app

app = typer.Typer(
    name="grants",
    help="Grants ledger for 《十堰市突破性发展数字经济若干措施》: applications, decisions, payments, audit.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option("--db", envvar="GRANTS_DB", metavar="URL",
                                           help="Database URL: sqlite:///grants.db (default) or "
                                                "postgresql://user@host:5432/dbname.")] = None,
    by: Annotated[str | None, typer.Option("--by", envvar="GRANTS_USER",
                                           help="Who is working (recorded as 'by' on events).")] = None,
) -> None:
    logs.configure()
    ctx.obj = Context(db=db, by=by)
    ctx.call_on_close(ctx.obj.close)


@app.command()
@handled
def init(ctx: typer.Context, as_json: Json = False) -> None:
    """Create the ledger's tables (event store and read models) if they do not exist."""
    context: Context = ctx.obj
    context.init()
    result = {"db": context.store.shown, "ready": True}
    output.log.info("init", db=context.store.shown)
    if as_json:
        output.emit_json(result)
    else:
        output.echo(f"ledger ready at {context.store.shown}")


records.install(app)
imports.install(app)
app.add_typer(report.app, name="report")
app.add_typer(policy.app, name="policy")
app.add_typer(projections_app, name="projections")


GLOBAL_OPTIONS = ("--db", "--by")


def hoist_global_options(args: list[str]) -> list[str]:
    """Let --db and --by be written after the command too (`grants import f.jsonl --db URL`).

    Click only reads a group's options before the subcommand; these two are
    moved in front, so both spellings mean the same.
    """
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg in GLOBAL_OPTIONS and i + 1 < len(args):
            front.extend(args[i:i + 2])
            i += 2
            continue
        if arg.split("=", 1)[0] in GLOBAL_OPTIONS and "=" in arg:
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


def run() -> Any:
    """Console-script entry point."""
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `grants report ... | head` ends quietly
    return app(args=hoist_global_options(sys.argv[1:]), prog_name="grants")
