"""User summaries: what ``GET /users/`` lists, paged in creation order.

Only names and the email: grants and password hashes stay in the aggregate,
where reads that need them (authentication, permission lists) look.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eventsourcing.sqlite import SQLiteCursor

from ..domain.user import User
from .base import Change, latest_per_aggregate


@dataclass(frozen=True)
class UserRow:
    id: str
    email: str
    first_name: str
    last_name: str


class UserSummaries:
    name = "user_summaries"

    def create_statements(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS view_users ("
            "id TEXT PRIMARY KEY, email TEXT NOT NULL, first_name TEXT NOT NULL, "
            "last_name TEXT NOT NULL, position INTEGER NOT NULL)",
            "CREATE INDEX IF NOT EXISTS view_users_position ON view_users (position)",
        ]

    def drop_statements(self) -> list[str]:
        return ["DROP TABLE IF EXISTS view_users"]

    def apply(self, cursor: SQLiteCursor, changes: Sequence[Change]) -> None:
        rows = [
            (
                str(change.aggregate.id),
                change.aggregate.email,
                change.aggregate.first_name,
                change.aggregate.last_name,
                at,
            )
            for change, at in latest_per_aggregate(changes)
            if isinstance(change.aggregate, User)
        ]
        cursor.executemany(
            "INSERT INTO view_users (id, email, first_name, last_name, position) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            "first_name = excluded.first_name, last_name = excluded.last_name",
            rows,
        )

    @staticmethod
    def query(cursor: SQLiteCursor, offset: int, limit: int) -> tuple[list[UserRow], int]:
        cursor.execute("SELECT COUNT(*) FROM view_users")
        total = cursor.fetchone()[0]
        cursor.execute(
            "SELECT id, email, first_name, last_name FROM view_users "
            "ORDER BY position LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [UserRow(r[0], r[1], r[2], r[3]) for r in cursor.fetchall()], total
