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
from ledger.i18n import language_from_locale
from ledger.storage import DEFAULT_URL

FILE_NAME = "grants.toml"
SETTINGS = {"db": "GRANTS_DB", "by": "GRANTS_USER", "lang": "GRANTS_LANG"}  # setting -> its environment variable


def config_files(cwd: Path | None = None) -> list[Path]:
    """Where grants.toml is looked for, in order: the current directory, then the user's config directory."""
    return [(cwd or Path.cwd()) / FILE_NAME, Path(platformdirs.user_config_dir("grants")) / FILE_NAME]


@dataclass(frozen=True)
class Setting:
    name: str
    value: str | None
    source: str  # "--db", "GRANTS_DB", a file's path, "default", "OS user"


def _read(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise invalid("config", f"{path}: cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise invalid("config", f"{path}: is not valid TOML ({exc})") from None
    unknown = sorted(set(data) - set(SETTINGS))
    if unknown:
        raise invalid("config", f"{path}: {unknown[0]!r} is not a setting; the settings are: {', '.join(SETTINGS)}")
    for name, value in data.items():
        if not isinstance(value, str) or not value.strip():
            raise invalid("config", f"{path}: {name} must be non-empty text")
    return data


def resolve(flags: dict[str, str | None], cwd: Path | None = None) -> dict[str, Setting]:
    """Each setting's value and its source. Flags win, then the environment, then the first file that sets it."""
    files = [(path, _read(path)) for path in config_files(cwd) if path.is_file()]
    settings: dict[str, Setting] = {}
    for name, env in SETTINGS.items():
        if flags.get(name):
            settings[name] = Setting(name, flags[name], f"--{name}")
            continue
        if os.environ.get(env):
            settings[name] = Setting(name, os.environ[env], env)
            continue
        found = next(((path, data[name]) for path, data in files if name in data), None)
        if found is not None:
            settings[name] = Setting(name, found[1].strip(), str(found[0]))
        elif name == "db":
            settings[name] = Setting(name, DEFAULT_URL, "default (./grants.db)")
        elif name == "lang":
            settings[name] = Setting(name, language_from_locale(), "the locale (LANG)")
        else:
            settings[name] = Setting(name, None, "the OS user")
    return settings
