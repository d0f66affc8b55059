"""The one place that reaches inside the eventsourcing library, pinned to what was verified.

eventsourcing 9.5 has no public hook that runs inside a write's own transaction, which is where
``ledger/store/recorders.py`` checks the versions a decision read, caps a write's size and seals the hash
chain (SQLite; on PostgreSQL the database's trigger seals it, ``ledger/store/append_only.py``). So the
recorders override ``_insert_events`` and ``_lock_table`` and, on PostgreSQL, replay the library's
``insert_events`` without its pipeline. These tests fail when the recorders touch another private member
of the library, or when an upgrade changes one they touch: then read the new library's code beside
recorders.py, and record the new digest here only once the recorders are right for it (and widen the pin
in pyproject.toml).
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
from pathlib import Path

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from ledger.store import recorders

RECORDERS = Path(recorders.__file__)
CHECKED = (recorders.CheckedSQLiteRecorder, recorders.CheckedPOPORecorder, recorders.CheckedPostgresRecorder)

# The library code the recorders rely on, verified with eventsourcing 9.5.6: the private methods they
# override or call, the public ones whose steps they assume (which private method runs where, in which
# transaction), and where the private attributes they read are set. sha256 of the source, first 16 digits.
VERIFIED = {
    "eventsourcing.sqlite:SQLiteAggregateRecorder.insert_events": "32f60619a2ca6e6a",
    "eventsourcing.sqlite:SQLiteApplicationRecorder._insert_events": "413cdf219c7bae63",
    "eventsourcing.popo:POPOApplicationRecorder.insert_events": "e8556f26001c953d",
    "eventsourcing.popo:POPOAggregateRecorder._insert_events": "f778911e63d38a89",
    "eventsourcing.popo:POPORecorder.__init__": "b7c74338f191a24f",
    "eventsourcing.popo:POPOAggregateRecorder.__init__": "443f8ecd3e07dd25",
    "eventsourcing.postgres:PostgresApplicationRecorder.insert_events": "f1a98da0239e3ea7",
    "eventsourcing.postgres:PostgresApplicationRecorder._insert_events": "319d1ce6f3f9c865",
    "eventsourcing.postgres:PostgresApplicationRecorder._insert_stored_events": "139580714a659085",
    "eventsourcing.postgres:PostgresAggregateRecorder._insert_stored_events": "80327aa859e4cc55",
    "eventsourcing.postgres:PostgresApplicationRecorder._fetch_ids_after_insert_events": "9c8efbc1baf72b52",
    "eventsourcing.postgres:PostgresApplicationRecorder._lock_table": "42bc9c135b4a93c1",
}
# The private members those are: the methods above, and the attributes the POPO recorder's __init__ sets.
PRIVATE_MEMBERS = {"_insert_events", "_insert_stored_events", "_fetch_ids_after_insert_events", "_lock_table",
                   "_database_lock", "_stored_events_index"}


def _library_code(name: str) -> str:
    module, qualified = name.split(":")
    owner, member = qualified.split(".")
    function = vars(getattr(importlib.import_module(module), owner))[member]
    return inspect.getsource(inspect.unwrap(function))


def _digest(name: str) -> str:
    return hashlib.sha256(_library_code(name).encode("utf-8")).hexdigest()[:16]


def _on_the_library(name: str) -> bool:
    return any(name in vars(base) for cls in CHECKED for base in cls.__mro__[1:]
               if base.__module__.startswith("eventsourcing."))


def _private_members_the_recorders_touch() -> set[str]:
    """``self._x`` and ``super()._x`` in recorders.py that the recorders do not define themselves."""
    used, ours = set(), set()
    for node in ast.walk(ast.parse(RECORDERS.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef) and not _on_the_library(node.name):
            ours.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            ours.add(node.target.id)
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            on = node.value
            if (isinstance(on, ast.Name) and on.id == "self") or (
                    isinstance(on, ast.Call) and isinstance(on.func, ast.Name) and on.func.id == "super"):
                used.add(node.attr)
            if isinstance(node.ctx, ast.Store):
                ours.add(node.attr)
    return used - ours


def test_the_recorders_touch_no_private_member_of_the_library_but_those_verified() -> None:
    assert _private_members_the_recorders_touch() == PRIVATE_MEMBERS


def test_every_private_method_the_recorders_override_is_verified() -> None:
    overridden = {name for cls in CHECKED for name in vars(cls)
                  if name.startswith("_") and not name.startswith("__") and name != "_abc_impl" and _on_the_library(name)}
    assert overridden == {"_insert_events", "_lock_table"}
    assert overridden <= PRIVATE_MEMBERS


def test_the_library_code_the_recorders_rely_on_is_as_verified() -> None:
    changed = [name for name, digest in VERIFIED.items() if _digest(name) != digest]
    assert not changed, (f"eventsourcing changed what ledger/store/recorders.py relies on: {', '.join(changed)}; "
                         "verify the recorders against the new code, then update VERIFIED and the pin")


def test_the_library_runs_the_overridden_steps_inside_its_write_transaction() -> None:
    # What the digests stand for, in words: the public insert_events calls the private step in one transaction.
    assert "self._insert_events(c, stored_events" in _library_code(
        "eventsourcing.sqlite:SQLiteAggregateRecorder.insert_events")
    assert SQLiteApplicationRecorder.insert_events is recorders.CheckedSQLiteRecorder.insert_events
    assert "self._lock_table(curs)" in _library_code(
        "eventsourcing.postgres:PostgresApplicationRecorder._insert_stored_events")
    assert recorders.CheckedPostgresRecorder.insert_events is not PostgresApplicationRecorder.insert_events
