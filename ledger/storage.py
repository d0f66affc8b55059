"""Where the ledger lives: a database URL, turned into settings for the event
store (eventsourcing's own SQLite or PostgreSQL recorder) and a SQLAlchemy URL
for the read models on the same database."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from ledger.errors import invalid

DEFAULT_URL = "sqlite:///grants.db"
SQLITE = "sqlite"
POSTGRES = "postgresql"


@dataclass(frozen=True)
class Store:
    kind: str
    url: str
    event_store_env: dict[str, str]
    sqlalchemy_url: str
    sqlite_path: str | None = None

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
            raise invalid("db", f"{url!r}: write a SQLite URL as sqlite:///relative/file.db or sqlite:////absolute/file.db")
        path = url.split(":///", 1)[1]
        if not path or path == ":memory:":
            raise invalid("db", "the ledger must be a file: sqlite:///grants.db")
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "30",
        }
        return Store(SQLITE, url, env, f"sqlite:///{path}", sqlite_path=path)
    if scheme in ("postgresql", "postgres") or scheme.startswith("postgresql+"):
        parts = urlsplit(url)
        dbname = parts.path.lstrip("/")
        if not parts.hostname or not dbname:
            raise invalid("db", f"{url!r}: write a PostgreSQL URL as postgresql://user@host:5432/dbname")
        try:
            port = parts.port or 5432
        except ValueError:
            raise invalid("db", f"{url!r}: the port must be a number") from None
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
            "POSTGRES_LOCK_TIMEOUT": "30",
            "POSTGRES_POOL_SIZE": "2",
            "POSTGRES_MAX_OVERFLOW": "4",
        }
        auth = user + (f":{parts.password}" if parts.password else "")
        sa_url = f"postgresql+psycopg://{auth}@{parts.hostname}:{port}/{dbname}"
        return Store(POSTGRES, url, env, sa_url)
    raise invalid("db", f"{url!r} is not a supported database URL; use sqlite:///file.db or "
                  "postgresql://user@host:5432/dbname")
