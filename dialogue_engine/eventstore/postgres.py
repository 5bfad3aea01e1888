"""What a PostgreSQL store needs beyond the eventsourcing library's persistence.

Tables are created once, by ``dialogue-engine migrate``, under an advisory
lock: PostgreSQL's ``CREATE TABLE IF NOT EXISTS`` is not safe against itself
("tuple concurrently updated"), so processes that serve never create tables,
and several migrations started together run one after the other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresFactory,
)
from eventsourcing.utils import retry
from psycopg import sql

from ..domain.errors import DomainError
from .application import DialogueStore, StoreUnavailable
from .settings import StoreSettings

F = TypeVar("F", bound=Callable[..., Any])


def _reads_retried_once(method: F) -> F:
    """The library's method with one retry instead of nine.

    The library retries a statement ten times, 0.2 s apart, and each attempt
    may wait ``connect_timeout`` for a connection: a request would hang for
    most of a minute while the database is away. A read is retried once (a
    pooled connection that died with a restarted server fails once).
    """
    unwrapped = method.__wrapped__  # type: ignore[attr-defined]
    return retry((InterfaceError, OperationalError), max_attempts=2, wait=0.1)(unwrapped)  # type: ignore[no-any-return]


def _written_once(method: F) -> F:
    """The library's insert, never retried.

    A connection lost during COMMIT leaves the outcome unknown; retrying
    would meet the events it may have saved as a version conflict, and the
    command would be run again on top of itself. Unretried, the caller gets
    503 and, if it must know, reads what is there.
    """
    return method.__wrapped__  # type: ignore[attr-defined,no-any-return]


class FailFastAggregateRecorder(PostgresAggregateRecorder):
    insert_events = _written_once(PostgresAggregateRecorder.insert_events)
    select_events = _reads_retried_once(PostgresAggregateRecorder.select_events)


class FailFastApplicationRecorder(PostgresApplicationRecorder):
    insert_events = _written_once(PostgresApplicationRecorder.insert_events)
    select_events = _reads_retried_once(PostgresAggregateRecorder.select_events)
    select_notifications = _reads_retried_once(PostgresApplicationRecorder.select_notifications)
    max_notification_id = _reads_retried_once(PostgresApplicationRecorder.max_notification_id)


class StoreFactory(PostgresFactory):
    """The library's PostgreSQL persistence, failing fast while the database is away."""

    aggregate_recorder_class = FailFastAggregateRecorder
    application_recorder_class = FailFastApplicationRecorder


PERSISTENCE_TOPIC = f"{__name__}:StoreFactory"

MIGRATION_LOCK = 0x6469616C6F677565
"""The advisory lock migrations take ("dialogue" in ASCII)."""


class StoreNotMigrated(StoreUnavailable):
    """The PostgreSQL database has no tables for the store yet."""

    type = "store_not_migrated"

    def __init__(self, where: str) -> None:
        reason = f"no event store tables in {where}: run `dialogue-engine migrate` first"
        DomainError.__init__(self, reason, {"reason": reason})


@contextmanager
def connection(settings: StoreSettings) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A plain autocommit connection to the store's database (not from any pool)."""
    env = settings.env
    try:
        with psycopg.connect(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"] or None,
            connect_timeout=int(env["POSTGRES_CONNECT_TIMEOUT"]),
            autocommit=True,
        ) as conn:
            yield conn
    except psycopg.OperationalError as e:
        raise StoreUnavailable(str(e).strip()) from e


def events_table(settings: StoreSettings) -> sql.Composable:
    table = sql.Identifier(f"{DialogueStore.name}_events")
    schema = settings.env.get("POSTGRES_SCHEMA")
    return sql.SQL("{}.{}").format(sql.Identifier(schema), table) if schema else table


def tables_exist(settings: StoreSettings) -> bool:
    with connection(settings) as conn:
        name = events_table(settings).as_string(conn)
        row = conn.execute("SELECT to_regclass(%s)", (name,)).fetchone()
    return row is not None and row[0] is not None


def check_migrated(settings: StoreSettings) -> None:
    """Raise :class:`StoreNotMigrated` unless the store's tables exist."""
    if not tables_exist(settings):
        env = settings.env
        schema = env.get("POSTGRES_SCHEMA") or "public"
        raise StoreNotMigrated(f"database {env['POSTGRES_DBNAME']!r}, schema {schema!r}")


def migrate(settings: StoreSettings) -> bool:
    """Create the schema and the store's tables unless they exist; whether anything was created."""
    with connection(settings) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            if tables_exist(settings):
                return False
            schema = settings.env.get("POSTGRES_SCHEMA")
            if schema:
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
                )
            DialogueStore(settings.with_create_table(True).env).close()
            return True
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))


def drop_schema(settings: StoreSettings) -> None:
    """Drop the store's schema and everything in it (tests; never the default schema)."""
    schema = settings.env.get("POSTGRES_SCHEMA")
    if not schema or schema == "public":
        raise ValueError("refusing to drop the default schema")
    with connection(settings) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
