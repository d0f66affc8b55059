"""Translations. The source is written in English; Chinese comes from gettext catalogues
(``ledger/locale/zh_CN/LC_MESSAGES/{ledger,commands}.po``), extracted and compiled with Babel.
The build compiles them (``setup.py``); ``tools/i18n.sh`` extracts and updates them.

Every human-facing string is written as ``_("... {name} ...").format(name=...)`` so that the
extractor sees the whole sentence and the translator can move the placeholders. Strings
defined at import time that must follow the language chosen later are marked ``N_`` and
translated where they are shown. JSON keys, refusal codes and measure ids are never translated.

The language: ``--lang zh|en``, else ``GRANTS_LANG``, else ``lang`` in grants.toml, else the
locale (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``: ``zh*`` gives Chinese), else English.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Mapping
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAINS = ("commands", "ledger")  # the CLI's strings, then the domain's (ledger/ and projections/)
LANGUAGES = ("zh", "en")
_LOCALES = {"zh": "zh_CN"}

_language = "en"
_translations: gettext.NullTranslations = gettext.NullTranslations()


class CatalogueMissing(RuntimeError):
    """The compiled catalogue is not there: the package was not built (``pip install -e .``)."""


def language_from_locale(environ: Mapping[str, str] | None = None) -> str:
    """``zh`` when the locale asks for Chinese, else ``en`` (gettext's order of variables)."""
    env = os.environ if environ is None else environ
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(variable, "")
        if value:
            first = value.split(":")[0].strip().lower()
            return "zh" if first.startswith("zh") else "en"
    return "en"


def normalise(language: str) -> str | None:
    """``zh``, ``zh_CN``, ``zh-CN.UTF-8``, ``中文`` → ``zh``; ``en``, ``en_US`` → ``en``; else None."""
    value = language.strip().lower().replace("-", "_")
    if value in ("中文", "汉语", "简体中文") or value.startswith("zh"):
        return "zh"
    if value.startswith("en") or value in ("c", "posix"):
        return "en"
    return None


def set_language(language: str) -> None:
    """Switch every later ``_()`` to ``language`` (``zh`` or ``en``)."""
    global _language, _translations
    chosen = normalise(language)
    if chosen is None:
        raise ValueError(f"unknown language {language!r}; the languages are: {', '.join(LANGUAGES)}")
    if chosen == "en":
        _language, _translations = "en", gettext.NullTranslations()
        return
    chain: gettext.NullTranslations | None = None
    for domain in DOMAINS:
        try:
            found = gettext.translation(domain, LOCALE_DIR, languages=[_LOCALES[chosen]])
        except FileNotFoundError:
            raise CatalogueMissing(
                f"the {chosen} catalogue {domain}.mo is not compiled in {LOCALE_DIR}; "
                "reinstall the package (pip install -e .) to build it") from None
        if chain is None:
            chain = found
        else:
            chain.add_fallback(found)
    assert chain is not None
    _language, _translations = chosen, chain


def language() -> str:
    return _language


def _(message: str) -> str:
    """The message in the current language."""
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translations.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated later, with ``_()``, where it is shown."""
    return message


def NC_(context: str, message: str) -> str:
    """``N_`` with a gettext context (a word said otherwise elsewhere); translated later with ``pgettext``."""
    return message


def pgettext(context: str, message: str) -> str:
    """The message of ``context`` in the current language."""
    return _translations.pgettext(context, message)


_zh: gettext.NullTranslations | None = None


def pgettext_zh(context: str, message: str) -> str:
    """The message of ``context`` in Chinese, whatever the current language (a report that shows both)."""
    global _zh
    if _zh is None:
        try:
            _zh = gettext.translation("ledger", LOCALE_DIR, languages=[_LOCALES["zh"]])
        except FileNotFoundError:
            raise CatalogueMissing(f"the zh catalogue ledger.mo is not compiled in {LOCALE_DIR}; "
                                   "reinstall the package (pip install -e .) to build it") from None
    return _zh.pgettext(context, message)
