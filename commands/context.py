"""What every command needs: the store, the ledger, the read-model engine, the operator.

Opened lazily and once per process. Only `grants init` (and `grants demo`, which
runs it) creates a ledger: its tables, triggers and hash chain. Every other command
on a database without one is refused (``no-ledger``, exit 3) with nothing created:
no SQLite file, not even an empty one, and no table. Before anything is opened, the
database is looked at (``commands.preflight``, read-only, without creating a file):
one that cannot be used is reported as its ``StoreError``, and one that holds other
tables and no ledger is refused (``foreign-database``) with nothing written to it.
"""

from __future__ import annotations

import getpass
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from commands import clock, logs
from commands.settings import Setting
from commands.settings import resolve as resolve_settings
from ledger.i18n import _
from ledger.store.errors import FOREIGN_DATABASE, StoreError, classify
from ledger.store.storage import POSTGRES, Store, parse_store

if TYPE_CHECKING:
    from ledger.service.application import GrantsLedger

INSUFFICIENT_PRIVILEGE = "42501"
NO_LEDGER = "no-ledger"  # the JSON error code of a database where `grants init` made no ledger


class NoLedger(Exception):
    """There is no ledger at the given database (``missing``), or it cannot be reached.

    ``code`` is the JSON error code: ``no-ledger``, or ``foreign-database`` for a
    database that holds other tables and no ledger (refused, nothing written).
    """

    def __init__(self, message: str, *, missing: bool, code: str = NO_LEDGER) -> None:
        super().__init__(message)
        self.missing = missing
        self.code = code


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user database in some containers
        return "unknown"


@dataclass
class Context:
    db: str | None = None
    by: str | None = None
    lang: str | None = None
    _store: Store | None = None
    _ledger: GrantsLedger | None = None
    _engine: Any = None
    _views_ready: bool = field(default=False)
    _settings: dict[str, Setting] | None = None

    @property
    def settings(self) -> dict[str, Setting]:
        """Each setting and where it came from: flag, environment, grants.toml, default."""
        if self._settings is None:
            self._settings = resolve_settings({"db": self.db, "by": self.by, "lang": self.lang})
        return self._settings

    def use_db(self, url: str) -> None:
        """Work on this database from now on (as if given with --db)."""
        self.db, self._settings, self._store = url, None, None

    _initialising: bool = field(default=False)  # `grants init`: the owner creates what is missing

    @property
    def operator(self) -> str:
        """Who is working: --by, GRANTS_USER or grants.toml; else, on PostgreSQL, the database role of
        the URL (the identity the database vouches for); else the OS user (trust-based)."""
        named = self.settings["by"].value
        if named:
            return named
        if self.store.kind == POSTGRES:
            return self.store.event_store_env["POSTGRES_USER"]
        return os_user()

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = parse_store(self.settings["db"].value)
        return self._store

    def ledger(self) -> GrantsLedger:
        """The ledger at --db; refused (NoLedger, ``no-ledger``) where `grants init` has not made one."""
        if self._ledger is None:
            logs.ready()  # the ledger's modules log too
            from sqlalchemy import inspect

            from commands import preflight
            from ledger.service.application import GrantsLedger

            store = self.store
            try:
                found = preflight.check(store)
            except StoreError as exc:
                if exc.code == FOREIGN_DATABASE:
                    raise NoLedger(exc.message, missing=True, code=exc.code) from None
                raise
            if found is not preflight.Found.LEDGER and (not self._initialising or store.read_only):
                raise self.no_ledger()
            try:
                # Only `grants init` creates or completes the tables; on PostgreSQL an operator's own
                # role may not create or alter them anyway.
                ledger = GrantsLedger(store, create_tables=self._initialising)
                if not self._initialising and not inspect(self.engine).has_table(ledger.recorder.events_table_name):
                    ledger.close()  # gone since the preflight looked
                    raise self.no_ledger()
            except NoLedger:
                raise
            except Exception as exc:  # the driver's own errors differ per store
                failure = classify(exc, store)
                if failure is not None:
                    raise failure from exc
                raise NoLedger(_("cannot open the ledger at {url}: {error}").format(url=store.shown, error=exc),
                               missing=False) from exc
            ledger.clock = clock.today
            self._ledger = ledger
        return self._ledger

    def no_ledger(self) -> NoLedger:
        """The refusal of a command on a database where no ledger was made: which one, and how to make it."""
        url = self.store.shown
        if self.settings["db"].source.startswith("default"):
            message = _("no ledger at {url}; nothing was created. Create one with `grants init`, or point --db "
                        "(or GRANTS_DB) at an existing ledger").format(url=url)
        else:
            message = _("no ledger at {url}; nothing was created. Create one with `grants init --db {url}`, or "
                        "point --db (or GRANTS_DB) at an existing ledger").format(url=url)
        return NoLedger(message, missing=True)

    @property
    def engine(self) -> Any:
        if self._engine is None:
            logs.ready()  # the read models' modules log too
            from projections import runner

            self._engine = runner.make_engine(self.store)
        return self._engine

    def reader(self) -> GrantsLedger:
        """The ledger, for a command that reads: in enforced mode only an active operator may."""
        ledger = self.ledger()
        ledger.authorise_reader(self.operator, clock.today())
        return ledger

    def read_views(self) -> Any:
        """``views()`` for a command that reads (``reader()``'s check first)."""
        self.reader()
        return self.views()

    def views(self) -> Any:
        """The read-model engine, with the views created and caught up with the log.

        A role that may only read (an auditor's, on PostgreSQL) cannot bring them up to date: it
        reads them as they are, and says how far behind the log they are."""
        from sqlalchemy.exc import ProgrammingError

        from projections import runner

        ledger = self.ledger()
        if not self._views_ready:
            runner.create_views(self.engine)
            self._views_ready = True
        try:
            runner.catch_up(ledger, self.engine)
        except ProgrammingError as exc:
            if getattr(exc.orig, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
                raise
            behind = (ledger.recorder.max_notification_id() or 0) - runner.position(self.engine)
            if behind:
                print(_("warning: this database role may only read; the reports are {behind} events behind the "
                        "log until an operator who records brings them up to date").format(behind=behind),
                      file=sys.stderr)
        return self.engine

    def init(self) -> int:
        """Create what is missing (tables, append-only guards; on PostgreSQL the identity triggers and
        functions), seal unsealed events; returns how many were sealed."""
        from projections import identity, runner

        self._initialising = True
        sealed: int = self.ledger().recorder.seal()
        runner.create_views(self.engine)
        self._views_ready = True
        runner.catch_up(self.ledger(), self.engine)
        if self.store.kind == POSTGRES:
            identity.install(self.engine)
        return sealed

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
        if self._engine is not None:
            self._engine.dispose()
