"""What a PostgreSQL store needs beyond the eventsourcing library's persistence.

Tables are created once, by ``dialogue-engine migrate``, under an advisory
lock: PostgreSQL's ``CREATE TABLE IF NOT EXISTS`` is not safe against itself
("tuple concurrently updated"), so processes that serve never create tables,
and several migrations started together run one after the other.
"""

from __future__ import annotations

import hashlib
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from eventsourcing.persistence import (
    InterfaceError,
    Notification,
    OperationalError,
    PersistenceError,
    StoredEvent,
)
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresFactory,
)
from eventsourcing.utils import retry
from psycopg import sql
from psycopg_pool import ConnectionPool

from ..domain.aggregates import now_ms
from ..domain.errors import DomainError
from ..throttle import Throttle, TooManyAttempts
from .application import DialogueStore, StoreUnavailable
from .settings import StoreSettings

F = TypeVar("F", bound=Callable[..., Any])


def _reads_retried_once(method: F) -> F:
    """The library's method (or one of ours) with one retry instead of nine.

    The library retries a statement ten times, 0.2 s apart, and each attempt
    may wait ``connect_timeout`` for a connection: a request would hang for
    most of a minute while the database is away. A read is retried once (a
    pooled connection that died with a restarted server fails once).
    """
    unwrapped = getattr(method, "__wrapped__", method)
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


EVENTS_TABLE = f"{DialogueStore.name}_events"
INSERT_FUNCTION = f"{DialogueStore.name}_insert_events_v2"
"""The function that inserts events (see :meth:`FailFastApplicationRecorder.insert_events`).

A changed definition takes a new name: ``migrate`` creates what is missing,
so a store migrated by an earlier version gets the new function, and servers
refuse to start (``store_not_migrated``) until it is there. Version 1 (an
array of the library's composite type, and a NOTIFY on a channel every
schema shared) is left in place for servers of the earlier version still
running during an upgrade; nothing of this version calls it."""


def channel_name(schema: str, table: str = EVENTS_TABLE) -> str:
    """The LISTEN/NOTIFY channel of the events table in ``schema``.

    One per schema: channels are database-wide, and with one name for all,
    every commit to any store in the database woke every other store's
    follower. PostgreSQL cuts identifiers at 63 bytes, so a long schema name
    is replaced by a digest of it.
    """
    name = f"{schema}.{table}"
    if len(name.encode()) <= 63:
        return name
    return f"{table}.{hashlib.sha256(schema.encode()).hexdigest()[:16]}"


class FailFastApplicationRecorder(PostgresApplicationRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schema = sql.Identifier(self.datastore.schema)
        table = sql.Identifier(self.events_table_name)
        self.channel_name = channel_name(self.datastore.schema, self.events_table_name)
        # Statements as bytes, composed once: psycopg would compose a
        # ``sql.Composed`` again on every execution (~0.1 ms of CPU each).
        self.heads_statement = (
            sql.SQL(
                "SELECT notification_id, originator_id, originator_version FROM {}.{} "
                "WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
            )
            .format(schema, table)
            .as_bytes(None)
        )
        """What :meth:`DialogueStore.notification_heads` selects: no payloads."""
        self.notifications_statement = (
            sql.SQL(
                "SELECT notification_id, originator_id, originator_version, topic, state "
                "FROM {}.{} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
            )
            .format(schema, table)
            .as_bytes(None)
        )
        function = sql.SQL("{}.{}").format(schema, sql.Identifier(INSERT_FUNCTION))
        self.insert_statement = (
            sql.SQL("SELECT id FROM {}(%s, %s, %s, %s, %s) AS id").format(function).as_bytes(None)
        )
        self.sql_create_statements.append(
            sql.SQL(
                "CREATE OR REPLACE FUNCTION {function}(ids uuid[], versions bigint[], "
                "topics text[], states bytea[], wait text) "
                "RETURNS SETOF bigint LANGUAGE plpgsql AS $$ BEGIN "
                "PERFORM set_config('lock_timeout', wait, true); "
                "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
                "NOTIFY {channel}; "
                "RETURN QUERY INSERT INTO {schema}.{table} "
                "(originator_id, originator_version, topic, state) "
                "SELECT * FROM unnest(ids, versions, topics, states) "
                "RETURNING notification_id; "
                "END $$"
            ).format(
                function=function,
                schema=schema,
                table=table,
                channel=sql.Identifier(self.channel_name),
            )
        )

    def insert_events(self, stored_events: Sequence[StoredEvent], **_: Any) -> Sequence[int]:
        """The library's insert as one statement: a function, created by ``migrate``.

        It does what the library's pipelined transaction does (wait for the
        table's lock, so notification ids become visible in order; NOTIFY
        followers; insert and return the ids) in one round trip instead of
        two, and without psycopg's pipeline machinery, where about a quarter
        of a worker's CPU went under many writers (py-spy, 4 workers). The
        events go as four plain arrays: psycopg dumps those in C, where an
        array of a composite type is dumped value by value in Python. Never
        retried: see :func:`_written_once`.
        """
        ids, versions, topics, states = [], [], [], []
        for event in stored_events:
            ids.append(event.originator_id)
            versions.append(event.originator_version)
            topics.append(event.topic)
            states.append(event.state)
        params = (ids, versions, topics, states, f"{self.datastore.lock_timeout}s")
        with self.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(self.insert_statement, params, prepare=True)
            return [row["id"] for row in cursor.fetchall()]

    @_reads_retried_once
    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        """The library's select; what followers ask for (the notifications after
        ``start``) by a statement composed once, as followers ask many times a second."""
        if start is None or inclusive_of_start or stop is not None or topics:
            select: Any = PostgresApplicationRecorder.select_notifications.__wrapped__
            found: Sequence[Notification] = select(
                self, start, limit, stop, topics, inclusive_of_start=inclusive_of_start
            )
            return found
        with self.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(self.notifications_statement, (start, limit), prepare=True)
            return [
                Notification(
                    id=row["notification_id"],
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in cursor.fetchall()
            ]

    select_events = _reads_retried_once(PostgresAggregateRecorder.select_events)
    max_notification_id = _reads_retried_once(PostgresApplicationRecorder.max_notification_id)


class StoreFactory(PostgresFactory):
    """The library's PostgreSQL persistence, failing fast while the database is away."""

    aggregate_recorder_class = FailFastAggregateRecorder
    application_recorder_class = FailFastApplicationRecorder

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        pool = self.datastore.pool
        # psycopg_pool takes its check only as a constructor argument, and the
        # library builds the pool: replace the every-use check it was given.
        if pool._check is not None:
            pool._check = CheckAfterIdle()


class CheckAfterIdle:
    """A pool's connection check that only checks connections left unused a while.

    A connection in steady use would show a dead server by failing (then the
    pool drops it); one that sat idle may have died unseen, with a restarted
    server, and is checked (one round trip) before it is handed out.
    """

    def __init__(self, idle: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle = idle
        self.clock = clock
        self._last_use: weakref.WeakKeyDictionary[psycopg.Connection[Any], float] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def __call__(self, conn: psycopg.Connection[Any]) -> None:
        now = self.clock()
        with self._lock:
            last = self._last_use.get(conn)
            self._last_use[conn] = now
        if last is None or now - last >= self.idle:
            ConnectionPool.check_connection(conn)


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


def table(settings: StoreSettings, name: str) -> sql.Composable:
    """``name`` in the store's schema."""
    identifier = sql.Identifier(name)
    schema = settings.env.get("POSTGRES_SCHEMA")
    return sql.SQL("{}.{}").format(sql.Identifier(schema), identifier) if schema else identifier


def events_table(settings: StoreSettings) -> sql.Composable:
    return table(settings, EVENTS_TABLE)


THROTTLE_TABLE = f"{DialogueStore.name}_throttle"
"""Recent failures (sign-ins, reset mails) counted across every process: see
:class:`dialogue_engine.throttle.SharedThrottle`. Not events: failed attempts
are not facts about an account, and anyone could write them at will."""


def _missing(conn: psycopg.Connection[Any], settings: StoreSettings) -> list[str]:
    """Which of the store's tables and functions do not exist yet."""
    missing = []
    for name, lookup in (
        (EVENTS_TABLE, "to_regclass"),
        (THROTTLE_TABLE, "to_regclass"),
        (INSERT_FUNCTION, "to_regproc"),
    ):
        qualified = table(settings, name).as_string(conn)
        row = conn.execute(f"SELECT {lookup}(%s)", (qualified,)).fetchone()
        if row is None or row[0] is None:
            missing.append(name)
    return missing


def tables_exist(settings: StoreSettings) -> bool:
    """Whether the store's tables and functions are all there (``migrate`` has run)."""
    with connection(settings) as conn:
        return not _missing(conn, settings)


def check_migrated(settings: StoreSettings) -> None:
    """Raise :class:`StoreNotMigrated` unless the store's tables exist."""
    if not tables_exist(settings):
        env = settings.env
        schema = env.get("POSTGRES_SCHEMA") or "public"
        raise StoreNotMigrated(f"database {env['POSTGRES_DBNAME']!r}, schema {schema!r}")


def migrate(settings: StoreSettings) -> bool:
    """Create the schema and whichever of the store's tables and functions are missing;
    whether any was. A store migrated by an earlier version gets what it lacks."""
    with connection(settings) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            missing = _missing(conn, settings)
            if not missing:
                return False
            schema = settings.env.get("POSTGRES_SCHEMA")
            if schema:
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
                )
            if {EVENTS_TABLE, INSERT_FUNCTION} & set(missing):
                # The library's create statements, and the insert function
                # (see FailFastApplicationRecorder), all idempotent.
                DialogueStore(settings.with_create_table(True).env).close()
            throttle = table(settings, THROTTLE_TABLE)
            conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (name TEXT NOT NULL, key TEXT NOT NULL, "
                    "at BIGINT NOT NULL)"
                ).format(throttle)
            )
            conn.execute(
                sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (name, key, at)").format(
                    sql.Identifier(f"{THROTTLE_TABLE}_key"), throttle
                )
            )
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


class SharedThrottle(Throttle):
    """A :class:`Throttle` whose failures are rows in the store's database.

    Every process on every machine counts against one limit; an in-memory
    throttle per process would let N processes allow N times the failures.
    Costs a query per sign-in (none per request otherwise).
    """

    def __init__(
        self,
        name: str,
        limit: int,
        window_ms: int,
        store: DialogueStore,
        settings: StoreSettings,
        *,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        super().__init__(limit, window_ms, clock=clock)
        self.name = name
        self._datastore = store.recorder.datastore  # type: ignore[attr-defined]
        self._table = table(settings, THROTTLE_TABLE)

    @classmethod
    def replacing(
        cls, throttle: Throttle, name: str, store: DialogueStore, settings: StoreSettings
    ) -> SharedThrottle:
        """A shared throttle with ``throttle``'s limit, window and clock."""
        return cls(name, throttle.limit, throttle.window_ms, store, settings, clock=throttle.clock)

    def check(self, key: str) -> None:
        count, oldest = self._query(
            "SELECT count(*), min(at) FROM {} WHERE name = %s AND key = %s AND at > %s",
            (self.name, key, self.clock() - self.window_ms),
        )[0]
        if count >= self.limit:
            wait_ms = oldest + self.window_ms - self.clock()
            raise TooManyAttempts(max(1, -(-wait_ms // 1000)))

    def record(self, key: str) -> None:
        now = self.clock()
        self._query(
            "DELETE FROM {} WHERE name = %s AND key = %s AND at <= %s",
            (self.name, key, now - self.window_ms),
        )
        self._query("INSERT INTO {} VALUES (%s, %s, %s)", (self.name, key, now))

    def clear(self, key: str) -> None:
        self._query("DELETE FROM {} WHERE name = %s AND key = %s", (self.name, key))

    def _query(self, statement: str, params: tuple[Any, ...]) -> list[Any]:
        query = sql.SQL(statement).format(self._table)
        try:
            with self._datastore.transaction(commit=True) as cursor:
                cursor.execute(query, params)
                rows = cursor.fetchall() if cursor.description else []
        except PersistenceError as e:
            raise StoreUnavailable(str(e)) from e
        return [tuple(row.values()) if isinstance(row, dict) else row for row in rows]


class LogListener:
    """Calls ``wake`` whenever any process records events in the store (LISTEN/NOTIFY).

    Every insert sends a NOTIFY on the events table's channel in the
    inserting transaction, so it arrives once the events are committed. With
    it, a follower sees another process's writes within milliseconds instead
    of at its next poll; polling stays as the fallback (a notification lost
    with a dropped connection, say).
    """

    def __init__(
        self,
        settings: StoreSettings,
        channel: str,
        wake: Callable[[], None],
        wanted: Callable[[], bool] = lambda: True,
        pause: float = 0.0,
    ) -> None:
        self.settings = settings
        self.channel = channel
        self.wake = wake
        self.pause = pause
        """Seconds to let notifications gather after a wake, then take them
        all with one wake: under load they come with every commit, hundreds a
        second, and each woke this thread (and took the GIL) for a follower
        that catches up at most this often anyway."""
        self.wanted = wanted
        """Listen only while this says so: every commit wakes every listener (a
        database backend and a thread here), and only the process that applies
        the log to the read models has a use for it."""
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="log-listener", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(self.TIMEOUT * 2)

    TIMEOUT = 0.5
    """Seconds between checks for :meth:`stop` while waiting for notifications."""

    def _listen(self) -> None:
        while not self._stopping.is_set():
            if not self.wanted():
                self._stopping.wait(self.TIMEOUT)
                continue
            try:
                with connection(self.settings) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                    while not self._stopping.is_set():
                        heard = False
                        # Takes every notification received so far, at least one.
                        for _ in conn.notifies(timeout=self.TIMEOUT, stop_after=1):
                            heard = True
                        if heard:
                            self.wake()
                            self._stopping.wait(self.pause)
            except (StoreUnavailable, psycopg.Error):
                # The database is away: polling covers it; listen again later.
                self._stopping.wait(1.0)
