"""The README opens with the two commands a new user runs; CI runs the second verbatim."""

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _commands() -> list[str]:
    return re.findall(r"```sh\n(.+?)\n```", (ROOT / "README.md").read_text(encoding="utf-8"))[:2]


def test_the_readme_opens_with_a_setup_and_demo_command_and_a_test_command():
    setup, tests = _commands()
    assert "pip install" in setup and "grants demo" in setup
    assert "pytest" in tests


def test_ci_runs_the_readmes_test_command():
    _, tests = _commands()
    assert tests in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
