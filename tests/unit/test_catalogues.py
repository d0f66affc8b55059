"""The Chinese catalogues are complete and current: every message the source marks (``_``, ``N_``,
``ngettext``) has a Chinese translation in its domain's .po file (ledger.po for ledger/ and
projections/, commands.po for commands/), the .po holds no message the source no longer has, and
the compiled .mo says what the .po says (``pip install -e .`` or ``tools/i18n.sh`` then
``pybabel compile`` rebuilds it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).parents[2]
MESSAGES = ROOT / "ledger" / "locale" / "zh_CN" / "LC_MESSAGES"
DOMAINS = {"ledger": ("ledger", "projections"), "commands": ("commands",)}
KEYWORDS = {"_": None, "N_": None, "NC_": ((1, "c"), 2), "pgettext": ((1, "c"), 2),
            "ngettext": (1, 2)}  # as tools/i18n.sh extracts


def _source_messages(folders: tuple[str, ...]) -> dict[tuple[str | None, str], str]:
    """Each message the source marks (its context, its id), with one place it is marked."""
    found: dict[tuple[str | None, str], str] = {}
    for folder in folders:
        for filename, lineno, message, _comments, context in extract_from_dir(
                ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS):
            msgid = message[0] if isinstance(message, tuple) else message
            found.setdefault((context, msgid), f"{folder}/{filename}:{lineno}")
    return found


def _catalogue(domain: str):  # noqa: ANN202 - babel's Catalog
    with (MESSAGES / f"{domain}.po").open("rb") as po:
        return read_po(po, locale="zh_CN")


def _key(msgid: str | tuple[str, ...] | list[str]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


def _text(msgstr: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """A translation as a tuple: one form, or each plural form (read_mo gives lists, read_po tuples)."""
    return (msgstr,) if isinstance(msgstr, str) else tuple(msgstr)


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_marked_message_has_a_chinese_translation(domain):
    catalogue = _catalogue(domain)
    missing = [f"{where}: {msgid!r}" for (context, msgid), where in _source_messages(DOMAINS[domain]).items()
               if catalogue.get(msgid, context) is None or not catalogue.get(msgid, context).string
               or catalogue.get(msgid, context).fuzzy]
    assert missing == [], f"not translated in {domain}.po (run tools/i18n.sh, then fill msgstr):\n" + "\n".join(missing)


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_catalogue_holds_no_message_the_source_has_dropped(domain):
    marked = _source_messages(DOMAINS[domain])
    ids = [(message.context, message.id[0] if isinstance(message.id, tuple) else message.id)
           for message in _catalogue(domain)]
    stale = [msgid for msgid in ids if msgid[1] and msgid not in marked]
    assert stale == [], f"{domain}.po has messages no source marks (run tools/i18n.sh): {stale}"


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_compiled_catalogue_says_what_the_po_says(domain):
    mo_path = MESSAGES / f"{domain}.mo"
    assert mo_path.is_file(), f"{mo_path} is not compiled: reinstall the package (pip install -e .)"
    with mo_path.open("rb") as mo:
        compiled = {(m.context, _key(m.id)): _text(m.string) for m in read_mo(mo) if m.id}
    written = {(m.context, _key(m.id)): _text(m.string) for m in _catalogue(domain)
               if m.id and m.string and not m.fuzzy}
    assert compiled == written, f"{mo_path.name} is older than {domain}.po: reinstall the package (pip install -e .)"
