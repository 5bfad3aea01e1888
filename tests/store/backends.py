"""The two stores the store tests run on, and raw access to their tables.

Tests that tamper with stored events reach the tables directly; the SQL is
written once with ``{events}``/``{snapshots}``/``{order}`` and ``?``
placeholders and adapted here to each database.
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

import psycopg
import pytest

from dialogue_engine.eventstore.postgres import events_table
from dialogue_engine.eventstore.settings import parse_store_url


class Backend:
    def __init__(self, url: str) -> None:
        self.url = url
        self.settings = parse_store_url(url)
        self.name = "postgresql" if self.settings.is_postgres else "sqlite"

    def execute(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run one statement (committed); its rows, with ``bytes`` for binary columns."""
        if self.settings.is_postgres:
            with psycopg.connect(self._conninfo(), autocommit=True) as conn:
                events = events_table(self.settings).as_string(conn)
                snapshots = events.replace("_events", "_snapshots")
                sql = statement.format(events=events, snapshots=snapshots, order="notification_id")
                cursor = conn.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]
                rows = cursor.fetchall() if cursor.description else []
        else:
            assert self.settings.path is not None
            sql = statement.format(
                events="stored_events", snapshots="stored_snapshots", order="rowid"
            )
            with sqlite3.connect(self.settings.path) as conn:
                rows = conn.execute(sql, params).fetchall()
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in rows]

    def aggregate_id(self, value: str) -> Any:
        """An aggregate id as the database stores it."""
        return uuid.UUID(value) if self.settings.is_postgres else value.replace("-", "")

    def _conninfo(self) -> str:
        env = self.settings.env
        return psycopg.conninfo.make_conninfo(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"] or None,
        )


def sqlite_only(backend: Backend, why: str) -> None:
    """Skip the calling test on PostgreSQL, saying ``why`` it only makes sense on SQLite."""
    if backend.name != "sqlite":
        pytest.skip(f"SQLite only: {why}")
