"""Releases of one dialogue: each pins a revision number and template versions.

Kept apart from the dialogue aggregate so that the dialogue's version stays
equal to its revision number. The release log of a dialogue has a derived id,
so it is found without an index and created by its first release.

A release also pins, for every template its blocks reference, the version
published at release time *and* the template aggregate's version then, so the
pinned content reads (and renders) the same after the template changes or is
deleted. Releases recorded before templates existed (``Released`` v1) pin none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from eventsourcing.domain import Snapshot as BaseSnapshot

from .aggregates import EngineAggregate, check_created, derived_id
from .errors import FieldError, NotFound, ValidationFailed


@lru_cache(maxsize=65_536)
def release_log_id(dialogue_id: UUID) -> UUID:
    return derived_id(dialogue_id, "releases")


def release_id(dialogue_id: UUID, number: int) -> str:
    return str(derived_id(dialogue_id, f"release-{number}"))


@dataclass(frozen=True)
class TemplatePin:
    """A template version as a release saw it: at ``template_version`` of its aggregate."""

    template_id: str
    version_id: str
    template_version: int


@dataclass(frozen=True)
class Release:
    id: str
    number: int
    revision_number: int
    created: int
    user_id: str
    pins: tuple[TemplatePin, ...] = ()

    @property
    def templates(self) -> dict[str, str]:
        """``{template_id: version_id}`` as the release shows it."""
        return {pin.template_id: pin.version_id for pin in self.pins}


class ReleaseLog(EngineAggregate):
    TOPIC = "dialogue_engine:ReleaseLog"
    class_version = 2
    """v2: each entry of ``releases`` has ``templates`` (snapshots of v1 get ``{}``)."""

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["releases"] = [{**entry, "templates": {}} for entry in state["releases"]]

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
        self,
        revision_number: int,
        *,
        latest_revision: int,
        user_id: str,
        created: object = None,
        pins: tuple[TemplatePin, ...] = (),
    ) -> Release:
        """Pin ``revision_number`` (which must exist) and ``pins`` as the newest release."""
        if type(revision_number) is not int or not 1 <= revision_number <= latest_revision:
            raise ValidationFailed(
                [
                    FieldError(
                        "unknown", "/revision_id", f"revision {revision_number} does not exist"
                    )
                ]
            )
        self.trigger_event(
            self.Released,
            revision_number=revision_number,
            created=check_created(created),
            user_id=user_id,
            templates={
                pin.template_id: {
                    "version_id": pin.version_id,
                    "template_version": pin.template_version,
                }
                for pin in pins
            },
        )
        return self.get(len(self.releases))

    class Released(Aggregate.Event):
        """A release: the revision it pins, and (v2) the template versions it pins.

        ``templates`` maps a template id to ``{version_id, template_version}``.
        Stored v1 events had no ``templates``: they are read with none.
        """

        TOPIC = "dialogue_engine:ReleaseLog.Released"
        class_version = 2
        revision_number: int
        created: int
        user_id: str
        templates: dict[str, dict[str, Any]]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["templates"] = {}

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, ReleaseLog)
            aggregate.releases.append(
                {
                    "revision_number": self.revision_number,
                    "created": self.created,
                    "user_id": self.user_id,
                    "templates": self.templates,
                }
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
            pins=_pins(entry["templates"]),
        )

    def all(self) -> list[Release]:
        return [self.get(n) for n in range(1, len(self.releases) + 1)]


def _pins(templates: Mapping[str, Mapping[str, Any]]) -> tuple[TemplatePin, ...]:
    return tuple(
        TemplatePin(template_id, pin["version_id"], pin["template_version"])
        for template_id, pin in sorted(templates.items())
    )
