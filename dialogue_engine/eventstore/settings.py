"""Store URLs and the eventsourcing environment they become.

- ``sqlite:///var/dialogue-engine.db`` (relative path), ``sqlite:////abs/file.db``:
  a SQLite file in WAL mode (created, with its folder, on first use).
- ``memory://`` or ``memory://NAME``: shared-cache in-memory SQLite for tests
  and throw-away sessions; each unnamed one is private to its engine.
- ``postgresql://user:password@host:port/dbname?schema=NAME&pool_size=4``:
  the eventsourcing library's PostgreSQL persistence, shared by any number of
  processes on any number of machines. Its settings are query parameters
  (:data:`POSTGRES_SETTINGS`); tables are created by ``dialogue-engine
  migrate``, never by a serving process.

The store URL also comes from ``DIALOGUE_ENGINE_STORE``.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from ..domain.errors import DomainError

DEFAULT_STORE_URL = "sqlite:///var/dialogue-engine.db"
STORE_ENV_VAR = "DIALOGUE_ENGINE_STORE"
SHARED_ENV_VAR = "DIALOGUE_ENGINE_SHARED"
"""``1``: other processes write to the store too (``serve --workers`` sets it)."""


VIEWS_ENV_VAR = "DIALOGUE_ENGINE_VIEWS"
"""The folder of this machine's read models of PostgreSQL stores (default ``var/views``)."""

POSTGRES_SETTINGS = {
    # query parameter: (eventsourcing setting, default)
    "schema": ("POSTGRES_SCHEMA", ""),
    "pool_size": ("POSTGRES_POOL_SIZE", "4"),
    "max_overflow": ("POSTGRES_MAX_OVERFLOW", "12"),
    "max_waiting": ("POSTGRES_MAX_WAITING", "0"),
    "connect_timeout": ("POSTGRES_CONNECT_TIMEOUT", "3"),
    "lock_timeout": ("POSTGRES_LOCK_TIMEOUT", "5"),
    "idle_in_transaction_timeout": ("POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT", "5"),
    "conn_max_age": ("POSTGRES_CONN_MAX_AGE", "3600"),
    "pre_ping": ("POSTGRES_PRE_PING", "y"),
}
"""The settings of a PostgreSQL store URL, as query parameters, and their defaults.

- ``pool_size`` + ``max_overflow``: connections per process (a server process
  runs 16 handler threads; mind PostgreSQL's ``max_connections`` across
  processes). ``max_waiting``: callers queued for a connection (0: no limit).
- ``connect_timeout``, ``lock_timeout`` (waiting for the events table's write
  lock, which keeps notification ids in commit order),
  ``idle_in_transaction_timeout``: seconds.
- ``connect_timeout`` also bounds the wait for a pooled connection: while
  the database is away a request answers 503 within a few seconds.
- ``pre_ping``: check a pooled connection that sat unused for a second or
  more before handing it out (one round trip), so that a connection that
  died with a restarted server is replaced before a write is sent on it
  (writes are never retried: see :mod:`dialogue_engine.eventstore.postgres`).
  Connections in steady use are not checked: a check before every use cost
  a round trip per request.
"""

SQLITE_LOCK_TIMEOUT = 5
"""Seconds a write to a SQLite file waits for the write lock (another process's
write, a backup, a long rebuild) before answering 503 ``service_unavailable``;
``sqlite:///file.db?lock_timeout=N`` sets it."""

StoreKind = Literal["memory", "sqlite", "postgresql"]


class StoreURLError(DomainError):
    type = "configuration_error"

    def __init__(self, url: str, reason: str) -> None:
        shown = redact(url)
        super().__init__(f"Cannot use store URL {shown!r}: {reason}", {"url": shown})


def redact(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


@dataclass(frozen=True)
class StoreSettings:
    url: str
    env: dict[str, str]
    is_memory: bool
    path: Path | None
    lock_timeout: int = 10
    kind: StoreKind = "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.kind == "postgresql"

    def with_create_table(self, create: bool) -> StoreSettings:
        """These settings, creating the store's tables on open or not."""
        env = {**self.env, "CREATE_TABLE": "y" if create else "n"}
        return StoreSettings(self.url, env, self.is_memory, self.path, self.lock_timeout, self.kind)

    def views_file(self, folder: str | Path | None = None) -> Path:
        """Where a PostgreSQL store's read models live on this machine: a SQLite file.

        In ``folder`` (default ``$DIALOGUE_ENGINE_VIEWS``, then ``var/views``),
        named after the server, database and schema, so that two stores never
        share read models.
        """
        env = self.env
        where = "/".join(
            env.get(key, "")
            for key in ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DBNAME", "POSTGRES_SCHEMA")
        )
        digest = hashlib.sha256(where.encode()).hexdigest()[:12]
        folder = Path(folder or os.environ.get(VIEWS_ENV_VAR) or "var/views").resolve()
        return folder / f"{env.get('POSTGRES_DBNAME', 'store')}-{digest}.db"


def store_url_from_environment(url: str | None = None) -> str:
    return url or os.environ.get(STORE_ENV_VAR) or DEFAULT_STORE_URL


def parse_store_url(url: str, *, lock_timeout_seconds: int = 10) -> StoreSettings:
    parts = urlsplit(url)
    base = {
        "PERSISTENCE_MODULE": "dialogue_engine.eventstore.sqlite:TunedSQLiteFactory",
        "SQLITE_LOCK_TIMEOUT": str(lock_timeout_seconds),
        "IS_SNAPSHOTTING_ENABLED": "y",
    }
    if parts.scheme == "memory" or url in ("sqlite:///:memory:", "sqlite://"):
        name = parts.netloc or parts.path.strip("/") or f"dialogue-engine-{uuid.uuid4().hex}"
        if name == ":memory:":
            name = f"dialogue-engine-{uuid.uuid4().hex}"
        dbname = f"file:{name}?mode=memory&cache=shared"
        return StoreSettings(
            url, {**base, "SQLITE_DBNAME": dbname}, True, None, lock_timeout_seconds, "memory"
        )
    if parts.scheme == "sqlite":
        if parts.netloc:
            raise StoreURLError(url, "write sqlite:///relative/path.db or sqlite:////abs/path.db")
        raw = unquote(parts.path)
        if not raw or raw == "/":
            raise StoreURLError(url, "no database file named")
        lock_timeout_seconds = _sqlite_lock_timeout(url, parts.query)
        base["SQLITE_LOCK_TIMEOUT"] = str(lock_timeout_seconds)
        path = Path(raw[1:]) if raw.startswith("/") else Path(raw)
        path = path.resolve()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreURLError(url, f"cannot create {path.parent}: {e.strerror}") from e
        return StoreSettings(
            url, {**base, "SQLITE_DBNAME": str(path)}, False, path, lock_timeout_seconds
        )
    if parts.scheme in ("postgresql", "postgres"):
        return _postgres_settings(url)
    raise StoreURLError(url, "expected sqlite:///PATH, postgresql://… or memory://")


def _sqlite_lock_timeout(url: str, query: str) -> int:
    """``?lock_timeout=N``: seconds a write waits for SQLite's write lock before the
    store counts as unavailable (503); default :data:`SQLITE_LOCK_TIMEOUT`."""
    given = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(given) - {"lock_timeout"})
    if unknown:
        raise StoreURLError(url, f"unknown setting {unknown[0]!r} (known: lock_timeout)")
    value = given.get("lock_timeout", str(SQLITE_LOCK_TIMEOUT))
    if not value.isdigit():
        raise StoreURLError(url, "lock_timeout: a whole number of seconds")
    return int(value)


def _postgres_settings(url: str) -> StoreSettings:
    parts = urlsplit(url)
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname or "/" in dbname:
        raise StoreURLError(url, "name one database: postgresql://user@host:port/dbname")
    try:
        port = parts.port or 5432
    except ValueError:
        raise StoreURLError(url, "the port is not a number") from None
    env = {
        "PERSISTENCE_MODULE": "dialogue_engine.eventstore.postgres:StoreFactory",
        "IS_SNAPSHOTTING_ENABLED": "y",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": parts.hostname or "localhost",
        "POSTGRES_PORT": str(port),
        "POSTGRES_USER": unquote(parts.username) if parts.username else getpass.getuser(),
        "POSTGRES_PASSWORD": unquote(parts.password) if parts.password else "",
    }
    given = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(given) - set(POSTGRES_SETTINGS))
    if unknown:
        known = ", ".join(POSTGRES_SETTINGS)
        raise StoreURLError(url, f"unknown setting {unknown[0]!r} (known: {known})")
    for name, (key, default) in POSTGRES_SETTINGS.items():
        value = given.get(name, default)
        if name == "schema":
            if value and not value.replace("_", "").isalnum():
                raise StoreURLError(url, "schema: letters, digits and underscores only")
        elif name == "pre_ping":
            if value not in ("y", "n"):
                raise StoreURLError(url, "pre_ping: y or n")
        elif not value.isdigit() or (name == "pool_size" and int(value) < 1):
            raise StoreURLError(
                url, f"{name}: a whole number{' ≥ 1' if name == 'pool_size' else ''}"
            )
        env[key] = value
    lock_timeout = int(env["POSTGRES_LOCK_TIMEOUT"])
    return StoreSettings(url, env, False, None, lock_timeout, "postgresql")
