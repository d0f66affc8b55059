"""`grants report enterprise` and `grants report shares`, from the read models."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from commands import output
from commands.context import Context
from commands.options import AsOf, Json
from commands.output import handled, yuan
from commands.records import parse_as_of
from ledger.errors import invalid
from projections import reports

app = typer.Typer(help="Totals per enterprise and the city/county shares per area.", no_args_is_help=True)


def render_enterprises(data: dict[str, Any]) -> str:
    rows = [[e["uscc"], e["name"], e["area"], yuan(e["awarded_fen"]), yuan(e["city_paid_fen"]),
             yuan(e["county_paid_fen"])] for e in data["enterprises"]]
    rows.append(["total 合计", "", "", yuan(sum(e["awarded_fen"] for e in data["enterprises"])),
                 yuan(sum(e["city_paid_fen"] for e in data["enterprises"])),
                 yuan(sum(e["county_paid_fen"] for e in data["enterprises"]))])
    title = "per enterprise, yuan" + (f", as of {data['as_of']}" if data["as_of"] else "")
    return title + "\n" + output.table(
        ["uscc 统一社会信用代码", "name 企业名称", "area 区域", "awarded 核定", "city paid 市级已付", "county paid 县级已付"],
        rows, right=(3, 4, 5))


def render_shares(data: dict[str, Any]) -> str:
    rows = [[a["area"], yuan(a["city_owed_fen"]), yuan(a["city_paid_fen"]), yuan(a["city_owed_fen"] - a["city_paid_fen"]),
             yuan(a["county_owed_fen"]), yuan(a["county_paid_fen"]),
             yuan(a["county_owed_fen"] - a["county_paid_fen"])] for a in data["areas"]]
    t = data["total"]
    rows.append(["total 合计", yuan(t["city_owed_fen"]), yuan(t["city_paid_fen"]),
                 yuan(t["city_owed_fen"] - t["city_paid_fen"]), yuan(t["county_owed_fen"]), yuan(t["county_paid_fen"]),
                 yuan(t["county_owed_fen"] - t["county_paid_fen"])])
    title = "city / county shares per area, yuan" + (f", as of {data['as_of']}" if data["as_of"] else "")
    return title + "\n" + output.table(
        ["area 区域", "city owed 市级应付", "city paid 已付", "city due 未付", "county owed 县级应付", "county paid 已付",
         "county due 未付"], rows, right=(1, 2, 3, 4, 5, 6))


def render_applications(data: dict[str, Any]) -> str:
    rows = [[r["ref"], r["uscc"], r["measure"], r["applied_on"], r["status"], yuan(r["awarded_fen"]),
             yuan(r["city_outstanding_fen"]), yuan(r["county_outstanding_fen"])] for r in data["applications"]]
    title = f"{len(rows)} applications" + (f", as of {data['as_of']}" if data["as_of"] else "")
    return title + "\n" + output.table(
        ["ref 编号", "uscc", "measure 措施", "filed 申请", "status 状态", "awarded 核定", "city due 市级未付",
         "county due 县级未付"], rows, right=(5, 6, 7))


@app.command("applications")
@handled
def applications(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help="Only submitted, approved or rejected ones.")] = None,
    as_of: AsOf = None,
    as_json: Json = False,
) -> None:
    """Every application: its status, award, and what each payer still owes."""
    if status not in (None, "submitted", "approved", "rejected"):
        raise invalid("status", f"{status!r} is not a status; allowed: submitted, approved, rejected")
    context: Context = ctx.obj
    output.render(reports.applications_report(context.views(), parse_as_of(as_of), status), as_json, render_applications)


@app.command("enterprise")
@handled
def enterprise(ctx: typer.Context, as_of: AsOf = None, as_json: Json = False) -> None:
    """Awarded and paid per enterprise."""
    context: Context = ctx.obj
    output.render(reports.enterprise_report(context.views(), parse_as_of(as_of)), as_json, render_enterprises)


@app.command("shares")
@handled
def shares(ctx: typer.Context, as_of: AsOf = None, as_json: Json = False) -> None:
    """What the city and each area's treasury owe (their halves of every approved award) and have paid."""
    context: Context = ctx.obj
    output.render(reports.shares_report(context.views(), parse_as_of(as_of)), as_json, render_shares)
