"""Commands that record events (register, apply, approve, reject, pay, external-award)
and `show`, the one that reads an application back with its computation trace."""

from __future__ import annotations

import json
from datetime import datetime, time
from typing import Annotated, Any

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
from ledger import jsonline
from ledger.errors import invalid
from ledger.intake import parse_command, parse_ref
from ledger.money import MoneyError, parse_yuan
from ledger.policy.facts import parse_date
from ledger.uscc import uscc_problem


def parse_as_of(value: str | None) -> Any:
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError:
        raise invalid("as_of", f"{value!r} is not a date; write YYYY-MM-DD") from None


def parse_known_at(value: str | None) -> Any:
    """--known-at: an ISO date-time (China time unless it carries an offset), or a day meaning its end."""
    if value is None:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            moment = datetime.combine(parse_date(text), time.max)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid("known_at", f"{value!r} is not a moment; write 2024-01-15T18:00 (China time), "
                      "2024-01-15T10:00+00:00, or a day 2024-01-15 (its end)") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=clock.CHINA)


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
        output.echo(f"  ledger 账本: {context.store.shown}")
    return result


def summary(result: dict[str, Any]) -> str:
    op = result["op"]
    if result.get("already_recorded"):
        key = result.get("ref") or result.get("uscc") or result.get("version")
        when = f" on {result['recorded_on']}" if result.get("recorded_on") else ""
        who = f" by {result['recorded_by']}" if result.get("recorded_by") else ""
        return f"{key}: already recorded 已记录 ({op}{when}{who}); nothing written"
    if op == "register":
        return f"registered {result['uscc']} {result['name']} ({result['area']})"
    if op in ("apply", "amend"):
        ent = result.get("entitlement_fen")
        head = (f"{result['ref']}: submitted under {result['measure']} (policy {result['policy_version']}); "
                if op == "apply" else f"{result['ref']}: facts amended (补正), still submitted; ")
        if not result["eligible"]:
            return head + f"NOT ELIGIBLE as filed 不符合条件\nwarning: {result['warning']}"
        return head + (f"the clause gives {yuan(ent)} yuan" if ent is not None else "amount to be decided case by case")
    if op == "approve":
        return (f"{result['ref']}: approved {yuan(result['awarded_fen'])} yuan "
                f"(city {yuan(result['city_share_fen'])}, county {yuan(result['county_share_fen'])})")
    if op == "reject":
        return f"{result['ref']}: rejected"
    if op == "pay":
        return (f"{result['ref']}: {result['payer']} paid {yuan(result['amount_fen'])} yuan "
                f"(voucher {result['voucher']}, treasury {result['treasury']})")
    if op == "withdraw":
        return f"{result['ref']}: withdrawn 已撤回"
    if op == "revoke":
        back = [f"{payer} {yuan(result[f'{payer}_paid_fen'])}" for payer in ("city", "county")
                if result[f"{payer}_paid_fen"]]
        return (f"{result['ref']}: award of {yuan(result['awarded_fen'])} yuan revoked 已撤销; nothing more is owed"
                + (f"; paid so far, to recover 待追回: {', '.join(back)} yuan" if back else ""))
    if op == "reverse-payment":
        return (f"{result['ref']}: payment {result['voucher']} by {result['payer']} of {yuan(result['amount_fen'])} "
                f"yuan reversed 红字冲销; {result['payer']} has now paid {yuan(result['paid_fen'])} yuan net")
    if op == "recover":
        return (f"{result['ref']}: {yuan(result['amount_fen'])} yuan recovered 已追回 to the {result['treasury']} "
                f"treasury (receipt {result['voucher']}); {result['payer']} has now paid {yuan(result['paid_fen'])} "
                "yuan net")
    if op == "register-operator":
        until = result["valid_to"] or "no end"
        return (f"operator {result['name']} registered: {', '.join(result['roles'])}, from {result['valid_from']} "
                f"to {until}" + ("\nthe ledger is now in enforced mode: every command is checked against the "
                                 "operators, for good" if result["enforced_now"] else ""))
    if op in ("change-roles", "suspend-operator", "reinstate-operator"):
        return (f"operator {result['name']}: {', '.join(result['roles'])}"
                + (" (SUSPENDED)" if result["suspended"] else " (active)"))
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
        area: Annotated[Area, typer.Option("--area", help="County-level area (whose treasury pays the county half).")],
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
        fact: Facts = None,
        facts_json: FactsJson = None,
        by: By = None,
        as_json: Json = False,
    ) -> None:
        """File an application under a measure, with its facts (recorded even when they miss a threshold)."""
        record(ctx, {"op": "apply", "ref": ref, "uscc": uscc, "measure": measure, "project": project, "date": date,
                     "facts": collect_facts(fact, facts_json), "by": by}, as_json)

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
        reason: Reason,
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
        payer: Payer,
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

    @app.command()
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
        """补正: replace the whole set of facts of an undecided application; both versions stay in the history."""
        record(ctx, {"op": "amend", "ref": ref, "date": date, "reason": reason, "by": by,
                     "facts": collect_facts(fact, facts_json)}, as_json)

    @app.command()
    @handled
    def withdraw(ctx: typer.Context, ref: Ref, date: Date, reason: Reason, by: By = None, as_json: Json = False) -> None:
        """撤回: the applicant withdraws an undecided application; nothing more can happen to it."""
        record(ctx, {"op": "withdraw", "ref": ref, "date": date, "reason": reason, "by": by}, as_json)

    @app.command()
    @handled
    def revoke(
        ctx: typer.Context,
        ref: Ref,
        date: Date,
        reason: Reason,
        document: Annotated[str, typer.Option("--document", help="The document that ordered the revocation "
                                                                 "(e.g. its number).")],
        by: By = None,
        as_json: Json = False,
    ) -> None:
        """撤销: revoke an approved award; from its date nothing is owed and it counts as never made."""
        record(ctx, {"op": "revoke", "ref": ref, "date": date, "reason": reason, "document": document, "by": by},
               as_json)

    @app.command("reverse-payment")
    @handled
    def reverse_payment(
        ctx: typer.Context,
        ref: Ref,
        payer: Payer,
        voucher: Annotated[str, typer.Option("--voucher", help="The voucher of the payment to reverse.")],
        date: Date,
        reason: Reason,
        by: By = None,
        as_json: Json = False,
    ) -> None:
        """红字冲销: a recorded payment no longer counts as paid; its voucher number stays used."""
        record(ctx, {"op": "reverse-payment", "ref": ref, "payer": payer, "voucher": voucher, "date": date,
                     "reason": reason, "by": by}, as_json)

    @app.command()
    @handled
    def recover(
        ctx: typer.Context,
        ref: Ref,
        payer: Payer,
        voucher: Annotated[str, typer.Option("--voucher", help="Receipt voucher number (unique per treasury).")],
        date: Date,
        amount: AmountYuan = None,
        amount_fen_: AmountFen = None,
        reason: Annotated[str | None, typer.Option("--reason", help="A note, e.g. the recovery notice.")] = None,
        by: By = None,
        as_json: Json = False,
    ) -> None:
        """追回: money paid on a revoked award comes back to the payer's treasury."""
        fen = amount_fen(amount, amount_fen_, required=True)
        record(ctx, {"op": "recover", "ref": ref, "payer": payer, "amount_fen": fen, "voucher": voucher,
                     "date": date, "reason": reason, "by": by}, as_json)

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
    def show(ctx: typer.Context, ref: Ref, as_of: AsOf = None, known_at: KnownAt = None, as_json: Json = False) -> None:
        """Show one application: status, amounts, payments and the computation behind the amount, and
        each event with its recording time. Given a unified social credit code: the enterprise."""
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
        facts = jsonline.decode(facts_json, field="facts", expected='a JSON object, e.g. {"tier": "national"}')
    facts.update(parse_fact_options(fact))
    return facts


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
    eligibility = "" if d["eligible"] or d["status"] != "submitted" else "  (NOT ELIGIBLE as filed 不符合条件)"
    lines = [
        f"{d['ref']}  {d['status'].upper()}" + (f"  (as of {d['as_of']})" if d["as_of"] else "")
        + (f"  (as known at {d['known_at']})" if d["known_at"] else "") + eligibility,
        f"  enterprise 企业     {d['uscc']}  {d['name']}  ({d['area']})",
        f"  measure 措施        {d['measure']}   project 项目 {d['project']}",
        f"  filed 申请日期      {d['applied_on']}   policy version 政策版本 {d['policy_version']}",
        "  facts 申报事实      " + _facts_text(d["facts"]),
    ]
    for a in d["amendments"]:
        lines.append(f"  amended 补正        {a['date']} by {a['by']}: {a['reason']}")
        lines.append(f"      before 原事实    {_facts_text(a['facts_before'])}")
    if d["decided_on"]:
        verb = "withdrawn 撤回" if d["status"] == "withdrawn" else "decided 决定   "
        lines.append(f"  {verb}     {d['decided_on']} by {d['decided_by']}")
    if d["reason"]:
        lines.append(f"  reason 理由         {d['reason']}")
    if d["basis"]:
        lines.append(f"  basis 依据          {d['basis']}")
    revocation = d["revocation"]
    if revocation:
        lines.append(f"  revoked 撤销        {revocation['date']} by {revocation['by']}, document 文件 "
                     f"{revocation['document']}: {revocation['reason']}")
        lines.append(f"      award revoked 撤销金额 {yuan(revocation['awarded_fen'])} (city 市级 "
                     f"{yuan(revocation['city_share_fen'])}, county 县级 {yuan(revocation['county_share_fen'])})")
    lines.append("")
    rows = [["entitlement 应得", yuan(d["entitlement_fen"]), "", ""],
            ["awarded 核定", yuan(d["awarded_fen"]), yuan(d["city_share_fen"]), yuan(d["county_share_fen"])],
            ["paid, net 已付净额", "", yuan(d["city_paid_fen"]), yuan(d["county_paid_fen"])],
            ["outstanding 未付", "", output.due(d["city_outstanding_fen"]), output.due(d["county_outstanding_fen"])]]
    if revocation:
        rows.append(["to recover 待追回", "", output.due(d["city_to_recover_fen"]),
                     output.due(d["county_to_recover_fen"])])
    lines.append(output.table(["", "award 奖励", "city 市级", "county 县级"], rows, right=(1, 2, 3)))
    money = [[p["date"], "payment 支付", p["payer"], p["voucher"], yuan(p["amount_fen"]),
              "reversed 已冲销" if p["reversed"] else "", p["by"]] for p in d["payments"]]
    money += [[r["date"], "reversal 冲销", r["payer"], r["voucher"], yuan(-r["amount_fen"]), r["reason"], r["by"]]
              for r in d["reversals"]]
    money += [[r["date"], "recovery 追回", r["payer"], r["voucher"], yuan(-r["amount_fen"]), r["reason"] or "", r["by"]]
              for r in d["recoveries"]]
    if money:
        lines.append("")
        lines.append(output.table(["date 日期", "entry 款项", "payer", "voucher 凭证", "amount 金额", "note 备注", "by"],
                                  sorted(money, key=lambda row: row[0]), right=(4,)))
    lines.append("")
    lines.append("history 记录" + (f" as known at {d['known_at']}" if d["known_at"] else ""))
    lines.append(output.table(["effective 生效日", "recorded 记录时间 (China)", "event 事项", "by 经办"],
                              [[h["date"] or "-", china_time(h["recorded_at"]), h["what"], h["by"]]
                               for h in d["history"]]))
    lines.append("")
    lines.append("computation 计算过程" + (" (preview: not decided yet)" if d["trace_is_preview"] else ""))
    for n, step in enumerate(d["trace"], 1):
        lines.append(f"  {n:>2}. {step.get('en', '')}")
        if step.get("zh") and step.get("zh") != step.get("en"):
            lines.append(f"      {step['zh']}")
    return "\n".join(lines)


def render_enterprise(d: dict[str, Any]) -> str:
    cut = (f"  (as of {d['as_of']})" if d["as_of"] else "") + (f"  (as known at {d['known_at']})" if d["known_at"] else "")
    lines = [f"{d['uscc']}  {d['name']}  ({d['area']})" + cut,
             f"  registered 登记 {d['registered_on'] or '-'}", ""]
    rows = [[a["ref"], a["measure"], a["project"], a["applied_on"], a["status"], yuan(a["awarded_fen"]),
             yuan(a["city_paid_fen"]), yuan(a["county_paid_fen"]),
             yuan(a["city_outstanding_fen"] + a["county_outstanding_fen"]), yuan(a["to_recover_fen"])]
            for a in d["applications"]]
    t = d["total"]
    rows.append(["total 合计", "", "", "", "", yuan(t["awarded_fen"]), yuan(t["city_paid_fen"]),
                 yuan(t["county_paid_fen"]), yuan(t["city_outstanding_fen"] + t["county_outstanding_fen"]),
                 yuan(t["to_recover_fen"])])
    lines.append(output.table(["ref 编号", "measure 措施", "project 项目", "filed 申请", "status 状态", "awarded 核定",
                               "city paid 市级已付", "county paid 县级已付", "due 未付", "to recover 待追回"],
                              rows, right=(5, 6, 7, 8, 9)))
    if d["external_awards"]:
        lines += ["", "awards under other policies 其他政策奖励"]
        lines.append(output.table(["date 日期", "project 项目", "policy 政策", "amount 金额", "by"],
                                  [[e["date"], e["project"], e["policy"], yuan(e["amount_fen"]), e["by"]]
                                   for e in d["external_awards"]], right=(3,)))
    return "\n".join(lines)


def china_time(iso: str) -> str:
    """A recording time (stored in UTC) as China time, to the second."""
    return datetime.fromisoformat(iso).astimezone(clock.CHINA).strftime("%Y-%m-%d %H:%M:%S")


def _facts_text(facts: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in facts.items())
