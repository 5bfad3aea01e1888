"""The participants facade (``DialogueEngine.participants``): end users and enrolments.

A participant belongs to a project (source 002: end user state is shared by
every dialogue of the project); enrolling it in a sequence of one of the
project's dialogues makes it one of that sequence's users (source 000), with
a status ``active`` (at first), ``paused``, ``inactive`` or ``finished``.

Access:

- reading participants: any grant inside the project (else not found);
- creating, changing and deleting them: ``admin``, ``project:admin`` or
  ``project:dialogues:write`` on the project (403 to others who see it);
- a sequence's enrolments follow the dialogue: read access lists them, write
  access enrols, changes a status and withdraws.

A participant's ``channel_id``, when given, names a channel serving the
project. The list reads come from :mod:`.projections.participants`, caught up
to this process's own writes; single reads come from the aggregate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from .domain import permissions as perms
from .domain.channels import Channel
from .domain.errors import (
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    unexpected_members,
)
from .domain.jsonvalue import JSON
from .domain.paging import Page, PageRequest
from .domain.participants import Participant, check_fields
from .domain.patching import apply_patch, check_patch
from .domain.permissions import SYSTEM, Actor
from .eventstore.application import UnitOfWork
from .projections.participants import ParticipantView

if TYPE_CHECKING:
    from .engine import DialogueEngine


@dataclass(frozen=True)
class ParticipantRecord:
    id: str
    project_id: str
    address: str
    name: str | None
    channel_id: str | None
    created: int


@dataclass(frozen=True)
class EnrolmentRecord:
    """One participant's enrolment in one sequence."""

    project_id: str
    dialogue_id: str
    sequence_id: str
    participant_id: str
    status: str
    enrolled: int


class Participants:
    def __init__(self, engine: DialogueEngine) -> None:
        # A companion of the engine: it authorizes and loads through the
        # engine's own helpers so permissions stay in one place.
        self._engine = engine

    # Participants

    def list(
        self, project_id: str, *, actor: Actor = SYSTEM, page: int = 1, per_page: int = 30
    ) -> Page[ParticipantRecord]:
        """The project's participants, oldest first."""
        request = PageRequest(page, per_page)
        self._engine._visible_project(project_id, actor)
        ids, total = self._engine._read_views(
            lambda cursor: ParticipantView.of_project(
                cursor, project_id, request.offset, request.per_page
            )
        )
        items = [_record(self._engine.store.get(UUID(i), Participant)) for i in ids]
        return Page(items, total, request.page, request.per_page)

    def get(
        self, project_id: str, participant_id: str, *, actor: Actor = SYSTEM
    ) -> ParticipantRecord:
        self._engine._visible_project(project_id, actor)
        return _record(self._find(project_id, participant_id))

    def create(self, project_id: str, fields: JSON, *, actor: Actor = SYSTEM) -> ParticipantRecord:
        """A new participant: ``address`` (required), ``name``, ``channel_id``."""
        self._check_writer(project_id, actor)
        self._check_channel(project_id, check_fields(fields)["channel_id"])
        participant = Participant.start(project_id, fields, user_id=actor.user_id)
        return _record(self._engine.store.write(lambda unit: unit.add(participant)))

    def replace(
        self, project_id: str, participant_id: str, fields: JSON, *, actor: Actor = SYSTEM
    ) -> ParticipantRecord:
        """Replace the writable fields (left-out ``name`` and ``channel_id`` become null)."""
        return self._change(project_id, participant_id, actor, lambda p: fields)

    def patch(
        self, project_id: str, participant_id: str, patch: JSON, *, actor: Actor = SYSTEM
    ) -> ParticipantRecord:
        """Apply an RFC 6902 patch to ``{address, name, channel_id}``, all or nothing."""
        errors = check_patch(patch)
        if errors:
            raise ValidationFailed(errors, "Invalid JSON patch")
        return self._change(
            project_id, participant_id, actor, lambda p: apply_patch(p.fields, patch)
        )

    def delete(
        self, project_id: str, participant_id: str, *, actor: Actor = SYSTEM
    ) -> ParticipantRecord:
        """Delete the participant; its enrolments go with it."""
        found = self._writable(project_id, participant_id, actor)

        def command(unit: UnitOfWork) -> Participant:
            participant = unit.get(found.id, Participant)
            participant.delete(user_id=actor.user_id)
            return participant

        self._engine.store.write(command)
        return _record(found)

    # Enrolments

    def enrolments(
        self,
        project_id: str,
        dialogue_id: str,
        sequence_id: str,
        *,
        actor: Actor = SYSTEM,
        page: int = 1,
        per_page: int = 30,
    ) -> Page[EnrolmentRecord]:
        """The sequence's users, earliest enrolled first."""
        request = PageRequest(page, per_page)
        self._engine.sequences.get(project_id, dialogue_id, sequence_id, actor=actor)
        rows, total = self._engine._read_views(
            lambda cursor: ParticipantView.of_sequence(
                cursor, dialogue_id, sequence_id, request.offset, request.per_page
            )
        )
        items = [
            EnrolmentRecord(
                project_id, r.dialogue_id, r.sequence_id, r.participant_id, r.status, r.enrolled
            )
            for r in rows
        ]
        return Page(items, total, request.page, request.per_page)

    def enrol(
        self,
        project_id: str,
        dialogue_id: str,
        sequence_id: str,
        body: JSON,
        *,
        actor: Actor = SYSTEM,
    ) -> EnrolmentRecord:
        """Enrol ``body["participant_id"]`` (a participant of the project) as ``active``."""
        self._check_sequence_writer(project_id, dialogue_id, sequence_id, actor)
        participant_id = _participant_ref(body)
        try:
            found = self._find(project_id, participant_id)
        except NotFound:
            raise ValidationFailed(
                [
                    FieldError(
                        "unknown",
                        "/participant_id",
                        f"participant {participant_id} does not exist in this project",
                    )
                ]
            ) from None

        def command(unit: UnitOfWork) -> Participant:
            participant = unit.get(found.id, Participant)
            participant.enrol(dialogue_id, sequence_id, user_id=actor.user_id)
            return participant

        saved = self._engine.store.write(command)
        return _enrolment(saved, project_id, dialogue_id, sequence_id)

    def get_enrolment(
        self,
        project_id: str,
        dialogue_id: str,
        sequence_id: str,
        participant_id: str,
        *,
        actor: Actor = SYSTEM,
    ) -> EnrolmentRecord:
        self._engine.sequences.get(project_id, dialogue_id, sequence_id, actor=actor)
        participant = self._find(project_id, participant_id)
        return _enrolment(participant, project_id, dialogue_id, sequence_id)

    def set_status(
        self,
        project_id: str,
        dialogue_id: str,
        sequence_id: str,
        participant_id: str,
        status: object,
        *,
        actor: Actor = SYSTEM,
    ) -> EnrolmentRecord:
        """Set the enrolment's status (active, paused, inactive, finished)."""
        return self._change_enrolment(
            project_id,
            dialogue_id,
            sequence_id,
            participant_id,
            actor,
            lambda p: p.set_status(dialogue_id, sequence_id, status, user_id=actor.user_id),
        )

    def patch_enrolment(
        self,
        project_id: str,
        dialogue_id: str,
        sequence_id: str,
        participant_id: str,
        patch: JSON,
        *,
        actor: Actor = SYSTEM,
    ) -> EnrolmentRecord:
        """Apply an RFC 6902 patch to ``{status}``, all or nothing."""
        errors = check_patch(patch)
        if errors:
            raise ValidationFailed(errors, "Invalid JSON patch")

        def change(participant: Participant) -> None:
            current = participant.enrolment(dialogue_id, sequence_id)["status"]
            wanted = apply_patch({"status": current}, patch)
            if type(wanted) is not dict or set(wanted) != {"status"}:
                raise ValidationFailed(
                    [FieldError("additionalProperties", "", "an enrolment has only a status")]
                )
            participant.set_status(
                dialogue_id, sequence_id, wanted["status"], user_id=actor.user_id
            )

        return self._change_enrolment(
            project_id, dialogue_id, sequence_id, participant_id, actor, change
        )

    def withdraw(
        self,
        project_id: str,
        dialogue_id: str,
        sequence_id: str,
        participant_id: str,
        *,
        actor: Actor = SYSTEM,
    ) -> EnrolmentRecord:
        """End the enrolment; the participant stays in the project."""
        before = self.get_enrolment(
            project_id, dialogue_id, sequence_id, participant_id, actor=actor
        )
        self._change_enrolment(
            project_id,
            dialogue_id,
            sequence_id,
            participant_id,
            actor,
            lambda p: p.withdraw(dialogue_id, sequence_id, user_id=actor.user_id),
            record=False,
        )
        return before

    # Helpers

    def _change(
        self, project_id: str, participant_id: str, actor: Actor, wanted: Any
    ) -> ParticipantRecord:
        """Authorize, then set the fields ``wanted(participant)`` names, on the participant
        as it is inside the write (a patch never applies to a stale copy)."""
        found = self._writable(project_id, participant_id, actor)

        def command(unit: UnitOfWork) -> Participant:
            participant = unit.get(found.id, Participant)
            fields = wanted(participant)
            self._check_channel(project_id, check_fields(fields)["channel_id"])
            participant.change(fields, user_id=actor.user_id)
            return participant

        return _record(self._engine.store.write(command))

    def _change_enrolment(
        self,
        project_id: str,
        dialogue_id: str,
        sequence_id: str,
        participant_id: str,
        actor: Actor,
        change: Any,
        *,
        record: bool = True,
    ) -> EnrolmentRecord:
        self._check_sequence_writer(project_id, dialogue_id, sequence_id, actor)
        found = self._find(project_id, participant_id)
        found.enrolment(dialogue_id, sequence_id)

        def command(unit: UnitOfWork) -> Participant:
            participant = unit.get(found.id, Participant)
            change(participant)
            return participant

        saved = self._engine.store.write(command)
        if not record:
            return _enrolment(found, project_id, dialogue_id, sequence_id)
        return _enrolment(saved, project_id, dialogue_id, sequence_id)

    def _check_writer(self, project_id: str, actor: Actor) -> None:
        self._engine._visible_project(project_id, actor)
        if not perms.project_write_all(actor, project_id):
            raise PermissionDenied("change", f"participants of project {project_id}")

    def _check_sequence_writer(
        self, project_id: str, dialogue_id: str, sequence_id: str, actor: Actor
    ) -> None:
        self._engine.sequences.get(project_id, dialogue_id, sequence_id, actor=actor)
        if not perms.can_write_dialogue(actor, project_id, dialogue_id):
            raise PermissionDenied("change", f"dialogue {dialogue_id}")

    def _writable(self, project_id: str, participant_id: str, actor: Actor) -> Participant:
        self._engine._visible_project(project_id, actor)
        found = self._find(project_id, participant_id)
        self._check_writer(project_id, actor)
        return found

    def _find(self, project_id: str, participant_id: str) -> Participant:
        try:
            aggregate_id = UUID(participant_id)
        except (ValueError, TypeError, AttributeError):
            raise NotFound("Participant", str(participant_id)) from None
        found = self._engine.store.find(aggregate_id, Participant)
        if found is None or found.is_deleted or found.project_id != project_id:
            raise NotFound("Participant", participant_id)
        return found

    def _check_channel(self, project_id: str, channel_id: str | None) -> None:
        if channel_id is None:
            return
        try:
            channel = self._engine.store.find(UUID(channel_id), Channel)
        except ValueError:
            channel = None
        if channel is None or channel.project_id != project_id:
            raise ValidationFailed(
                [
                    FieldError(
                        "unknown",
                        "/channel_id",
                        f"channel {channel_id} does not serve project {project_id}",
                    )
                ]
            )


def _participant_ref(body: JSON) -> str:
    if type(body) is not dict or "participant_id" not in body:
        raise ValidationFailed(
            [FieldError("required", "", "'participant_id' is a required property")]
        )
    unexpected = unexpected_members(body, {"participant_id"})
    if unexpected:
        raise ValidationFailed(unexpected)
    value = body["participant_id"]
    if type(value) is not str or not value:
        raise ValidationFailed(
            [FieldError("type", "/participant_id", "participant_id must be a string")]
        )
    return value


def _record(participant: Participant) -> ParticipantRecord:
    return ParticipantRecord(
        id=str(participant.id),
        project_id=participant.project_id,
        address=participant.address,
        name=participant.name,
        channel_id=participant.channel_id,
        created=participant.created,
    )


def _enrolment(
    participant: Participant, project_id: str, dialogue_id: str, sequence_id: str
) -> EnrolmentRecord:
    entry = participant.enrolment(dialogue_id, sequence_id)
    return EnrolmentRecord(
        project_id,
        dialogue_id,
        sequence_id,
        str(participant.id),
        entry["status"],
        entry["enrolled"],
    )
