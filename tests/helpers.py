"""Helpers for tests that drive the CLI in-process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from commands.main import app

runner = CliRunner()


def cli(db_url: str, *args: str) -> Any:
    """Run `grants --db URL ARGS...` and return the Click result (stdout, stderr, exit_code)."""
    return runner.invoke(app, ["--db", db_url, "--by", "tester", *args], catch_exceptions=False)


def cli_json(db_url: str, *args: str) -> Any:
    result = cli(db_url, *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def write_lines(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    return path
