"""`grants report enterprise` and `grants report shares`, from the read models."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from commands import output
from commands.context import Context
from commands.options import AsOf, Json, KnownAt
from commands.output import handled, yuan
from commands.records import parse_as_of, parse_known_at
from ledger.domain import STATUSES
from ledger.errors import invalid
from projections import known_at as known, reports

app = typer.Typer(help="Totals per enterprise and the city/county shares per area.", no_args_is_help=True)


def _known(data: dict[str, Any]) -> str:
    return f", as known at {data['known_at']}" if data.get("known_at") else ""


def render_enterprises(data: dict[str, Any]) -> str:
    rows = [[e["uscc"], e["name"], e["area"], yuan(e["awarded_fen"]), yuan(e["city_paid_fen"]),
             yuan(e["county_paid_fen"])] for e in data["enterprises"]]
    rows.append(["total 合计", "", "", yuan(sum(e["awarded_fen"] for e in data["enterprises"])),
                 yuan(sum(e["city_paid_fen"] for e in data["enterprises"])),
                 yuan(sum(e["county_paid_fen"] for e in data["enterprises"]))])
    title = "per enterprise, yuan" + (f", as of {data['as_of']}" if data["as_of"] else "") + _known(data)
    return title + "\n" + output.table(
        ["uscc 统一社会信用代码", "name 企业名称", "area 区域", "awarded 核定", "city paid 市级已付", "county paid 县级已付"],
        rows, right=(3, 4, 5))


def render_shares(data: dict[str, Any]) -> str:
    def row(label: str, f: dict[str, Any]) -> list[str]:
        cells = [label]
        for payer in ("city", "county"):
            owed, paid, back = f[f"{payer}_owed_fen"], f[f"{payer}_paid_fen"], f[f"{payer}_to_recover_fen"]
            cells += [yuan(owed), yuan(paid - back), yuan(owed - (paid - back)), yuan(back)]
        return cells

    rows = [row(a["area"], a) for a in data["areas"]] + [row("total 合计", data["total"])]
    title = "city / county shares per area, yuan" + (f", as of {data['as_of']}" if data["as_of"] else "") + _known(data)
    title += ("\n(owed 应付: awards in force; paid 已付: net of reversals, on awards in force; "
              "to recover 待追回: paid on revoked awards)")
    return title + "\n" + output.table(
        ["area 区域", "city owed 市级应付", "paid 已付", "due 未付", "to recover 待追回",
         "county owed 县级应付", "paid 已付", "due 未付", "to recover 待追回"], rows, right=tuple(range(1, 9)))


def render_applications(data: dict[str, Any]) -> str:
    rows = [[r["ref"], r["uscc"], r["measure"], r["applied_on"], r["status"], yuan(r["awarded_fen"]),
             yuan(r["city_outstanding_fen"]), yuan(r["county_outstanding_fen"]),
             yuan(r["city_to_recover_fen"] + r["county_to_recover_fen"])] for r in data["applications"]]
    title = f"{len(rows)} applications" + (f", as of {data['as_of']}" if data["as_of"] else "") + _known(data)
    return title + "\n" + output.table(
        ["ref 编号", "uscc", "measure 措施", "filed 申请", "status 状态", "awarded 核定", "city due 市级未付",
         "county due 县级未付", "to recover 待追回"], rows, right=(5, 6, 7, 8))


def views(ctx: typer.Context, moment: Any) -> Any:
    """The live read models, or (--known-at) read models rebuilt in memory from the events recorded by then."""
    context: Context = ctx.obj
    if moment is None:
        return context.views()
    return known.views_known_at(context.ledger(create=False), moment)


def stamped(data: dict[str, Any], moment: Any) -> dict[str, Any]:
    data["known_at"] = moment.isoformat() if moment else None
    return data


@app.command("applications")
@handled
def applications(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help="Only the applications in this status: "
                                                                   + ", ".join(STATUSES) + ".")] = None,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    as_json: Json = False,
) -> None:
    """Every application: its status, award, and what each payer still owes."""
    if status is not None and status not in STATUSES:
        raise invalid("status", f"{status!r} is not a status; allowed: {', '.join(STATUSES)}")
    moment = parse_known_at(known_at)
    data = reports.applications_report(views(ctx, moment), parse_as_of(as_of), status)
    output.render(stamped(data, moment), as_json, render_applications)


@app.command("enterprise")
@handled
def enterprise(ctx: typer.Context, as_of: AsOf = None, known_at: KnownAt = None, as_json: Json = False) -> None:
    """Awarded and paid per enterprise."""
    moment = parse_known_at(known_at)
    data = reports.enterprise_report(views(ctx, moment), parse_as_of(as_of))
    output.render(stamped(data, moment), as_json, render_enterprises)


@app.command("shares")
@handled
def shares(ctx: typer.Context, as_of: AsOf = None, known_at: KnownAt = None, as_json: Json = False) -> None:
    """What the city and each area's treasury owe (their halves of every award in force), have paid
    (net of reversals) and have to recover on revoked awards."""
    moment = parse_known_at(known_at)
    data = reports.shares_report(views(ctx, moment), parse_as_of(as_of))
    output.render(stamped(data, moment), as_json, render_shares)
