"""The project aggregate: a titled set of dialogues that can be archived."""

from __future__ import annotations

from eventsourcing.domain import Aggregate, event
from eventsourcing.domain import Snapshot as BaseSnapshot

from .aggregates import EngineAggregate, check_title


class Project(EngineAggregate):
    TOPIC = "dialogue_engine:Project"

    class Created(Aggregate.Created):
        TOPIC = "dialogue_engine:Project.Created"
        title: str
        is_archived: bool
        user_id: str

    class Snapshot(BaseSnapshot):
        TOPIC = "dialogue_engine:Project.Snapshot"

    @event(Created)
    def __init__(self, title: str, is_archived: bool, user_id: str) -> None:
        self.title = title
        self.is_archived = is_archived

    @classmethod
    def start(cls, title: object, *, is_archived: bool = False, user_id: str) -> Project:
        return cls(title=check_title(title), is_archived=bool(is_archived), user_id=user_id)

    def rename(self, title: object, *, user_id: str) -> None:
        """Record a new title; the same title again records nothing."""
        title = check_title(title)
        if title != self.title:
            self._retitled(title=title, user_id=user_id)

    def set_archived(self, is_archived: bool, *, user_id: str) -> None:
        if is_archived and not self.is_archived:
            self._archived(user_id=user_id)
        elif not is_archived and self.is_archived:
            self._unarchived(user_id=user_id)

    @event("Retitled", topic="dialogue_engine:Project.Retitled")
    def _retitled(self, title: str, user_id: str) -> None:
        self.title = title

    @event("Archived", topic="dialogue_engine:Project.Archived")
    def _archived(self, user_id: str) -> None:
        self.is_archived = True

    @event("Unarchived", topic="dialogue_engine:Project.Unarchived")
    def _unarchived(self, user_id: str) -> None:
        self.is_archived = False
