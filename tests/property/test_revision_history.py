"""Random histories of edits, replacements, reverts, releases and bulks.

Whatever mix of valid and invalid revisions is thrown at a dialogue:
- replaying its log from zero gives the live description;
- the description as of revision n equals the state right after n was written;
- reverting to n and reading gives the description as of n;
- a failing revision (alone or inside a bulk) leaves no event and no number;
- read models rebuilt from zero equal the live ones.
"""

from __future__ import annotations

import copy
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from dialogue_engine import DialogueEngine, DomainError
from dialogue_engine.domain.dialogue import Dialogue
from dialogue_engine.eventstore.application import replay

SYMBOLS = st.sampled_from(["start", "end", "a", "b", "ask-1", "x2"])
TEXTS = st.sampled_from(["Hi", "Hello there", "", "¿Qué?"])


def block_values(data: st.DataObject) -> Any:
    kind = data.draw(st.sampled_from(["message", "question", "end", "bogus"]))
    block: dict[str, Any] = {"id": data.draw(SYMBOLS), "type": kind}
    if kind == "message":
        block["properties"] = {"text": data.draw(TEXTS)}
    elif kind == "question":
        choices = [{"value": "1", "label": "One", "next": data.draw(SYMBOLS)}]
        block["properties"] = {"text": data.draw(TEXTS), "choices": choices}
    if data.draw(st.booleans()):
        block["title"] = data.draw(TEXTS)
    return block


def draw_op(data: st.DataObject, description: dict[str, Any]) -> dict[str, Any]:
    sequences = description["sequences"]
    n = len(sequences)
    i = data.draw(st.integers(0, n)) if n else 0
    blocks = sequences[i]["blocks"] if i < n else []
    j = data.draw(st.integers(0, len(blocks)))
    choice = data.draw(st.integers(0, 9))
    if choice == 0:
        return {"op": "replace", "path": "/title", "value": data.draw(st.one_of(TEXTS, st.just(5)))}
    if choice == 1:
        value = {"id": data.draw(SYMBOLS), "title": data.draw(TEXTS), "blocks": []}
        return {"op": "add", "path": "/sequences/-", "value": value}
    if choice == 2:
        return {"op": "remove", "path": f"/sequences/{i}"}
    if choice == 3:
        return {"op": "add", "path": f"/sequences/{i}/blocks/{j}", "value": block_values(data)}
    if choice == 4:
        return {
            "op": "replace",
            "path": f"/sequences/{i}/blocks/{j}/properties/text",
            "value": data.draw(TEXTS),
        }
    if choice == 5:
        k = data.draw(st.integers(0, n)) if n else 0
        return {
            "op": "move",
            "from": f"/sequences/{i}/blocks/{j}",
            "path": f"/sequences/{k}/blocks/0",
        }
    if choice == 6:
        return {
            "op": "test",
            "path": "/title",
            "value": data.draw(st.one_of(TEXTS, st.just(description["title"]))),
        }
    if choice == 7:
        return {"op": "replace", "path": "/is_archived", "value": data.draw(st.booleans())}
    if choice == 8:
        return {
            "op": "copy",
            "from": f"/sequences/{i}/blocks/{j}",
            "path": f"/sequences/{i}/blocks/-",
        }
    return {"op": "remove", "path": f"/sequences/{i}/blocks/{j}"}


INITIAL = {
    "title": "Survey",
    "sequences": [
        {
            "id": "start",
            "title": "Start",
            "blocks": [
                {"id": "hello", "type": "message", "properties": {"text": "Hi"}},
                {
                    "id": "ask",
                    "type": "question",
                    "properties": {
                        "text": "Go on?",
                        "choices": [{"value": "y", "label": "Yes", "next": "end"}],
                    },
                },
            ],
        },
        {"id": "end", "title": "End", "blocks": [{"id": "bye", "type": "end"}]},
    ],
}


class RevisionHistory(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.engine = DialogueEngine.open("memory://", follow=False)
        self.project = self.engine.create_project("P").id
        created = self.engine.create_dialogue(self.project, copy.deepcopy(INITIAL))
        self.dialogue = created.id
        self.states: dict[int, dict[str, Any]] = {1: created.description}
        self.revision_ids: dict[int, str] = {1: created.revision_id}
        self.releases: list[int] = []

    def teardown(self) -> None:
        self.engine.close()

    @property
    def current(self) -> int:
        return max(self.states)

    def _record(self, result: Any) -> None:
        if result.revision_number == self.current:
            assert result.description == self.states[self.current], "a no-op recorded nothing"
            return
        assert result.revision_number == self.current + 1
        self.states[result.revision_number] = result.description
        self.revision_ids[result.revision_number] = result.revision_id

    def _expect_unchanged(self) -> None:
        live = self.engine.get_dialogue(self.project, self.dialogue)
        assert live.revision_number == self.current
        assert live.description == self.states[self.current]
        events = self.engine.store.events_of(UUID(self.dialogue))
        assert len(events) == self.current

    @rule(data=st.data())
    def edit(self, data: st.DataObject) -> None:
        ops = [
            draw_op(data, self.states[self.current]) for _ in range(data.draw(st.integers(1, 3)))
        ]
        try:
            result = self.engine.edit_dialogue(self.project, self.dialogue, ops)
        except DomainError:
            self._expect_unchanged()
        else:
            self._record(result)

    @rule(data=st.data())
    def replace(self, data: st.DataObject) -> None:
        description = copy.deepcopy(self.states[self.current])
        description["title"] = data.draw(TEXTS)
        if description["sequences"] and data.draw(st.booleans()):
            description["sequences"].reverse()
        try:
            result = self.engine.replace_dialogue(self.project, self.dialogue, description)
        except DomainError:
            self._expect_unchanged()
        else:
            self._record(result)
            assert result.description == description

    @rule(data=st.data())
    def revert(self, data: st.DataObject) -> None:
        number = data.draw(st.integers(1, self.current))
        result = self.engine.revert_dialogue(self.project, self.dialogue, self.revision_ids[number])
        self._record(result)
        assert result.description == self.states[number]

    @rule()
    def revert_to_an_unknown_revision_is_refused(self) -> None:
        try:
            self.engine.revert_dialogue(self.project, self.dialogue, "no-such-revision")
        except DomainError as e:
            assert e.type == "validation_error"
        self._expect_unchanged()

    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        number = data.draw(st.integers(1, self.current))
        release = self.engine.create_release(self.project, self.dialogue, self.revision_ids[number])
        self.releases.append(number)
        assert release.number == len(self.releases)
        assert release.revision_number == number

    @rule(data=st.data())
    def bulk_with_one_failing_revision_leaves_nothing(self, data: st.DataObject) -> None:
        good = {
            "type": "edit",
            "properties": {
                "edit_type": "retitle",
                "patch": [{"op": "replace", "path": "/title", "value": f"bulk {self.current}"}],
            },
        }
        bad = {
            "type": "edit",
            "properties": {"edit_type": "broken", "patch": [{"op": "remove", "path": "/nope"}]},
        }
        body = [good, good, good]
        body[data.draw(st.integers(0, 2))] = bad
        try:
            self.engine.add_revisions(self.project, self.dialogue, body)
        except DomainError as e:
            assert e.type == "patch_conflict"
            assert "revision_index" in e.details
        self._expect_unchanged()

    @precondition(lambda self: self.current > 1)
    @rule(data=st.data())
    def description_as_of_any_revision_is_the_state_right_after_it(
        self, data: st.DataObject
    ) -> None:
        number = data.draw(st.integers(1, self.current))
        as_of = self.engine.get_revision_dialogue(
            self.project, self.dialogue, self.revision_ids[number]
        )
        assert as_of.description == self.states[number]

    @invariant()
    def replaying_the_log_from_zero_gives_the_live_description(self) -> None:
        events = self.engine.store.events_of(UUID(self.dialogue))
        replayed = replay(None, events)
        assert isinstance(replayed, Dialogue)
        assert replayed.version == self.current
        assert replayed.description == self.states[self.current]
        live = self.engine.get_dialogue(self.project, self.dialogue)
        assert live.description == self.states[self.current]
        latest = self.releases[-1] if self.releases else None
        assert live.is_published == (latest is not None)
        assert live.has_changes == (latest is not None and latest != self.current)

    @invariant()
    def read_models_rebuilt_from_zero_equal_the_live_ones(self) -> None:
        before = self.engine.list_dialogues(self.project)
        assert before.items[0].title == self.states[self.current]["title"]
        self.engine.rebuild()
        assert self.engine.list_dialogues(self.project) == before


RevisionHistory.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRevisionHistory = RevisionHistory.TestCase
