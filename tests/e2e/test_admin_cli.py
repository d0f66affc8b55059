"""`grants admin operator ...` and `grants admin operators` as a user types them: outputs,
refusal codes and exit codes, and an import run in enforced mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from commands.main import app
from tests.conftest import USCC_A, new_ledger
from tests.helpers import write_lines

runner = CliRunner()


def run(url: str, by: str, *args: str) -> Any:
    return runner.invoke(app, ["--db", url, "--by", by, *args, "--json"], catch_exceptions=False)


def error_code(result: Any) -> str:
    return json.loads(result.stderr.splitlines()[0])["error"]["code"]


def test_operators_are_registered_changed_suspended_and_reinstated_from_the_command_line(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    assert run(url, "anyone", "init").exit_code == 0
    assert json.loads(run(url, "anyone", "admin", "operators").stdout) == {"enforced": False, "operators": []}
    first = run(url, "wang.fang", "admin", "operator", "add", "wang.fang", "--role", "admin", "--display-name", "王芳",
                "--date", "2024-01-02")
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["enforced_now"] is True
    added = run(url, "wang.fang", "admin", "operator", "add", "li.wei", "--role", "reviewer", "--role", "clerk",
                "--display-name", "李伟", "--from", "2024-01-01", "--to", "2030-12-31")
    assert json.loads(added.stdout)["roles"] == ["clerk", "reviewer"]  # canonical order
    bad_name = run(url, "wang.fang", "admin", "operator", "add", "Li Wei", "--role", "clerk", "--display-name", "x")
    assert (bad_name.exit_code, error_code(bad_name)) == (2, "invalid-input")
    changed = run(url, "wang.fang", "admin", "operator", "roles", "li.wei", "--role", "treasurer", "--reason", "调岗")
    assert json.loads(changed.stdout) == {"op": "change-roles", "name": "li.wei", "roles": ["treasurer"],
                                          "suspended": False}
    suspended = run(url, "wang.fang", "admin", "operator", "suspend", "li.wei", "--reason", "停职")
    assert json.loads(suspended.stdout)["suspended"] is True
    refused = run(url, "li.wei", "report", "shares")
    assert (refused.exit_code, error_code(refused)) == (1, "not-authorised")
    again = run(url, "wang.fang", "admin", "operator", "suspend", "li.wei", "--reason", "停职")
    assert (again.exit_code, error_code(again)) == (1, "wrong-state")
    run(url, "wang.fang", "admin", "operator", "reinstate", "li.wei", "--reason", "复职")
    own = run(url, "wang.fang", "admin", "operator", "suspend", "wang.fang", "--reason", "x")
    assert (own.exit_code, error_code(own)) == (1, "separation-of-duties")
    listed = json.loads(run(url, "li.wei", "admin", "operators").stdout)
    assert listed["enforced"] is True
    assert [(o["name"], o["roles"], o["suspended"], o["valid_to"]) for o in listed["operators"]] == [
        ("wang.fang", ["admin"], False, None), ("li.wei", ["treasurer"], False, "2030-12-31")]


def test_an_import_in_enforced_mode_refuses_the_lines_its_runner_may_not_give(tmp_path: Path):
    url = new_ledger(tmp_path, "ledger.db")
    lines = [{"op": "register-operator", "name": "boss", "display_name": "老板", "roles": ["admin"],
              "date": "2022-01-01"},
             {"op": "register-operator", "name": "clerk.a", "display_name": "甲", "roles": ["clerk"],
              "valid_from": "2022-01-01", "date": "2022-01-01", "by": "boss"},
             {"op": "adopt-policy", "effective": "2022-09-01", "by": "boss"}]
    setup = run(url, "boss", "import", str(write_lines(tmp_path / "setup.jsonl", lines)))
    assert setup.exit_code == 0, setup.stdout + setup.stderr
    work = [{"op": "register", "uscc": USCC_A, "name": "十堰安盾", "area": "张湾区"},
            {"op": "adopt-policy", "effective": "2022-10-01"},
            {"op": "register", "uscc": USCC_A, "name": "十堰安盾", "area": "张湾区", "by": "boss"}]
    result = run(url, "clerk.a", "import", str(write_lines(tmp_path / "work.jsonl", work)))
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["accepted"] == 1
    assert [(r["line"], r["code"]) for r in data["refused"]] == [(2, "not-authorised"), (3, "not-authorised")]
