"""`grants audit`: prove the log unchanged (hash chain), check the whole ledger, trail, reconcile."""

from __future__ import annotations

import datetime
import sys
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from commands import output, progress
from commands.context import Context
from commands.options import All, AsOf, Json, KnownAt, Limit
from commands.output import handled
from commands.records import china_time, parse_known_at
from ledger import i18n
from ledger.domain.uscc import uscc_problem
from ledger.errors import invalid
from ledger.i18n import N_, _, ngettext
from ledger.labels import label

if TYPE_CHECKING:
    from projections.audit_log import NoChain

app = typer.Typer(help=N_("Auditing: verify the log is unchanged, check the ledger, trail, reconcile."),
                  no_args_is_help=True)

ChainOnly = Annotated[bool, typer.Option("--chain-only", help=N_("Only the hash chain; skip the whole-ledger checks "
                                                                    "(which replay every event)."))]
HeadOption = Annotated[str | None, typer.Option("--head", metavar="POS:HASH",
                                                help=N_("Also prove the log up to this head (from `grants audit "
                                                        "head`) is unchanged."))]


def _no_chain(exc: NoChain, as_json: bool) -> None:
    output.error(str(exc), as_json=as_json, data={"code": "no-chain", "message": str(exc)})
    raise typer.Exit(output.EXIT_NO_LEDGER) from None


@app.command("head", help=N_("The position and hash of the newest event: write it down to prove later that nothing "
                             "before it changed."))
@handled
def head(ctx: typer.Context, as_json: Json = False) -> None:
    from projections import audit_log

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


@app.command("verify", help=N_("Recompute the hash chain over every stored event (exit 6 naming the first break), "
                               "then run the whole-ledger checks (exit 7 with their findings)."))
@handled
def verify(ctx: typer.Context, head: HeadOption = None, chain_only: ChainOnly = False, as_json: Json = False) -> None:
    from ledger.domain.validation import VIEWS_DISAGREE
    from projections import audit_checks, audit_log, runner

    context: Context = ctx.obj
    ledger = context.reader()
    noted = None
    if head is not None:
        try:
            noted = audit_log.Head.parse(head)
        except ValueError as exc:
            raise invalid("head", str(exc)) from None
    started = time.perf_counter()
    findings: list[dict[str, Any]] | None = None
    replayed = None
    verified: audit_checks.Verified | None = None
    total = ledger.recorder.max_notification_id() or 0
    reached = audit_checks.views_reached(context.engine)  # before the log is read: never past its end, unless cut
    try:  # with --json, what it says of a break or a finding is English: the same JSON in every language
        if chain_only:
            with progress.bar(_("verifying hash chain"), total, as_json=as_json) as advance, \
                    output.english(as_json):
                walk, mismatch = audit_log.verify_chain(context.engine, ledger.recorder.events_table_name, noted,
                                                        advance)
        else:  # the chain and the checks' replay in one pass over the rows
            with progress.bars((_("verifying hash chain"), _("replaying for the checks")), total,
                               as_json=as_json) as (advance, replaying), output.english(as_json):
                verified = audit_checks.verify(ledger, context.engine, noted, advance, replaying)
            walk, mismatch = verified.walk, verified.mismatch
    except audit_log.NoChain as exc:
        _no_chain(exc, as_json)
    seconds = time.perf_counter() - started
    mismatch = audit_checks.cut_tail(walk, reached, noted) or mismatch
    broken = walk.broken or mismatch
    disagree = (verified is not None and any(f.code == VIEWS_DISAGREE for f in verified.findings)
                and runner.views_exist(context.engine) and runner.position(context.engine) == verified.views_at)
    if not chain_only and not broken and verified is not None and disagree:
        # read models that disagree with the log, and have not moved since (no catch-up ran meanwhile), are not
        # brought up to date on top of what is wrong in them (a catch-up from a forged tracking position would
        # apply events again): their findings as compared
        replayed, findings = verified.replayed, [f.as_dict() for f in verified.findings]
    elif not chain_only and not broken:  # a log that is not the one written cannot be checked meaningfully
        views = context.views()  # brought up to date only now, once the chain holds
        if verified is not None and verified.views_at is not None and runner.position(views) == verified.views_at:
            replayed, findings = verified.replayed, [f.as_dict() for f in verified.findings]
        else:  # the read models moved since they were compared: replay again, to where they stand now
            if sys.stderr.isatty() and not as_json:
                output.stderr(ngettext("chain ok ({events} event); replaying the log for the whole-ledger checks ...",
                                       "chain ok ({events} events); replaying the log for the whole-ledger checks ...",
                                       walk.events).format(events=walk.events))
            with progress.bar(_("replaying for the checks"), runner.position(views), as_json=as_json) as advance, \
                    output.english(as_json):
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
        "set_aside": _set_aside(ledger) if findings is not None else None,
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


def _set_aside(ledger: Any) -> list[dict[str, Any]]:
    """The malformed events an admin set aside (no longer findings; the rows stay in the log)."""
    from ledger.errors import Refused

    try:
        listed: list[dict[str, Any]] = ledger.set_aside_list()
    except Refused:  # the set-asides' own stream does not read: the replay's findings name it
        return []
    return listed


def render_verify(d: dict[str, Any]) -> str:
    if d["broken"]:
        b = d["broken"]
        event = (_("{topic} of {id} v{version}").format(topic=b["topic"], id=b["originator_id"],
                                                          version=b["originator_version"]) if b["topic"] else "-")
        lines = [_("CHAIN BROKEN at position {position} ({code})").format(position=b["position"], code=b["code"]),
                 "  " + _("event: {event}").format(event=event), "  " + _("what: {what}").format(what=b["differs"]),
                 "  " + ngettext("{count} event before it verifies", "{count} events before it verify",
                                 d["events"]).format(count=d["events"])]
    else:
        lines = [ngettext("chain ok: {count} event, head {head}", "chain ok: {count} events, head {head}",
                          d["events"]).format(count=d["events"], head=d["head"])]
        if d["noted_head"]:
            lines.append(_("noted head {head} is part of the verified chain").format(head=d["noted_head"]))
    if d["findings"] is None and d["broken"]:
        lines.append(_("whole-ledger checks not run: the log is not the one the ledger wrote"))
    if d["findings"] is not None:
        if not d["findings"]:
            lines.append(ngettext("checks ok: {count} event replayed, no findings",
                                  "checks ok: {count} events replayed, no findings",
                                  d["checked_events"] or 0).format(count=d["checked_events"]))
        else:
            lines.append(ngettext("{count} finding over {events} events:", "{count} findings over {events} events:",
                                  len(d["findings"])).format(count=len(d["findings"]), events=d["checked_events"]))
            lines.append(output.table([_("Code"), _("Position"), _("Ref"), _("USCC"), _("Finding")],
                                      [[output.Alert(f["code"]), f["position"] if f["position"] is not None else "-",
                                        f["ref"] or "-", f["uscc"] or "-", f["message"]] for f in d["findings"]]))
    if d.get("set_aside"):
        lines.append(ngettext("{count} malformed event set aside (the row stays in the log):",
                              "{count} malformed events set aside (the rows stay in the log):",
                              len(d["set_aside"])).format(count=len(d["set_aside"])))
        lines.append(output.table([_("Position"), _("Event"), _("By"), _("Date"), _("Reason")],
                                  [[s["position"], s["topic"], s["by"], s["date"], s["reason"]]
                                   for s in d["set_aside"]]))
    return "\n".join(lines)


@app.command("trail", help=N_(
    "Every event of one application (or, with --uscc, one enterprise) in order: effective date, recording time, "
    "who, what, amounts, facts before and after an amendment, the computation trace."))
@handled
def trail(
    ctx: typer.Context,
    ref: Annotated[str | None, typer.Argument(help=N_("The application's filing number."))] = None,
    uscc: Annotated[str | None, typer.Option("--uscc", help=N_("All events of one enterprise instead."))] = None,
    known_at: KnownAt = None,
    as_json: Json = False,
) -> None:
    from ledger.intake.commands import parse_ref

    if (ref is None) == (uscc is None):
        raise invalid("ref", _("give the filing number REF, or --uscc CODE, not both"))
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
        parts.append(_("awarded {awarded} = city {city} + county {county}").format(
            awarded=output.yuan(e["awarded_fen"]), city=output.yuan(e["city_share_fen"]),
            county=output.yuan(e["county_share_fen"])))
    return "; ".join(parts)


# The details of a trail entry, in the order shown, with what people read for each key.
DETAILS = {"payer": N_("payer"), "voucher": N_("voucher"), "measure": N_("measure"), "project": N_("project"),
           "policy": N_("policy"), "document": N_("document"), "basis": N_("basis"), "reason": N_("reason"),
           "note": N_("note")}
LABELLED = ("payer",)  # details whose stored value is shown in the current language


def _detail(e: dict[str, Any]) -> str:
    return ", ".join(_("{name} {value}").format(name=_(name), value=label(e[k]) if k in LABELLED else e[k])
                     for k, name in DETAILS.items() if k in e)


def _step(step: dict[str, Any]) -> str:
    """One step of a stored computation trace, in the current language (the trace keeps both)."""
    return str(step.get("zh") or step.get("en", "")) if i18n.language() == "zh" else str(step.get("en", ""))


def render_trail(d: dict[str, Any]) -> str:
    whose = _("{uscc} {name} ({area})").format(uscc=d["uscc"], name=d["name"], area=d["area"])
    head = (_("trail of {ref}, {enterprise}").format(ref=d["ref"], enterprise=whose) if d["ref"]
            else _("trail of {enterprise}").format(enterprise=whose))
    lines = [head + (_(", as known at {moment}").format(moment=d["known_at"]) if d["known_at"] else "")]
    zh = i18n.language() == "zh"
    rows = [[e["date"] or "-", china_time(e["recorded_at"]), e["by"] or "-", e["what_zh"] if zh else e["what"],
             e["ref"] or "-", _amounts(e), _detail(e)] for e in d["events"]]
    lines.append(output.table([_("Effective"), _("Recorded (China time)"), _("By"), _("What"), _("Ref"),
                               _("Amounts"), _("Details")], rows))
    for e in d["events"]:
        if "facts_after" in e:
            changed = {k for k in {**e["facts_before"], **e["facts_after"]}
                       if e["facts_before"].get(k) != e["facts_after"].get(k)}
            lines.append(_("amendment of {ref} on {day}: {changes}").format(
                ref=e["ref"], day=e["date"],
                changes="; ".join(f"{k}: {e['facts_before'].get(k, '-')} -> {e['facts_after'].get(k, '-')}"
                                  for k in sorted(changed))))
        if e.get("trace"):
            lines.append(_("computation of {ref} approved {day}:").format(ref=e["ref"], day=e["date"]))
            lines += [f"  {n:>2}. {_step(step)}" for n, step in enumerate(e["trace"], 1)]
    return "\n".join(lines)


@app.command("reconcile", help=N_("Exit 8 when any award in force has one half paid more than the other (for "
                                  "scheduled jobs); lists them."))
@handled
def reconcile(ctx: typer.Context, as_of: AsOf = None, known_at: KnownAt = None, limit: Limit = None,
              every: All = False, as_json: Json = False) -> None:
    from commands.report import shares_data

    rows = output.row_limit(limit, every)
    data = shares_data(ctx, as_of, known_at, limit=None if as_json else rows)
    result = {"as_of": data["as_of"], "known_at": data["known_at"], "report_date": data["report_date"],
              "gaps": data["half_paid"], "gap_fen": data["total"]["gap_fen"],
              "reconciled": not data["half_paid"]}
    if "half_paid_count" in data:
        result["gap_count"] = data["half_paid_count"]
    result.update(_project_findings(ctx, data))
    output.render(result, as_json, lambda d: render_reconcile(d, rows))
    if data["half_paid"]:
        raise typer.Exit(output.EXIT_GAP)


def _project_findings(ctx: typer.Context, data: dict[str, Any]) -> dict[str, Any]:
    """就高不重复 after the fact: the top-ups owed a re-decision and the overlaps with other policies' awards."""
    from projections.findings import project_findings

    context: Context = ctx.obj
    as_of = datetime.date.fromisoformat(data["as_of"]) if data["as_of"] else None
    found = project_findings(context.reader(), context.views(), as_of, parse_known_at(data["known_at"]))
    owed = [f for f in found if f["kind"] == "redecide"]
    return {"redecisions_owed": owed, "redecisions_owed_count": len(owed),
            "redecisions_owed_fen": sum(f["owed_fen"] for f in owed),
            "overlaps": [f for f in found if f["kind"] == "overlap"]}


def _findings_lines(d: dict[str, Any]) -> list[str]:
    """After the table (a blank line between): the awards owed a re-decision and the overlaps."""
    lines: list[str] = []
    if d.get("redecisions_owed"):
        lines.append(ngettext("{count} award owed a re-decision (就高不重复, a lower award under it revoked), "
                              "{amount} yuan in all:",
                              "{count} awards owed a re-decision (就高不重复, a lower award under them revoked), "
                              "{amount} yuan in all:", d["redecisions_owed_count"]).format(
            count=d["redecisions_owed_count"], amount=output.yuan(d["redecisions_owed_fen"])))
        lines += ["  " + f["message"] for f in d["redecisions_owed"]]
    if d.get("overlaps"):
        lines.append(ngettext("{count} project above its highest single award with another policy's award:",
                              "{count} projects above their highest single award with other policies' awards:",
                              len(d["overlaps"])).format(count=len(d["overlaps"])))
        lines += ["  " + f["message"] for f in d["overlaps"]]
    return ["", *lines] if lines else []


def render_reconcile(d: dict[str, Any], limit: int | None = None) -> str:
    findings = _findings_lines(d)
    if d["reconciled"]:
        return "\n".join([_("reconciled: every award in force has its two halves paid alike (as of {day})").format(
            day=d["report_date"]), *findings])
    count = d.get("gap_count", len(d["gaps"]))
    lines = [ngettext("{count} award with one half paid more than the other, as of {day}:",
                      "{count} awards with one half paid more than the other, as of {day}:",
                      count).format(count=f"{count:,}", day=d["report_date"])]
    lines.append(output.paged_table(
        [_("Ref"), _("Area"), _("Ahead"), _("Behind"), _("Behind by"), _("Since"), _("Days")], d["gaps"],
        lambda g: [g["ref"], g["area"], label(g["paid_by"]), label(g["not_paid_by"]), output.yuan(g["behind_fen"]),
                   g["since"] or "-", "-" if g["days_outstanding"] is None else g["days_outstanding"]],
        limit, count=count, right=(4, 6)))
    return "\n".join(lines + findings)
