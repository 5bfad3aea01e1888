"""Releases of one dialogue: each pins a revision number.

Kept apart from the dialogue aggregate so that the dialogue's version stays
equal to its revision number. The release log of a dialogue has a derived id,
so it is found without an index and created by its first release.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from eventsourcing.domain import Snapshot as BaseSnapshot

from .aggregates import EngineAggregate, check_created, derived_id
from .errors import FieldError, NotFound, ValidationFailed


def release_log_id(dialogue_id: UUID) -> UUID:
    return derived_id(dialogue_id, "releases")


def release_id(dialogue_id: UUID, number: int) -> str:
    return str(derived_id(dialogue_id, f"release-{number}"))


@dataclass(frozen=True)
class Release:
    id: str
    number: int
    revision_number: int
    created: int
    user_id: str


class ReleaseLog(EngineAggregate):
    TOPIC = "dialogue_engine:ReleaseLog"

    class Created(Aggregate.Created):
        TOPIC = "dialogue_engine:ReleaseLog.Created"
        dialogue_id: str
        project_id: str

    class Snapshot(BaseSnapshot):
        TOPIC = "dialogue_engine:ReleaseLog.Snapshot"

    @staticmethod
    def create_id(dialogue_id: str) -> UUID:
        return release_log_id(UUID(dialogue_id))

    @event(Created)
    def __init__(self, dialogue_id: str, project_id: str) -> None:
        self.dialogue_id = dialogue_id
        self.project_id = project_id
        self.releases: list[dict[str, Any]] = []

    def release(
        self, revision_number: int, *, latest_revision: int, user_id: str, created: object = None
    ) -> Release:
        """Pin ``revision_number`` (which must exist) as the newest release."""
        if type(revision_number) is not int or not 1 <= revision_number <= latest_revision:
            raise ValidationFailed(
                [
                    FieldError(
                        "unknown", "/revision_id", f"revision {revision_number} does not exist"
                    )
                ]
            )
        self._released(
            revision_number=revision_number, created=check_created(created), user_id=user_id
        )
        return self.get(len(self.releases))

    @event("Released", topic="dialogue_engine:ReleaseLog.Released")
    def _released(self, revision_number: int, created: int, user_id: str) -> None:
        self.releases.append(
            {"revision_number": revision_number, "created": created, "user_id": user_id}
        )

    @property
    def latest(self) -> Release | None:
        return self.get(len(self.releases)) if self.releases else None

    def get(self, number: int) -> Release:
        """Release ``number`` (from 1); :class:`NotFound` outside ``1..len(releases)``."""
        if type(number) is not int or not 1 <= number <= len(self.releases):
            raise NotFound("release", str(number), dialogue_id=self.dialogue_id)
        entry = self.releases[number - 1]
        return Release(
            id=release_id(UUID(self.dialogue_id), number),
            number=number,
            revision_number=entry["revision_number"],
            created=entry["created"],
            user_id=entry["user_id"],
        )

    def all(self) -> list[Release]:
        return [self.get(n) for n in range(1, len(self.releases) + 1)]
