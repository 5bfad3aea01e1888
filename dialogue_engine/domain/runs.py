"""Runs: one participant walking the blocks of one release of a dialogue.

A run starts at a sequence of a release and keeps following that release,
even after a newer one (its description is always the released revision it
names). :func:`walk` and :func:`answer` are pure: from a description, a
position and the run's variables they say what happens next (a
:class:`Step`): the blocks to send, where the run waits, or how it ends. The
engine renders the messages and records the step on the :class:`Run`, whose
event only assigns.

- ``message`` and ``email`` blocks are sent and the walk goes on;
- ``question`` and ``freetext`` are sent and the run waits for a reply;
- a choice's ``next`` and a ``route`` move to the first block of another
  sequence (a route: the ``next`` of its first matching rule, else its own
  ``next``, else the following block);
- ``end``, or running past the last block of the last sequence, finishes the
  run; past the last block of another sequence the walk goes on with the
  next sequence in order;
- an answer matching no choice repeats the question once, then ends the run
  as ``inactive``;
- block types the engine does not know are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eventsourcing.domain import Aggregate, event
from eventsourcing.domain import Snapshot as BaseSnapshot

from .aggregates import EngineAggregate, now_ms
from .errors import DomainError

WAITING = "waiting"
FINISHED = "finished"
INACTIVE = "inactive"
MAX_WALK = 10_000
"""Blocks one walk may visit without waiting (a route cycle ends the run as inactive)."""


class RunNotWaiting(DomainError):
    """A reply to a run that has ended, or whose participant is paused."""

    type = "run_not_waiting"

    def __init__(self, run_id: str, reason: str) -> None:
        super().__init__(f"Run {run_id} {reason}", {"id": run_id})


class NotReleased(DomainError):
    """Submitting a sequence that the dialogue's latest release does not hold."""

    type = "not_released"

    def __init__(self, message: str, **details: str) -> None:
        super().__init__(message, dict(details))


@dataclass(frozen=True)
class Step:
    """What a walk decided: blocks to send, then a wait at ``position`` or an end."""

    status: str
    position: dict[str, Any] | None
    sent: tuple[dict[str, Any], ...] = ()
    """``{sequence_id, block}`` of each block to send, in order."""
    variables: dict[str, Any] = field(default_factory=dict)
    answer: dict[str, Any] | None = None
    repeated: bool = False


def walk(
    sequences: list[dict[str, Any]],
    sequence_id: str,
    index: int,
    variables: dict[str, Any],
    answer: dict[str, Any] | None = None,
) -> Step:
    """Walk from block ``index`` of ``sequence_id`` until a wait or an end."""
    order = [s["id"] for s in sequences]
    by_id = {s["id"]: s for s in sequences}
    sent: list[dict[str, Any]] = []
    for _ in range(MAX_WALK):
        sequence = by_id.get(sequence_id)
        if sequence is None:
            return Step(FINISHED, None, tuple(sent), variables, answer)
        blocks = sequence.get("blocks") or []
        if index >= len(blocks):
            following = order.index(sequence_id) + 1
            if following >= len(order):
                return Step(FINISHED, None, tuple(sent), variables, answer)
            sequence_id, index = order[following], 0
            continue
        block = blocks[index]
        kind = block.get("type")
        properties = block.get("properties") or {}
        if kind in ("message", "email"):
            sent.append({"sequence_id": sequence_id, "block": block})
        elif kind in ("question", "freetext"):
            sent.append({"sequence_id": sequence_id, "block": block})
            position = {"sequence_id": sequence_id, "block_id": block.get("id"), "index": index}
            return Step(WAITING, position, tuple(sent), variables, answer)
        elif kind == "end":
            return Step(FINISHED, None, tuple(sent), variables, answer)
        elif kind == "route":
            target = route_target(properties, variables)
            if target is not None:
                sequence_id, index = target, 0
                continue
        index += 1
    return Step(INACTIVE, None, tuple(sent), variables, answer)


def route_target(properties: dict[str, Any], variables: dict[str, Any]) -> str | None:
    for rule in properties.get("rules") or []:
        if _matches(variables.get(rule["variable"]), rule["operator"], rule["value"]):
            return str(rule["next"])
    target = properties.get("next")
    return str(target) if target is not None else None


def _matches(actual: Any, operator: str, expected: Any) -> bool:
    if actual is None:
        return False
    if operator == "equals":
        return str(actual).casefold() == str(expected).casefold()
    if operator == "not_equals":
        return str(actual).casefold() != str(expected).casefold()
    if operator == "contains":
        return str(expected).casefold() in str(actual).casefold()
    try:
        left, right = float(actual), float(expected)
    except (TypeError, ValueError):
        return False
    return left > right if operator == "gt" else left < right


def choice_for(choices: list[dict[str, Any]], text: str) -> dict[str, Any] | None:
    """The choice ``text`` names: its value or label (any case), or its number from 1."""
    wanted = text.strip().casefold()
    for number, choice in enumerate(choices, 1):
        if wanted in (str(choice["value"]).casefold(), str(choice["label"]).casefold()):
            return choice
        if wanted == str(number):
            return choice
    return None


def answer(
    sequences: list[dict[str, Any]],
    position: dict[str, Any],
    text: str,
    variables: dict[str, Any],
    repeated: bool,
) -> Step:
    """The run waiting at ``position`` receives ``text``."""
    sequence_id, index = position["sequence_id"], position["index"]
    block = next(s for s in sequences if s["id"] == sequence_id)["blocks"][index]
    properties = block.get("properties") or {}
    base = {"sequence_id": sequence_id, "block_id": block.get("id"), "text": text}
    if block.get("type") == "freetext":
        known = {**variables, properties["store_as"]: text}
        return walk(sequences, sequence_id, index + 1, known, base)
    choice = choice_for(properties.get("choices") or [], text)
    if choice is None:
        if repeated:
            return Step(INACTIVE, None, (), variables, {**base, "value": None})
        again = ({"sequence_id": sequence_id, "block": block},)
        return Step(WAITING, position, again, variables, {**base, "value": None}, True)
    known = {**variables, str(block.get("id")): choice["value"]}
    chosen = {**base, "value": choice["value"]}
    if choice.get("next"):
        return walk(sequences, str(choice["next"]), 0, known, chosen)
    return walk(sequences, sequence_id, index + 1, known, chosen)


class Run(EngineAggregate):
    TOPIC = "dialogue_engine:Run"

    class Created(Aggregate.Created):
        TOPIC = "dialogue_engine:Run.Created"
        project_id: str
        dialogue_id: str
        sequence_id: str
        participant_id: str
        channel_id: str | None
        release_id: str
        revision_number: int
        user_id: str
        created: int

    class Snapshot(BaseSnapshot):
        TOPIC = "dialogue_engine:Run.Snapshot"

    @event(Created)
    def __init__(
        self,
        project_id: str,
        dialogue_id: str,
        sequence_id: str,
        participant_id: str,
        channel_id: str | None,
        release_id: str,
        revision_number: int,
        user_id: str,
        created: int,
    ) -> None:
        self.project_id = project_id
        self.dialogue_id = dialogue_id
        self.sequence_id = sequence_id
        """The submitted sequence: the participant's enrolment this run reports to."""
        self.participant_id = participant_id
        self.channel_id = channel_id
        self.release_id = release_id
        self.revision_number = revision_number
        self.created = created
        self.status = WAITING
        self.position: dict[str, Any] | None = None
        self.variables: dict[str, Any] = {}
        self.answers: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.repeated = False

    @classmethod
    def start(
        cls,
        *,
        project_id: str,
        dialogue_id: str,
        sequence_id: str,
        participant_id: str,
        channel_id: str | None,
        release_id: str,
        revision_number: int,
        user_id: str,
    ) -> Run:
        return cls(
            project_id=project_id,
            dialogue_id=dialogue_id,
            sequence_id=sequence_id,
            participant_id=participant_id,
            channel_id=channel_id,
            release_id=release_id,
            revision_number=revision_number,
            user_id=user_id,
            created=now_ms(),
        )

    @property
    def is_waiting(self) -> bool:
        return self.status == WAITING and self.position is not None

    def record(self, step: Step, messages: list[dict[str, Any]], *, user_id: str) -> None:
        """Record a step and the rendered ``messages`` of its sent blocks."""
        numbered = [
            {**m, "id": f"{self.id}-{len(self.messages) + i + 1}"} for i, m in enumerate(messages)
        ]
        self._stepped(
            status=step.status,
            position=step.position,
            variables=step.variables,
            answer=step.answer,
            messages=numbered,
            repeated=step.repeated,
            user_id=user_id,
        )

    @event("Stepped", topic="dialogue_engine:Run.Stepped")
    def _stepped(
        self,
        status: str,
        position: dict[str, Any] | None,
        variables: dict[str, Any],
        answer: dict[str, Any] | None,
        messages: list[dict[str, Any]],
        repeated: bool,
        user_id: str,
    ) -> None:
        self.status = status
        self.position = position
        self.variables = variables
        if answer is not None:
            self.answers = [*self.answers, answer]
        self.messages = [*self.messages, *messages]
        self.repeated = repeated
