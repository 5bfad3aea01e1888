"""Participants and enrolments: the participant list, a sequence's users and their counts.

A participant's row holds its current fields; its enrolments are rewritten
whole on each change of it (a participant has few). A deleted participant
leaves both tables, so its enrolments stop counting. The sequence search
counts a sequence's users by status from ``view_enrolments``
(:data:`USER_COUNTS`), so the sequence view itself needs no participant logic.
Rows keep the notification id that created them as ``position`` (stable order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eventsourcing.sqlite import SQLiteCursor

from ..domain.participants import STATUSES, Participant
from .base import Change, latest_per_aggregate


@dataclass(frozen=True)
class EnrolmentRow:
    participant_id: str
    dialogue_id: str
    sequence_id: str
    status: str
    enrolled: int


USER_COUNTS = ", ".join(
    "(SELECT COUNT(*) FROM view_enrolments AS e WHERE e.dialogue_id = s.dialogue_id "
    f"AND e.sequence_id = s.sequence_id AND e.status = '{status}')"
    for status in STATUSES
)
"""SQL of the four ``number_users_*`` columns of a sequence row aliased ``s``."""


class ParticipantView:
    name = "participants"

    def create_statements(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS view_participants ("
            "id TEXT PRIMARY KEY, project_id TEXT NOT NULL, position INTEGER NOT NULL)",
            "CREATE INDEX IF NOT EXISTS view_participants_project "
            "ON view_participants (project_id, position)",
            "CREATE TABLE IF NOT EXISTS view_enrolments ("
            "participant_id TEXT NOT NULL, dialogue_id TEXT NOT NULL, "
            "sequence_id TEXT NOT NULL, status TEXT NOT NULL, enrolled INTEGER NOT NULL, "
            "PRIMARY KEY (dialogue_id, sequence_id, participant_id))",
            "CREATE INDEX IF NOT EXISTS view_enrolments_status "
            "ON view_enrolments (dialogue_id, sequence_id, status)",
            "CREATE INDEX IF NOT EXISTS view_enrolments_participant "
            "ON view_enrolments (participant_id)",
        ]

    def drop_statements(self) -> list[str]:
        return ["DROP TABLE IF EXISTS view_enrolments", "DROP TABLE IF EXISTS view_participants"]

    def apply(self, cursor: SQLiteCursor, changes: Sequence[Change]) -> None:
        for change, at in latest_per_aggregate(changes):
            participant = change.aggregate
            if not isinstance(participant, Participant):
                continue
            key = str(participant.id)
            cursor.execute("DELETE FROM view_enrolments WHERE participant_id = ?", (key,))
            if participant.is_deleted:
                cursor.execute("DELETE FROM view_participants WHERE id = ?", (key,))
                continue
            cursor.execute(
                "INSERT INTO view_participants (id, project_id, position) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO NOTHING",
                (key, participant.project_id, at),
            )
            cursor.executemany(
                "INSERT INTO view_enrolments (participant_id, dialogue_id, sequence_id, "
                "status, enrolled) VALUES (?, ?, ?, ?, ?)",
                [
                    (key, e["dialogue_id"], e["sequence_id"], e["status"], e["enrolled"])
                    for e in participant.enrolments.values()
                ],
            )

    @staticmethod
    def of_project(
        cursor: SQLiteCursor, project_id: str, offset: int, limit: int
    ) -> tuple[list[str], int]:
        """A page of the project's participant ids, oldest first, and their count."""
        cursor.execute("SELECT COUNT(*) FROM view_participants WHERE project_id = ?", (project_id,))
        total = cursor.fetchone()[0]
        cursor.execute(
            "SELECT id FROM view_participants WHERE project_id = ? "
            "ORDER BY position LIMIT ? OFFSET ?",
            (project_id, limit, offset),
        )
        return [r[0] for r in cursor.fetchall()], total

    @staticmethod
    def of_sequence(
        cursor: SQLiteCursor, dialogue_id: str, sequence_id: str, offset: int, limit: int
    ) -> tuple[list[EnrolmentRow], int]:
        """A page of a sequence's enrolments, earliest first, and their count."""
        where = "WHERE dialogue_id = ? AND sequence_id = ?"
        cursor.execute(f"SELECT COUNT(*) FROM view_enrolments {where}", (dialogue_id, sequence_id))
        total = cursor.fetchone()[0]
        cursor.execute(
            "SELECT participant_id, dialogue_id, sequence_id, status, enrolled "
            f"FROM view_enrolments {where} ORDER BY enrolled, participant_id LIMIT ? OFFSET ?",
            (dialogue_id, sequence_id, limit, offset),
        )
        return [EnrolmentRow(*r) for r in cursor.fetchall()], total

    @staticmethod
    def with_status(
        cursor: SQLiteCursor, dialogue_id: str, sequence_id: str, status: str
    ) -> list[str]:
        """The ids of the sequence's participants with ``status``, earliest enrolled first."""
        cursor.execute(
            "SELECT participant_id FROM view_enrolments WHERE dialogue_id = ? AND "
            "sequence_id = ? AND status = ? ORDER BY enrolled, participant_id",
            (dialogue_id, sequence_id, status),
        )
        return [r[0] for r in cursor.fetchall()]
