"""Before the ledger is opened: can the database be reached, and is it a ledger?

The event-store library creates its table and switches a SQLite file to WAL mode as
it opens, and its PostgreSQL pool hides why a connection failed ("couldn't get a
connection after 5.00 sec"). So the database is looked at first, with the driver
directly and without writing: a SQLite file read-only, PostgreSQL with one plain
connection. A failure is classified (``ledger.store.errors``); a database holding
other tables and no ledger is refused before anything is written to it.
"""

from __future__ import annotations

import sqlite3
from enum import Enum
from pathlib import Path
from urllib.parse import quote

from ledger.i18n import _
from ledger.service.application import GrantsLedger
from ledger.store.errors import FOREIGN_DATABASE, StoreError, classify, unwritable
from ledger.store.storage import POSTGRES, SQLITE, Store
from projections import schema

# The event store's table: eventsourcing names it per store (see GrantsLedger.name).
EVENTS_TABLE = {SQLITE: "stored_events", POSTGRES: f"{GrantsLedger.name.lower()}_events"}
OUR_TABLES = frozenset({*EVENTS_TABLE.values(), *schema.metadata.tables})


class Found(Enum):
    ABSENT = "absent"  # no SQLite file
    EMPTY = "empty"  # a database without tables (or with only the read models)
    LEDGER = "ledger"


def check(store: Store) -> Found:
    """What is at the store's database; raises StoreError when it cannot be used."""
    tables = _sqlite_tables(store) if store.kind == SQLITE else _postgres_tables(store)
    if tables is None:
        return Found.ABSENT
    if EVENTS_TABLE[store.kind] in tables:
        return Found.LEDGER
    foreign = sorted(tables - OUR_TABLES)
    if foreign:
        shown = ", ".join(foreign[:5]) + (_(" and {n} more").format(n=len(foreign) - 5) if len(foreign) > 5 else "")
        raise StoreError(FOREIGN_DATABASE, _("{db} is not a ledger: it holds other tables ({tables}) and not the "
                                             "ledger's; nothing was written to it. Point --db at the ledger, or at a "
                                             "new file or an empty database to make a new one").format(
                                                 db=store.shown, tables=shown))
    return Found.EMPTY


def _sqlite_tables(store: Store) -> set[str] | None:
    path = Path(store.sqlite_path or "")
    problem = unwritable(store)
    if problem is not None:
        raise problem
    if not path.exists():
        return None
    uri = "file:" + quote(str(path), safe="/") + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=store.lock_timeout)
        try:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise classify(exc, store) or StoreError("cannot-open", _("cannot open the ledger {path}: {problem}").format(
            path=path, problem=exc)) from exc
    return {row[0] for row in rows}


def _postgres_tables(store: Store) -> set[str]:
    import psycopg

    env = store.event_store_env
    try:
        with psycopg.connect(host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"], dbname=env["POSTGRES_DBNAME"],
                             user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"] or None,
                             connect_timeout=int(env["POSTGRES_CONNECT_TIMEOUT"]), autocommit=True) as conn:
            rows = conn.execute("SELECT table_name FROM information_schema.tables "
                                "WHERE table_schema = current_schema()").fetchall()
    except psycopg.Error as exc:
        failure = classify(exc, store)
        if failure is None:
            raise
        raise failure from exc
    return {row[0] for row in rows}
