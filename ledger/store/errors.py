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
from typing import Any

from ledger.i18n import _
from ledger.store.storage import SQLITE, Store
from ledger.text import shown

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
CONNECTION_LOST = "connection-lost"

CODES = (LOCKED, READ_ONLY, PERMISSION_DENIED, CANNOT_OPEN, NOT_A_DATABASE, IO_ERROR, DISK_FULL, FOREIGN_DATABASE,
         CONNECTION_REFUSED, UNKNOWN_HOST, CONNECTION_TIMEOUT, NO_DATABASE, NO_ROLE, AUTH_FAILED, CANNOT_CONNECT,
         CONNECTION_LOST)


class StoreError(Exception):
    """The database cannot be used as asked; nothing of the command was written.

    ``resume_at``: for an import, the line it stopped at (the lines before it are recorded, and
    running the same file again goes on from there)."""

    def __init__(self, code: str, message: str, resume_at: int | None = None) -> None:
        if code not in CODES:
            raise ValueError(f"unknown store error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.resume_at = resume_at

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.resume_at is not None:
            found["resume_at"] = self.resume_at
        return found


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
        if errorname := getattr(cause, "sqlite_errorname", None):
            return str(errorname), str(cause).lower()
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
        return unwritable(store) or StoreError(PERMISSION_DENIED, _("permission denied on {path}").format(path=path))
    if name.startswith("SQLITE_CANTOPEN") or "unable to open database file" in message:
        return unwritable(store) or _uncreatable(store) or cannot_open(store)
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")) or "file is not a database" in message \
            or "malformed" in message:
        return StoreError(NOT_A_DATABASE, _("{path} is not a SQLite database, or it is damaged ({detail}); nothing "
                                            "was written. Point --db at the ledger").format(path=path, detail=message))
    if name.startswith("SQLITE_FULL") or "database or disk is full" in message:
        return StoreError(DISK_FULL, _("the disk holding {path} is full; nothing was written. Free some space and "
                                       "try again").format(path=path))
    if name.startswith("SQLITE_IOERR") or "disk i/o error" in message:
        return StoreError(IO_ERROR, _("the disk failed while reading or writing {path} ({detail}); nothing was "
                                      "written. Check the disk and the file system, then try again").format(
            path=path, detail=message))
    return None


def read_only(store: Store) -> StoreError:
    path = store.sqlite_path
    if store.read_only:
        return StoreError(READ_ONLY, _("the ledger {path} was opened read-only (mode=ro in the URL), so nothing can "
                                       "be recorded, and the reports cannot bring the read models up to date; "
                                       "nothing was written. Drop ?mode=ro to record").format(path=path))
    return StoreError(READ_ONLY, _("the ledger {path} cannot be written (a read-only file, directory or file system); "
                                   "nothing was written. Ask whoever owns it to make it writable, or work on a "
                                   "copy").format(path=path))


def cannot_open(store: Store) -> StoreError:
    path = Path(store.sqlite_path or "")
    if not path.parent.exists():
        reason = _("the directory {directory} does not exist").format(directory=path.parent)
    elif path.exists():
        reason = _("the file exists but SQLite cannot open it")
    else:
        reason = _("SQLite cannot create it there")
    return StoreError(CANNOT_OPEN, _("cannot open the ledger file {path}: {reason}; nothing was written").format(
        path=path, reason=reason))


def _uncreatable(store: Store) -> StoreError | None:
    path = Path(store.sqlite_path or "")
    directory = path.parent
    if path.exists() or not directory.exists() or os.access(directory, os.W_OK | os.X_OK):
        return None
    return StoreError(PERMISSION_DENIED, _("user {user} may not create the ledger {path}: the directory {directory} "
                                           "(owner {owner}) is not writable for it; nothing was written").format(
        user=_me(), path=path, directory=directory, owner=_owner(directory)))


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
    fix = _("A shared ledger needs the file, its directory and any -wal/-shm files writable by every user who runs "
            "grants on it (for example one group, mode 0664 and a group-writable directory)")
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if candidate.exists() and not os.access(candidate, os.W_OK):
            if candidate.stat().st_uid == os.geteuid():
                if store.read_only:
                    continue  # asked to read only; any -wal/-shm SQLite leaves are this user's own
                return StoreError(READ_ONLY, _("{path} is read-only (its mode, an immutable flag or a read-only file "
                                               "system), so user {user} cannot write the ledger; nothing was "
                                               "written. Make it writable (chmod u+w), or read it with "
                                               "?mode=ro").format(path=candidate, user=me))
            if candidate != path:
                message = _("user {user} cannot write {path}, owned by {owner} (left by a command that user ran on the "
                            "ledger; an administrator can give it to the ledger's owner with chown. Never delete a "
                            "-wal file that is not empty: it holds recorded events); nothing was written. {fix}")
            else:
                message = _("user {user} cannot write {path}, owned by {owner}; nothing was written. {fix}")
            return StoreError(PERMISSION_DENIED, message.format(user=me, path=candidate, owner=_owner(candidate),
                                                                fix=fix))
    directory = path.parent if str(path.parent) else Path(".")
    if not os.access(directory, os.W_OK | os.X_OK):
        return StoreError(PERMISSION_DENIED, _("user {user} cannot write in the directory {directory} of the ledger "
                                               "(owner {owner}), where SQLite keeps {name}-wal and {name}-shm; nothing "
                                               "was written. {fix}").format(user=me, directory=directory,
                                                                            owner=_owner(directory), name=path.name,
                                                                            fix=fix))
    return None


def locked(store: Store) -> StoreError:
    where = store.sqlite_path if store.kind == SQLITE else store.shown
    holders = sqlite_lock_holders(store.sqlite_path) if store.kind == SQLITE and store.sqlite_path else []
    if holders:
        message = _("the ledger {where} is locked by another writer ({holders}); waited {seconds} s. Nothing was "
                    "written; try again when it has finished")
    else:
        message = _("the ledger {where} is locked by another writer; waited {seconds} s. Nothing was written; try "
                    "again when it has finished")
    return StoreError(LOCKED, message.format(where=where, holders="; ".join(holders), seconds=store.lock_timeout))


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
        return _("process {pid}").format(pid=pid)
    return _("process {pid} of user {user}: {command}").format(pid=pid, user=user, command=command[:120])


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
    server = _("PostgreSQL at {host}:{port}").format(host=host, port=port)
    if sqlstate == "55P03" or "lock timeout" in text or (sqlstate == "57014" and "statement timeout" in text):
        return locked(store)
    if sqlstate == "3D000" or (f'database "{db.lower()}" does not exist' in text):
        return StoreError(NO_DATABASE, _("{server} has no database {db}; create it (createdb -h {host} -p {port} "
                                         "{name}) and run `grants init`, or fix the name in --db").format(
            server=server, db=shown(db), host=host, port=port, name=db))
    if f'role "{user.lower()}" does not exist' in text:
        return StoreError(NO_ROLE, _("{server} has no role (user) {user}; create it (createuser -h {host} -p {port} "
                                     "{name}) or connect as another user in --db "
                                     "(postgresql://USER@{host}:{port}/{db})").format(
            server=server, user=shown(user), host=host, port=port, name=user, db=db))
    if sqlstate == "28P01" or "password authentication failed" in text or "no password supplied" in text:
        return StoreError(AUTH_FAILED, _("{server} refused the password of user {user} (database {db}); give the "
                                         "right one in --db (postgresql://{name}:PASSWORD@{host}:{port}/{dbname})").format(
            server=server, user=shown(user), db=shown(db), name=user, host=host, port=port, dbname=db))
    if sqlstate == "28000" or "no pg_hba.conf entry" in text:
        return StoreError(AUTH_FAILED, _("{server} does not let user {user} connect to database {db} from here "
                                         "(pg_hba.conf); ask its administrator").format(
            server=server, user=shown(user), db=shown(db)))
    if sqlstate == "42501" or "permission denied" in text:
        return StoreError(PERMISSION_DENIED, _("user {user} may not do this in database {db} on {server} ({detail}); "
                                               "nothing was written. Ask its administrator for the privileges, or "
                                               "use the ledger's owner").format(
            user=shown(user), db=shown(db), server=server, detail=messages[-1]))
    if sqlstate == "25006" or "read-only transaction" in text:
        return StoreError(READ_ONLY, _("database {db} on {server} is read-only (a standby, or "
                                       "default_transaction_read_only); nothing was written. Point --db at the "
                                       "primary").format(db=shown(db), server=server))
    if sqlstate in ("57P01", "57P02") or "terminating connection" in text \
            or "server closed the connection" in text or "consuming input failed" in text \
            or "the connection is lost" in text or "connection is closed" in text:
        return StoreError(CONNECTION_LOST, _("the connection to database {db} on {server} was lost ({detail}); "
                                             "a write under way is recorded whole or not at all. Run the command "
                                             "again: what is already recorded is answered “already recorded”, "
                                             "never written twice").format(db=shown(db), server=server,
                                                                          detail=messages[-1].strip()))
    if "connection refused" in text:
        return StoreError(CONNECTION_REFUSED, _("nothing answers at {host}:{port} (connection refused): is PostgreSQL "
                                                "running there, on that port? Check the host and port in "
                                                "--db").format(host=host, port=port))
    if "name or service not known" in text or "nodename nor servname" in text or "could not translate host" in text \
            or "temporary failure in name resolution" in text or "no address associated" in text:
        return StoreError(UNKNOWN_HOST, _("the host name {host} is not known (no address found for it); check the "
                                          "host in --db").format(host=shown(host)))
    if "timeout expired" in text or "timed out" in text:
        return StoreError(CONNECTION_TIMEOUT, _("{host}:{port} did not answer in time; is the host reachable (a "
                                                "firewall, a wrong address)? Check the host and port in --db").format(
            host=host, port=port))
    if sqlstate.startswith("08") or "connection" in text and ("failed" in text or "closed" in text):
        return StoreError(CANNOT_CONNECT, _("cannot connect to database {db} as {user} on {server}: {detail}").format(
            db=shown(db), user=shown(user), server=server, detail=messages[-1]))
    return None
