"""Settings come from a flag, then the environment, then grants.toml (the current directory,
then the user's configuration directory), then the default; `grants config` says which."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

GRANTS = str(Path(sys.executable).parent / "grants")


def _run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("GRANTS_DB", "GRANTS_USER", "GRANTS_LOG_LEVEL")}
    base["XDG_CONFIG_HOME"] = str(cwd / "home-config")  # platformdirs' user config directory on Linux
    return subprocess.run([GRANTS, *args], cwd=cwd, env={**base, **env}, capture_output=True, text=True, timeout=120)


def _sources(cwd: Path, *args: str, **env: str) -> dict[str, tuple[str, str]]:
    done = _run(cwd, *args, "config", "--json", **env)
    assert done.returncode == 0, done.stderr
    return {k: (v["value"], v["source"]) for k, v in json.loads(done.stdout)["settings"].items()}


def test_flag_beats_environment_beats_grants_toml_beats_the_default(tmp_path):
    user_dir = tmp_path / "home-config" / "grants"
    user_dir.mkdir(parents=True)
    (user_dir / "grants.toml").write_text('db = "sqlite:///user.db"\nby = "user.person"\n', encoding="utf-8")
    assert _sources(tmp_path)["db"] == ("sqlite:///user.db", str(user_dir / "grants.toml"))
    (tmp_path / "grants.toml").write_text('db = "sqlite:///here.db"\n', encoding="utf-8")
    found = _sources(tmp_path)
    assert found["db"] == ("sqlite:///here.db", str(tmp_path / "grants.toml"))  # the current directory first
    assert found["by"] == ("user.person", str(user_dir / "grants.toml"))  # a setting it does not give
    assert _sources(tmp_path, GRANTS_DB="sqlite:///env.db")["db"] == ("sqlite:///env.db", "GRANTS_DB")
    assert _sources(tmp_path, "--db", "sqlite:///flag.db", GRANTS_DB="sqlite:///env.db")["db"] == (
        "sqlite:///flag.db", "--db")
    (tmp_path / "grants.toml").unlink()
    (user_dir / "grants.toml").unlink()
    assert _sources(tmp_path)["db"][1].startswith("default")


def test_commands_use_the_ledger_and_operator_grants_toml_names(tmp_path):
    (tmp_path / "grants.toml").write_text('db = "sqlite:///office.db"\nby = "li.wei"\n', encoding="utf-8")
    assert _run(tmp_path, "init").returncode == 0
    done = _run(tmp_path, "register", "--uscc", "91420303MA4F0A1B2K", "--name", "十堰数智", "--area", "张湾区")
    assert done.returncode == 0, done.stderr
    assert "ledger: sqlite:///office.db" in done.stdout  # a recording command names the ledger it wrote to
    assert (tmp_path / "office.db").exists() and not (tmp_path / "grants.db").exists()


def test_a_bad_grants_toml_is_refused_naming_the_file_and_the_setting(tmp_path):
    (tmp_path / "grants.toml").write_text('database = "sqlite:///x.db"\n', encoding="utf-8")
    done = _run(tmp_path, "config", "--json")
    assert done.returncode == 2
    error = json.loads(done.stderr)["error"]
    assert error["field"] == "config" and "'database' is not a setting" in error["message"]
    (tmp_path / "grants.toml").write_text('db = \n', encoding="utf-8")
    assert "not valid TOML" in _run(tmp_path, "config").stderr
