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
from ledger import i18n
from ledger.domain.money import format_fen
from ledger.errors import invalid
from ledger.i18n import N_, _
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

app = typer.Typer(help=N_("The policy's measures, what-if checks, editions, and adopted versions."),
                  no_args_is_help=True)
edition_app = typer.Typer(help=N_("Editions of the policy as data files: copy one, check it."), no_args_is_help=True)
CatalogueOption = Annotated[str, typer.Option("--catalogue", help=N_("The built-in catalogue to read."))]

# What people read for the kinds of measure (the JSON keeps the stored kind).
KINDS = {"no-cash": N_("no cash"), "fixed": N_("fixed amount"), "tiered": N_("by tier"),
         "proportional-with-cap": N_("proportional, with a cap"), "per-unit-with-cap": N_("per unit, with a cap"),
         "case-by-case": N_("case by case"), "annual-quota": N_("annual quota")}


def kind_label(kind: str) -> str:
    return _(KINDS[kind]) if kind in KINDS else kind


def _zh() -> bool:
    return i18n.language() == "zh"


def _title(m: Measure) -> str:
    """The measure's name in the current language: the policy's own title, or its English summary."""
    return m.title_zh if _zh() else m.summary_en


def _amount(m: Measure) -> str:
    """The amount as the policy words it (Chinese, quoted from the text), or that it pays no cash."""
    return m.amount_zh or _("no cash")
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


@app.command("list", help=N_("Every measure item of the policy, with its clause, kind and amount."))
@handled
def list_(as_json: Json = False, catalogue_id: CatalogueOption = CURRENT_CATALOGUE) -> None:
    cat = catalogue(catalogue_id)
    if as_json:
        with output.english():
            output.emit_json({"catalogue": cat.id, "measures": [measure_data(m) for m in cat.measures.values()]})
        return
    output.echo(cat.title)
    output.echo(output.table([_("Measure"), _("Clause"), _("Kind"), _("Amount"), _("Title")],
                             [[m.id, m.clause, kind_label(m.kind), _amount(m), _title(m)]
                              for m in cat.measures.values()]))
    output.echo(f"\n{cat.edition.funding}\n{cat.edition.validity_text}")


@app.command("show", help=N_("One measure: its clause text, facts, default readings and worked examples."))
@handled
def show(measure: Annotated[str, typer.Argument(help=N_("Measure id, e.g. M03-security."))], as_json: Json = False,
         catalogue_id: CatalogueOption = CURRENT_CATALOGUE) -> None:
    m = catalogue(catalogue_id).measure(measure)
    if as_json:
        with output.english():
            output.emit_json(measure_data(m))
        return
    zh = _zh()
    out = [_("{measure}  clause {clause}  {title}").format(measure=m.id, clause=m.clause, title=m.title_zh),
           _("kind: {kind}   lead: {lead}").format(kind=kind_label(m.kind), lead=m.lead),
           _("amount: {amount}").format(amount=_amount(m)), ""]
    if not zh:
        out += [m.summary_en, ""]
    out += [_("original text:"), m.quote]
    if m.facts:
        out += ["", _("facts:")]
        out += [f"  {f.name:<24} {f.zh if zh else f.en}; {f.describe()}" + ("" if f.required else _(" (optional)"))
                for f in m.facts]
    if m.readings:
        out += ["", _("default readings (where the text is silent):")]
        out += [f"  - {zh_text if zh else en_text}" for zh_text, en_text in m.readings]
    if m.examples:
        out += ["", _("worked examples:")]
        out += [f"  {dict(e.facts)} -> {m.outcome(e)}" for e in m.examples]
    output.echo("\n".join(out))


@app.command("check", help=N_(
    "What an application with these facts would get, and why. Records nothing.\n\nThe answer, eligible or not, "
    "exits 0; only a question that cannot be asked (an unknown measure, malformed facts) is refused."))
@handled
def check(
    ctx: typer.Context,
    measure: Annotated[str, typer.Option("--measure", help=N_("Measure id."))],
    fact: Annotated[list[str] | None, typer.Option("--fact", metavar="NAME=VALUE",
                                                   help=N_("A fact of the measure; repeat for each."))] = None,
    date: Annotated[str | None, typer.Option("--date", help=N_("Application date (default today)."))] = None,
    as_json: Json = False,
) -> None:
    from ledger.domain import rules  # the aggregates, and with them the event store

    context: Context = ctx.obj
    facts = parse_fact_options(fact)
    try:
        day = parse_date(date) if date else clock.today()
    except ValueError:
        raise invalid("date", _("{value} is not a date; write YYYY-MM-DD").format(value=repr(date))) from None
    try:
        book = context.ledger().policy_book()
    except NoLedger as exc:
        if not exc.missing:
            raise  # a ledger that cannot be reached is not the same as none at all
        book = None  # no ledger here: check against the catalogue alone
    with output.english(as_json):  # the answer's texts in its JSON: the same in every language
        result = rules.check_application(book, measure, facts, day)
    if as_json:
        output.emit_json(result)
        return
    if not result["eligible"]:
        amount = _("NOT ELIGIBLE: {why}").format(why=result["refusal"]["message"])
    elif result["case_by_case"]:
        amount = _("decided case by case (一事一议)")
    else:
        amount = _("{amount} yuan").format(amount=format_fen(result["entitlement_fen"]))
    out = [_("{measure} under {version}: {amount}").format(measure=result["measure"],
                                                           version=result["policy_version"], amount=amount), ""]
    step = "zh" if _zh() else "en"
    out += [f"  {n:>2}. {s.get(step) or s.get('en', '')}" for n, s in enumerate(result["trace"], 1)]
    out += [_("note: {note}").format(note=n) for n in result["notes"]]
    output.echo("\n".join(out))


@app.command("adopt", help=N_("Adopt a policy version: its edition (or built-in catalogue) and its validity window "
                              "from --effective."))
@handled
def adopt(
    ctx: typer.Context,
    effective: Annotated[str | None, typer.Option(
        "--effective", help=N_("Date the policy takes effect (施行); default: the edition's effective date."))] = None,
    version: Annotated[str | None, typer.Option("--version",
                                                help=N_("Version id (default catalogue@effective)."))] = None,
    catalogue_id: Annotated[str | None, typer.Option("--catalogue", help=N_("The built-in catalogue to adopt."))] = None,
    edition: Annotated[Path | None, typer.Option(
        "--edition", help=N_("An edition file; it is checked, and its full content is recorded."))] = None,
    date: Annotated[str | None, typer.Option("--date",
                                             help=N_("Date of the adoption decision (default --effective)."))] = None,
    by: By = None,
    as_json: Json = False,
) -> None:
    content: dict[str, Any] | None = None
    if edition is not None:
        loaded, findings = load_edition(edition)
        if loaded is None:
            raise invalid("edition", _("{file} is not a valid edition (see `grants policy edition check`): "
                                       "{findings}").format(file=edition, findings="; ".join(findings)))
        content = {**loaded.content, "source_sha256": source_digest(_source_text(edition, loaded) or "")}
        if effective is None and loaded.effective is not None:
            effective = loaded.effective.isoformat()
    if effective is None:
        raise invalid("effective", _("give --effective DATE (the edition names no effective date)"))
    record(ctx, {"op": "adopt-policy", "effective": effective, "version": version, "catalogue": catalogue_id,
                 "date": date, "by": by, "edition": content}, as_json)


@app.command("versions", help=N_("The adopted policy versions and their validity windows."))
@handled
def versions(ctx: typer.Context, as_json: Json = False) -> None:
    from ledger.domain import rules

    context: Context = ctx.obj
    book = context.reader().policy_book()
    rows = [{"version": v.version, "catalogue": v.catalogue, "effective": v.effective.isoformat(),
             "ends": v.ends.isoformat(), "adopted_on": v.adopted_on.isoformat(), "by": v.by,
             "edition": rules.catalogue_of(v).edition.label}
            for v in (book.versions.values() if book else [])]
    if as_json:
        output.emit_json({"versions": rows})
        return
    output.echo(output.table([_("Version"), _("Effective"), _("Ends (exclusive)"), _("Adopted"), _("By")],
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
        raise invalid("edition", _("cannot read {file}: {why}").format(file=path, why=exc.strerror or exc)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return None, [_("{file} is not TOML: {why}").format(file=path.name, why=exc)]
    edition, findings = check_edition(data)
    if edition is None:
        return None, findings
    source = _source_text(path, edition)
    if source is None:
        return None, [_("source: cannot read the source text {file}").format(file=_source_path(path, edition))]
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
        loaded, _findings = load_edition(sibling)
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
    return _("{amount} yuan").format(amount=format_fen(outcome)) if isinstance(outcome, int) else str(outcome)


@edition_app.command("new", help=N_(
    "Write a copy of an edition to edit: its id becomes the file's name, its parent the edition copied.\n\nThe "
    "source text it quotes is copied next to it when not there already; replace it with the new text and edit the "
    "numbers and their words to match."))
@handled
def edition_new(
    file: Annotated[Path, typer.Argument(help=N_("The edition file to write (e.g. shiyan-2023.toml)."))],
    from_: Annotated[str, typer.Option("--from", help=N_("The edition to copy, e.g. shiyan-2022-draft."))],
    as_json: Json = False,
) -> None:
    if file.exists():
        raise invalid("file", _("{file} exists; choose a new file name (nothing was written)").format(file=file))
    text = builtin_edition_text(from_)
    parent, _findings = check_edition(tomllib.loads(text))
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
    output.echo((_("wrote {file} (edition {id}, parent {parent}) and its source text {source}") if copied
                 else _("wrote {file} (edition {id}, parent {parent})")).format(
                     file=file, id=ident, parent=parent.id, source=source)
                + "\n" + _("edit it, then: grants policy edition check {file}").format(file=file))


@edition_app.command("check", help=N_(
    "Check an edition (schema, quotes verbatim in its source text, every measure present) and show what it changes "
    "against its parent, per measure: numbers, texts and worked-example outcomes."))
@handled
def edition_check(
    file: Annotated[Path, typer.Argument(help=N_("The edition file to check."))],
    examples: Annotated[Path | None, typer.Option(
        "--examples", help=N_("A folder of worked-example files (clause-NN.toml) to run as well."))] = None,
    as_json: Json = False,
) -> None:
    edition, findings = load_edition(file)
    if edition is None:
        if as_json:
            output.emit_json({"file": str(file), "valid": False, "findings": findings})
        else:
            output.echo(_("{file}: NOT a valid edition").format(file=file) + "\n"
                        + "\n".join(f"  - {f}" for f in findings))
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
    out = [_("{file}: valid edition {id} ({title}), rules {rules}, {measures} measure items, {examples} worked "
             "examples run").format(file=file, id=edition.id, title=edition.label, rules=edition.rules,
                                    measures=len(new.measures), examples=len(cases))]
    if edition.parent and parent is None:
        out.append(_("parent {parent} is not a built-in edition: nothing to compare with").format(
            parent=edition.parent))
    elif parent is not None and not diff:
        out.append(_("no change against its parent {parent}").format(parent=parent.id))
    elif parent is not None:
        out.append(_("changes against its parent {parent}:").format(parent=parent.id))
    for measure_id, change in diff.items():
        if parent is None:
            continue
        out.append(f"  {measure_id}:")
        out += [f"    {p['name']}: {p['before']} -> {p['after']}  ({p['words']})" for p in change["params"]]
        out += ["    " + _("{field} changed").format(field=t["field"]) for t in change["text"]]
        out += ["    " + _("example {name} ({day}): {before} -> {after}").format(
                    name=e["name"], day=e["date"], before=_shown(e["before"]), after=_shown(e["after"]))
                for e in change["examples"]]
    output.echo("\n".join(out))
