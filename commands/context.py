"""What every command needs: the store, the ledger, the read-model engine, the operator.

Opened lazily and once per process; `grants init` creates the tables, and any
command that writes creates them too if they are missing (CREATE ... IF NOT
EXISTS), so a first `grants import` on an empty database just works. Commands
that only read refuse a SQLite file that does not exist rather than create one.
Before anything is opened, the database is looked at (``commands.preflight``): one
that cannot be used is reported as its ``StoreError``, and one that holds other
tables and no ledger is refused (``foreign-database``) with nothing written to it.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import inspect

from commands import preflight
from ledger.service import GrantsLedger
from ledger.storage import Store, parse_store
from ledger.store_errors import FOREIGN_DATABASE, StoreError, classify
from projections import runner


class NoLedger(Exception):
    """There is no ledger at the given database (``missing``), or it cannot be reached.

    ``code`` is the JSON error code: ``no-ledger``, or ``foreign-database`` for a
    database that holds other tables and no ledger (refused, nothing written).
    """

    def __init__(self, message: str, *, missing: bool, code: str = "no-ledger") -> None:
        super().__init__(message)
        self.missing = missing
        self.code = code


def default_operator() -> str:
    explicit = os.environ.get("GRANTS_USER")
    if explicit:
        return explicit
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user database in some containers
        return "unknown"


@dataclass
class Context:
    db: str | None = None
    by: str | None = None
    _store: Store | None = None
    _ledger: GrantsLedger | None = None
    _engine: Any = None
    _views_ready: bool = field(default=False)

    @property
    def operator(self) -> str:
        return self.by or default_operator()

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = parse_store(self.db)
        return self._store

    def ledger(self, *, create: bool = True) -> GrantsLedger:
        """The ledger at --db; with create=False, refuse (NoLedger) where none was made."""
        if self._ledger is None:
            store = self.store
            missing = NoLedger(f"no ledger at {store.shown}. Run `grants init` to create one, or point --db / "
                               "GRANTS_DB at the ledger", missing=True)
            try:
                found = preflight.check(store)
            except StoreError as exc:
                if exc.code == FOREIGN_DATABASE:
                    raise NoLedger(exc.message, missing=True, code=exc.code) from None
                raise
            if found is preflight.Found.ABSENT and (not create or store.read_only):
                raise missing
            try:
                ledger = GrantsLedger(store, create_tables=create)
                if not create and not inspect(self.engine).has_table(ledger.recorder.events_table_name):
                    ledger.close()
                    raise missing
            except NoLedger:
                raise
            except Exception as exc:  # the driver's own errors differ per store
                failure = classify(exc, store)
                if failure is not None:
                    raise failure from exc
                raise NoLedger(f"cannot open the ledger at {store.shown}: {exc}", missing=False) from exc
            self._ledger = ledger
        return self._ledger

    @property
    def engine(self) -> Any:
        if self._engine is None:
            self._engine = runner.make_engine(self.store)
        return self._engine

    def views(self) -> Any:
        """The read-model engine, with the views created and caught up with the log."""
        ledger = self.ledger(create=False)
        if not self._views_ready:
            runner.create_views(self.engine)
            self._views_ready = True
        runner.catch_up(ledger, self.engine)
        return self.engine

    def init(self) -> int:
        """Create what is missing (tables, append-only guards), seal unsealed events; returns how many were sealed."""
        sealed = self.ledger(create=True).recorder.seal()  # type: ignore[attr-defined]
        runner.create_views(self.engine)
        self._views_ready = True
        runner.catch_up(self.ledger(), self.engine)
        return sealed

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
        if self._engine is not None:
            self._engine.dispose()
