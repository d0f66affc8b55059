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
from ledger.i18n import N_, _

app = typer.Typer(help=N_("Exports for auditors: CSV, xlsx, Beancount (all take --as-of and --known-at)."),
                  no_args_is_help=True)

# What people read for the counts of an export (the JSON keeps the keys).
COUNTED = {"applications": N_("applications"), "decisions": N_("decisions"), "payments": N_("payments"),
           "reversals": N_("reversals"), "recoveries": N_("recoveries"), "shares": N_("shares"),
           "external_awards": N_("external awards"), "transactions": N_("transactions"),
           "balance_assertions": N_("balance assertions")}


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
        shown = ", ".join(_("{name} {count}").format(name=_(COUNTED[k]) if k in COUNTED else k, count=f"{v:,}")
                          for k, v in counts.items())
        output.echo(_("{kind} written to {target}: {counts}").format(kind=kind, target=target, counts=shown))


@app.command("csv", help=N_("One CSV file per table (applications, decisions, payments, reversals, recoveries, "
                            "shares, external awards): UTF-8 with BOM, Chinese headers, amounts in yuan."))
@handled
def to_csv(ctx: typer.Context, directory: Annotated[Path, typer.Argument(help=N_("Directory for the .csv files."))],
           as_of: AsOf = None, known_at: KnownAt = None, as_json: Json = False) -> None:
    from projections import exports

    engine, day, moment = _cut(ctx, as_of, known_at)
    tables = exports.tables(engine, day, known_at=moment)
    with progress.bar(_("export csv"), sum(len(t.rows) for t in tables), as_json=as_json) as advance:
        counts = exports.write_csv(directory, tables, advance)
    _done("csv", directory, counts, day, moment, as_json)


@app.command("xlsx", help=N_("One sheet per table, Chinese headers, amounts as yuan numbers with two decimals."))
@handled
def to_xlsx(ctx: typer.Context, file: Annotated[Path, typer.Argument(help=N_("The .xlsx file to write."))],
            as_of: AsOf = None, known_at: KnownAt = None, as_json: Json = False) -> None:
    from projections import exports

    engine, day, moment = _cut(ctx, as_of, known_at)
    tables = exports.tables(engine, day, known_at=moment)
    with progress.bar(_("export xlsx"), sum(len(t.rows) for t in tables), as_json=as_json) as advance:
        counts = exports.write_xlsx(file, tables, advance)
    _done("xlsx", file, counts, day, moment, as_json)


@app.command("beancount", help=N_(
    "A double-entry ledger (payables per treasury and area, grant expense per measure, payments, reversals, "
    "recoveries) with balance assertions equal to `report shares`; `bean-check FILE` accepts it."))
@handled
def to_beancount(ctx: typer.Context,
                 file: Annotated[Path, typer.Argument(help=N_("The .beancount file to write."))],
                 as_of: AsOf = None, known_at: KnownAt = None, as_json: Json = False) -> None:
    from projections import exports

    engine, day, moment = _cut(ctx, as_of, known_at)
    # The file's title is part of the data (its `option "title"`): the same in every language.
    title = "grants ledger 十堰市数字经济奖补" + (f", as of {day}" if day else "") + (f", known at {moment}" if moment else "")
    entries = exports.beancount_entries(engine, day, known_at=moment)
    with progress.bar(_("export beancount"), len(entries), as_json=as_json) as advance:
        counts = exports.write_beancount(file, engine, day, title, entries, advance, known_at=moment)
    _done("beancount", file, counts, day, moment, as_json)
