"""Project and dialogue summaries: what project and dialogue lists show.

Filters (archived, published, has changes) and paging run in SQL. A row's
``position`` is the notification id that created it, so pages keep a stable
creation order.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.sqlite import SQLiteCursor

from ..domain.dialogue import Dialogue
from ..domain.project import Project
from ..domain.releases import ReleaseLog
from .base import Change, latest_per_aggregate


@dataclass(frozen=True)
class ProjectRow:
    id: str
    title: str
    is_archived: bool


@dataclass(frozen=True)
class DialogueRow:
    id: str
    project_id: str
    title: str
    is_archived: bool
    revision_number: int
    released_revision: int | None

    @property
    def is_published(self) -> bool:
        return self.released_revision is not None

    @property
    def has_changes(self) -> bool:
        return self.released_revision is not None and self.released_revision != self.revision_number


class ProjectSummaries:
    name = "project_summaries"

    def create_statements(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS view_projects ("
            "id TEXT PRIMARY KEY, title TEXT NOT NULL, is_archived INTEGER NOT NULL, "
            "position INTEGER NOT NULL)",
            "CREATE INDEX IF NOT EXISTS view_projects_position ON view_projects (position)",
        ]

    def drop_statements(self) -> list[str]:
        return ["DROP TABLE IF EXISTS view_projects"]

    def apply(self, cursor: SQLiteCursor, changes: Sequence[Change]) -> None:
        rows = [
            (
                str(change.aggregate.id),
                change.aggregate.title,
                int(change.aggregate.is_archived),
                at,
            )
            for change, at in latest_per_aggregate(changes)
            if isinstance(change.aggregate, Project)
        ]
        cursor.executemany(
            "INSERT INTO view_projects (id, title, is_archived, position) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET title = excluded.title, "
            "is_archived = excluded.is_archived",
            rows,
        )

    @staticmethod
    def query(
        cursor: SQLiteCursor, visible: Collection[str] | None, offset: int, limit: int
    ) -> tuple[list[ProjectRow], int]:
        where, params = _in_clause("id", visible)
        cursor.execute(f"SELECT COUNT(*) FROM view_projects WHERE {where}", params)
        total = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT id, title, is_archived FROM view_projects WHERE {where} "
            "ORDER BY position LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        rows = [ProjectRow(r[0], r[1], bool(r[2])) for r in cursor.fetchall()]
        return rows, total


class DialogueSummaries:
    name = "dialogue_summaries"

    def create_statements(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS view_dialogues ("
            "id TEXT PRIMARY KEY, project_id TEXT NOT NULL, title TEXT NOT NULL, "
            "is_archived INTEGER NOT NULL, revision_number INTEGER NOT NULL, "
            "released_revision INTEGER, position INTEGER NOT NULL)",
            "CREATE INDEX IF NOT EXISTS view_dialogues_project "
            "ON view_dialogues (project_id, position)",
        ]

    def drop_statements(self) -> list[str]:
        return ["DROP TABLE IF EXISTS view_dialogues"]

    def apply(self, cursor: SQLiteCursor, changes: Sequence[Change]) -> None:
        dialogues = []
        releases = []
        for change, at in latest_per_aggregate(changes):
            aggregate = change.aggregate
            if isinstance(aggregate, Dialogue):
                description = aggregate.description
                dialogues.append(
                    (
                        str(aggregate.id),
                        aggregate.project_id,
                        description["title"],
                        int(description["is_archived"]),
                        aggregate.version,
                        at,
                    )
                )
            elif isinstance(aggregate, ReleaseLog) and aggregate.releases:
                releases.append((aggregate.releases[-1]["revision_number"], aggregate.dialogue_id))
        cursor.executemany(
            "INSERT INTO view_dialogues (id, project_id, title, is_archived, "
            "revision_number, released_revision, position) VALUES (?, ?, ?, ?, ?, NULL, ?) "
            "ON CONFLICT (id) DO UPDATE SET title = excluded.title, "
            "is_archived = excluded.is_archived, revision_number = excluded.revision_number",
            dialogues,
        )
        # After the dialogues: a dialogue created and released in one batch exists by now.
        cursor.executemany("UPDATE view_dialogues SET released_revision = ? WHERE id = ?", releases)

    @staticmethod
    def query(
        cursor: SQLiteCursor,
        project_id: str,
        *,
        readable: Collection[str] | None,
        writable: Collection[str] | None,
        filters: dict[str, Any],
        offset: int,
        limit: int,
    ) -> tuple[list[DialogueRow], int]:
        where, params = _in_clause("id", readable)
        conditions = ["project_id = ?", where]
        params = [project_id, *params]
        for name, sql in (
            ("is_archived", "is_archived = ?"),
            ("is_published", "(released_revision IS NOT NULL) = ?"),
            (
                "has_changes",
                "(released_revision IS NOT NULL AND released_revision != revision_number) = ?",
            ),
        ):
            value = filters.get(name)
            if value is not None:
                conditions.append(sql)
                params.append(int(value))
        if filters.get("can_view") is False:
            conditions.append("0 = 1")
        can_edit = filters.get("can_edit")
        if can_edit is not None:
            editable, editable_params = _in_clause("id", writable)
            conditions.append(editable if can_edit else f"NOT ({editable})")
            params.extend(editable_params)
        clause = " AND ".join(conditions)
        cursor.execute(f"SELECT COUNT(*) FROM view_dialogues WHERE {clause}", params)
        total = cursor.fetchone()[0]
        cursor.execute(
            "SELECT id, project_id, title, is_archived, revision_number, released_revision "
            f"FROM view_dialogues WHERE {clause} ORDER BY position LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        rows = [DialogueRow(r[0], r[1], r[2], bool(r[3]), r[4], r[5]) for r in cursor.fetchall()]
        return rows, total


def _in_clause(column: str, values: Collection[str] | None) -> tuple[str, list[Any]]:
    """``column IN (...)``, or always true when ``values`` is None (no restriction)."""
    if values is None:
        return "1 = 1", []
    if not values:
        return "0 = 1", []
    return f"{column} IN ({', '.join('?' * len(values))})", sorted(values)
