"""Throw-away PostgreSQL stores for tests: one schema each, dropped afterwards.

The server is ``$DIALOGUE_ENGINE_TEST_POSTGRES`` (default: the machine's own,
127.0.0.1:5432, trust auth, database ``test``). Where it cannot be reached the
tests that need it skip and say why, except under ``CI=true``, where a missing
PostgreSQL fails them: CI must prove both stores.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from dialogue_engine.eventstore import postgres
from dialogue_engine.eventstore.settings import parse_store_url

SERVER_URL = os.environ.get(
    "DIALOGUE_ENGINE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


@functools.cache
def unreachable() -> str | None:
    """Why PostgreSQL cannot be used (None: it can)."""
    try:
        with psycopg.connect(SERVER_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as e:
        return f"PostgreSQL at {SERVER_URL} is not reachable: {str(e).strip() or type(e).__name__}"
    return None


def require_postgres() -> None:
    """Skip the calling test without PostgreSQL; fail it instead under CI=true."""
    reason = unreachable()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run, not skip)")
    pytest.skip(reason)


@contextmanager
def fresh_store(*, migrate: bool = True) -> Iterator[str]:
    """The URL of a PostgreSQL store in a new schema (tables created unless not ``migrate``)."""
    require_postgres()
    schema = f"test_{uuid.uuid4().hex[:12]}"
    url = f"{SERVER_URL}?schema={schema}"
    settings = parse_store_url(url)
    if migrate:
        postgres.migrate(settings)
    try:
        yield url
    finally:
        postgres.drop_schema(settings)
