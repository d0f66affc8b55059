"""`grants report enterprise`, `shares`, `applications` and `html`, from the read models."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from commands import clock, output
from commands.context import Context
from commands.html_report import LEGEND
from commands.options import All, AsOf, Json, KnownAt, Limit
from commands.output import Alert, due, handled, yuan
from commands.records import parse_as_of, parse_known_at
from ledger.domain.status import STATUSES, Status
from ledger.errors import invalid
from ledger.i18n import N_, _, ngettext
from ledger.labels import label
from ledger.policy.facts import parse_date

From = Annotated[str | None, typer.Option("--from", metavar="YYYY-MM-DD",
                                           help=N_("With --to: payments per treasury dated in this period."))]
To = Annotated[str | None, typer.Option("--to", metavar="YYYY-MM-DD", help=N_("End of the --from period (inclusive)."))]

app = typer.Typer(help=N_("Totals per enterprise and the city/county shares per area."), no_args_is_help=True)


def cut(data: dict[str, Any]) -> str:
    """The end of a title: as of which day, as known at which moment (nothing when neither)."""
    text = ""
    if data.get("as_of"):
        text += _(", as of {day}").format(day=data["as_of"])
    if data.get("known_at"):
        text += _(", as known at {moment}").format(moment=data["known_at"])
    return text


def render_enterprises(data: dict[str, Any], limit: int | None = None) -> str:
    total = data.get("total") or {k: sum(e[k] for e in data["enterprises"])
                                  for k in ("awarded_fen", "city_paid_fen", "county_paid_fen")}
    title = _("Per enterprise, yuan") + cut(data)
    return title + "\n" + output.paged_table(
        [_("USCC"), _("Name"), _("Area"), _("Awarded"), _("City paid"), _("County paid")], data["enterprises"],
        lambda e: [e["uscc"], e["name"], e["area"], yuan(e["awarded_fen"]), yuan(e["city_paid_fen"]),
                   yuan(e["county_paid_fen"])],
        limit, count=data.get("count"), right=(3, 4, 5),
        after=[[_("Total"), "", "", yuan(total["awarded_fen"]), yuan(total["city_paid_fen"]),
                yuan(total["county_paid_fen"])]])


def render_shares(data: dict[str, Any], limit: int | None = None) -> str:
    def row(name: str, f: dict[str, Any]) -> list[str]:
        cells = [name]
        for payer in ("city", "county"):  # the figures of projections/figures.py, as the JSON has them
            cells += [yuan(f[f"{payer}_owed_fen"]), yuan(f[f"{payer}_paid_fen"]), due(f[f"{payer}_outstanding_fen"]),
                      due(f[f"{payer}_to_recover_fen"])]
        return cells + [due(f["gap_fen"])]

    headers = [_("City owed"), _("City paid"), _("City due"), _("City to recover"), _("County owed"),
               _("County paid"), _("County due"), _("County to recover"), _("Gap")]
    rows = [row(a["area"], a) for a in data["areas"]] + [row(_("Total"), data["total"])]
    title = _("City and county shares per area, yuan") + cut(data)
    title += "\n" + _("({legend})").format(legend=_(LEGEND))
    parts = [title, output.table([_("Area"), *headers], rows, right=tuple(range(1, 10)))]
    if data["measures"]:
        parts += ["", _("Per measure"),
                  output.table([_("Measure"), *headers], [row(m["measure"], m) for m in data["measures"]],
                               right=tuple(range(1, 10)))]
    if data["half_paid"]:
        parts += ["", _("Awards one payer has paid more of than the other, days as of {day}").format(
                      day=data["report_date"]),
                  output.paged_table([_("Ref"), _("Area"), _("Measure"), _("Ahead"), _("Behind"), _("Behind by"),
                                      _("Since"), _("Days")], data["half_paid"],
                                     lambda h: [h["ref"], h["area"], h["measure"], label(h["paid_by"]),
                                                label(h["not_paid_by"]), due(h["behind_fen"]), h["since"] or "-",
                                                h["days_outstanding"] if h["days_outstanding"] is not None else "-"],
                                     limit, count=data.get("half_paid_count"), right=(5, 7))]
    if "period" in data:
        p = data["period"]
        parts += ["", _("Payments per treasury from {start} to {end}").format(start=p["from"], end=p["to"]),
                  output.table([_("Treasury"), _("Payments"), _("Paid"), _("Reversed"), _("Recovered"), _("Net")],
                               [[label(t["treasury"]), t["payments"], yuan(t["payments_fen"]),
                                 yuan(t["reversals_fen"]), yuan(t["recoveries_fen"]), yuan(t["net_fen"])]
                                for t in p["treasuries"]],
                               right=(1, 2, 3, 4, 5))]
    return "\n".join(parts)


def render_applications(data: dict[str, Any], limit: int | None = None) -> str:
    count = len(data["applications"])
    title = ngettext("{count} application", "{count} applications", count).format(count=f"{count:,}") + cut(data)
    return title + "\n" + output.paged_table(
        [_("Ref"), _("USCC"), _("Measure"), _("Filed"), _("Status"), _("Awarded"), _("City due"), _("County due"),
         _("To recover")], data["applications"],
        lambda r: [r["ref"], r["uscc"], r["measure"], r["applied_on"],
                   Alert(label(r["status"])) if r["status"] == "rejected" else label(r["status"]),
                   yuan(r["awarded_fen"]), due(r["city_outstanding_fen"]), due(r["county_outstanding_fen"]),
                   due(r["city_to_recover_fen"] + r["county_to_recover_fen"])],
        limit, right=(5, 6, 7, 8))


def views(ctx: typer.Context) -> Any:
    """The read models, caught up with the log (a report --known-at a moment reads what they recorded by then)."""
    context: Context = ctx.obj
    return context.read_views()


def stamped(data: dict[str, Any], moment: Any) -> dict[str, Any]:
    data["known_at"] = moment.isoformat() if moment else None
    return data


@app.command("applications", help=N_("Every application: its status, award, and what each payer still owes."))
@handled
def applications(
    ctx: typer.Context,
    status: Annotated[Status | None, typer.Option("--status", help=N_("Only the applications in this status."))] = None,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    limit: Limit = None,
    every: All = False,
    as_json: Json = False,
) -> None:
    from projections import reports

    rows = output.row_limit(limit, every)
    if status is not None and status not in STATUSES:
        raise invalid("status", _("{value} is not a status; allowed: {allowed}").format(
            value=repr(status), allowed=", ".join(STATUSES)))
    moment = parse_known_at(known_at)
    data = reports.applications_report(views(ctx), parse_as_of(as_of), status, known_at=moment)
    output.render(stamped(data, moment), as_json, lambda d: render_applications(d, rows))


@app.command("enterprise", help=N_("Awarded and paid per enterprise."))
@handled
def enterprise(ctx: typer.Context, as_of: AsOf = None, known_at: KnownAt = None, limit: Limit = None,
               every: All = False, as_json: Json = False) -> None:
    from projections import reports

    rows = output.row_limit(limit, every)
    moment = parse_known_at(known_at)
    data = reports.enterprise_report(views(ctx), parse_as_of(as_of), known_at=moment,
                                     limit=None if as_json else rows)
    output.render(stamped(data, moment), as_json, lambda d: render_enterprises(d, rows))


@app.command("shares", help=N_(
    "The reconciliation: per area and per measure, what the city and each area's treasury owe (their halves of "
    "every award in force), have paid (net of reversals and recoveries), still owe and have to recover; the gap "
    "between the two halves; the awards one payer has paid more of than the other."))
@handled
def shares(ctx: typer.Context, as_of: AsOf = None, known_at: KnownAt = None, start: From = None, end: To = None,
           limit: Limit = None, every: All = False, as_json: Json = False) -> None:
    rows = output.row_limit(limit, every)
    data = shares_data(ctx, as_of, known_at, start, end, limit=None if as_json else rows)
    output.render(data, as_json, lambda d: render_shares(d, rows))


def shares_data(ctx: typer.Context, as_of: str | None, known_at: str | None, start: str | None = None,
                end: str | None = None, *, limit: int | None = None) -> dict[str, Any]:
    """``reports.shares_report`` for the options as typed; with ``limit``, the first ``limit`` awards one payer
    has paid more of (``half_paid_count``: how many there are)."""
    from projections import reports

    moment = parse_known_at(known_at)
    day = parse_as_of(as_of)
    period = None
    if (start is None) != (end is None):
        raise invalid("from", _("give --from and --to together"))
    if start is not None and end is not None:
        period = (_day("from", start), _day("to", end))
        if period[0] > period[1]:
            raise invalid("from", _("--from {start} is after --to {end}").format(start=start, end=end))
    data = reports.shares_report(views(ctx), day, report_date=day or clock.today(), period=period, known_at=moment,
                                 limit=limit)
    return stamped(data, moment)


def _day(field: str, value: str) -> Any:
    try:
        return parse_date(value)
    except ValueError:
        raise invalid(field, _("{value} is not a date; write YYYY-MM-DD").format(value=repr(value))) from None


@app.command("html", help=N_(
    "One self-contained HTML page to open in a browser or hand on: totals, the city and county halves owed and "
    "paid per area as bar charts, payments per month, per measure, outstanding items and the result of `audit "
    "verify`. No network: styles and charts are inside the file."))
@handled
def html(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help=N_("The HTML file to write (replaced if it exists)."), dir_okay=False)],
    as_of: AsOf = None,
    known_at: KnownAt = None,
    as_json: Json = False,
) -> None:
    from commands import html_report
    from projections import reports

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
        raise invalid("file", _("cannot write {file}: {why}").format(file=file, why=exc.strerror or exc)) from None
    summary = {"file": str(file), "as_of": shares["as_of"], "known_at": shares["known_at"],
               "areas": len(shares["areas"]), "months": len(months),
               "outstanding": len(html_report.outstanding_applications(applications)),
               "chain": audit.get("chain"), "findings": audit.get("findings_count")}
    output.render(summary, as_json, lambda d: _("report written to {file}").format(file=d["file"]))


def audit_result(ctx: typer.Context) -> dict[str, Any]:
    """What `grants audit verify` finds on the ledger as it is now (the chain, then the whole-ledger checks
    when the chain holds), computed by the same functions."""
    from projections import audit_checks, audit_log

    context: Context = ctx.obj
    ledger = context.reader()
    try:
        walk, mismatch = audit_log.verify_chain(context.engine, ledger.recorder.events_table_name)
    except audit_log.NoChain as exc:
        return {"chain": None, "message": str(exc), "findings_count": None}
    broken = walk.broken or mismatch
    findings = None
    if not broken:
        _replayed, found = audit_checks.run_checks(ledger, context.views())
        findings = [f.as_dict() for f in found]
    return {"chain": "broken" if broken else "ok", "events": walk.events,
            "head": f"{walk.head_position}:{walk.head_hash}", "broken": broken.as_dict() if broken else None,
            "findings": findings, "findings_count": None if findings is None else len(findings)}
