"""Where the ledger lives: a database URL, turned into settings for the event
store (eventsourcing's own SQLite or PostgreSQL recorder) and a SQLAlchemy URL
for the read models on the same database."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from ledger.errors import invalid
from ledger.i18n import N_, _
from ledger.text import shown

DEFAULT_URL = "sqlite:///grants.db"
SQLITE = "sqlite"
POSTGRES = "postgresql"

# How long a command waits for another writer's lock before it gives up ("locked",
# exit 4). Writes here take milliseconds; an import chunk of 500 lines well under a
# second. A SQLite URL may set it with ?timeout=SECONDS.
SQLITE_LOCK_TIMEOUT = 10
MAX_LOCK_TIMEOUT = 300
POSTGRES_LOCK_TIMEOUT = 30
# Every statement on a PostgreSQL connection of the ledger ends within this bound, whatever it waits for
# (a lock wait ends sooner, at POSTGRES_LOCK_TIMEOUT): past it the database cancels it, reported `locked`.
POSTGRES_STATEMENT_TIMEOUT = 300


def postgres_options(lock_timeout: int = POSTGRES_LOCK_TIMEOUT) -> str:
    """The libpq ``options`` of every ledger connection to PostgreSQL: both waits bounded."""
    return f"-c lock_timeout={lock_timeout * 1000} -c statement_timeout={POSTGRES_STATEMENT_TIMEOUT * 1000}"
SQLITE_OPTIONS = N_("mode=ro (open read-only), timeout=SECONDS (lock wait, 1 to 300)")


@dataclass(frozen=True)
class Store:
    kind: str
    url: str
    event_store_env: dict[str, str]
    sqlalchemy_url: str
    sqlite_path: str | None = None
    read_only: bool = False
    lock_timeout: int = SQLITE_LOCK_TIMEOUT

    @property
    def shown(self) -> str:
        """The URL without a password, for messages and logs."""
        parts = urlsplit(self.url)
        if parts.password:
            return self.url.replace(f":{parts.password}@", ":***@")
        return self.url


def resolve_url(url: str | None = None) -> str:
    return url or os.environ.get("GRANTS_DB") or DEFAULT_URL


def parse_store(url: str | None = None) -> Store:
    """Parse ``sqlite:///path/file.db`` or ``postgresql://user@host:5432/dbname``."""
    url = resolve_url(url)
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite" or scheme.startswith("sqlite+"):
        if not url.lower().startswith(("sqlite:///", "sqlite+pysqlite:///")):
            raise invalid("db", _("{url}: write a SQLite URL as sqlite:///relative/file.db or "
                                  "sqlite:////absolute/file.db").format(url=shown(url)))
        path, _sep, query = url.split(":///", 1)[1].partition("?")
        if "#" in path:
            raise invalid("db", _("{url}: a SQLite file name may not contain “#”").format(url=shown(url)))
        if not path or path == ":memory:":
            raise invalid("db", _("the ledger must be a file: sqlite:///grants.db"))
        if path.lower().startswith("file:"):
            raise invalid("db", _("{url}: write the file name without “file:”; options go after “?” ({options})").format(
                url=shown(url), options=_(SQLITE_OPTIONS)))
        read_only, lock_timeout = _sqlite_options(url, query)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": str(lock_timeout),
        }
        sa_url = f"sqlite:///{path}"
        if read_only:
            # The event store's driver opens names as URIs; a plain name stays a plain file name.
            uri = "file:" + quote(path, safe="/") + "?mode=ro"
            env["SQLITE_DBNAME"] = uri
            sa_url = f"sqlite:///{uri}&uri=true"
        return Store(SQLITE, url, env, sa_url, sqlite_path=path, read_only=read_only, lock_timeout=lock_timeout)
    if scheme in ("postgresql", "postgres") or scheme.startswith("postgresql+"):
        parts = urlsplit(url)
        dbname = parts.path.lstrip("/")
        if not parts.hostname or not dbname:
            raise invalid("db", _("{url}: write a PostgreSQL URL as postgresql://user@host:5432/dbname").format(
                url=shown(url)))
        try:
            port = parts.port or 5432
        except ValueError:
            raise invalid("db", _("{url}: the port must be a number").format(url=shown(url))) from None
        user = unquote(parts.username or "postgres")
        password = unquote(parts.password or "")
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": parts.hostname,
            "POSTGRES_PORT": str(port),
            "POSTGRES_USER": user,
            "POSTGRES_PASSWORD": password,
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "POSTGRES_LOCK_TIMEOUT": str(POSTGRES_LOCK_TIMEOUT),
            "POSTGRES_POOL_SIZE": "2",
            "POSTGRES_MAX_OVERFLOW": "4",
        }
        auth = user + (f":{parts.password}" if parts.password else "")
        sa_url = f"postgresql+psycopg://{auth}@{parts.hostname}:{port}/{dbname}"
        return Store(POSTGRES, url, env, sa_url, lock_timeout=POSTGRES_LOCK_TIMEOUT)
    raise invalid("db", _("{url} is not a supported database URL; use sqlite:///file.db or "
                          "postgresql://user@host:5432/dbname").format(url=shown(url)))


def _sqlite_options(url: str, query: str) -> tuple[bool, int]:
    """The options of a SQLite URL's query string; anything else is refused, never part of a file name."""
    read_only, lock_timeout = False, SQLITE_LOCK_TIMEOUT
    if not query:
        return read_only, lock_timeout
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise invalid("db", _("{url}: cannot read the options after “?”; allowed: {options}").format(
            url=shown(url), options=_(SQLITE_OPTIONS))) from None
    seen: set[str] = set()
    for key, value in pairs:
        if key in seen:
            raise invalid("db", _("{url}: the option {key} is given twice").format(url=shown(url), key=shown(key)))
        seen.add(key)
        if key == "mode" and value == "ro":
            read_only = True
        elif key == "timeout" and value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_LOCK_TIMEOUT:
            lock_timeout = int(value)
        elif key in ("mode", "timeout"):
            raise invalid("db", _("{url}: {key}={value} is not allowed; allowed: {options}").format(
                url=shown(url), key=key, value=shown(value), options=_(SQLITE_OPTIONS)))
        else:
            raise invalid("db", _("{url}: unknown option {key}; allowed: {options}").format(
                url=shown(url), key=shown(key), options=_(SQLITE_OPTIONS)))
    return read_only, lock_timeout
