"""Commands that record events (register, apply, approve, reject, pay, external-award)
and `show`, the one that reads an application back with its computation trace."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from commands import clock, output
from commands.context import Context
from commands.options import AmountFen, AmountYuan, AsOf, By, Date, Json, Ref
from commands.output import handled, yuan
from ledger import jsonline
from ledger.areas import AREAS
from ledger.errors import invalid
from ledger.intake import parse_command, parse_ref
from ledger.money import MoneyError, parse_yuan
from ledger.policy.facts import parse_date


def parse_as_of(value: str | None) -> Any:
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError:
        raise invalid("as_of", f"{value!r} is not a date; write YYYY-MM-DD") from None


def amount_fen(yuan_text: str | None, fen: int | None, *, required: bool) -> int | None:
    """--amount (yuan, with 万/亿) or --amount-fen, never both."""
    if yuan_text is not None and fen is not None:
        raise invalid("amount", "give --amount (yuan) or --amount-fen, not both")
    if yuan_text is not None:
        try:
            return parse_yuan(yuan_text)
        except MoneyError as exc:
            raise invalid("amount", str(exc)) from None
    if fen is None and required:
        raise invalid("amount", "is required: --amount in yuan (e.g. 1000000, 100万) or --amount-fen")
    return fen


def record(ctx: typer.Context, data: dict[str, Any], as_json: bool) -> dict[str, Any]:
    """Parse a command exactly as an import line would be, execute it, bring the views up to date."""
    context: Context = ctx.obj
    command = parse_command({k: v for k, v in data.items() if v is not None}, context.operator, today=clock.today())
    ledger = context.ledger()
    result = ledger.execute(command)
    try:
        context.views()
    except Exception as exc:  # noqa: BLE001 - the command itself is recorded; say so
        output.stderr(f"warning: recorded, but the reports could not be brought up to date ({exc}); "
                      "run `grants projections rebuild`")
    output.log.info(data["op"], **{k: v for k, v in result.items() if k in ("ref", "status", "awarded_fen", "amount_fen",
                                                                           "payer", "version")})
    if as_json:
        output.emit_json(result)
    else:
        output.echo(summary(result))
    return result


def summary(result: dict[str, Any]) -> str:
    op = result["op"]
    if op == "register":
        return f"registered {result['uscc']} {result['name']} ({result['area']})"
    if op == "apply":
        ent = result.get("entitlement_fen")
        return (f"{result['ref']}: submitted under {result['measure']} (policy {result['policy_version']}); "
                + (f"the clause gives {yuan(ent)} yuan" if ent is not None else "amount to be decided case by case"))
    if op == "approve":
        return (f"{result['ref']}: approved {yuan(result['awarded_fen'])} yuan "
                f"(city {yuan(result['city_share_fen'])}, county {yuan(result['county_share_fen'])})")
    if op == "reject":
        return f"{result['ref']}: rejected"
    if op == "pay":
        return (f"{result['ref']}: {result['payer']} paid {yuan(result['amount_fen'])} yuan "
                f"(voucher {result['voucher']}, treasury {result['treasury']})")
    if op == "external-award":
        text = (f"recorded award under {result['policy']} for {result['uscc']} project {result['project']}: "
                f"{yuan(result['amount_fen'])} yuan")
        return text + (f"\nwarning: {result['warning']}" if result.get("warning") else "")
    if op == "adopt-policy":
        return f"adopted {result['version']}: valid {result['effective']} to {result['ends']} (exclusive)"
    return json.dumps(result, ensure_ascii=False)


def install(app: typer.Typer) -> None:
    @app.command()
    @handled
    def register(
        ctx: typer.Context,
        uscc: Annotated[str, typer.Option("--uscc", help="18-character unified social credit code.")],
        name: Annotated[str, typer.Option("--name", help="Registered name of the enterprise.")],
        area: Annotated[str, typer.Option("--area", help="County-level area: " + ", ".join(AREAS))],
        date: Annotated[str | None, typer.Option("--date", help="Date of registration (optional).")] = None,
        by: By = None,
        as_json: Json = False,
    ) -> None:
        """Register an enterprise and the area whose treasury pays its county half."""
        record(ctx, {"op": "register", "uscc": uscc, "name": name, "area": area, "date": date, "by": by}, as_json)

    @app.command()
    @handled
    def apply(
        ctx: typer.Context,
        ref: Annotated[str, typer.Option("--ref", help="Filing number, unique in the ledger.")],
        uscc: Annotated[str, typer.Option("--uscc")],
        measure: Annotated[str, typer.Option("--measure", help="Measure id, e.g. M03-platform (see grants policy list).")],
        project: Annotated[str, typer.Option("--project", help="The project the award is for (就高不重复 is per project).")],
        date: Date,
        fact: Annotated[list[str] | None, typer.Option("--fact", metavar="NAME=VALUE",
                                                        help="A fact of the measure; repeat for each.")] = None,
        facts_json: Annotated[str | None, typer.Option("--facts-json", help="All facts as one JSON object.")] = None,
        by: By = None,
        as_json: Json = False,
    ) -> None:
        """File an application under a measure, with its facts."""
        facts: dict[str, Any] = {}
        if facts_json:
            facts = jsonline.decode(facts_json, field="facts", expected='a JSON object, e.g. {"tier": "national"}')
        facts.update(parse_fact_options(fact))
        record(ctx, {"op": "apply", "ref": ref, "uscc": uscc, "measure": measure, "project": project, "date": date,
                     "facts": facts, "by": by}, as_json)

    @app.command()
    @handled
    def approve(
        ctx: typer.Context,
        ref: Ref,
        date: Date,
        amount: AmountYuan = None,
        amount_fen_: AmountFen = None,
        basis: Annotated[str | None, typer.Option("--basis", help="Case-by-case items: the meeting or document that "
                                                                   "decided the amount.")] = None,
        by: By = None,
        as_json: Json = False,
    ) -> None:
        """Approve an application: the rules compute the award (case-by-case items take --amount and --basis)."""
        fen = amount_fen(amount, amount_fen_, required=False)
        record(ctx, {"op": "approve", "ref": ref, "date": date, "by": by, "amount_fen": fen, "basis": basis}, as_json)

    @app.command()
    @handled
    def reject(
        ctx: typer.Context,
        ref: Ref,
        date: Date,
        reason: Annotated[str, typer.Option("--reason", help="Why, in words the applicant will read.")],
        by: By = None,
        as_json: Json = False,
    ) -> None:
        """Reject an application, with the reason."""
        record(ctx, {"op": "reject", "ref": ref, "date": date, "by": by, "reason": reason}, as_json)

    @app.command()
    @handled
    def pay(
        ctx: typer.Context,
        ref: Ref,
        payer: Annotated[str, typer.Option("--payer", help="city (市级财政) or county (the enterprise's area).")],
        voucher: Annotated[str, typer.Option("--voucher", help="Payment voucher number (unique per treasury).")],
        date: Date,
        amount: AmountYuan = None,
        amount_fen_: AmountFen = None,
        by: By = None,
        as_json: Json = False,
    ) -> None:
        """Record a payment by one payer on an approved application."""
        fen = amount_fen(amount, amount_fen_, required=True)
        record(ctx, {"op": "pay", "ref": ref, "payer": payer, "amount_fen": fen, "voucher": voucher, "date": date,
                     "by": by}, as_json)

    @app.command("external-award")
    @handled
    def external_award(
        ctx: typer.Context,
        uscc: Annotated[str, typer.Option("--uscc")],
        project: Annotated[str, typer.Option("--project")],
        policy: Annotated[str, typer.Option("--policy", help="The other city policy the award was made under.")],
        date: Date,
        amount: AmountYuan = None,
        amount_fen_: AmountFen = None,
        note: Annotated[str | None, typer.Option("--note", help="E.g. the other policy's decision number.")] = None,
        by: By = None,
        as_json: Json = False,
    ) -> None:
        """Record an award the enterprise got for a project under another city policy (for 就高不重复)."""
        fen = amount_fen(amount, amount_fen_, required=True)
        record(ctx, {"op": "external-award", "uscc": uscc, "project": project, "policy": policy, "amount_fen": fen,
                     "date": date, "by": by, "note": note}, as_json)

    @app.command()
    @handled
    def show(ctx: typer.Context, ref: Ref, as_of: AsOf = None, as_json: Json = False) -> None:
        """Show one application: status, amounts, payments and the computation behind the amount."""
        context: Context = ctx.obj
        data = context.ledger(create=False).show(parse_ref(ref), parse_as_of(as_of))
        if as_json:
            output.emit_json(data)
        else:
            output.echo(render_show(data))


def parse_fact_options(items: list[str] | None) -> dict[str, str]:
    """Repeated --fact NAME=VALUE options as a dict (values are read by the measure's fact types)."""
    facts: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise invalid("facts", f"--fact {item!r}: write NAME=VALUE, e.g. --fact tier=national")
        facts[key.strip()] = value.strip()
    return facts


def render_show(d: dict[str, Any]) -> str:
    lines = [
        f"{d['ref']}  {d['status'].upper()}" + (f"  (as of {d['as_of']})" if d["as_of"] else ""),
        f"  enterprise 企业     {d['uscc']}  {d['name']}  ({d['area']})",
        f"  measure 措施        {d['measure']}   project 项目 {d['project']}",
        f"  filed 申请日期      {d['applied_on']}   policy version 政策版本 {d['policy_version']}",
        "  facts 申报事实      " + ", ".join(f"{k}={v}" for k, v in d["facts"].items()),
    ]
    if d["decided_on"]:
        lines.append(f"  decided 决定        {d['decided_on']} by {d['decided_by']}")
    if d["reason"]:
        lines.append(f"  reason 理由         {d['reason']}")
    if d["basis"]:
        lines.append(f"  basis 依据          {d['basis']}")
    lines.append("")
    lines.append(output.table(
        ["", "award 奖励", "city 市级", "county 县级"],
        [["entitlement 应得", yuan(d["entitlement_fen"]), "", ""],
         ["awarded 核定", yuan(d["awarded_fen"]), yuan(d["city_share_fen"]), yuan(d["county_share_fen"])],
         ["paid 已付", "", yuan(d["city_paid_fen"]), yuan(d["county_paid_fen"])],
         ["outstanding 未付", "", yuan(d["city_outstanding_fen"]), yuan(d["county_outstanding_fen"])]],
        right=(1, 2, 3)))
    if d["payments"]:
        lines.append("")
        lines.append(output.table(["payment 支付", "payer", "voucher 凭证", "amount 金额", "by"],
                                  [[p["date"], p["payer"], p["voucher"], yuan(p["amount_fen"]), p["by"]]
                                   for p in d["payments"]], right=(3,)))
    lines.append("")
    lines.append("computation 计算过程" + (" (preview: not decided yet)" if d["trace_is_preview"] else ""))
    for n, step in enumerate(d["trace"], 1):
        lines.append(f"  {n:>2}. {step.get('en', '')}")
        if step.get("zh") and step.get("zh") != step.get("en"):
            lines.append(f"      {step['zh']}")
    return "\n".join(lines)
