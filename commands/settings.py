"""Where the settings come from: a flag, then an environment variable, then `grants.toml`
(in the current directory, then in the user's configuration directory), then the default.

`grants.toml` holds the settings a finance office keeps for every command:

    db = "postgresql://li.wei@ledger.caizheng.local:5432/grants"
    by = "li.wei"
    lang = "zh"

`grants config` shows each value and where it came from.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from ledger.errors import invalid
from ledger.i18n import LANGUAGES, N_, _, language_from_locale, normalise
from ledger.store.storage import DEFAULT_URL

FILE_NAME = "grants.toml"
SETTINGS = {"db": "GRANTS_DB", "by": "GRANTS_USER", "lang": "GRANTS_LANG"}  # setting -> its environment variable


def config_files(cwd: Path | None = None) -> list[Path]:
    """Where grants.toml is looked for, in order: the current directory, then the user's config directory."""
    return [(cwd or Path.cwd()) / FILE_NAME, Path(platformdirs.user_config_dir("grants")) / FILE_NAME]


@dataclass(frozen=True)
class Setting:
    name: str
    value: str | None
    source: str  # "--db", "GRANTS_DB", a file's path, or one of SOURCES (stable: `grants config --json` shows it)


DEFAULT_DB, LOCALE, OS_USER = "default (./grants.db)", "the locale (LANG)", "the OS user"
SOURCES = {DEFAULT_DB: N_("default (./grants.db)"), LOCALE: N_("the locale (LANG)"), OS_USER: N_("the OS user")}


def shown_source(source: str) -> str:
    """Where a setting came from, as people read it."""
    return _(SOURCES[source]) if source in SOURCES else source


def _read(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise invalid("config", _("{path}: cannot be read ({problem})").format(path=path, problem=exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise invalid("config", _("{path}: is not valid TOML ({problem})").format(path=path, problem=exc)) from None
    unknown = sorted(set(data) - set(SETTINGS))
    if unknown:
        raise invalid("config", _("{path}: {name} is not a setting; the settings are: {settings}").format(
            path=path, name=repr(unknown[0]), settings=", ".join(SETTINGS)))
    for name, value in data.items():
        if not isinstance(value, str) or not value.strip():
            raise invalid("config", _("{path}: {name} must be non-empty text").format(path=path, name=name))
    if "lang" in data and normalise(data["lang"]) is None:
        raise invalid("config", _("{path}: lang = {value} is not a language; the languages are: {languages}").format(
            path=path, value=repr(data["lang"]), languages=", ".join(LANGUAGES)))
    return data


def _language(value: str) -> str:
    """GRANTS_LANG as zh or en; refused, naming the variable and the languages, otherwise."""
    chosen = normalise(value)
    if chosen is None:
        raise invalid("lang", _("GRANTS_LANG={value} is not a language; the languages are: {languages}").format(
            value=repr(value), languages=", ".join(LANGUAGES)))
    return chosen


def resolve(flags: dict[str, str | None], cwd: Path | None = None) -> dict[str, Setting]:
    """Each setting's value and its source. Flags win, then the environment, then the first file that sets it."""
    files = [(path, _read(path)) for path in config_files(cwd) if path.is_file()]
    settings: dict[str, Setting] = {}
    for name, env in SETTINGS.items():
        if flags.get(name):
            settings[name] = Setting(name, flags[name], f"--{name}")
            continue
        if os.environ.get(env):
            value = os.environ[env]
            settings[name] = Setting(name, _language(value) if name == "lang" else value, env)
            continue
        found = next(((path, data[name]) for path, data in files if name in data), None)
        if found is not None:
            value = found[1].strip()
            settings[name] = Setting(name, normalise(value) if name == "lang" else value, str(found[0]))
        elif name == "db":
            settings[name] = Setting(name, DEFAULT_URL, DEFAULT_DB)
        elif name == "lang":
            settings[name] = Setting(name, language_from_locale(), LOCALE)
        else:
            settings[name] = Setting(name, None, OS_USER)
    return settings
