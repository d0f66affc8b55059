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


def _block_after(heading: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.+?)\n```", text[text.index(heading):], re.S)[0]


def test_the_readmes_everyday_and_correction_commands_run_as_written(tmp_path):
    """Paste the README's everyday commands, its corrections, its audit and its operators into a shell:
    each succeeds."""
    import os
    import subprocess
    import sys

    script = "\n".join(_block_after(heading) for heading in (
        "## Everyday use", "## Putting a mistake right", "## Auditing", "## Who may do what"))
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))  # where the README's first command puts the venv
    env = {k: v for k, v in os.environ.items() if k not in ("GRANTS_DB", "VIRTUAL_ENV")}
    env["GRANTS_USER"] = "readme"
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "REVOKED" in done.stdout and "recovery" in done.stdout
    assert "NOT ELIGIBLE as filed" in done.stdout
