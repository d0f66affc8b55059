"""`grants report enterprise`, `shares`, `applications` and `html`, from the read models."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from commands import clock, html_report, output
from commands.context import Context
from commands.options import AsOf, Json, KnownAt
from commands.output import Alert, due, handled, yuan
from commands.records import parse_as_of, parse_known_at
from ledger.domain import STATUSES, Status
from ledger.errors import invalid
from ledger.policy.facts import parse_date
from projections import audit_checks, audit_log, reports

From = Annotated[str | None, typer.Option("--from", metavar="YYYY-MM-DD",
                                           help="With --to: payments per treasury dated in this period.")]
To = Annotated[str | None, typer.Option("--to", metavar="YYYY-MM-DD", help="End of the --from period (inclusive).")]

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
            cells += [yuan(owed), yuan(paid - back), due(owed - (paid - back)), due(back)]
        return cells + [due(f["gap_fen"])]

    headers = ["city owed 市级应付", "paid 已付", "due 未付", "to recover 待追回", "county owed 县级应付", "paid 已付",
               "due 未付", "to recover 待追回", "gap 差额"]
    rows = [row(a["area"], a) for a in data["areas"]] + [row("total 合计", data["total"])]
    title = "city / county shares per area, yuan" + (f", as of {data['as_of']}" if data["as_of"] else "") + _known(data)
    title += ("\n(owed 应付: awards in force; paid 已付: net of reversals, on awards in force; "
              "to recover 待追回: paid on revoked awards; gap 差额: city paid less county paid)")
    parts = [title, output.table(["area 区域", *headers], rows, right=tuple(range(1, 10)))]
    if data["measures"]:
        parts += ["", "per measure 按措施",
                  output.table(["measure 措施", *headers], [row(m["measure"], m) for m in data["measures"]],
                               right=tuple(range(1, 10)))]
    if data["half_paid"]:
        parts += ["", f"awards one payer has paid more of than the other, days as of {data['report_date']} "
                      "单边拨付",
                  output.table(["ref 编号", "area 区域", "measure 措施", "ahead 已付方", "behind 未付方", "behind by 差额",
                                "since 起", "days 天数"],
                               [[h["ref"], h["area"], h["measure"], h["paid_by"], h["not_paid_by"], due(h["behind_fen"]),
                                 h["since"] or "-", h["days_outstanding"] if h["days_outstanding"] is not None else "-"]
                                for h in data["half_paid"]], right=(5, 7))]
    if "period" in data:
        p = data["period"]
        parts += ["", f"payments per treasury {p['from']} to {p['to']} 期间拨付",
                  output.table(["treasury 财政", "payments 笔数", "paid 支付", "reversed 冲销", "recovered 追回", "net 净额"],
                               [[t["treasury"], t["payments"], yuan(t["payments_fen"]), yuan(t["reversals_fen"]),
                                 yuan(t["recoveries_fen"]), yuan(t["net_fen"])] for t in p["treasuries"]],
                               right=(1, 2, 3, 4, 5))]
    return "\n".join(parts)


def render_applications(data: dict[str, Any]) -> str:
    rows = [[r["ref"], r["uscc"], r["measure"], r["applied_on"],
             Alert(r["status"]) if r["status"] == "rejected" else r["status"], yuan(r["awarded_fen"]),
             due(r["city_outstanding_fen"]), due(r["county_outstanding_fen"]),
             due(r["city_to_recover_fen"] + r["county_to_recover_fen"])] for r in data["applications"]]
    title = f"{len(rows)} applications" + (f", as of {data['as_of']}" if data["as_of"] else "") + _known(data)
    return title + "\n" + output.table(
        ["ref 编号", "uscc", "measure 措施", "filed 申请", "status 状态", "awarded 核定", "city due 市级未付",
         "county due 县级未付", "to recover 待追回"], rows, right=(5, 6, 7, 8))


def views(ctx: typer.Context) -> Any:
    """The read models, caught up with the log (a report --known-at a moment reads what they recorded by then)."""
    context: Context = ctx.obj
    return context.read_views()


def stamped(data: dict[str, Any], moment: Any) -> dict[str, Any]:
    data["known_at"] = moment.isoformat() if moment else None
    return data


@app.command("applications")
@handled
def applications(
    ctx: typer.Context,
    status: Annotated[Status | None, typer.Option("--status", help="Only the applications in this status.")] = None,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    as_json: Json = False,
) -> None:
    """Every application: its status, award, and what each payer still owes."""
    if status is not None and status not in STATUSES:
        raise invalid("status", f"{status!r} is not a status; allowed: {', '.join(STATUSES)}")
    moment = parse_known_at(known_at)
    data = reports.applications_report(views(ctx), parse_as_of(as_of), status, known_at=moment)
    output.render(stamped(data, moment), as_json, render_applications)


@app.command("enterprise")
@handled
def enterprise(ctx: typer.Context, as_of: AsOf = None, known_at: KnownAt = None, as_json: Json = False) -> None:
    """Awarded and paid per enterprise."""
    moment = parse_known_at(known_at)
    data = reports.enterprise_report(views(ctx), parse_as_of(as_of), known_at=moment)
    output.render(stamped(data, moment), as_json, render_enterprises)


@app.command("shares")
@handled
def shares(ctx: typer.Context, as_of: AsOf = None, known_at: KnownAt = None, start: From = None, end: To = None,
           as_json: Json = False) -> None:
    """The reconciliation: per area and per measure, what the city and each area's treasury owe (their
    halves of every award in force), have paid (net of reversals and recoveries), still owe and have to
    recover; the gap between the two halves; the awards one payer has paid more of than the other."""
    data = shares_data(ctx, as_of, known_at, start, end)
    output.render(data, as_json, render_shares)


def shares_data(ctx: typer.Context, as_of: str | None, known_at: str | None, start: str | None = None,
                end: str | None = None) -> dict[str, Any]:
    moment = parse_known_at(known_at)
    day = parse_as_of(as_of)
    period = None
    if (start is None) != (end is None):
        raise invalid("from", "give --from and --to together")
    if start is not None and end is not None:
        period = (_day("from", start), _day("to", end))
        if period[0] > period[1]:
            raise invalid("from", f"--from {start} is after --to {end}")
    data = reports.shares_report(views(ctx), day, report_date=day or clock.today(), period=period, known_at=moment)
    return stamped(data, moment)


def _day(field: str, value: str) -> Any:
    try:
        return parse_date(value)
    except ValueError:
        raise invalid(field, f"{value!r} is not a date; write YYYY-MM-DD") from None


@app.command("html")
@handled
def html(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The HTML file to write (replaced if it exists).", dir_okay=False)],
    as_of: AsOf = None,
    known_at: KnownAt = None,
    as_json: Json = False,
) -> None:
    """One self-contained HTML page to open in a browser or hand on: totals, the city and county halves
    owed and paid per area as bar charts, payments per month, per measure, outstanding items and the
    result of `audit verify`. No network: styles and charts are inside the file."""
    moment = parse_known_at(known_at)
    day = parse_as_of(as_of)
    engine = views(ctx)
    shares = stamped(reports.shares_report(engine, day, report_date=day or clock.today(), known_at=moment), moment)
    applications = reports.applications_report(engine, day, known_at=moment)["applications"]
    months = reports.payments_by_month(engine, day, known_at=moment)
    audit = audit_result(ctx)
    context: Context = ctx.obj
    page = html_report.render_html(shares=shares, applications=applications, months=months, audit=audit,
                                   generated_at=datetime.now(clock.CHINA).strftime("%Y-%m-%d %H:%M:%S"),
                                   ledger=context.store.shown)
    try:
        file.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise invalid("file", f"cannot write {file}: {exc.strerror or exc}") from None
    summary = {"file": str(file), "as_of": shares["as_of"], "known_at": shares["known_at"],
               "areas": len(shares["areas"]), "months": len(months),
               "outstanding": len(html_report.outstanding_applications(applications)),
               "chain": audit.get("chain"), "findings": audit.get("findings_count")}
    output.render(summary, as_json, lambda d: f"report written to {d['file']} 报告已写入")


def audit_result(ctx: typer.Context) -> dict[str, Any]:
    """What `grants audit verify` finds on the ledger as it is now (the chain, then the whole-ledger checks
    when the chain holds), computed by the same functions."""
    context: Context = ctx.obj
    ledger = context.reader()
    try:
        walk, mismatch = audit_log.verify_chain(context.engine, ledger.recorder.events_table_name)
    except audit_log.NoChain as exc:
        return {"chain": None, "message": str(exc), "findings_count": None}
    broken = walk.broken or mismatch
    findings = None
    if not broken:
        _, found = audit_checks.run_checks(ledger, context.views())
        findings = [f.as_dict() for f in found]
    return {"chain": "broken" if broken else "ok", "events": walk.events,
            "head": f"{walk.head_position}:{walk.head_hash}", "broken": broken.as_dict() if broken else None,
            "findings": findings, "findings_count": None if findings is None else len(findings)}
