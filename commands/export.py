"""`grants export csv|xlsx|beancount`: the ledger's tables for the tools auditors use."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from commands import output, progress
from commands.options import AsOf, Json, KnownAt
from commands.output import handled
from commands.records import parse_as_of, parse_known_at
from commands.report import views
from projections import exports

app = typer.Typer(help="Exports for auditors: CSV, xlsx, Beancount (all take --as-of and --known-at).",
                  no_args_is_help=True)


def _cut(ctx: typer.Context, as_of: str | None, known_at: str | None) -> tuple[Any, Any, Any]:
    moment = parse_known_at(known_at)
    return views(ctx), parse_as_of(as_of), moment


def _done(kind: str, target: Path, counts: dict[str, int], as_of: Any, moment: Any, as_json: bool) -> None:
    data = {"export": kind, "path": str(target), "as_of": as_of.isoformat() if as_of else None,
            "known_at": moment.isoformat() if moment else None, "rows": counts}
    output.log.info("export", kind=kind, **counts)
    if as_json:
        output.emit_json(data)
    else:
        output.echo(f"{kind} written to {target}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@app.command("csv")
@handled
def to_csv(ctx: typer.Context, directory: Annotated[Path, typer.Argument(help="Directory for the .csv files.")],
           as_of: AsOf = None, known_at: KnownAt = None, as_json: Json = False) -> None:
    """One CSV file per table (applications, decisions, payments, reversals, recoveries, shares, external
    awards): UTF-8 with BOM, Chinese headers, amounts in yuan."""
    engine, day, moment = _cut(ctx, as_of, known_at)
    tables = exports.tables(engine, day, known_at=moment)
    with progress.bar("export csv 导出", sum(len(t.rows) for t in tables), as_json=as_json) as advance:
        counts = exports.write_csv(directory, tables, advance)
    _done("csv", directory, counts, day, moment, as_json)


@app.command("xlsx")
@handled
def to_xlsx(ctx: typer.Context, file: Annotated[Path, typer.Argument(help="The .xlsx file to write.")],
            as_of: AsOf = None, known_at: KnownAt = None, as_json: Json = False) -> None:
    """One sheet per table, Chinese headers, amounts as yuan numbers with two decimals."""
    engine, day, moment = _cut(ctx, as_of, known_at)
    tables = exports.tables(engine, day, known_at=moment)
    with progress.bar("export xlsx 导出", sum(len(t.rows) for t in tables), as_json=as_json) as advance:
        counts = exports.write_xlsx(file, tables, advance)
    _done("xlsx", file, counts, day, moment, as_json)


@app.command("beancount")
@handled
def to_beancount(ctx: typer.Context, file: Annotated[Path, typer.Argument(help="The .beancount file to write.")],
                 as_of: AsOf = None, known_at: KnownAt = None, as_json: Json = False) -> None:
    """A double-entry ledger (payables per treasury and area, grant expense per measure, payments, reversals,
    recoveries) with balance assertions equal to `report shares`; `bean-check FILE` accepts it."""
    engine, day, moment = _cut(ctx, as_of, known_at)
    title = "grants ledger 十堰市数字经济奖补" + (f", as of {day}" if day else "") + (f", known at {moment}" if moment else "")
    _done("beancount", file, exports.write_beancount(file, engine, day, title, known_at=moment), day, moment, as_json)
