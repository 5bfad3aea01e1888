"""The outbox: every outbound message of every run, in the order runs sent them.

A run's messages only grow, so each change of a run inserts the messages not
seen yet (ids are ``{run id}-{n}``); ``seq`` keeps the order they were applied in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from eventsourcing.sqlite import SQLiteCursor

from ..domain.runs import Run
from .base import Change, latest_per_aggregate


class OutboxView:
    name = "outbox"

    def create_statements(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS view_outbox ("
            "seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, project_id TEXT NOT NULL, "
            "run_id TEXT NOT NULL, participant_id TEXT NOT NULL, channel_id TEXT, "
            "body BLOB NOT NULL)",
            "CREATE INDEX IF NOT EXISTS view_outbox_project ON view_outbox (project_id, seq)",
            "CREATE INDEX IF NOT EXISTS view_outbox_participant "
            "ON view_outbox (project_id, participant_id, seq)",
            "CREATE INDEX IF NOT EXISTS view_outbox_channel "
            "ON view_outbox (project_id, channel_id, seq)",
        ]

    def drop_statements(self) -> list[str]:
        return ["DROP TABLE IF EXISTS view_outbox"]

    def apply(self, cursor: SQLiteCursor, changes: Sequence[Change]) -> None:
        rows = []
        for change, _ in latest_per_aggregate(changes):
            run = change.aggregate
            if not isinstance(run, Run):
                continue
            for message in run.messages:
                rows.append(
                    (
                        message["id"],
                        run.project_id,
                        str(run.id),
                        run.participant_id,
                        run.channel_id,
                        orjson.dumps(message),
                    )
                )
        cursor.executemany(
            "INSERT INTO view_outbox (id, project_id, run_id, participant_id, channel_id, body) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            rows,
        )

    @staticmethod
    def messages(
        cursor: SQLiteCursor,
        project_id: str,
        participant_id: str | None,
        channel_id: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[dict[str, Any]], int]:
        where = "WHERE project_id = ?"
        params: list[Any] = [project_id]
        if participant_id is not None:
            where += " AND participant_id = ?"
            params.append(participant_id)
        if channel_id is not None:
            where += " AND channel_id = ?"
            params.append(channel_id)
        cursor.execute(f"SELECT COUNT(*) FROM view_outbox {where}", params)
        total = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT body FROM view_outbox {where} ORDER BY seq LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [orjson.loads(r[0]) for r in cursor.fetchall()], total
