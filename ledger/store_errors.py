"""What went wrong with the database, in words a finance officer can act on.

The drivers say "database is locked", "attempt to write a readonly database" or
"couldn't get a connection after 5.00 sec"; each of those has one cause and one
remedy. ``classify`` turns a driver's error (sqlite3, psycopg, or either wrapped
by the event-store library or SQLAlchemy) into a ``StoreError`` with a stable
code; only ``LOCKED`` is worth retrying, and only within the lock timeout.
Pure: it reads exception attributes, file modes and /proc/locks, never a driver.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Iterator
from pathlib import Path

from ledger.storage import SQLITE, Store

LOCKED = "locked"
READ_ONLY = "read-only"
PERMISSION_DENIED = "permission-denied"
CANNOT_OPEN = "cannot-open"
NOT_A_DATABASE = "not-a-database"
IO_ERROR = "io-error"
DISK_FULL = "disk-full"
FOREIGN_DATABASE = "foreign-database"
CONNECTION_REFUSED = "connection-refused"
UNKNOWN_HOST = "unknown-host"
CONNECTION_TIMEOUT = "connection-timeout"
NO_DATABASE = "no-database"
NO_ROLE = "no-role"
AUTH_FAILED = "auth-failed"
CANNOT_CONNECT = "cannot-connect"

CODES = (LOCKED, READ_ONLY, PERMISSION_DENIED, CANNOT_OPEN, NOT_A_DATABASE, IO_ERROR, DISK_FULL, FOREIGN_DATABASE,
         CONNECTION_REFUSED, UNKNOWN_HOST, CONNECTION_TIMEOUT, NO_DATABASE, NO_ROLE, AUTH_FAILED, CANNOT_CONNECT)


class StoreError(Exception):
    """The database cannot be used as asked; nothing of the command was written."""

    def __init__(self, code: str, message: str) -> None:
        if code not in CODES:
            raise ValueError(f"unknown store error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what it wraps (``__cause__``, ``__context__``, SQLAlchemy's ``orig``)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [current.__cause__, current.__context__, getattr(current, "orig", None)]


def classify(exc: BaseException, store: Store) -> StoreError | None:
    """The StoreError an exception stands for, or None if it is not a database failure we know."""
    for cause in causes(exc):
        if isinstance(cause, StoreError):
            return cause
    if store.kind == SQLITE:
        return _classify_sqlite(exc, store)
    return _classify_postgres(exc, store)


def is_conflict(exc: BaseException) -> bool:
    """A PostgreSQL serialization failure or deadlock: another writer won; run the command again."""
    return any(getattr(cause, "sqlstate", None) in ("40001", "40P01") for cause in causes(exc))


# --- SQLite -------------------------------------------------------------------

def _sqlite_name(exc: BaseException) -> tuple[str, str]:
    """(SQLITE_... error name or "", lower-case message) of the innermost sqlite3 error."""
    name, message = "", str(exc).lower()
    for cause in causes(exc):
        if getattr(cause, "sqlite_errorname", None):
            return str(cause.sqlite_errorname), str(cause).lower()  # type: ignore[attr-defined]
    return name, message


def _classify_sqlite(exc: BaseException, store: Store) -> StoreError | None:
    name, message = _sqlite_name(exc)
    path = store.sqlite_path or ""
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in message \
            or "database table is locked" in message:
        return locked(store)
    if name.startswith("SQLITE_READONLY") or "readonly database" in message or "read-only" in message:
        return unwritable(store) or read_only(store)
    if name.startswith("SQLITE_PERM") or "access permission denied" in message:
        return unwritable(store) or StoreError(PERMISSION_DENIED, f"permission denied on {path}")
    if name.startswith("SQLITE_CANTOPEN") or "unable to open database file" in message:
        return unwritable(store) or _uncreatable(store) or cannot_open(store)
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")) or "file is not a database" in message \
            or "malformed" in message:
        return StoreError(NOT_A_DATABASE, f"{path} is not a SQLite database, or it is damaged ({message}); "
                          "nothing was written. Point --db at the ledger")
    if name.startswith("SQLITE_FULL") or "database or disk is full" in message:
        return StoreError(DISK_FULL, f"the disk holding {path} is full; nothing was written. Free some space "
                          "and try again")
    if name.startswith("SQLITE_IOERR") or "disk i/o error" in message:
        return StoreError(IO_ERROR, f"the disk failed while reading or writing {path} ({message}); nothing was "
                          "written. Check the disk and the file system, then try again")
    return None


def read_only(store: Store) -> StoreError:
    path = store.sqlite_path
    if store.read_only:
        return StoreError(READ_ONLY, f"the ledger {path} was opened read-only (mode=ro in the URL), so nothing "
                          "can be recorded, and the reports cannot bring the read models up to date; nothing was "
                          "written. Drop ?mode=ro to record")
    return StoreError(READ_ONLY, f"the ledger {path} cannot be written (a read-only file, directory or file "
                      "system); nothing was written. Ask whoever owns it to make it writable, or work on a copy")


def cannot_open(store: Store) -> StoreError:
    path = Path(store.sqlite_path or "")
    if not path.parent.exists():
        reason = f"the directory {path.parent} does not exist"
    elif path.exists():
        reason = "the file exists but SQLite cannot open it"
    else:
        reason = "SQLite cannot create it there"
    return StoreError(CANNOT_OPEN, f"cannot open the ledger file {path}: {reason}; nothing was written")


def _uncreatable(store: Store) -> StoreError | None:
    path = Path(store.sqlite_path or "")
    directory = path.parent
    if path.exists() or not directory.exists() or os.access(directory, os.W_OK | os.X_OK):
        return None
    return StoreError(PERMISSION_DENIED, f"user {_me()} may not create the ledger {path}: the directory {directory} "
                      f"(owner {_owner(directory)}) is not writable for it; nothing was written")


def _owner(path: Path) -> str:
    uid = path.stat().st_uid
    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


def _me() -> str:
    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def unwritable(store: Store) -> StoreError | None:
    """A SQLite ledger, its -wal/-shm files or its directory that this user cannot write, named.

    A WAL-mode SQLite file is written through its -wal and -shm files, which SQLite
    creates next to it, owned by whoever opened the ledger first. A reader of another
    user who may not write the ledger leaves them behind, and then not even the owner
    can write. So every command needs all three (and the directory) writable; with
    ?mode=ro only the user's own files may be read-only.
    """
    if store.kind != SQLITE or not store.sqlite_path:
        return None
    path = Path(store.sqlite_path)
    if not path.exists():
        return None  # whether it may be created is the command's business (reading creates nothing)
    me = _me()
    fix = ("A shared ledger needs the file, its directory and any -wal/-shm files writable by every user who "
           "runs grants on it (for example one group, mode 0664 and a group-writable directory)")
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if candidate.exists() and not os.access(candidate, os.W_OK):
            if candidate.stat().st_uid == os.geteuid():
                if store.read_only:
                    continue  # asked to read only; any -wal/-shm SQLite leaves are this user's own
                return StoreError(READ_ONLY, f"{candidate} is read-only (its mode, an immutable flag or a "
                                  f"read-only file system), so user {me} cannot write the ledger; nothing was "
                                  "written. Make it writable (chmod u+w), or read it with ?mode=ro")
            hint = ""
            if candidate != path:
                hint = (" (left by a command that user ran on the ledger; an administrator can give it to the "
                        "ledger's owner with chown. Never delete a -wal file that is not empty: it holds "
                        "recorded events)")
            return StoreError(PERMISSION_DENIED, f"user {me} cannot write {candidate}, owned by {_owner(candidate)}"
                              f"{hint}; nothing was written. {fix}")
    directory = path.parent if str(path.parent) else Path(".")
    if not os.access(directory, os.W_OK | os.X_OK):
        return StoreError(PERMISSION_DENIED, f"user {me} cannot write in the directory {directory} of the ledger "
                          f"(owner {_owner(directory)}), where SQLite keeps {path.name}-wal and {path.name}-shm; "
                          f"nothing was written. {fix}")
    return None


def locked(store: Store) -> StoreError:
    where = store.sqlite_path if store.kind == SQLITE else store.shown
    holders = sqlite_lock_holders(store.sqlite_path) if store.kind == SQLITE and store.sqlite_path else []
    who = f" ({'; '.join(holders)})" if holders else ""
    return StoreError(LOCKED, f"the ledger {where} is locked by another writer{who}; waited "
                      f"{store.lock_timeout} s. Nothing was written; try again when it has finished")


def sqlite_lock_holders(path: str, proc_locks: str = "/proc/locks") -> list[str]:
    """Which other processes hold a write lock on a SQLite file (Linux only; best effort)."""
    targets: dict[tuple[int, int, int], str] = {}
    for name in (path, f"{path}-shm"):
        try:
            st = os.stat(name)
        except OSError:
            continue
        targets[(os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)] = name
    try:
        lines = Path(proc_locks).read_text().splitlines()
    except OSError:
        return []
    pids: list[int] = []
    for line in lines:
        fields = line.split()
        if "->" in fields:  # a process waiting for this lock, not holding it
            continue
        try:
            kind, pid, device = fields[3], int(fields[4]), fields[5]
            major, minor, inode = device.split(":")
            key = (int(major, 16), int(minor, 16), int(inode))
        except (IndexError, ValueError):
            continue
        if kind == "WRITE" and key in targets and pid not in (0, os.getpid()) and pid not in pids:
            pids.append(pid)
    return [_describe(pid) for pid in pids]


def _describe(pid: int) -> str:
    try:
        command = " ".join(Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").replace("\0", " ").split())
        uid = Path(f"/proc/{pid}").stat().st_uid
        user = pwd.getpwuid(uid).pw_name
    except (OSError, KeyError):
        return f"process {pid}"
    return f"process {pid} of user {user}: {command[:120]}"


# --- PostgreSQL -----------------------------------------------------------------

def _classify_postgres(exc: BaseException, store: Store) -> StoreError | None:
    env = store.event_store_env
    host, port = env.get("POSTGRES_HOST", "?"), env.get("POSTGRES_PORT", "?")
    db, user = env.get("POSTGRES_DBNAME", "?"), env.get("POSTGRES_USER", "?")
    sqlstate = ""
    messages = []
    for cause in causes(exc):
        sqlstate = sqlstate or (getattr(cause, "sqlstate", None) or "")
        messages.append(str(cause).lower())
    text = " | ".join(messages)
    server = f"PostgreSQL at {host}:{port}"
    if sqlstate == "55P03" or "lock timeout" in text:
        return locked(store)
    if sqlstate == "3D000" or (f'database "{db.lower()}" does not exist' in text):
        return StoreError(NO_DATABASE, f"{server} has no database {db!r}; create it (createdb -h {host} -p {port} "
                          f"{db}) and run `grants init`, or fix the name in --db")
    if f'role "{user.lower()}" does not exist' in text:
        return StoreError(NO_ROLE, f"{server} has no role (user) {user!r}; create it (createuser -h {host} -p {port} "
                          f"{user}) or connect as another user in --db (postgresql://USER@{host}:{port}/{db})")
    if sqlstate == "28P01" or "password authentication failed" in text or "no password supplied" in text:
        return StoreError(AUTH_FAILED, f"{server} refused the password of user {user!r} (database {db!r}); give "
                          f"the right one in --db (postgresql://{user}:PASSWORD@{host}:{port}/{db})")
    if sqlstate == "28000" or "no pg_hba.conf entry" in text:
        return StoreError(AUTH_FAILED, f"{server} does not let user {user!r} connect to database {db!r} from here "
                          f"(pg_hba.conf); ask its administrator")
    if sqlstate == "42501" or "permission denied" in text:
        return StoreError(PERMISSION_DENIED, f"user {user!r} may not do this in database {db!r} on {server} "
                          f"({messages[-1]}); nothing was written. Ask its administrator for the privileges, or use "
                          "the ledger's owner")
    if sqlstate == "25006" or "read-only transaction" in text:
        return StoreError(READ_ONLY, f"database {db!r} on {server} is read-only (a standby, or "
                          "default_transaction_read_only); nothing was written. Point --db at the primary")
    if "connection refused" in text:
        return StoreError(CONNECTION_REFUSED, f"nothing answers at {host}:{port} (connection refused): is "
                          f"PostgreSQL running there, on that port? Check the host and port in --db")
    if "name or service not known" in text or "nodename nor servname" in text or "could not translate host" in text \
            or "temporary failure in name resolution" in text or "no address associated" in text:
        return StoreError(UNKNOWN_HOST, f"the host name {host!r} is not known (no address found for it); check "
                          f"the host in --db")
    if "timeout expired" in text or "timed out" in text:
        return StoreError(CONNECTION_TIMEOUT, f"{host}:{port} did not answer in time; is the host reachable (a "
                          "firewall, a wrong address)? Check the host and port in --db")
    if sqlstate.startswith("08") or "connection" in text and ("failed" in text or "closed" in text):
        return StoreError(CANNOT_CONNECT, f"cannot connect to database {db!r} as {user!r} on {server}: "
                          f"{messages[-1]}")
    return None
