"""`grants`: the finance staff's command line. Thin: parse, call the ledger, render.

Every command module is imported here, so each imports at its top only what is cheap; the event
store, SQLAlchemy, the read models, structlog, Rich and openpyxl are imported inside the
commands that use them, and `grants --help` or `grants config` starts without them
(``tests/e2e/test_startup.py`` keeps it so)."""

from __future__ import annotations

import signal
import sys
from typing import Annotated, Any

import typer
from typer._click.exceptions import ClickException  # Typer's own copy of Click; no public name for the base

from commands import audit, config, export, imports, language, logs, output, policy, records, report, spreadsheet
from commands.admin import admin_app
from commands.context import Context
from commands.options import Json, Lang
from commands.output import handled
from commands.views import projections_app
from ledger import i18n
from ledger.errors import INVALID_INPUT, Refused
from ledger.i18n import N_, _

app = typer.Typer(
    name="grants",
    help=N_("Grants ledger for 《十堰市突破性发展数字经济若干措施》: applications, decisions, payments, audit."),
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version as package_version

        typer.echo(f"grants {package_version('grants-ledger')}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option("--db", metavar="URL",
                                           help=N_("Database URL: sqlite:///grants.db (default) or "
                                                   "postgresql://user@host:5432/dbname. Else GRANTS_DB, else "
                                                   "grants.toml (see grants config)."))] = None,
    by: Annotated[str | None, typer.Option("--by", help=N_("Who is working (recorded as 'by' on events). Else "
                                                           "GRANTS_USER, else grants.toml, else the OS user; in "
                                                           "enforced mode a registered operator)."))] = None,
    lang: Lang = None,
    version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_print_version,
                                          help=N_("Print the version of grants and exit."))] = False,
) -> None:
    logs.configure()
    ctx.obj = Context(db=db, by=by, lang=lang.value if lang is not None else None)
    ctx.call_on_close(ctx.obj.close)


@app.command(help=N_("Create the ledger's tables (event store and read models) if they do not exist, make the event "
                     "log append-only (triggers), and seal any event the hash chain does not cover yet."))
@handled
def init(ctx: typer.Context, as_json: Json = False) -> None:
    context: Context = ctx.obj
    sealed = context.init()
    result = {"db": context.store.shown, "ready": True, "sealed": sealed}
    output.log.info("init", db=context.store.shown)
    if as_json:
        output.emit_json(result)
    else:
        output.echo(_("ledger ready at {db}").format(db=context.store.shown)
                    + (_(" ({sealed} events sealed into the hash chain)").format(sealed=sealed) if sealed else ""))


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


GLOBAL_OPTIONS = ("--db", "--by", "--lang")


def hoist_global_options(args: list[str]) -> list[str]:
    """Let --db, --by and --lang be written after the command too (`grants import f.jsonl --db URL`).

    Click only reads a group's options before the subcommand; these are
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
                option, value = _("argument {n}").format(n=n + 1), arg
            raw = value.encode("utf-8", "surrogateescape")
            message = _("{option}: is not UTF-8 text (it arrived as the bytes {raw})").format(
                option=option, raw=repr(raw[:30]))
            try:
                message += _("; read as GBK it would be {text}").format(text=repr(raw.decode("gbk")))
            except UnicodeDecodeError:
                pass
            field = option.lstrip("-").replace("-", "_") if option.startswith("--") else "argument"
            return field, message + _(". Set the terminal to UTF-8 (e.g. LANG=zh_CN.UTF-8) and type it again; "
                                      "nothing was written")
    return None


def command() -> Any:
    """The Click command tree Typer builds from ``app``, in the current language."""
    return language.localise(typer.main.get_command(app))


def invoke(args: list[str]) -> int:
    """Run ``grants ARGS`` and return the exit code: the language first (``--lang``, GRANTS_LANG,
    grants.toml, the locale), then the command. The language in force before is restored after,
    so that tests can run it in-process (``tests/helpers.py`` ``grants``)."""
    previous = i18n.language()
    try:
        return _main(args)
    finally:
        i18n.set_language(previous)


def _main(args: list[str]) -> int:
    as_json = "--json" in args
    try:
        language.choose(args)
    except Refused as refusal:  # a bad GRANTS_LANG or grants.toml: said in the fallback language
        output.error(f"{refusal.code}: {refusal.message}", as_json=as_json, data=refusal.as_dict())
        return output.EXIT_INVALID
    bad = not_utf8(args)
    if bad is not None:
        field, message = bad
        output.error(f"invalid-input: {message}", as_json=as_json,
                     data={"code": INVALID_INPUT, "message": message, "field": field})
        return output.EXIT_INVALID
    try:
        code = command().main(args=hoist_global_options(args), prog_name="grants", standalone_mode=False)
    except ClickException as exc:  # a usage error: unknown option, missing argument, bad choice
        if as_json:
            message = language.usage_message(exc)
            output.error(message, as_json=True, data={"code": "usage", "message": message})
        else:
            language.show_usage_error(exc)
        return exc.exit_code
    except typer.Abort:
        output.stderr(_("aborted"))
        return 130
    return code if isinstance(code, int) else 0


def run() -> Any:
    """Console-script entry point."""
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `grants report ... | head` ends quietly
    return sys.exit(invoke(sys.argv[1:]))
