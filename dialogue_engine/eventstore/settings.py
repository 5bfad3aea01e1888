"""Store URLs and the eventsourcing environment they become.

- ``sqlite:///var/dialogue-engine.db`` (relative path), ``sqlite:////abs/file.db``:
  a SQLite file in WAL mode (created, with its folder, on first use).
- ``memory://`` or ``memory://NAME``: shared-cache in-memory SQLite for tests
  and throw-away sessions; each unnamed one is private to its engine.

The store URL also comes from ``DIALOGUE_ENGINE_STORE``.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..domain.errors import DomainError

DEFAULT_STORE_URL = "sqlite:///var/dialogue-engine.db"
STORE_ENV_VAR = "DIALOGUE_ENGINE_STORE"


class StoreURLError(DomainError):
    type = "configuration_error"

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"Cannot use store URL {url!r}: {reason}", {"url": url})


@dataclass(frozen=True)
class StoreSettings:
    url: str
    env: dict[str, str]
    is_memory: bool
    path: Path | None
    lock_timeout: int = 10


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
            url, {**base, "SQLITE_DBNAME": dbname}, True, None, lock_timeout_seconds
        )
    if parts.scheme == "sqlite":
        if parts.netloc:
            raise StoreURLError(url, "write sqlite:///relative/path.db or sqlite:////abs/path.db")
        raw = unquote(parts.path)
        if not raw or raw == "/":
            raise StoreURLError(url, "no database file named")
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
        raise StoreURLError(url, "PostgreSQL stores are not supported yet")
    raise StoreURLError(url, "expected sqlite:///PATH or memory://")
