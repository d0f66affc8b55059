"""The console script's entry point: `grants --version` answers before the command modules
(SQLAlchemy, eventsourcing, the policy catalogue) are imported; everything else goes to
``commands.main``."""

from __future__ import annotations

import sys
from typing import Any


def run() -> Any:
    if sys.argv[1:] == ["--version"]:
        from importlib.metadata import version

        print(f"grants {version('grants-ledger')}")
        return sys.exit(0)
    from commands.main import run as run_main

    return run_main()
