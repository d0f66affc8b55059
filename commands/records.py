"""Commands that record events (register, apply, approve, reject, pay, external-award)
and `show`, the one that reads an application back with its computation trace.

Why one module of ~600 lines (issue 21 asks a reason above ~400): each command here is a short
function that turns its options into an import line's dict, and each result's one-line summary
(``SUMMARIES``, by op, checked complete against the registry of kinds) sits beside it; splitting
them would put a command's options and its answer in two places."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, time
from typing import Annotated, Any, ParamSpec

import typer

from commands import clock, output
from commands.context import Context
from commands.options import (
    AmountFen,
    AmountYuan,
    Area,
    AsOf,
    By,
    Date,
    Facts,
    FactsJson,
    Json,
    KnownAt,
    Payer,
    Reason,
    Ref,
)
from commands.output import handled, yuan
from ledger import i18n
from ledger.domain.money import MoneyError, parse_yuan
from ledger.domain.uscc import uscc_problem
from ledger.errors import invalid
from ledger.i18n import N_, _
from ledger.intake import jsonline
from ledger.labels import label
from ledger.policy.facts import date_forms, parse_date
from ledger.text import shown

P = ParamSpec("P")


def parse_as_of(value: str | None) -> Any:
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError:
        raise invalid("as_of", _("{value} is not a date; write {forms}").format(
            value=shown(value), forms=date_forms())) from None


def parse_known_at(value: str | None) -> Any:
    """--known-at: a day meaning its end (any form ``parse_date`` reads), or an ISO date-time; China time
    (UTC+8) unless it carries an offset."""
    if value is None:
        return None
    text = value.strip()
    try:
        moment = datetime.combine(parse_date(text), time.max)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise invalid("known_at", _("{value} is not a moment; write 2024-01-15T18:00 (China time), "
                                        "2024-01-15T10:00+00:00, or a day ({forms}: its end)").format(
                                            value=shown(value), forms=date_forms())) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=clock.CHINA)


def amount_fen(yuan_text: str | None, fen: int | None, *, required: bool) -> int | None:
    """--amount (yuan, with 万/亿) or --amount-fen, never both."""
    if yuan_text is not None and fen is not None:
        raise invalid("amount", _("give --amount (yuan) or --amount-fen, not both"))
    if yuan_text is not None:
        try:
            return parse_yuan(yuan_text)
        except MoneyError as exc:
            raise invalid("amount", str(exc)) from None
    if fen is None and required:
        raise invalid("amount", _("is required: --amount in yuan (e.g. 1000000, 100万) or --amount-fen"))
    return fen


def record(ctx: typer.Context, data: dict[str, Any], as_json: bool) -> dict[str, Any]:
    """Parse a command exactly as an import line would be, execute it, bring the views up to date."""
    from ledger.intake.commands import parse_command

    context: Context = ctx.obj
    command = parse_command({k: v for k, v in data.items() if v is not None}, context.operator, today=clock.today())
    ledger = context.ledger()
    result = ledger.execute(command)
    try:
        context.views()
    except Exception as exc:  # noqa: BLE001 - the command itself is recorded; say so
        output.stderr(_("warning: recorded, but the reports could not be brought up to date ({problem}); run "
                        "`grants projections rebuild`").format(problem=exc))
    output.log.info(data["op"], **{k: v for k, v in result.items() if k in ("ref", "status", "awarded_fen", "amount_fen",
                                                                           "payer", "version")})
    if as_json:
        output.emit_json(result)
    else:
        output.echo(summary(result))
        output.echo("  " + _("ledger: {db}").format(db=context.store.shown))
    return result


def summary(result: dict[str, Any]) -> str:
    """The line a recorded command prints: the one of its op (``SUMMARIES``), or that it was already recorded."""
    op = result["op"]
    if result.get("already_recorded"):
        key = result.get("ref") or result.get("uscc") or result.get("version") or (
            _("position {position}").format(position=result["position"]) if "position" in result else None)
        when = _(" on {day}").format(day=result["recorded_on"]) if result.get("recorded_on") else ""
        who = _(" by {name}").format(name=result["recorded_by"]) if result.get("recorded_by") else ""
        return _("{key}: already recorded ({op}{when}{who}); nothing written").format(key=key, op=op, when=when,
                                                                                      who=who)
    formatter = SUMMARIES.get(op)
    return formatter(result) if formatter is not None else json.dumps(result, ensure_ascii=False)


def _registered(result: dict[str, Any]) -> str:
    return _("registered {uscc} {name} ({area})").format(uscc=result["uscc"], name=result["name"], area=result["area"])


def _filed(result: dict[str, Any]) -> str:
    """An application submitted or amended: what the clause gives on the facts as filed."""
    ent = result.get("entitlement_fen")
    head = (_("{ref}: submitted under {measure} (policy {version}); ").format(
                ref=result["ref"], measure=result["measure"], version=result["policy_version"])
            if result["op"] == "apply" else _("{ref}: facts amended, still submitted; ").format(ref=result["ref"]))
    if not result["eligible"]:
        return head + _("NOT ELIGIBLE as filed") + "\n" + _("warning: {message}").format(message=result["warning"])
    return head + (_("the clause gives {amount} yuan").format(amount=yuan(ent)) if ent is not None
                   else _("amount to be decided case by case"))


def _approved(result: dict[str, Any]) -> str:
    return _("{ref}: approved {amount} yuan (city {city}, county {county})").format(
        ref=result["ref"], amount=yuan(result["awarded_fen"]), city=yuan(result["city_share_fen"]),
        county=yuan(result["county_share_fen"]))


def _rejected(result: dict[str, Any]) -> str:
    return _("{ref}: rejected").format(ref=result["ref"])


def _paid(result: dict[str, Any]) -> str:
    return _("{ref}: {payer} paid {amount} yuan (voucher {voucher}, treasury {treasury})").format(
        ref=result["ref"], payer=label(result["payer"]), amount=yuan(result["amount_fen"]),
        voucher=result["voucher"], treasury=label(result["treasury"]))


def _withdrawn(result: dict[str, Any]) -> str:
    return _("{ref}: withdrawn").format(ref=result["ref"])


def _revoked(result: dict[str, Any]) -> str:
    back = [f"{label(payer)} {yuan(result[f'{payer}_paid_fen'])}" for payer in ("city", "county")
            if result[f"{payer}_paid_fen"]]
    return (_("{ref}: award of {amount} yuan revoked; nothing more is owed").format(
                ref=result["ref"], amount=yuan(result["awarded_fen"]))
            + (_("; paid so far, to recover: {amounts} yuan").format(amounts=", ".join(back)) if back else ""))


def _redecided(result: dict[str, Any]) -> str:
    return _("{ref}: re-decided after the revocation of {cites}: award now {amount} yuan (city {city}, county "
             "{county})").format(ref=result["ref"], cites=", ".join(result["cites"]),
                                 amount=yuan(result["awarded_fen"]), city=yuan(result["city_share_fen"]),
                                 county=yuan(result["county_share_fen"]))


def _reversed(result: dict[str, Any]) -> str:
    return _("{ref}: payment {voucher} by {payer} of {amount} yuan reversed; {payer} has now paid {paid} yuan "
             "net").format(ref=result["ref"], voucher=result["voucher"], payer=label(result["payer"]),
                           amount=yuan(result["amount_fen"]), paid=yuan(result["paid_fen"]))


def _recovered(result: dict[str, Any]) -> str:
    return _("{ref}: {amount} yuan recovered to the {treasury} treasury (receipt {voucher}); {payer} has now paid "
             "{paid} yuan net").format(ref=result["ref"], amount=yuan(result["amount_fen"]),
                                       treasury=label(result["treasury"]), voucher=result["voucher"],
                                       payer=label(result["payer"]), paid=yuan(result["paid_fen"]))


def _operator_registered(result: dict[str, Any]) -> str:
    roles = ", ".join(label(role) for role in result["roles"])
    text = (_("operator {name} registered: {roles}, from {start} to {end}").format(
                name=result["name"], roles=roles, start=result["valid_from"], end=result["valid_to"])
            if result["valid_to"] else
            _("operator {name} registered: {roles}, from {start}, no end").format(
                name=result["name"], roles=roles, start=result["valid_from"]))
    if result["enforced_now"]:
        text += "\n" + _("the ledger is now in enforced mode: every command is checked against the operators, "
                         "for good")
    return text


def _operator_changed(result: dict[str, Any]) -> str:
    roles = ", ".join(label(role) for role in result["roles"])
    return (_("operator {name}: {roles} (SUSPENDED)") if result["suspended"]
            else _("operator {name}: {roles} (active)")).format(name=result["name"], roles=roles)


def _set_aside(result: dict[str, Any]) -> str:
    return _("position {position} ({topic}, event {version} of {id}) set aside as malformed; its record replays "
             "without it from now on, and the row stays in the log").format(
        position=result["position"], topic=result["topic"], version=result["originator_version"],
        id=result["originator_id"])


def _external(result: dict[str, Any]) -> str:
    text = _("recorded award under {policy} for {uscc} project {project}: {amount} yuan").format(
        policy=result["policy"], uscc=result["uscc"], project=result["project"], amount=yuan(result["amount_fen"]))
    return text + ("\n" + _("warning: {message}").format(message=result["warning"]) if result.get("warning")
                   else "")


def _adopted(result: dict[str, Any]) -> str:
    return _("adopted {version}: valid {start} to {end} (exclusive)").format(
        version=result["version"], start=result["effective"], end=result["ends"])


#: The summary line of each kind's result, by op (ledger/domain/kinds.py; tests/unit/test_kinds.py keeps it
#: complete).
SUMMARIES: dict[str, Callable[[dict[str, Any]], str]] = {
    "adopt-policy": _adopted,
    "register": _registered,
    "apply": _filed,
    "approve": _approved,
    "reject": _rejected,
    "pay": _paid,
    "external-award": _external,
    "amend": _filed,
    "withdraw": _withdrawn,
    "revoke": _revoked,
    "reverse-payment": _reversed,
    "recover": _recovered,
    "redecide": _redecided,
    "register-operator": _operator_registered,
    "change-roles": _operator_changed,
    "suspend-operator": _operator_changed,
    "reinstate-operator": _operator_changed,
    "set-aside": _set_aside,
}


_COMMANDS: list[tuple[str | None, str, Callable[..., None]]] = []  # (name, help, command), in `grants --help` order


def _command(name: str | None = None, *, help: str) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """Keep a command, as ``app.command`` would register it, for ``install``."""

    def keep(command: Callable[P, None]) -> Callable[P, None]:
        _COMMANDS.append((name, help, command))
        return command

    return keep


def install(app: typer.Typer) -> None:
    """Add the recording commands and `show` to the root command, in the order they are defined here."""
    for name, help_text, command in _COMMANDS:
        app.command(name, help=help_text)(command)


@_command(help=N_("Register an enterprise and the area whose treasury pays its county half."))
@handled
def register(
    ctx: typer.Context,
    uscc: Annotated[str, typer.Option("--uscc", help=N_("18-character unified social credit code."))],
    name: Annotated[str, typer.Option("--name", help=N_("Registered name of the enterprise."))],
    area: Annotated[Area, typer.Option("--area", help=N_("County-level area (whose treasury pays the county half)."))],
    date: Annotated[str | None, typer.Option("--date", help=N_("Date of registration (optional)."))] = None,
    by: By = None,
    as_json: Json = False,
) -> None:
    record(ctx, {"op": "register", "uscc": uscc, "name": name, "area": area, "date": date, "by": by}, as_json)


@_command(help=N_("File an application under a measure, with its facts (recorded even when they miss "
                  "a threshold)."))
@handled
def apply(
    ctx: typer.Context,
    ref: Annotated[str, typer.Option("--ref", help=N_("Filing number, unique in the ledger."))],
    uscc: Annotated[str, typer.Option("--uscc", help=N_("The enterprise's unified social credit code."))],
    measure: Annotated[str, typer.Option("--measure", help=N_("Measure id, e.g. M03-platform (see grants policy list)."))],
    project: Annotated[str, typer.Option("--project", help=N_("The project the award is for (就高不重复 is "
                                                              "per project)."))],
    date: Date,
    fact: Facts = None,
    facts_json: FactsJson = None,
    by: By = None,
    as_json: Json = False,
) -> None:
    record(ctx, {"op": "apply", "ref": ref, "uscc": uscc, "measure": measure, "project": project, "date": date,
                 "facts": collect_facts(fact, facts_json), "by": by}, as_json)


@_command(help=N_("Approve an application: the rules compute the award (case-by-case items take "
                  "--amount and --basis)."))
@handled
def approve(
    ctx: typer.Context,
    ref: Ref,
    date: Date,
    amount: AmountYuan = None,
    amount_fen_: AmountFen = None,
    basis: Annotated[str | None, typer.Option("--basis", help=N_("Case-by-case items: the meeting or document that "
                                                               "decided the amount."))] = None,
    by: By = None,
    as_json: Json = False,
) -> None:
    fen = amount_fen(amount, amount_fen_, required=False)
    record(ctx, {"op": "approve", "ref": ref, "date": date, "by": by, "amount_fen": fen, "basis": basis}, as_json)


@_command(help=N_("Reject an application, with the reason."))
@handled
def reject(
    ctx: typer.Context,
    ref: Ref,
    date: Date,
    reason: Reason,
    by: By = None,
    as_json: Json = False,
) -> None:
    record(ctx, {"op": "reject", "ref": ref, "date": date, "by": by, "reason": reason}, as_json)


@_command(help=N_("Record a payment by one payer on an approved application."))
@handled
def pay(
    ctx: typer.Context,
    ref: Ref,
    payer: Payer,
    voucher: Annotated[str, typer.Option("--voucher", help=N_("Payment voucher number (unique per treasury)."))],
    date: Date,
    amount: AmountYuan = None,
    amount_fen_: AmountFen = None,
    by: By = None,
    as_json: Json = False,
) -> None:
    fen = amount_fen(amount, amount_fen_, required=True)
    record(ctx, {"op": "pay", "ref": ref, "payer": payer, "amount_fen": fen, "voucher": voucher, "date": date,
                 "by": by}, as_json)


@_command(help=N_("Amend (supplementary material): replace the whole set of facts of an undecided "
                  "application; both versions stay in the history."))
@handled
def amend(
    ctx: typer.Context,
    ref: Ref,
    date: Date,
    reason: Reason,
    fact: Facts = None,
    facts_json: FactsJson = None,
    by: By = None,
    as_json: Json = False,
) -> None:
    record(ctx, {"op": "amend", "ref": ref, "date": date, "reason": reason, "by": by,
                 "facts": collect_facts(fact, facts_json)}, as_json)


@_command(help=N_("Withdraw: the applicant withdraws an undecided application; nothing more can happen "
                  "to it."))
@handled
def withdraw(ctx: typer.Context, ref: Ref, date: Date, reason: Reason, by: By = None, as_json: Json = False) -> None:
    record(ctx, {"op": "withdraw", "ref": ref, "date": date, "reason": reason, "by": by}, as_json)


@_command(help=N_("Revoke an approved award; from its date nothing is owed and it counts as never made."))
@handled
def revoke(
    ctx: typer.Context,
    ref: Ref,
    date: Date,
    reason: Reason,
    document: Annotated[str, typer.Option("--document", help=N_("The document that ordered the revocation "
                                                             "(e.g. its number)."))],
    by: By = None,
    as_json: Json = False,
) -> None:
    record(ctx, {"op": "revoke", "ref": ref, "date": date, "reason": reason, "document": document, "by": by},
           as_json)


@_command(help=N_("Re-decide an award whose top-up (highest award, never duplicated) was reckoned against a "
                  "lower award since revoked: from its date the award is what the awards then in force leave "
                  "due."))
@handled
def redecide(ctx: typer.Context, ref: Ref, date: Date, reason: Reason, by: By = None, as_json: Json = False) -> None:
    record(ctx, {"op": "redecide", "ref": ref, "date": date, "reason": reason, "by": by}, as_json)


@_command("reverse-payment", help=N_("Reverse a payment (red-ink entry): the recorded payment no longer "
                                     "counts as paid; its voucher number stays used."))
@handled
def reverse_payment(
    ctx: typer.Context,
    ref: Ref,
    payer: Payer,
    voucher: Annotated[str, typer.Option("--voucher", help=N_("The voucher of the payment to reverse."))],
    date: Date,
    reason: Reason,
    by: By = None,
    as_json: Json = False,
) -> None:
    record(ctx, {"op": "reverse-payment", "ref": ref, "payer": payer, "voucher": voucher, "date": date,
                 "reason": reason, "by": by}, as_json)


@_command(help=N_("Recover: money paid on a revoked award comes back to the payer's treasury."))
@handled
def recover(
    ctx: typer.Context,
    ref: Ref,
    payer: Payer,
    voucher: Annotated[str, typer.Option("--voucher", help=N_("Receipt voucher number (unique per treasury)."))],
    date: Date,
    amount: AmountYuan = None,
    amount_fen_: AmountFen = None,
    reason: Annotated[str | None, typer.Option("--reason", help=N_("A note, e.g. the recovery notice."))] = None,
    by: By = None,
    as_json: Json = False,
) -> None:
    fen = amount_fen(amount, amount_fen_, required=True)
    record(ctx, {"op": "recover", "ref": ref, "payer": payer, "amount_fen": fen, "voucher": voucher,
                 "date": date, "reason": reason, "by": by}, as_json)


@_command("external-award", help=N_("Record an award the enterprise got for a project under another "
                                    "city policy (for 就高不重复)."))
@handled
def external_award(
    ctx: typer.Context,
    uscc: Annotated[str, typer.Option("--uscc", help=N_("The enterprise's unified social credit code."))],
    project: Annotated[str, typer.Option("--project", help=N_("The project the award was for."))],
    policy: Annotated[str, typer.Option("--policy", help=N_("The other city policy the award was made under."))],
    date: Date,
    amount: AmountYuan = None,
    amount_fen_: AmountFen = None,
    note: Annotated[str | None, typer.Option("--note", help=N_("E.g. the other policy's decision number."))] = None,
    by: By = None,
    as_json: Json = False,
) -> None:
    fen = amount_fen(amount, amount_fen_, required=True)
    record(ctx, {"op": "external-award", "uscc": uscc, "project": project, "policy": policy, "amount_fen": fen,
                 "date": date, "by": by, "note": note}, as_json)


@_command(help=N_("Show one application: status, amounts, payments and the computation behind the "
                  "amount, and each event with its recording time. Given a unified social credit "
                  "code: the enterprise."))
@handled
def show(ctx: typer.Context, ref: Ref, as_of: AsOf = None, known_at: KnownAt = None, as_json: Json = False) -> None:
    from ledger.intake.commands import parse_ref

    context: Context = ctx.obj
    ledger = context.reader()
    if uscc_problem(ref.strip()) is None:  # a unified social credit code: the enterprise
        data = ledger.enterprise_summary(ref.strip(), parse_as_of(as_of), parse_known_at(known_at))
        output.render(data, as_json, render_enterprise)
        return
    data = ledger.show(parse_ref(ref), parse_as_of(as_of), parse_known_at(known_at))
    if as_json:
        output.emit_json(data)
    else:
        output.echo(render_show(data))


def collect_facts(fact: list[str] | None, facts_json: str | None) -> dict[str, Any]:
    """--facts-json (one JSON object) and repeated --fact NAME=VALUE, the latter winning."""
    facts: dict[str, Any] = {}
    if facts_json:
        facts = jsonline.decode(facts_json, field="facts", expected=_('a JSON object, e.g. {example}').format(
            example='{"tier": "national"}'))
    facts.update(parse_fact_options(fact))
    return facts


def parse_fact_options(items: list[str] | None) -> dict[str, str]:
    """Repeated --fact NAME=VALUE options as a dict (values are read by the measure's fact types)."""
    facts: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise invalid("facts", _("--fact {item}: write NAME=VALUE, e.g. --fact tier=national").format(
                item=repr(item)))
        facts[key.strip()] = value.strip(" ")  # a control character at an end is refused, not trimmed
    return facts


def _cut(d: dict[str, Any]) -> str:
    """ (as of …)  (as known at …): the cut a view was taken at."""
    return ((_("  (as of {day})").format(day=d["as_of"]) if d["as_of"] else "")
            + (_("  (as known at {moment})").format(moment=d["known_at"]) if d["known_at"] else ""))


def _rows(pairs: list[tuple[str, str]]) -> list[str]:
    """Label-value lines, the values aligned whatever the language's label widths."""
    from rich.cells import cell_len

    width = max(cell_len(name) for name, _value in pairs)
    return [f"  {name}{' ' * (width - cell_len(name))}  {value}" for name, value in pairs]


def render_show(d: dict[str, Any]) -> str:
    zh = i18n.language() == "zh"
    eligibility = ("" if d["eligible"] or d["status"] != "submitted"
                   else "  (" + _("NOT ELIGIBLE as filed") + ")")
    status = label(d["status"]) if zh else d["status"].upper()
    lines = [f"{d['ref']}  {status}" + _cut(d) + eligibility]
    pairs = [
        (_("enterprise"), f"{d['uscc']}  {d['name']}  ({d['area']})"),
        (_("measure"), d["measure"] + "   " + _("project") + " " + d["project"]),
        (_("filed"), d["applied_on"] + "   " + _("policy version") + " " + d["policy_version"]),
        (_("facts"), _facts_text(d["facts"])),
    ]
    for a in d["amendments"]:
        pairs.append((_("amended"), _("{day} by {name}: {reason}").format(day=a["date"], name=a["by"],
                                                                          reason=a["reason"])))
        pairs.append(("  " + _("before"), _facts_text(a["facts_before"])))
    if d["decided_on"]:
        verb = _("withdrawn") if d["status"] == "withdrawn" else _("decided")
        pairs.append((verb, _("{day} by {name}").format(day=d["decided_on"], name=d["decided_by"])))
    if d["reason"]:
        pairs.append((_("reason"), d["reason"]))
    if d["basis"]:
        pairs.append((_("basis"), d["basis"]))
    revocation = d["revocation"]
    if revocation:
        pairs.append((_("revoked"), _("{day} by {name}, document {document}: {reason}").format(
            day=revocation["date"], name=revocation["by"], document=revocation["document"],
            reason=revocation["reason"])))
        pairs.append(("  " + _("award revoked"), _("{amount} (city {city}, county {county})").format(
            amount=yuan(revocation["awarded_fen"]), city=yuan(revocation["city_share_fen"]),
            county=yuan(revocation["county_share_fen"]))))
    for r in d.get("redecisions", []):
        pairs.append((_("re-decided"), _("{day} by {name}, after the revocation of {cites}: {before} -> {after}; "
                                         "{reason}").format(day=r["date"], name=r["by"], cites=", ".join(r["cites"]),
                                                            before=yuan(r["awarded_before_fen"]),
                                                            after=yuan(r["awarded_fen"]), reason=r["reason"])))
    lines += _rows(pairs)
    for finding in d.get("findings", []):
        lines.append("  " + _("warning: {message}").format(message=finding["message"]))
    lines.append("")
    rows = [[_("entitlement"), yuan(d["entitlement_fen"]), "", ""],
            [_("awarded"), yuan(d["awarded_fen"]), yuan(d["city_share_fen"]), yuan(d["county_share_fen"])],
            [_("paid, net"), "", yuan(d["city_paid_fen"]), yuan(d["county_paid_fen"])],
            [_("outstanding"), "", output.due(d["city_outstanding_fen"]), output.due(d["county_outstanding_fen"])]]
    if revocation:
        rows.append([_("to recover"), "", output.due(d["city_to_recover_fen"]),
                     output.due(d["county_to_recover_fen"])])
    lines.append(output.table(["", _("award"), label("city"), label("county")], rows, right=(1, 2, 3)))
    money = [[p["date"], _("payment"), label(p["payer"]), p["voucher"], yuan(p["amount_fen"]),
              _("reversed") if p["reversed"] else "", p["by"]] for p in d["payments"]]
    money += [[r["date"], _("reversal"), label(r["payer"]), r["voucher"], yuan(-r["amount_fen"]), r["reason"], r["by"]]
              for r in d["reversals"]]
    money += [[r["date"], _("recovery"), label(r["payer"]), r["voucher"], yuan(-r["amount_fen"]), r["reason"] or "",
               r["by"]] for r in d["recoveries"]]
    if money:
        lines.append("")
        lines.append(output.table([_("date"), _("entry"), _("payer"), _("voucher"), _("amount"), _("note"), _("by")],
                                  sorted(money, key=lambda row: row[0]), right=(4,)))
    lines.append("")
    lines.append(_("history as known at {moment}").format(moment=d["known_at"]) if d["known_at"] else _("history"))
    lines.append(output.table([_("effective"), _("recorded (UTC+8)"), _("event"), _("by")],
                              [[h["date"] or "-", china_time(h["recorded_at"]),
                                (h.get("what_zh") or h["what"]) if zh else h["what"], h["by"]]
                               for h in d["history"]]))
    lines.append("")
    lines.append(_("computation (preview: not decided yet)") if d["trace_is_preview"] else _("computation"))
    for n, step in enumerate(d["trace"], 1):
        lines.append(f"  {n:>2}. {(step.get('zh') or step.get('en', '')) if zh else step.get('en', '')}")
    return "\n".join(lines)


def render_enterprise(d: dict[str, Any]) -> str:
    lines = [f"{d['uscc']}  {d['name']}  ({d['area']})" + _cut(d),
             "  " + _("registered {day}").format(day=d["registered_on"] or "-"), ""]
    rows = [[a["ref"], a["measure"], a["project"], a["applied_on"], label(a["status"]), yuan(a["awarded_fen"]),
             yuan(a["city_paid_fen"]), yuan(a["county_paid_fen"]),
             yuan(a["city_outstanding_fen"] + a["county_outstanding_fen"]), yuan(a["to_recover_fen"])]
            for a in d["applications"]]
    t = d["total"]
    rows.append([_("total"), "", "", "", "", yuan(t["awarded_fen"]), yuan(t["city_paid_fen"]),
                 yuan(t["county_paid_fen"]), yuan(t["city_outstanding_fen"] + t["county_outstanding_fen"]),
                 yuan(t["to_recover_fen"])])
    lines.append(output.table([_("ref"), _("measure"), _("project"), _("filed"), _("status"), _("awarded"),
                               _("city paid"), _("county paid"), _("due"), _("to recover")],
                              rows, right=(5, 6, 7, 8, 9)))
    if d["external_awards"]:
        lines += ["", _("awards under other policies")]
        lines.append(output.table([_("date"), _("project"), _("policy"), _("amount"), _("by")],
                                  [[e["date"], e["project"], e["policy"], yuan(e["amount_fen"]), e["by"]]
                                   for e in d["external_awards"]], right=(3,)))
    return "\n".join(lines)


def china_time(iso: str) -> str:
    """A recording time (stored in UTC) as China time, to the second."""
    return datetime.fromisoformat(iso).astimezone(clock.CHINA).strftime("%Y-%m-%d %H:%M:%S")


def _facts_text(facts: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in facts.items())
