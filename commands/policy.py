"""`grants policy`: the catalogue of measures, what-if checks, editions, and adopting a version."""

from __future__ import annotations

import re
import tomllib
from datetime import date as Date
from pathlib import Path
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
from ledger.policy import (
    CURRENT_CATALOGUE,
    Catalogue,
    build,
    builtin_catalogues,
    builtin_edition_text,
    builtin_source_text,
    catalogue,
    check_edition,
)
from ledger.policy.compare import Case, catalogue_examples, changes
from ledger.policy.edition import Edition, quote_findings, source_digest
from ledger.policy.facts import parse_date
from ledger.policy.measures import Measure

app = typer.Typer(help="The policy's measures, what-if checks, editions, and adopted versions.", no_args_is_help=True)
edition_app = typer.Typer(help="Editions of the policy as data files: copy one, check it.", no_args_is_help=True)
app.add_typer(edition_app, name="edition")


def measure_data(m: Measure) -> dict[str, Any]:
    return {
        "id": m.id, "clause": m.clause, "kind": m.kind, "grantable": m.grantable, "title_zh": m.title_zh,
        "summary_en": m.summary_en, "lead": m.lead, "amount_zh": m.amount_zh,
        "one_time": m.once, "tiers_fen": dict(m.tiers),
        "quota": {"per": m.quota.year_fact, "item": m.quota.item_fact, "limit": m.quota.limit} if m.quota else None,
        "facts": [{"name": f.name, "type": f.kind, "zh": f.zh, "en": f.en, "required": f.required,
                   "allowed": f.describe()} for f in m.facts],
        "readings": [{"zh": zh, "en": en} for zh, en in m.readings],
        "examples": [{"facts": dict(e.facts), "outcome": m.outcome(e)} for e in m.examples],
        "params": {p.name: {"kind": str(p.kind), "value": p.written, "words": p.words} for p in m.params.values()},
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
    output.echo(f"\n{cat.edition.funding}\n{cat.edition.validity_text}")


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
        out += [f"  {dict(e.facts)} -> {m.outcome(e)}" for e in m.examples]
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
    """What an application with these facts would get, and why. Records nothing.

    The answer, eligible or not, exits 0; only a question that cannot be asked (an unknown
    measure, malformed facts) is refused."""
    context: Context = ctx.obj
    facts = parse_fact_options(fact)
    try:
        day = parse_date(date) if date else clock.today()
    except ValueError:
        raise invalid("date", f"{date!r} is not a date; write YYYY-MM-DD") from None
    try:
        book = context.ledger().policy_book()
    except NoLedger as exc:
        if not exc.missing:
            raise  # a ledger that cannot be reached is not the same as none at all
        book = None  # no ledger here: check against the catalogue alone
    result = rules.check_application(book, measure, facts, day)
    if as_json:
        output.emit_json(result)
        return
    if not result["eligible"]:
        amount = f"NOT ELIGIBLE 不符合条件: {result['refusal']['message']}"
    elif result["case_by_case"]:
        amount = "decided case by case (一事一议)"
    else:
        amount = f"{format_fen(result['entitlement_fen'])} yuan"
    out = [f"{result['measure']} under {result['policy_version']}: {amount}", ""]
    out += [f"  {n:>2}. {s.get('en', '')}" for n, s in enumerate(result["trace"], 1)]
    out += [f"note: {n}" for n in result["notes"]]
    output.echo("\n".join(out))


@app.command("adopt")
@handled
def adopt(
    ctx: typer.Context,
    effective: Annotated[str | None, typer.Option(
        "--effective", help="Date the policy takes effect (施行); default: the edition's effective date.")] = None,
    version: Annotated[str | None, typer.Option("--version", help="Version id (default catalogue@effective).")] = None,
    catalogue_id: Annotated[str | None, typer.Option("--catalogue")] = None,
    edition: Annotated[Path | None, typer.Option(
        "--edition", help="An edition file; it is checked, and its full content is recorded.")] = None,
    date: Annotated[str | None, typer.Option("--date", help="Date of the adoption decision (default --effective).")] = None,
    by: By = None,
    as_json: Json = False,
) -> None:
    """Adopt a policy version: its edition (or built-in catalogue) and its validity window from --effective."""
    content: dict[str, Any] | None = None
    if edition is not None:
        loaded, findings = load_edition(edition)
        if loaded is None:
            raise invalid("edition", f"{edition} is not a valid edition (see `grants policy edition check`): "
                          + "; ".join(findings))
        content = {**loaded.content, "source_sha256": source_digest(_source_text(edition, loaded) or "")}
        if effective is None and loaded.effective is not None:
            effective = loaded.effective.isoformat()
    if effective is None:
        raise invalid("effective", "give --effective DATE (the edition names no effective date)")
    record(ctx, {"op": "adopt-policy", "effective": effective, "version": version, "catalogue": catalogue_id,
                 "date": date, "by": by, "edition": content}, as_json)


@app.command("versions")
@handled
def versions(ctx: typer.Context, as_json: Json = False) -> None:
    """The adopted policy versions and their validity windows."""
    context: Context = ctx.obj
    book = context.reader().policy_book()
    rows = [{"version": v.version, "catalogue": v.catalogue, "effective": v.effective.isoformat(),
             "ends": v.ends.isoformat(), "adopted_on": v.adopted_on.isoformat(), "by": v.by,
             "edition": rules.catalogue_of(v).edition.label}
            for v in (book.versions.values() if book else [])]
    if as_json:
        output.emit_json({"versions": rows})
        return
    output.echo(output.table(["version", "effective 施行", "ends (exclusive)", "adopted", "by"],
                             [[r["version"], r["effective"], r["ends"], r["adopted_on"], r["by"]] for r in rows]))



# --- editions ------------------------------------------------------------------

def _source_path(path: Path, edition: Edition) -> Path:
    return (path.parent / edition.source).resolve()


def _source_text(path: Path, edition: Edition) -> str | None:
    try:
        return _source_path(path, edition).read_text(encoding="utf-8")
    except OSError:
        return None


def load_edition(path: Path) -> tuple[Edition | None, list[str]]:
    """An edition file checked whole: TOML, schema of its rule set, and every quote verbatim in its source."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise invalid("edition", f"cannot read {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return None, [f"{path.name} is not TOML: {exc}"]
    edition, findings = check_edition(data)
    if edition is None:
        return None, findings
    source = _source_text(path, edition)
    if source is None:
        return None, [f"source: cannot read the source text {_source_path(path, edition)}"]
    findings = quote_findings(edition, source)
    return (None if findings else edition), findings


def _parent(path: Path, edition: Edition) -> Catalogue | None:
    """The parent edition: a built-in one, or an edition file of that id next to this one."""
    if not edition.parent:
        return None
    known = builtin_catalogues()
    if edition.parent in known:
        return known[edition.parent]
    sibling = path.parent / f"{edition.parent}.toml"
    if sibling.exists() and sibling.resolve() != path.resolve():
        loaded, _ = load_edition(sibling)
        return build(loaded) if loaded is not None else None
    return None


def _worked_examples(folder: Path) -> list[Case]:
    """The cases of worked-example files (clause-NN.toml, as in tests/examples)."""
    cases = []
    for path in sorted(folder.glob("clause-*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        default = data.get("date")
        for case in data.get("case", []):
            day = case.get("date", default)
            on = day if isinstance(day, Date) else parse_date(str(day))
            cases.append(Case(f"{path.stem}: {case.get('name', '?')}", str(case.get("measure", "")), on,
                              case.get("facts", {})))
    return cases


def _shown(outcome: Any) -> str:
    return f"{format_fen(outcome)} yuan" if isinstance(outcome, int) else str(outcome)


@edition_app.command("new")
@handled
def edition_new(
    file: Annotated[Path, typer.Argument(help="The edition file to write (e.g. shiyan-2023.toml).")],
    from_: Annotated[str, typer.Option("--from", help="The edition to copy, e.g. shiyan-2022-draft.")],
    as_json: Json = False,
) -> None:
    """Write a copy of an edition to edit: its id becomes the file's name, its parent the edition copied.

    The source text it quotes is copied next to it when not there already; replace it
    with the new text and edit the numbers and their words to match.
    """
    if file.exists():
        raise invalid("file", f"{file} exists; choose a new file name (nothing was written)")
    text = builtin_edition_text(from_)
    parent, _ = check_edition(tomllib.loads(text))
    assert parent is not None  # a built-in edition is valid (tests/unit/test_editions.py)
    ident = file.stem
    text = re.sub(r'(?m)^id = ".*"$', f'id = "{ident}"', text, count=1)
    text = re.sub(r'(?m)^parent = ".*"$', f'parent = "{parent.id}"', text, count=1)
    file.write_text(text, encoding="utf-8")
    source = file.parent / parent.source
    copied = False
    if not source.exists():
        source.write_text(builtin_source_text(parent), encoding="utf-8")
        copied = True
    result = {"file": str(file), "id": ident, "parent": parent.id, "source": str(source), "source_copied": copied}
    if as_json:
        output.emit_json(result)
        return
    output.echo(f"wrote {file} (edition {ident}, parent {parent.id})"
                + (f" and its source text {source}" if copied else "")
                + f"\nedit it, then: grants policy edition check {file}")


@edition_app.command("check")
@handled
def edition_check(
    file: Annotated[Path, typer.Argument(help="The edition file to check.")],
    examples: Annotated[Path | None, typer.Option(
        "--examples", help="A folder of worked-example files (clause-NN.toml) to run as well.")] = None,
    as_json: Json = False,
) -> None:
    """Check an edition (schema, quotes verbatim in its source text, every measure present) and show
    what it changes against its parent, per measure: numbers, texts and worked-example outcomes."""
    edition, findings = load_edition(file)
    if edition is None:
        if as_json:
            output.emit_json({"file": str(file), "valid": False, "findings": findings})
        else:
            output.echo(f"{file}: NOT a valid edition 版本文件有误\n" + "\n".join(f"  - {f}" for f in findings))
        raise typer.Exit(output.EXIT_INVALID)
    new = build(edition)
    parent = _parent(file, edition)
    cases = catalogue_examples(new) + (_worked_examples(examples) if examples is not None else [])
    diff = changes(parent, new, cases)
    result = {"file": str(file), "valid": True, "findings": [], "id": edition.id, "parent": edition.parent or None,
              "parent_found": parent is not None, "rules": edition.rules, "title": edition.label,
              "validity_years": edition.validity_years, "examples_run": len(cases), "changes": diff}
    if as_json:
        output.emit_json(result)
        return
    out = [f"{file}: valid edition {edition.id} ({edition.label}), rules {edition.rules}, "
           f"{len(new.measures)} measure items, {len(cases)} worked examples run"]
    if edition.parent and parent is None:
        out.append(f"parent {edition.parent} is not a built-in edition: nothing to compare with")
    elif parent is not None and not diff:
        out.append(f"no change against its parent {parent.id}")
    elif parent is not None:
        out.append(f"changes against its parent {parent.id} 与上一版本相比的变化:")
    for measure_id, change in diff.items():
        if parent is None:
            continue
        out.append(f"  {measure_id}:")
        out += [f"    {p['name']}: {p['before']} -> {p['after']}  ({p['words']})" for p in change["params"]]
        out += [f"    {t['field']} changed" for t in change["text"]]
        out += [f"    example {e['name']} ({e['date']}): {_shown(e['before'])} -> {_shown(e['after'])}"
                for e in change["examples"]]
    output.echo("\n".join(out))
