"""`grants import FILE` (JSON Lines, one command a line) and `grants demo`."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
from eventsourcing.persistence import OperationalError, RecordConflictError

from commands import clock, output, report
from commands.context import Context
from commands.options import Json
from commands.output import handled
from commands.records import render_show
from ledger import jsonline
from ledger.errors import Refused, invalid
from ledger.importing import CHUNK, ImportStopped, digest_of, import_file
from ledger.intake import parse_command
from ledger.service import GrantsLedger
from projections import reports

DEMO_DB = "grants-demo.db"


def _apply_line(ledger: GrantsLedger, number: int, raw: bytes, operator: str) -> dict[str, Any]:
    """Apply one line: {} when accepted, {"refused": ...} or {"warning": ...} otherwise."""
    try:
        data = jsonline.decode(raw)
        result = ledger.execute(parse_command(data, operator, today=clock.today()))
    except Refused as refusal:
        return {"refused": {"line": number, **refusal.as_dict()}}
    except (RecordConflictError, OperationalError):
        raise
    except Exception as exc:
        raise ImportStopped(f"line {number}: {type(exc).__name__}: {exc}") from exc
    return {"warning": {"line": number, "message": result["warning"]}} if result.get("warning") else {}


def import_lines(ledger: GrantsLedger, lines: list[bytes], operator: str, *, chunk: int = CHUNK,
                 name: str = "-", digest: str | None = None) -> dict[str, Any]:
    """Apply each line once, in order; a refused line changes nothing and the rest go on.

    The file is known by ``digest`` (the SHA-256 of its bytes; by default of the lines
    joined with newlines): lines an earlier run of it decided are reported, not
    decided again (``ledger/importing.py``).
    """
    if digest is None:
        digest = digest_of(b"".join(line + b"\n" for line in lines))
    return import_file(ledger, lines, digest=digest, name=name, operator=operator, apply_line=_apply_line,
                       chunk=chunk)


def render_import(result: dict[str, Any]) -> str:
    lines = [f"accepted {result['accepted']}, refused {len(result['refused'])}"
             + (f"; {result['already']} of these lines were recorded by an earlier run and not decided again"
                if result.get("already") else "")]
    lines += [f"warning, line {w['line']}: {w['message']}" for w in result["warnings"]]
    if result["refused"]:
        lines.append("")
        lines.append(output.table(["line", "code", "message"],
                                  [[r["line"], r["code"], r["message"]] for r in result["refused"]], right=(0,)))
    return "\n".join(lines)


def install(app: typer.Typer) -> None:
    @app.command("import")
    @handled
    def import_(
        ctx: typer.Context,
        file: Annotated[Path, typer.Argument(help="JSON Lines file: one command a line (see docs/cli.md).")],
        as_json: Json = False,
        chunk: Annotated[int, typer.Option(min=1, max=CHUNK, help="Lines per transaction at most.")] = CHUNK,
    ) -> None:
        """Apply a file of commands in order; refused lines change nothing and are listed."""
        context: Context = ctx.obj
        if not file.is_file():
            raise invalid("file", f"{str(file)!r} is not a readable file")
        ledger = context.ledger()
        data = file.read_bytes()
        result = import_lines(ledger, data.splitlines(), context.operator, chunk=chunk, name=file.name,
                              digest=digest_of(data))
        try:
            context.views()
        except Exception as exc:  # noqa: BLE001 - the lines are recorded; say so rather than fail
            output.stderr(f"warning: recorded, but the reports could not be brought up to date ({exc}); "
                          "run `grants projections rebuild`")
        output.log.info("import", file=file.name, accepted=result["accepted"], refused=len(result["refused"]),
                        already=result["already"])
        if as_json:
            output.emit_json(result)
        else:
            output.echo(render_import(result))
        if result["refused"]:
            raise typer.Exit(output.EXIT_REFUSED)

    @app.command()
    @handled
    def demo(ctx: typer.Context, as_json: Json = False) -> None:
        """Load a realistic sample of the policy's cases into a fresh ledger and print the reports.

        Without --db (and without GRANTS_DB) it writes ./grants-demo.db, replacing an
        earlier demo file. Given a database, the ledger there must be empty.
        """
        context: Context = ctx.obj
        if context.db is None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(DEMO_DB + suffix).unlink(missing_ok=True)
            context.db = f"sqlite:///{DEMO_DB}"
        ledger = context.ledger()
        if ledger.recorder.max_notification_id():
            raise invalid("db", f"{context.store.shown} already holds events; the demo needs an empty ledger "
                          "(run it without --db to use ./grants-demo.db)")
        sample = resources.files("commands").joinpath("demo.jsonl").read_bytes().splitlines()
        result = import_lines(ledger, sample, "demo", name="demo.jsonl")
        engine = context.views()
        enterprises = reports.enterprise_report(engine)
        shares = reports.shares_report(engine)
        example = ledger.show("SY-2023-0001")
        if as_json:
            output.emit_json({"db": context.store.shown, "import": result, "enterprises": enterprises["enterprises"],
                              "areas": shares["areas"], "example": example})
            return
        output.echo(f"Demo ledger written to {context.store.shown}")
        output.echo(render_import(result))
        output.echo("  (the refused lines are deliberate: each shows a rule of the policy at work)")
        output.echo("\n== grants report enterprise ==")
        output.echo(report.render_enterprises(enterprises))
        output.echo("\n== grants report shares ==")
        output.echo(report.render_shares(shares))
        output.echo("\n== grants show SY-2023-0001 ==")
        output.echo(render_show(example))
        output.echo(f"\nExplore it: grants --db {context.store.shown} show SY-2024-0003")
