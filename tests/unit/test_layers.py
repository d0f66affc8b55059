"""The packages of ledger/ keep their places (issue 21): the domain imports nothing from the storage adapters,
the application service or the CLI; input parsing nothing from storage or the service; storage nothing from
the domain's rules, the service or the CLI. Read from the source (every import, at any depth), so a lazy
import inside a function counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN = {
    "ledger/domain": ("ledger.store", "ledger.service", "commands", "projections"),
    "ledger/policy": ("ledger.store", "ledger.service", "commands", "projections"),
    "ledger/intake": ("ledger.store", "ledger.service", "commands", "projections"),
    "ledger/store": ("ledger.domain.rules", "ledger.service", "commands", "projections"),
}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_nothing_from_the_layers_above_it(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, package
    wrong = {f"{path.relative_to(ROOT)}: {name}" for path in files for name in _imports(path)
             for prefix in FORBIDDEN[package] if name == prefix or name.startswith(prefix + ".")}
    assert not wrong, sorted(wrong)
