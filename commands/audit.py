"""`grants audit`: prove the log unchanged (hash chain), check the whole ledger, trail, reconcile."""

from __future__ import annotations

import sys
import time
from typing import Annotated, Any

import typer

from commands import output, progress
from commands.context import Context
from commands.options import AsOf, Json, KnownAt
from commands.output import handled
from commands.records import china_time, parse_known_at
from ledger.errors import invalid
from ledger.intake import parse_ref
from ledger.uscc import uscc_problem
from projections import audit_checks, audit_log, runner

app = typer.Typer(help="Auditing: verify the log is unchanged, check the ledger, trail, reconcile.",
                  no_args_is_help=True)

ChainOnly = Annotated[bool, typer.Option("--chain-only", help="Only the hash chain; skip the whole-ledger checks "
                                                                 "(which replay every event).")]
HeadOption = Annotated[str | None, typer.Option("--head", metavar="POS:HASH",
                                                help="Also prove the log up to this head (from `grants audit head`) "
                                                     "is unchanged.")]


def _no_chain(exc: audit_log.NoChain, as_json: bool) -> None:
    output.error(str(exc), as_json=as_json, data={"code": "no-chain", "message": str(exc)})
    raise typer.Exit(output.EXIT_NO_LEDGER) from None


@app.command("head")
@handled
def head(ctx: typer.Context, as_json: Json = False) -> None:
    """The position and hash of the newest event: write it down to prove later that nothing before it changed."""
    context: Context = ctx.obj
    context.reader()
    try:
        found = audit_log.head(context.engine)
    except audit_log.NoChain as exc:
        _no_chain(exc, as_json)
    if as_json:
        output.emit_json({"position": found.position, "hash": found.hash, "head": str(found)})
    else:
        output.echo(str(found))


@app.command("verify")
@handled
def verify(ctx: typer.Context, head: HeadOption = None, chain_only: ChainOnly = False, as_json: Json = False) -> None:
    """Recompute the hash chain over every stored event (exit 6 naming the first break), then run the
    whole-ledger checks (exit 7 with their findings)."""
    context: Context = ctx.obj
    ledger = context.reader()
    noted = None
    if head is not None:
        try:
            noted = audit_log.Head.parse(head)
        except ValueError as exc:
            raise invalid("head", str(exc)) from None
    started = time.perf_counter()
    try:
        with progress.bar("verifying hash chain 校验哈希链", ledger.recorder.max_notification_id() or 0,
                          as_json=as_json) as advance:
            walk, mismatch = audit_log.verify_chain(context.engine, ledger.recorder.events_table_name, noted,
                                                    advance)
    except audit_log.NoChain as exc:
        _no_chain(exc, as_json)
    seconds = time.perf_counter() - started
    broken = walk.broken or mismatch
    findings: list[dict[str, Any]] | None = None
    replayed = None
    if not chain_only and not broken:  # a log that is not the one written cannot be checked meaningfully
        if sys.stderr.isatty() and not as_json:
            output.stderr(f"chain {'broken' if broken else 'ok'} ({walk.events} events); replaying the log for the "
                          "whole-ledger checks ...")
        views = context.views()
        with progress.bar("replaying for the checks 回放核查", runner.position(views), as_json=as_json) as advance:
            replayed, found = audit_checks.run_checks(ledger, views, advance)
        findings = [f.as_dict() for f in found]
    data: dict[str, Any] = {
        "chain": "broken" if broken else "ok",
        "events": walk.events,
        "head": f"{walk.head_position}:{walk.head_hash}",
        "noted_head": str(noted) if noted else None,
        "broken": broken.as_dict() if broken else None,
        "seconds": round(seconds, 3),
        "checked_events": replayed,
        "findings": findings,
    }
    output.log.info("audit verify", chain=data["chain"], events=walk.events)
    if as_json:
        output.emit_json(data)
    else:
        output.echo(render_verify(data))
    if broken:
        raise typer.Exit(output.EXIT_TAMPERED)
    if findings:
        raise typer.Exit(output.EXIT_FINDINGS)


def render_verify(d: dict[str, Any]) -> str:
    if d["broken"]:
        b = d["broken"]
        event = (f"{b['topic']} of {b['originator_id']} v{b['originator_version']}" if b["topic"] else "-")
        lines = [f"CHAIN BROKEN at position {b['position']} ({b['code']})",
                 f"  event  {event}", f"  what   {b['differs']}", f"  {d['events']} events before it verify"]
    else:
        lines = [f"chain ok: {d['events']} events, head {d['head']}"]
        if d["noted_head"]:
            lines.append(f"noted head {d['noted_head']} is part of the verified chain")
    if d["findings"] is None and d["broken"]:
        lines.append("whole-ledger checks not run: the log is not the one the ledger wrote")
    if d["findings"] is not None:
        if not d["findings"]:
            lines.append(f"checks ok: {d['checked_events']} events replayed, no findings")
        else:
            lines.append(f"{len(d['findings'])} finding(s) over {d['checked_events']} events:")
            lines.append(output.table(["code", "position", "ref", "uscc", "finding"],
                                      [[output.Alert(f["code"]), f["position"] if f["position"] is not None else "-",
                                        f["ref"] or "-", f["uscc"] or "-", f["message"]] for f in d["findings"]]))
    return "\n".join(lines)


@app.command("trail")
@handled
def trail(
    ctx: typer.Context,
    ref: Annotated[str | None, typer.Argument(help="The application's filing number.")] = None,
    uscc: Annotated[str | None, typer.Option("--uscc", help="All events of one enterprise instead.")] = None,
    known_at: KnownAt = None,
    as_json: Json = False,
) -> None:
    """Every event of one application (or, with --uscc, one enterprise) in order: effective date,
    recording time, who, what, amounts, facts before and after an amendment, the computation trace."""
    if (ref is None) == (uscc is None):
        raise invalid("ref", "give the filing number REF, or --uscc CODE, not both")
    if uscc is not None and uscc_problem(uscc) is not None:
        raise invalid("uscc", f"{uscc!r} {uscc_problem(uscc)}")
    context: Context = ctx.obj
    data = context.reader().trail(parse_ref(ref) if ref is not None else None, uscc,
                                              parse_known_at(known_at))
    output.render(data, as_json, render_trail)


def _amounts(e: dict[str, Any]) -> str:
    parts = []
    if "amount_fen" in e:
        parts.append(output.yuan(e["amount_fen"]))
    if "awarded_fen" in e:
        parts.append(f"awarded {output.yuan(e['awarded_fen'])} = city {output.yuan(e['city_share_fen'])} + county "
                     f"{output.yuan(e['county_share_fen'])}")
    return "; ".join(parts)


def _detail(e: dict[str, Any]) -> str:
    keys = ("payer", "voucher", "measure", "project", "policy", "document", "basis", "reason", "note")
    return ", ".join(f"{k} {e[k]}" for k in keys if k in e)


def render_trail(d: dict[str, Any]) -> str:
    head = f"trail of {d['ref']}, " if d["ref"] else "trail of "
    lines = [head + f"{d['uscc']} {d['name']} ({d['area']})"
             + (f", as known at {d['known_at']}" if d["known_at"] else "")]
    rows = [[e["date"] or "-", china_time(e["recorded_at"]), e["by"] or "-", f"{e['what']} {e['what_zh']}",
             e["ref"] or "-", _amounts(e), _detail(e)] for e in d["events"]]
    lines.append(output.table(["effective 生效日", "recorded 记录时间 (China)", "by 经办", "what 事项", "ref 编号",
                               "amounts 金额", "details 说明"], rows))
    for e in d["events"]:
        if "facts_after" in e:
            changed = {k for k in {**e["facts_before"], **e["facts_after"]}
                       if e["facts_before"].get(k) != e["facts_after"].get(k)}
            lines.append(f"amendment of {e['ref']} on {e['date']}: "
                         + "; ".join(f"{k}: {e['facts_before'].get(k, '-')} -> {e['facts_after'].get(k, '-')}"
                                     for k in sorted(changed)))
        if e.get("trace"):
            lines.append(f"computation of {e['ref']} approved {e['date']}:")
            lines += [f"  {n:>2}. {step.get('en', '')}" for n, step in enumerate(e["trace"], 1)]
    return "\n".join(lines)


@app.command("reconcile")
@handled
def reconcile(ctx: typer.Context, as_of: AsOf = None, known_at: KnownAt = None, as_json: Json = False) -> None:
    """Exit 8 when any award in force has one half paid more than the other (for scheduled jobs); lists them."""
    from commands.report import shares_data

    data = shares_data(ctx, as_of, known_at)
    result = {"as_of": data["as_of"], "known_at": data["known_at"], "report_date": data["report_date"],
              "gaps": data["half_paid"], "gap_fen": data["total"]["gap_fen"],
              "reconciled": not data["half_paid"]}
    output.render(result, as_json, render_reconcile)
    if data["half_paid"]:
        raise typer.Exit(output.EXIT_GAP)


def render_reconcile(d: dict[str, Any]) -> str:
    if d["reconciled"]:
        return f"reconciled: every award in force has its two halves paid alike (as of {d['report_date']})"
    lines = [f"{len(d['gaps'])} award(s) with one half paid more than the other, as of {d['report_date']}:"]
    lines.append(output.table(["ref 编号", "area 区域", "ahead 已付方", "behind 未付方", "behind by 差额", "since 起", "days 天数"],
                              [[g["ref"], g["area"], g["paid_by"], g["not_paid_by"], output.yuan(g["behind_fen"]),
                                g["since"] or "-", g["days_outstanding"]] for g in d["gaps"]], right=(4, 6)))
    return "\n".join(lines)
