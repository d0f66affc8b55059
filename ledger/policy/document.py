"""The policy catalogue as a Markdown page: ``docs/policy.md``.

A pure function of the catalogue, so the page cannot drift from the rules:
``tests/test_docs.py`` fails when the catalogue changes and the page was not
regenerated. Regenerate with::

    python -m ledger.policy.document > docs/policy.md
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from ledger.domain.money import format_fen
from ledger.domain.rules import SPLIT_RULE_EN, SPLIT_RULE_ZH
from ledger.policy import Catalogue, catalogue
from ledger.policy.facts import add_years
from ledger.policy.measures import ONCE_PER_ENTERPRISE, ONCE_PER_PROJECT, Measure

REGENERATE = "python -m ledger.policy.document > docs/policy.md"
SOURCES = "../ledger/policy/editions/"  # the original texts, beside the editions that quote them (docs/ keeps no copy)


def _cell(value: Any) -> str:
    """Text safe inside a Markdown table cell."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _example_file(m: Measure) -> str:
    return f"../tests/examples/clause-{m.clause:02d}.toml"


def _amount(m: Measure) -> str:
    return m.amount_zh or "no cash 不涉及资金"


def _scope(m: Measure) -> str:
    """How often one enterprise may be awarded under the item."""
    if not m.grantable:
        return "-"
    if m.quota is not None:
        return (f"each {m.quota.item_fact} once (whoever applies); at most {m.quota.limit} distinct per "
                f"{m.quota.year_fact}")
    if m.once == ONCE_PER_ENTERPRISE:
        return "once per enterprise" + (" (a higher tier on the same project tops up)" if m.tiers else "")
    if m.once == ONCE_PER_PROJECT:
        return "once per enterprise and project"
    return "not limited (就高不重复 per project still applies)"


def _json(facts: Any) -> str:
    return json.dumps(dict(facts), ensure_ascii=False)


def _closing_rules(cat: Catalogue) -> list[str]:
    validity = cat.edition.validity_text
    validity_sentence = validity[: validity.index("。") + 1]
    highest_sentence = validity[len(validity_sentence):]
    example_start = add_years(date(2024, 2, 29), cat.validity_years)
    once_enterprise = [m.id for m in cat.measures.values() if m.once == ONCE_PER_ENTERPRISE]
    once_project = [m.id for m in cat.measures.values() if m.once == ONCE_PER_PROJECT]
    quotas = [m for m in cat.measures.values() if m.quota is not None]
    case_by_case = [m.id for m in cat.measures.values() if m.case_by_case]
    no_cash = [m.id for m in cat.measures.values() if not m.grantable]

    out = ["## Rules that hold for every cash award", ""]
    out += ["### 50/50 funding (各50%)", "", f"> {cat.edition.funding}", ""]
    out += [
        "What the ledger does: every approved cash award is owed by two payers, the city treasury (市级财政, payer "
        "`city`) and the treasury of the county-level area the enterprise is registered in (payer `county`). "
        f"The split is: {SPLIT_RULE_EN} ({SPLIT_RULE_ZH}). So the two halves always add up to the award to the "
        "fen: an award of 100,000.01 yuan is 50,000.01 city + 50,000.00 county. A payment is recorded against one "
        "payer's half and is refused (`over-payment`) when it would take that payer past its half.",
        "",
        "Items the policy does not list (在本办法中未列明的) are paid under other policies, outside this ledger; "
        "an award under another city policy is recorded with `external-award` and counts only for 就高不重复.",
        "",
    ]
    out += [f"### Validity ({cat.edition.validity_words})", "", f"> {validity_sentence}", ""]
    out += [
        "What the ledger does: the start date is blank in the draft, so it is a parameter of a *policy version*: "
        "`grants policy adopt --effective DATE` (or the import op `adopt-policy`) records the version, its "
        f"catalogue and the window [effective, effective + {cat.validity_years} years). The end is the same "
        f"calendar day {cat.validity_years} years later and is the first day outside; 29 February becomes 1 March "
        f"(effective 2024-02-29 ends {example_start.isoformat()}). An application dated outside the window of "
        "every adopted version is refused (`outside-validity`). Each application records the version it falls "
        "under, and its approval is decided by that version's catalogue.",
        "",
    ]
    out += ["### Highest, never duplicated (就高不重复)", "", f"> {highest_sentence}", ""]
    out += [
        "What the ledger does: for one enterprise and one project, as of the approval's own date, it looks at every "
        "award of this policy on the same project in force that day (approved by then and not yet revoked, under "
        "any measure) and every award recorded under other city policies for that project dated by then. A new "
        "award must be higher than the highest of them; it then pays only the difference between its amount and "
        "what they already give (补差). An equal or lower award pays nothing and is refused (`duplicate-award`), "
        "naming the earlier awards. An award approved on a later day already on file counts on its days: an "
        "approval that would take the project above its highest award then is refused, naming it. The "
        "computation is in the trace of `grants show`.",
        "",
        "When a lower award is revoked under a top-up, the project holds less than its highest award; what is owed "
        "changes only by a decision: `show` and `audit reconcile` list the top-up as owed a re-decision, and a "
        "reviewer's `grants redecide` raises it, from its own date, to its amount less the awards then in force. "
        "An award under another policy is never refused: when it takes a project above its highest award on some "
        "day, the overlap is flagged in `show`, `audit reconcile` and `audit verify`.",
        "",
    ]
    out += ["### One-time awards (一次性奖励)", ""]
    out += [
        "What the ledger does: a one-time item has at most one award in force per unit on any day, and an "
        "approval that would make two (on its own date, or on a later day already on file, whatever the order the "
        "records were keyed in) is refused (`already-awarded`), naming the other award. The unit is per item:",
        "",
        f"- once per enterprise: {', '.join(once_enterprise)}. For a tiered item, a higher tier on the same project "
        "is not a second award but a top-up (就高补差): a provincial award later upgraded to national pays the "
        "difference.",
        f"- once per enterprise and project: {', '.join(once_project)}. What counts as the project (a base, a park, "
        "a contract, a data centre, a product project, a pilot) is in each item's default readings below; a later "
        "period needs a new project.",
    ]
    for m in quotas:
        quota = m.quota
        assert quota is not None
        out.append(f"- {m.id}: each {quota.item_fact} is awarded once whoever took it, and at most "
                   f"{quota.limit} distinct ones in force per {quota.year_fact} on any day (`quota-exhausted`), "
                   f"checked across all enterprises; the {quota.item_fact} is also the unit of 就高不重复, so two "
                   "tasks filed under one project name are two awards.")
    out += [
        "",
        f"Case-by-case items ({', '.join(case_by_case)}) pay only the amount an approval gives (`amount_fen`) with "
        "its `basis` (the meeting or document that decided it). Items that pay no cash "
        f"({', '.join(no_cash)}) are refused at application (`not-grantable`).",
        "",
    ]
    out += [
        "### Threshold words",
        "",
        "Thresholds follow 民法典 第一千二百五十九条: 以上, 达到, 不低于 include the number (>=); 超过, 超 exclude it "
        "(>); 不超过 is a cap (<=). 突破, which that article does not fix, is read as more than (>). Each test, "
        "with its words, is a step of the computation trace.",
        "",
    ]
    return out


def _measure_section(m: Measure) -> list[str]:
    out = [f'<a id="{_anchor(m)}"></a>', "", f"### {m.id}: {m.title_zh}", ""]
    out += [f"Clause {m.clause} (第{m.clause}条), kind `{m.kind}`, amount {_amount(m)}, lead department "
            f"{m.lead}. One-time scope: {_scope(m)}. Worked examples: "
            f"[clause-{m.clause:02d}.toml]({_example_file(m)}).", ""]
    out += [f"> {m.quote}", ""]
    out += [m.summary_en, ""]
    if m.tiers:
        out += ["Tiers: " + ", ".join(f"`{k}` {format_fen(v)} yuan" for k, v in m.tiers.items()) + ".", ""]
    if m.params:
        out += [f"Parameters (edition `{_edition_file(m)}`):", ""]
        out += _table(["parameter", "kind", "value", "clause words"],
                      [[f"`{p.name}`", str(p.kind), p.shown(), p.words] for p in m.params.values()])
        out.append("")
    if m.facts:
        out += ["Facts:", ""]
        out += _table(["name", "type", "中文", "English", "required", "allowed values"],
                      [[f"`{f.name}`", f.kind, f.zh, f.en, "yes" if f.required else "no", f.describe()]
                       for f in m.facts])
        out.append("")
    elif m.grantable:
        out += ["Facts: none.", ""]
    if m.readings:
        out += ["Default readings (where the text is silent):", ""]
        for zh, en in m.readings:
            out += [f"- {zh}", f"  <br>{en}"]
        out.append("")
    if m.examples:
        out += ["Examples:", ""]
        out += _table(["facts", "outcome"], [[f"`{_json(e.facts)}`", m.outcome(e)] for e in m.examples])
        out.append("")
    return out


def render_policy_markdown(cat: Catalogue) -> str:
    """The catalogue as Markdown: closing rules, a table of every measure item, then one section per item."""
    edition = cat.edition
    source = SOURCES + edition.source
    number = f", {edition.document_number}" if edition.document_number else ", no document number (文号)"
    out = [
        f"# The measures of {cat.title}",
        "",
        f"<!-- Generated from catalogue {cat.id} by `{REGENERATE}`; do not edit by hand. -->",
        "",
        f"Source: 《{edition.title}》, {edition.issuer}, {edition.published}{number}; the original text is "
        f"[`{source}`]({source}). Catalogue id: `{cat.id}`; validity {cat.validity_years} years "
        "from the effective date of each adopted policy version. Every amount, rate, cap and threshold below is "
        f"read from the edition file `ledger/policy/editions/{_EDITION_FILE}`, each with the words it comes from.",
        "",
        "Every quote below is verbatim from the original text (a test checks it). Amounts are in yuan; inside the "
        "ledger they are integer fen. `grants policy show ID` prints the same for one measure item.",
        "",
    ]
    out += _closing_rules(cat)
    out += _issuing_an_edition(cat)
    out += ["## All measure items", ""]
    out += _table(
        ["measure", "clause", "kind", "amount", "facts", "one-time scope", "worked examples"],
        [[f"[`{m.id}`](#{_anchor(m)})", m.clause, m.kind, _amount(m),
          ", ".join(f"`{f.name}`" for f in m.facts) or "-", _scope(m),
          f"[clause-{m.clause:02d}.toml]({_example_file(m)})"] for m in cat.measures.values()])
    out += ["", "## Measure items", ""]
    for m in cat.measures.values():
        out += _measure_section(m)
    return "\n".join(out).rstrip("\n") + "\n"


_EDITION_FILE = "shiyan-2022-draft.toml"


def _edition_file(m: Measure) -> str:
    return _EDITION_FILE


def _issuing_an_edition(cat: Catalogue) -> list[str]:
    """For a policy officer: how a new edition (the final text, an amendment) is issued, in both languages."""
    new = "grants policy edition new --from shiyan-2022-draft shiyan-2023.toml"
    return [
        "## Issuing a new edition 发布新版本", "",
        "当正式文本或修订文本发布、金额或门槛发生变化时,政策经办人员无需程序员即可发布新版本:", "",
        f"1. 复制现行版本: `{new}`。该命令写出版本文件,并把所引用的原文复制到同一目录。",
        "2. 用新文本替换原文文件(或把 `source` 改为新原文的文件名),并在版本文件中修改标题、发文单位、文号、"
        "有效期,以及各措施的金额、比例、上限和门槛;每个数字旁的 `words` 必须是新原文中逐字出现的条文。",
        "3. 校验: `grants policy edition check shiyan-2023.toml --examples tests/examples`。校验格式、"
        "每条引文是否逐字出自原文、每项措施是否齐全,并按新数字重算算例,逐项列出与上一版本相比的变化。",
        "4. 采用: `grants policy adopt --edition shiyan-2023.toml --effective 2024-01-01`。版本的全部内容"
        "记入采用事件,此后即使文件被修改或删除,历史也按原内容重放。施行日及以后的申请按新版本审核,"
        "之前的申请仍按其申请日所适用的版本审核。",
        "5. 如果变化的不只是数字而是规则本身(例如新增一种奖励方式),需由程序员新增规则集,并在版本文件的 "
        "`rules` 中引用。", "",
        "When the final text or an amendment is published and amounts or thresholds change, a policy officer "
        "issues a new edition without a programmer:", "",
        f"1. Copy the edition in force: `{new}`. It writes the edition file and copies the original text it "
        "quotes next to it.",
        "2. Replace the original text with the new one (or point `source` at the new text's file) and edit the "
        "title, issuing body, document number, validity and each measure's amounts, rates, caps and thresholds; "
        "the `words` next to each number must be verbatim clause words of the new text, and must write the number.",
        "3. Check it: `grants policy edition check shiyan-2023.toml --examples tests/examples`. It checks the "
        "format, that every quote is verbatim in the source text and every measure item is present, reruns the "
        "worked examples with the new numbers, and prints what changed against the parent edition, per measure.",
        "4. Adopt it: `grants policy adopt --edition shiyan-2023.toml --effective 2024-01-01`. The edition's full "
        "content is recorded in the adoption event, so history replays the same even if the file later changes "
        "or is deleted. Applications dated on or after the effective date are decided by the new edition; earlier "
        "ones by the edition in force on their own date.",
        "5. When a rule itself changes (not just a number), a programmer adds a rule set and the edition names it "
        f"in `rules` (this edition: `{cat.edition.rules}`).", "",
    ]


def _anchor(m: Measure) -> str:
    """The id of a measure's section, for links from the table."""
    return m.id.lower()


if __name__ == "__main__":
    print(render_policy_markdown(catalogue()), end="")
