"""Finds what was left untranslated in what the CLI prints.

Chinese output: after the technical tokens are taken out (option names, metavars, environment
variable names, file names, URLs, refusal codes, measure ids, command names, quoted values and an
allowlist of technical words), no ASCII word of two letters or more may remain.
English output: no CJK character may remain, except Chinese proper nouns: runs quoted from the
policy's text (its title, the areas, the measures' names), amounts written 200万, and the data the
test itself put in (enterprise and project names).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from commands import language
from commands.main import command
from ledger import errors
from ledger.domain import areas
from ledger.store import errors as store_errors

POLICY_TEXT = "".join(p.read_text(encoding="utf-8")
                      for p in (Path(__file__).parents[1] / "ledger" / "policy" / "editions").glob("*.txt"))

# Technical words a Chinese text keeps as they are.
ALLOWED = {
    "SQLite", "PostgreSQL", "JSON", "Lines", "CSV", "USCC", "URL", "HTML", "xlsx", "Excel", "WPS", "TOML", "UTF",
    "BOM", "GBK", "SQL", "ISO", "Beancount", "beancount", "csv", "Ctrl", "Chromium", "zh", "en", "ref", "by", "grants",
    "city", "county", "clerk", "reviewer", "treasurer", "auditor", "admin",  # values typed on the command line
    "submitted", "approved", "rejected", "withdrawn", "revoked",  # statuses as typed in a filter
    "sqlite", "postgresql", "yuan", "fen",
    "db", "lang",  # the settings' names in grants.toml
}


def _codes() -> set[str]:
    found = set()
    for module in (errors, store_errors):
        found |= {v for k, v in vars(module).items() if k.isupper() and isinstance(v, str) and "-" in v}
    return found | {"usage", "interrupted", "no-ledger", "busy", "internal-error"}


def _command_names() -> set[str]:
    return {name for path, _command in language.commands_of(command()) for name in path}


B, E = r"(?<![A-Za-z0-9_])", r"(?![A-Za-z0-9_])"  # word edges in ASCII: a CJK character is no word here
CODES = _codes()
COMMAND_NAMES = _command_names()
_NAMES = "|".join(sorted(map(re.escape, COMMAND_NAMES), key=len, reverse=True))
_COMMAND_PATH = re.compile(B + "grants" + E + r"(?:\s+(?:" + _NAMES + ")" + E + ")*")
FILES = "toml|db|md|jsonl|csv|xlsx|html|beancount|json|mo|po|txt"
_TECHNICAL = [
    re.compile(r"`[^`\n]*`"),  # code spans
    re.compile(B + r"[a-z][a-z0-9+]*://\S+"),  # URLs
    re.compile(r"'[^'\n]{0,80}'"),  # quoted values and option names in errors
    re.compile(r"\{[^{}\n]*\}"),  # JSON examples, {file}
    re.compile(r"<[^<>\n]*>"),  # metavars <str> <zh|en>
    re.compile(r"\[[^\[\]\n]*\|[^\[\]\n]*\]"),  # choices [a|b]
    re.compile(r"(?<![A-Za-z0-9_-])--?[A-Za-z][A-Za-z0-9_-]*(?:=[!-~]*)?"),  # option names (with a value)
    re.compile(B + r"[A-Za-z_]+ ?= ?[!-~]+"),  # NAME=VALUE, tier=national, a fact in a computation: racks = 100
    re.compile(r"[!-~]*/[!-~]*"),  # paths, docs/cli.md, ./grants.db, 1/3
    re.compile(B + r"[A-Za-z0-9_.-]+\.(?:" + FILES + ")" + E),  # file names
    re.compile(B + r"[Mm]\d{2}(?:-[a-z]+)*" + E),  # measure ids
    re.compile(B + r"[A-Z][A-Z0-9_]+" + E),  # metavars and environment variables: URL, GRANTS_DB, YYYY
    re.compile(B + r"[0-9a-f]{8,}" + E),  # hashes
    re.compile(r"[A-Za-z0-9@.:_-]*\d[A-Za-z0-9@.:_-]*"),  # with digits: USCC, policy versions, vouchers, dates
]


_TERM = re.compile(r"^  ([\x21-\x7e]+(?: [\x21-\x7e]+)*)(?= {2,}|$)")


def _without_terms(text: str) -> str:
    """Help without the first column of its sections (option names and metavars, argument and command
    names): the lines at two spaces' indent under a heading (``选项:``)."""
    lines, in_section = [], False
    for line in text.splitlines():
        if re.match(r"^\S.*:$", line):
            in_section = True
        elif in_section and line.startswith("  ") and not line.startswith("   "):
            line = _TERM.sub(" ", line)
        lines.append(line)
    return "\n".join(lines)


def english_words(text: str, data: Iterable[str] = ()) -> list[str]:
    """The ASCII words of 2+ letters a Chinese text still holds once the technical tokens are out
    (and the ``data`` the test put in: names, the operator)."""
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    text = _without_terms(text)
    for pattern in _TECHNICAL:
        text = pattern.sub(" ", text)
    text = _COMMAND_PATH.sub(" ", text)
    text = re.sub(B + r"[a-z]+(?:_[a-z]+)+" + E, " ", text)  # field names: as_of, amount_fen
    codes = "|".join(sorted(map(re.escape, CODES), key=len, reverse=True))
    text = re.sub(rf"(?<![A-Za-z0-9_-])(?:{codes}): [a-z]+(?=[:：])", " ", text)  # a refusal's field: invalid-input: amount:
    for code in sorted(CODES, key=len, reverse=True):
        text = re.sub(rf"(?<![A-Za-z0-9_-]){re.escape(code)}(?![A-Za-z0-9_-])", " ", text)
    words = re.findall(r"[A-Za-z]{2,}", text)
    return [w for w in words if w not in ALLOWED]


_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef《》]+")


def chinese_runs(text: str, data: Iterable[str] = ()) -> list[str]:
    """The runs of CJK characters an English text holds that are not proper nouns: not quoted from
    the policy, not an area, not an amount like 200万, not part of the test's own data."""
    known = [*data, *areas.AREAS]
    text = re.sub(r"\d[\d,.]*\s*[万亿元]+", " ", text)
    for value in sorted(known, key=len, reverse=True):
        text = text.replace(value, " ")
    return [run for run in _CJK.findall(text) if run.strip("《》") not in POLICY_TEXT]
