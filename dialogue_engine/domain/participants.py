"""The participant aggregate: one end user of a project and the sequences it is enrolled in.

Source 002 says end user state is shared by every dialogue of a project, so a
participant belongs to a project, not to a dialogue. Its enrolments (source
000's "users of a sequence") live on the same aggregate, keyed by
``dialogue_id/sequence_id``: one participant is enrolled in a sequence at most
once, and a participant and its enrolments change under one version check.

Each command checks first; its event only assigns, replacing nested dicts
rather than changing them (detached copies share them with committed readers).
Deleting a participant records an event: every read treats it as gone, and its
enrolments stop counting.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate, event
from eventsourcing.domain import Snapshot as BaseSnapshot

from .aggregates import EngineAggregate, now_ms
from .channels import check_address
from .errors import FieldError, NotFound, ValidationFailed, unexpected_members

STATUSES = ("active", "paused", "inactive", "finished")
"""An enrolment's status; a new enrolment is ``active``."""
FIELDS = ("address", "name", "channel_id")
MAX_NAME_LENGTH = 200


def enrolment_key(dialogue_id: str, sequence_id: str) -> str:
    return f"{dialogue_id}/{sequence_id}"


def check_fields(fields: object) -> dict[str, Any]:
    """A participant's writable fields: ``address`` (required), ``name`` and ``channel_id``
    (strings or null; left out: null). Every error is reported at once."""
    if type(fields) is not dict:
        raise ValidationFailed([FieldError("type", "", "a participant is an object")])
    errors: list[FieldError] = unexpected_members(fields, FIELDS)
    address: str | None = None
    if "address" not in fields:
        errors.append(FieldError("required", "", "'address' is a required property"))
    else:
        try:
            address = check_address(fields["address"])
        except ValidationFailed as e:
            errors.extend(e.errors)
    name = fields.get("name")
    if name is not None:
        if type(name) is not str:
            errors.append(FieldError("type", "/name", "name must be a string or null"))
        elif len(name) > MAX_NAME_LENGTH:
            errors.append(
                FieldError("maxLength", "/name", f"name is longer than {MAX_NAME_LENGTH}")
            )
    channel_id = fields.get("channel_id")
    if channel_id is not None and (type(channel_id) is not str or not channel_id):
        errors.append(FieldError("type", "/channel_id", "channel_id must be a string or null"))
    if errors:
        raise ValidationFailed(errors)
    return {"address": address, "name": name, "channel_id": channel_id}


def check_status(value: object, at: str = "/status") -> str:
    if value not in STATUSES:
        raise ValidationFailed(
            [FieldError("enum", at, f"status must be one of {', '.join(STATUSES)}")]
        )
    return str(value)


class Participant(EngineAggregate):
    TOPIC = "dialogue_engine:Participant"

    class Created(Aggregate.Created):
        TOPIC = "dialogue_engine:Participant.Created"
        project_id: str
        address: str
        name: str | None
        channel_id: str | None
        user_id: str
        created: int

    class Snapshot(BaseSnapshot):
        TOPIC = "dialogue_engine:Participant.Snapshot"

    @event(Created)
    def __init__(
        self,
        project_id: str,
        address: str,
        name: str | None,
        channel_id: str | None,
        user_id: str,
        created: int,
    ) -> None:
        self.project_id = project_id
        self.address = address
        self.name = name
        self.channel_id = channel_id
        self.created = created
        self.is_deleted = False
        self.enrolments: dict[str, dict[str, Any]] = {}
        """``dialogue_id/sequence_id`` -> ``{dialogue_id, sequence_id, status, enrolled}``."""

    @classmethod
    def start(
        cls, project_id: str, fields: object, *, user_id: str, now: int | None = None
    ) -> Participant:
        checked = check_fields(fields)
        return cls(
            project_id=project_id,
            address=checked["address"],
            name=checked["name"],
            channel_id=checked["channel_id"],
            user_id=user_id,
            created=now_ms() if now is None else now,
        )

    @property
    def fields(self) -> dict[str, Any]:
        return {"address": self.address, "name": self.name, "channel_id": self.channel_id}

    # Commands

    def change(self, fields: object, *, user_id: str) -> None:
        """Replace the writable fields; unchanged records nothing."""
        self._check_live()
        checked = check_fields(fields)
        if checked != self.fields:
            self._changed(**checked, user_id=user_id)

    def delete(self, *, user_id: str) -> None:
        self._check_live()
        self._deleted(user_id=user_id)

    def enrol(
        self, dialogue_id: str, sequence_id: str, *, user_id: str, now: int | None = None
    ) -> None:
        self._check_live()
        key = enrolment_key(dialogue_id, sequence_id)
        if key in self.enrolments:
            raise ValidationFailed(
                [
                    FieldError(
                        "unique",
                        "/participant_id",
                        f"participant {self.id} is already enrolled in sequence {sequence_id}",
                    )
                ]
            )
        enrolled = now_ms() if now is None else now
        self._enrolled(
            dialogue_id=dialogue_id, sequence_id=sequence_id, enrolled=enrolled, user_id=user_id
        )

    def set_status(
        self, dialogue_id: str, sequence_id: str, status: object, *, user_id: str
    ) -> None:
        """Set an enrolment's status; unchanged records nothing."""
        current = self.enrolment(dialogue_id, sequence_id)
        wanted = check_status(status)
        if wanted != current["status"]:
            self._status_set(
                dialogue_id=dialogue_id, sequence_id=sequence_id, status=wanted, user_id=user_id
            )

    def withdraw(self, dialogue_id: str, sequence_id: str, *, user_id: str) -> None:
        self.enrolment(dialogue_id, sequence_id)
        self._withdrawn(dialogue_id=dialogue_id, sequence_id=sequence_id, user_id=user_id)

    # Queries

    def enrolment(self, dialogue_id: str, sequence_id: str) -> dict[str, Any]:
        self._check_live()
        found = self.enrolments.get(enrolment_key(dialogue_id, sequence_id))
        if found is None:
            raise NotFound(
                "Enrolment", str(self.id), dialogue_id=dialogue_id, sequence_id=sequence_id
            )
        return found

    def _check_live(self) -> None:
        if self.is_deleted:
            raise NotFound("Participant", str(self.id))

    # Events

    @event("Changed", topic="dialogue_engine:Participant.Changed")
    def _changed(
        self, address: str, name: str | None, channel_id: str | None, user_id: str
    ) -> None:
        self.address = address
        self.name = name
        self.channel_id = channel_id

    @event("Deleted", topic="dialogue_engine:Participant.Deleted")
    def _deleted(self, user_id: str) -> None:
        self.is_deleted = True
        self.enrolments = {}

    @event("Enrolled", topic="dialogue_engine:Participant.Enrolled")
    def _enrolled(self, dialogue_id: str, sequence_id: str, enrolled: int, user_id: str) -> None:
        entry = {
            "dialogue_id": dialogue_id,
            "sequence_id": sequence_id,
            "status": "active",
            "enrolled": enrolled,
        }
        self.enrolments = {**self.enrolments, enrolment_key(dialogue_id, sequence_id): entry}

    @event("StatusSet", topic="dialogue_engine:Participant.StatusSet")
    def _status_set(self, dialogue_id: str, sequence_id: str, status: str, user_id: str) -> None:
        key = enrolment_key(dialogue_id, sequence_id)
        self.enrolments = {**self.enrolments, key: {**self.enrolments[key], "status": status}}

    @event("Withdrawn", topic="dialogue_engine:Participant.Withdrawn")
    def _withdrawn(self, dialogue_id: str, sequence_id: str, user_id: str) -> None:
        key = enrolment_key(dialogue_id, sequence_id)
        self.enrolments = {k: v for k, v in self.enrolments.items() if k != key}
