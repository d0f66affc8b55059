"""`grants policy`: the catalogue of measures, what-if checks, and adopting a version."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from commands import clock, output
from commands.context import Context, NoLedger
from commands.options import By, Json
from commands.output import handled
from commands.records import parse_fact_options, record
from ledger import rules
from ledger.errors import invalid
from ledger.money import format_fen
from ledger.policy import CURRENT_CATALOGUE, catalogue
from ledger.policy.facts import parse_date
from ledger.policy.measures import Measure
from ledger.policy.text_2022 import FUNDING, VALIDITY

app = typer.Typer(help="The policy's measures, what-if checks, and adopted versions.", no_args_is_help=True)


def measure_data(m: Measure) -> dict[str, Any]:
    return {
        "id": m.id, "clause": m.clause, "kind": m.kind, "grantable": m.grantable, "title_zh": m.title_zh,
        "summary_en": m.summary_en, "lead": m.lead, "amount_zh": m.amount_zh,
        "one_time": m.once, "tiers_fen": dict(m.tiers),
        "quota": {"per": m.quota.year_fact, "item": m.quota.item_fact, "limit": m.quota.limit} if m.quota else None,
        "facts": [{"name": f.name, "type": f.kind, "zh": f.zh, "en": f.en, "required": f.required,
                   "allowed": f.describe()} for f in m.facts],
        "readings": [{"zh": zh, "en": en} for zh, en in m.readings],
        "examples": [{"facts": dict(e.facts), "outcome": e.outcome} for e in m.examples],
        "quote": m.quote,
    }


@app.command("list")
@handled
def list_(as_json: Json = False, catalogue_id: Annotated[str, typer.Option("--catalogue")] = CURRENT_CATALOGUE) -> None:
    """Every measure item of the policy, with its clause, kind and amount."""
    cat = catalogue(catalogue_id)
    if as_json:
        output.emit_json({"catalogue": cat.id, "measures": [measure_data(m) for m in cat.measures.values()]})
        return
    output.echo(cat.title)
    output.echo(output.table(["measure", "clause 条", "kind", "amount 金额", "title 名称"],
                             [[m.id, m.clause, m.kind, m.amount_zh or "no cash 不涉及资金", m.title_zh]
                              for m in cat.measures.values()]))
    output.echo(f"\n{FUNDING}\n{VALIDITY}")


@app.command("show")
@handled
def show(measure: Annotated[str, typer.Argument(help="Measure id, e.g. M03-security.")], as_json: Json = False,
         catalogue_id: Annotated[str, typer.Option("--catalogue")] = CURRENT_CATALOGUE) -> None:
    """One measure: its clause text, facts, default readings and worked examples."""
    m = catalogue(catalogue_id).measure(measure)
    data = measure_data(m)
    if as_json:
        output.emit_json(data)
        return
    out = [f"{m.id}  clause 第{m.clause}条  {m.title_zh}", f"kind: {m.kind}   lead 牵头单位: {m.lead}",
           f"amount 金额: {m.amount_zh or 'no cash 不涉及资金'}", "", m.summary_en, "", "原文 original text:", m.quote]
    if m.facts:
        out += ["", "facts 申报事实:"]
        out += [f"  {f.name:<24} {f.zh} / {f.en}; {f.describe()}" + ("" if f.required else " (optional)")
                for f in m.facts]
    if m.readings:
        out += ["", "default readings 默认解释 (where the text is silent):"]
        out += [f"  - {zh}\n    {en}" for zh, en in m.readings]
    if m.examples:
        out += ["", "worked examples 算例:"]
        out += [f"  {dict(e.facts)} -> {e.outcome}" for e in m.examples]
    output.echo("\n".join(out))


@app.command("check")
@handled
def check(
    ctx: typer.Context,
    measure: Annotated[str, typer.Option("--measure", help="Measure id.")],
    fact: Annotated[list[str] | None, typer.Option("--fact", metavar="NAME=VALUE")] = None,
    date: Annotated[str | None, typer.Option("--date", help="Application date (default today).")] = None,
    as_json: Json = False,
) -> None:
    """What an application with these facts would get, and why. Records nothing."""
    context: Context = ctx.obj
    facts = parse_fact_options(fact)
    try:
        day = parse_date(date) if date else clock.today()
    except ValueError:
        raise invalid("date", f"{date!r} is not a date; write YYYY-MM-DD") from None
    try:
        book = context.ledger(create=False).policy_book()
    except NoLedger as exc:
        if not exc.missing:
            raise  # a ledger that cannot be reached is not the same as none at all
        book = None  # no ledger here: check against the catalogue alone
    result = rules.check_application(book, measure, facts, day)
    if as_json:
        output.emit_json(result)
        return
    amount = ("decided case by case (一事一议)" if result["case_by_case"]
              else f"{format_fen(result['entitlement_fen'])} yuan")
    out = [f"{result['measure']} under {result['policy_version']}: {amount}", ""]
    out += [f"  {n:>2}. {s.get('en', '')}" for n, s in enumerate(result["trace"], 1)]
    out += [f"note: {n}" for n in result["notes"]]
    output.echo("\n".join(out))


@app.command("adopt")
@handled
def adopt(
    ctx: typer.Context,
    effective: Annotated[str, typer.Option("--effective", help="Date the policy takes effect (施行).")],
    version: Annotated[str | None, typer.Option("--version", help="Version id (default catalogue@effective).")] = None,
    catalogue_id: Annotated[str | None, typer.Option("--catalogue")] = None,
    date: Annotated[str | None, typer.Option("--date", help="Date of the adoption decision (default --effective).")] = None,
    by: By = None,
    as_json: Json = False,
) -> None:
    """Adopt a policy version: its catalogue and its validity window of 3 years from --effective."""
    record(ctx, {"op": "adopt-policy", "effective": effective, "version": version, "catalogue": catalogue_id,
                 "date": date, "by": by}, as_json)


@app.command("versions")
@handled
def versions(ctx: typer.Context, as_json: Json = False) -> None:
    """The adopted policy versions and their validity windows."""
    context: Context = ctx.obj
    book = context.reader().policy_book()
    rows = [{"version": v.version, "catalogue": v.catalogue, "effective": v.effective.isoformat(),
             "ends": v.ends.isoformat(), "adopted_on": v.adopted_on.isoformat(), "by": v.by}
            for v in (book.versions.values() if book else [])]
    if as_json:
        output.emit_json({"versions": rows})
        return
    output.echo(output.table(["version", "effective 施行", "ends (exclusive)", "adopted", "by"],
                             [[r["version"], r["effective"], r["ends"], r["adopted_on"], r["by"]] for r in rows]))

