"""`grants --version` answers before the command modules are imported (the CLI's start)."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

PROBE = """
import sys
sys.argv = ["grants", "--version"]
from commands import entry
try:
    entry.run()
except SystemExit as exit:
    print(exit.code)
print(sorted(m for m in ("sqlalchemy", "eventsourcing", "typer", "ledger.service.application", "commands.main") if m in sys.modules))
"""


def test_version_is_printed_without_importing_the_ledger_or_the_commands():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.splitlines() == [f"grants {version('grants-ledger')}", "0", "[]"]
