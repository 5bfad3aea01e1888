"""The runs facade (``DialogueEngine.runs``): submitting a sequence and answering its runs.

``submit`` starts one run for each participant enrolled ``active`` in a
sequence, on the dialogue's latest release (source 002: end users meet the
most recently released description); a dialogue never released, or a
sequence absent from that release, is refused (:class:`~.domain.runs.NotReleased`).
A run keeps following the release it started on. What a run does is decided
by :mod:`.domain.runs`; this module loads the released description, renders
the blocks a step sends (templates at the versions the release pinned) and
records the step, together with the participant's enrolment status when the
run ends (``finished``, or ``inactive`` after a second unmatched answer), in
one write.

Access: submitting and replying need ``admin``, ``project:admin``,
``project:dialogues:execute`` or ``dialogue:execute`` on the run's dialogue
(source 004's executor role); reading runs and the outbox needs any grant
inside the project. A reply to a run whose participant is paused in the
run's sequence, or to a run that has ended, is refused and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from .domain import permissions as perms
from .domain.dialogue import Dialogue
from .domain.errors import (
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    unexpected_members,
)
from .domain.jsonvalue import JSON
from .domain.paging import Page, PageRequest
from .domain.participants import Participant
from .domain.permissions import SYSTEM, Actor
from .domain.releases import Release, TemplatePin
from .domain.runs import FINISHED, INACTIVE, NotReleased, Run, RunNotWaiting, Step, answer, walk
from .eventstore.application import UnitOfWork
from .projections.participants import ParticipantView
from .projections.runs import OutboxView

if TYPE_CHECKING:
    from .engine import DialogueEngine

MAX_REPLY_LENGTH = 10_000


@dataclass(frozen=True)
class RunRecord:
    id: str
    project_id: str
    dialogue_id: str
    sequence_id: str
    participant_id: str
    release_id: str
    status: str
    position: dict[str, Any] | None
    answers: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    created: int


class Runs:
    def __init__(self, engine: DialogueEngine) -> None:
        self._engine = engine

    def submit(
        self, project_id: str, dialogue_id: str, sequence_id: str, *, actor: Actor = SYSTEM
    ) -> list[RunRecord]:
        """Start a run for each participant enrolled ``active`` in the sequence."""
        dialogue = self._executable(project_id, dialogue_id, actor)
        releases = self._engine._releases(dialogue)
        if not releases:
            raise NotReleased(
                f"Dialogue {dialogue_id} has never been released", dialogue_id=dialogue_id
            )
        release = releases[-1]
        sequences = self._sequences(dialogue, release)
        if sequence_id not in {s["id"] for s in sequences}:
            raise NotReleased(
                f"Sequence {sequence_id} is not in the latest release ({release.id}) "
                f"of dialogue {dialogue_id}",
                dialogue_id=dialogue_id,
                sequence_id=sequence_id,
                release_id=release.id,
            )
        active = self._active(dialogue_id, sequence_id)
        started: list[tuple[Run, Participant, Step]] = []
        for participant in active:
            run = Run.start(
                project_id=project_id,
                dialogue_id=dialogue_id,
                sequence_id=sequence_id,
                participant_id=str(participant.id),
                channel_id=participant.channel_id,
                release_id=release.id,
                revision_number=release.revision_number,
                user_id=actor.user_id,
            )
            started.append((run, participant, walk(sequences, sequence_id, 0, {})))
        rendered = [
            self._messages(run, participant, release, step) for run, participant, step in started
        ]

        def command(unit: UnitOfWork) -> list[Run]:
            runs = []
            for (run, participant, step), messages in zip(started, rendered, strict=True):
                unit.add(run)
                run.record(step, messages, user_id=actor.user_id)
                self._end_enrolment(unit, run, participant.id, step, actor)
                runs.append(run)
            return runs

        return [_record(run) for run in self._engine.store.write(command)]

    def reply(
        self, project_id: str, run_id: str, body: JSON, *, actor: Actor = SYSTEM
    ) -> RunRecord:
        """The run's participant answers ``body["text"]`` to the block the run waits at."""
        found = self._find(project_id, run_id, actor)
        if not perms.can_execute_dialogue(actor, project_id, found.dialogue_id):
            raise PermissionDenied("answer", f"run {run_id}")
        text = _reply_text(body)

        def command(unit: UnitOfWork) -> Run:
            run = unit.get(found.id, Run)
            if not run.is_waiting:
                raise RunNotWaiting(run_id, f"has ended ({run.status})")
            participant = unit.find(UUID(run.participant_id), Participant)
            enrolment = (
                participant.enrolments.get(f"{run.dialogue_id}/{run.sequence_id}")
                if participant is not None and not participant.is_deleted
                else None
            )
            if participant is None or enrolment is None:
                raise RunNotWaiting(run_id, "has a participant no longer enrolled")
            if enrolment["status"] == "paused":
                raise RunNotWaiting(run_id, "is paused: its participant is paused")
            dialogue = self._engine.store.get(UUID(run.dialogue_id), Dialogue)
            release = self._release(dialogue, run.release_id)
            sequences = self._sequences(dialogue, release)
            assert run.position is not None
            step = answer(sequences, run.position, text, run.variables, run.repeated)
            run.record(step, self._messages(run, participant, release, step), user_id=actor.user_id)
            self._end_enrolment(unit, run, participant.id, step, actor)
            return run

        return _record(self._engine.store.write(command))

    def get(self, project_id: str, run_id: str, *, actor: Actor = SYSTEM) -> RunRecord:
        return _record(self._find(project_id, run_id, actor))

    def outbox(
        self,
        project_id: str,
        *,
        actor: Actor = SYSTEM,
        participant_id: str | None = None,
        channel_id: str | None = None,
        page: int = 1,
        per_page: int = 30,
    ) -> Page[dict[str, Any]]:
        """The project's outbound messages, oldest first, optionally of one participant
        or one channel."""
        request = PageRequest(page, per_page)
        self._engine._visible_project(project_id, actor)
        items, total = self._engine._read_views(
            lambda cursor: OutboxView.messages(
                cursor, project_id, participant_id, channel_id, request.offset, request.per_page
            )
        )
        return Page(items, total, request.page, request.per_page)

    # Helpers

    def _executable(self, project_id: str, dialogue_id: str, actor: Actor) -> Dialogue:
        if not perms.can_execute_dialogue(actor, project_id, dialogue_id):
            if perms.can_read_dialogue(actor, project_id, dialogue_id):
                raise PermissionDenied("execute", f"dialogue {dialogue_id}")
            self._engine._visible_project(project_id, actor)
            raise NotFound("Dialogue", dialogue_id)
        try:
            dialogue = self._engine.store.find(UUID(dialogue_id), Dialogue)
        except ValueError:
            dialogue = None
        if dialogue is None or dialogue.project_id != project_id:
            raise NotFound("Dialogue", dialogue_id)
        return dialogue

    def _find(self, project_id: str, run_id: str, actor: Actor) -> Run:
        self._engine._visible_project(project_id, actor)
        try:
            found = self._engine.store.find(UUID(run_id), Run)
        except ValueError:
            found = None
        if found is None or found.project_id != project_id:
            raise NotFound("Run", run_id)
        return found

    def _release(self, dialogue: Dialogue, release_id: str) -> Release:
        for release in self._engine._releases(dialogue):
            if release.id == release_id:
                return release
        raise NotFound("Release", release_id)

    def _sequences(self, dialogue: Dialogue, release: Release) -> list[dict[str, Any]]:
        released = self._engine.store.get_at(dialogue.id, release.revision_number, Dialogue)
        sequences: list[dict[str, Any]] = released.description["sequences"]
        return sequences

    def _active(self, dialogue_id: str, sequence_id: str) -> list[Participant]:
        ids = self._engine._read_views(
            lambda cursor: ParticipantView.with_status(cursor, dialogue_id, sequence_id, "active")
        )
        found = (self._engine.store.find(UUID(i), Participant) for i in ids)
        return [p for p in found if p is not None and not p.is_deleted]

    def _end_enrolment(
        self, unit: UnitOfWork, run: Run, participant_id: UUID, step: Step, actor: Actor
    ) -> None:
        if step.status not in (FINISHED, INACTIVE):
            return
        participant = unit.get(participant_id, Participant)
        if f"{run.dialogue_id}/{run.sequence_id}" in participant.enrolments:
            participant.set_status(
                run.dialogue_id, run.sequence_id, step.status, user_id=actor.user_id
            )

    def _messages(
        self, run: Run, participant: Participant, release: Release, step: Step
    ) -> list[dict[str, Any]]:
        data = {**step.variables, "name": participant.name, "address": participant.address}
        return [
            {
                "run_id": str(run.id),
                "project_id": run.project_id,
                "participant_id": run.participant_id,
                "channel_id": run.channel_id,
                "address": participant.address,
                "sequence_id": sent["sequence_id"],
                "block_id": sent["block"].get("id"),
                **self._content(sent["block"], release, data),
            }
            for sent in step.sent
        ]

    def _content(self, block: dict[str, Any], release: Release, data: dict[str, Any]) -> Any:
        kind = block.get("type")
        properties = block.get("properties") or {}
        if kind == "question":
            choices = [{"value": c["value"], "label": c["label"]} for c in properties["choices"]]
            return {"type": kind, "text": properties["text"], "choices": choices}
        if kind == "freetext":
            return {"type": kind, "text": properties["text"]}
        content: dict[str, Any] = {"type": kind}
        if "template_id" in properties:
            pin = self._pin(release, properties)
            rendered = self._engine.templates.render_pinned(pin, data)
            content["subject"] = rendered.subject
            content["text"] = rendered.text
            if rendered.html is not None:
                content["html"] = rendered.html
        elif kind == "email":
            content["subject"] = properties["subject"]
            content["text"] = properties["body"]
        else:
            content["text"] = properties["text"]
        if "send_at" in properties:
            content["send_at"] = properties["send_at"]
        return content

    @staticmethod
    def _pin(release: Release, properties: dict[str, Any]) -> TemplatePin:
        template_id = properties["template_id"]
        for pin in release.pins:
            if pin.template_id == template_id:
                version = properties.get("version_id", pin.version_id)
                return TemplatePin(template_id, version, pin.template_version)
        raise NotFound("Template", str(template_id), release_id=release.id)


def _reply_text(body: JSON) -> str:
    if type(body) is not dict or "text" not in body:
        raise ValidationFailed([FieldError("required", "", "'text' is a required property")])
    unexpected = unexpected_members(body, {"text"})
    if unexpected:
        raise ValidationFailed(unexpected)
    text = body["text"]
    if type(text) is not str:
        raise ValidationFailed([FieldError("type", "/text", "text must be a string")])
    if len(text) > MAX_REPLY_LENGTH:
        raise ValidationFailed(
            [FieldError("maxLength", "/text", f"text is longer than {MAX_REPLY_LENGTH}")]
        )
    return text


def _record(run: Run) -> RunRecord:
    return RunRecord(
        id=str(run.id),
        project_id=run.project_id,
        dialogue_id=run.dialogue_id,
        sequence_id=run.sequence_id,
        participant_id=run.participant_id,
        release_id=run.release_id,
        status=run.status,
        position=run.position,
        answers=list(run.answers),
        messages=list(run.messages),
        created=run.created,
    )
