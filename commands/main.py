"""`grants`: the finance staff's command line. Thin: parse, call the ledger, render."""

from __future__ import annotations

import signal
import sys
from importlib.metadata import version as package_version
from typing import Annotated, Any

import typer
from typer._click.exceptions import ClickException  # Typer's own copy of Click; no public name for the base

from commands import audit, config, export, imports, logs, output, policy, records, report, spreadsheet
from commands.admin import admin_app
from commands.context import Context
from commands.options import Json
from commands.output import handled
from commands.views import projections_app
from ledger.errors import INVALID_INPUT

app = typer.Typer(
    name="grants",
    help="Grants ledger for 《十堰市突破性发展数字经济若干措施》: applications, decisions, payments, audit.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"grants {package_version('grants-ledger')}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option("--db", metavar="URL",
                                           help="Database URL: sqlite:///grants.db (default) or "
                                                "postgresql://user@host:5432/dbname. Else GRANTS_DB, else "
                                                "grants.toml (see grants config).")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who is working (recorded as 'by' on events). Else "
                                                        "GRANTS_USER, else grants.toml, else the OS user; in "
                                                        "enforced mode a registered operator).")] = None,
    version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_print_version,
                                          help="Print the version of grants and exit.")] = False,
) -> None:
    logs.configure()
    ctx.obj = Context(db=db, by=by)
    ctx.call_on_close(ctx.obj.close)


@app.command()
@handled
def init(ctx: typer.Context, as_json: Json = False) -> None:
    """Create the ledger's tables (event store and read models) if they do not exist, make the event log
    append-only (triggers), and seal any event the hash chain does not cover yet."""
    context: Context = ctx.obj
    sealed = context.init()
    result = {"db": context.store.shown, "ready": True, "sealed": sealed}
    output.log.info("init", db=context.store.shown)
    if as_json:
        output.emit_json(result)
    else:
        output.echo(f"ledger ready at {context.store.shown}"
                    + (f" ({sealed} events sealed into the hash chain)" if sealed else ""))


config.install(app)
records.install(app)
imports.install(app)
app.add_typer(report.app, name="report")
app.add_typer(policy.app, name="policy")
app.add_typer(projections_app, name="projections")
app.add_typer(admin_app, name="admin")
app.add_typer(audit.app, name="audit")
app.add_typer(export.app, name="export")
app.add_typer(spreadsheet.template_app, name="template")


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


FLAGS = ("--json", "--help")


def not_utf8(args: list[str]) -> tuple[str, str] | None:
    """The first argument that is not UTF-8 text, as (field, message); None when all are.

    Python hands such bytes over as lone surrogates (a name typed in a GBK
    terminal, say); they would be refused later with a less helpful message, or
    fail when written.
    """
    for n, arg in enumerate(args):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            if arg.startswith("--") and "=" in arg:
                option, value = arg.split("=", 1)
            elif n > 0 and args[n - 1].startswith("--") and args[n - 1] not in FLAGS:
                option, value = args[n - 1], arg
            else:
                option, value = f"argument {n + 1}", arg
            raw = value.encode("utf-8", "surrogateescape")
            message = f"{option}: is not UTF-8 text (it arrived as the bytes {raw[:30]!r})"
            try:
                message += f"; read as GBK it would be {raw.decode('gbk')!r}"
            except UnicodeDecodeError:
                pass
            field = option.lstrip("-").replace("-", "_") if option.startswith("--") else "argument"
            return field, message + ". Set the terminal to UTF-8 (e.g. LANG=zh_CN.UTF-8) and type it again; " \
                "nothing was written"
    return None


def run() -> Any:
    """Console-script entry point."""
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `grants report ... | head` ends quietly
    args = sys.argv[1:]
    bad = not_utf8(args)
    if bad is not None:
        field, message = bad
        output.error(f"invalid-input: {message}", as_json="--json" in args,
                     data={"code": INVALID_INPUT, "message": message, "field": field})
        return sys.exit(output.EXIT_INVALID)
    as_json = "--json" in args
    try:
        code = app(args=hoist_global_options(args), prog_name="grants", standalone_mode=False)
    except ClickException as exc:  # a usage error: unknown option, missing argument, bad choice
        if as_json:
            output.error(exc.format_message(), as_json=True, data={"code": "usage", "message": exc.format_message()})
        else:
            exc.show()
        return sys.exit(exc.exit_code)
    except typer.Abort:
        output.stderr("aborted")
        return sys.exit(130)
    return sys.exit(code if isinstance(code, int) else 0)
