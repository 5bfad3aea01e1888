"""The sequences facade and read model on a real SQLite store.

Writes: each is exactly one edit revision with its edit type, through the
dialogue's own edit path. Read model: created_at, updated_at and statuses as
the issue defines them, kept right across rebuilds, restarts and failed batches.
"""

from __future__ import annotations

from typing import Any

import pytest

from dialogue_engine import (
    Actor,
    DialogueEngine,
    Grant,
    NotFound,
    PermissionDenied,
    StaleRevision,
    ValidationFailed,
)
from dialogue_engine.domain.errors import SequenceInUse
from dialogue_engine.projections.sequences import SequenceView


def message(block_id: str, text: str = "Hi") -> dict[str, Any]:
    return {"id": block_id, "type": "message", "properties": {"text": text}}


def sequence(sequence_id: str, *blocks: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": sequence_id, "title": sequence_id.title(), "blocks": list(blocks), **extra}


def edit_types(engine: DialogueEngine, project_id: str, dialogue_id: str) -> list[str]:
    revisions = engine.list_revisions(project_id, dialogue_id, ordering=["number"]).items
    return [r.properties["edit_type"] for r in revisions]


def rows(engine: DialogueEngine, **query: str) -> dict[tuple[str, str], Any]:
    page = engine.sequences.search({"page_size": "100", **query})
    assert page.total == len(page.items)
    return {(r.dialogue_id, r.id): r for r in page.items}


@pytest.fixture
def world(engine: DialogueEngine) -> tuple[str, str]:
    project = engine.create_project("P")
    dialogue = engine.create_dialogue(
        project.id, {"title": "Survey", "sequences": [sequence("intro", message("hello"))]}
    )
    return project.id, dialogue.id


def test_every_sub_resource_write_is_one_revision_with_its_edit_type(
    engine: DialogueEngine, world: tuple[str, str]
) -> None:
    p, d = world
    s = engine.sequences
    s.create(p, d, {"id": "menu", "title": "Menu"})
    s.replace(p, d, "menu", {"title": "Main menu"})
    s.patch(p, d, "menu", [{"op": "add", "path": "/description", "value": "Pick one"}])
    s.create_block(p, d, "menu", message("one"))
    s.create_block(p, d, "menu", message("two"))
    s.patch(p, d, "menu", [{"op": "move", "from": "/blocks/1", "path": "/blocks/0"}])
    s.replace_block(p, d, "menu", "one", message("one", "Changed"))
    s.duplicate_blocks(p, d, "intro", {"duplicate-to-sequence-id": "menu"})
    s.delete_block(p, d, "menu", "two")
    s.delete(p, d, "menu")
    assert edit_types(engine, p, d) == [
        "create_dialogue",
        "new_sequence",
        "update_sequence",
        "update_sequence",
        "new_block",
        "new_block",
        "move_block",
        "update_block",
        "duplicate_blocks",
        "remove_block",
        "remove_sequence",
    ]
    assert [x["id"] for x in engine.get_dialogue(p, d).description["sequences"]] == ["intro"]


def test_a_write_that_changes_nothing_records_nothing(
    engine: DialogueEngine, world: tuple[str, str]
) -> None:
    p, d = world
    before = engine.get_dialogue(p, d).revision_number
    record = engine.sequences.replace(p, d, "intro", {"title": "Intro"})
    engine.sequences.replace_block(p, d, "intro", "hello", message("hello"))
    assert engine.get_dialogue(p, d).revision_number == before
    assert record.revision_id == engine.get_dialogue(p, d).revision_id


def test_sub_resource_records_are_copies_at_the_new_revision(
    engine: DialogueEngine, world: tuple[str, str]
) -> None:
    p, d = world
    record = engine.sequences.create_block(p, d, "intro", message("bye"))
    assert record.revision_id == engine.get_dialogue(p, d).revision_id
    record.block["properties"]["text"] = "mutated"
    assert engine.sequences.get_block(p, d, "intro", "bye").block["properties"]["text"] == "Hi"


def test_validation_errors_point_into_the_request(
    engine: DialogueEngine, world: tuple[str, str]
) -> None:
    p, d = world
    with pytest.raises(ValidationFailed) as raised:
        engine.sequences.create_block(p, d, "intro", {"type": "message", "properties": {}})
    assert [e.path for e in raised.value.errors] == ["/properties"]
    with pytest.raises(ValidationFailed) as raised:
        engine.sequences.create(p, d, {"title": 5, "visibility": "secret"})
    assert {e.path for e in raised.value.errors} == {"/title", "/visibility"}


def test_a_stale_expected_revision_is_refused(
    engine: DialogueEngine, world: tuple[str, str]
) -> None:
    p, d = world
    first = engine.get_dialogue(p, d).revision_id
    engine.sequences.create(p, d, {"title": "Two"})
    with pytest.raises(StaleRevision):
        engine.sequences.create(p, d, {"title": "Three"}, expected_revision=first)


def test_readers_may_not_write_and_strangers_do_not_see(
    engine: DialogueEngine, world: tuple[str, str]
) -> None:
    p, d = world
    reader = Actor("reader", (Grant("dialogue:read", p, d),))
    assert engine.sequences.get(p, d, "intro", actor=reader).id == "intro"
    with pytest.raises(PermissionDenied):
        engine.sequences.create_block(p, d, "intro", message("x"), actor=reader)
    with pytest.raises(NotFound):
        engine.sequences.get(p, d, "intro", actor=Actor("stranger"))


def test_deleting_a_sequence_still_named_by_a_next_is_refused(
    engine: DialogueEngine, world: tuple[str, str]
) -> None:
    p, d = world
    question = {
        "id": "ask",
        "type": "question",
        "properties": {"text": "?", "choices": [{"value": "1", "label": "A", "next": "intro"}]},
    }
    engine.sequences.create(p, d, sequence("menu", question))
    with pytest.raises(SequenceInUse) as raised:
        engine.sequences.delete(p, d, "intro")
    assert [b["block_id"] for b in raised.value.details["referring_blocks"]] == ["ask"]
    assert edit_types(engine, p, d)[-1] == "new_sequence"


def test_duplication_into_another_dialogue_records_one_revision_there(
    engine: DialogueEngine, world: tuple[str, str]
) -> None:
    p, d = world
    other = engine.create_dialogue(p, {"title": "Other", "sequences": [sequence("target")]})
    source_before = engine.get_dialogue(p, d).revision_number
    result = engine.sequences.duplicate_blocks(
        p, d, "intro", {"duplicate-to-sequence-id": "target", "duplicate-to-dialogue-id": other.id}
    )
    assert result.target.dialogue_id == other.id
    assert result.blocks == [{"from": "hello", "to": "hello-copy"}]
    assert edit_types(engine, p, other.id) == ["create_dialogue", "duplicate_blocks"]
    assert engine.get_dialogue(p, d).revision_number == source_before
    (last, *_) = engine.list_revisions(p, other.id).items
    assert last.details["from_dialogue_id"] == d and last.details["to_dialogue_id"] == other.id


def test_a_duplication_the_target_dialogue_rejects_changes_neither_dialogue(
    engine: DialogueEngine, world: tuple[str, str]
) -> None:
    p, d = world
    question = {
        "id": "ask",
        "type": "question",
        "properties": {"text": "?", "choices": [{"value": "1", "label": "A", "next": "intro"}]},
    }
    engine.sequences.create(p, d, sequence("menu", question))
    other = engine.create_dialogue(p, {"title": "Other", "sequences": [sequence("target")]})
    before = {x: engine.get_dialogue(p, x) for x in (d, other.id)}
    with pytest.raises(ValidationFailed) as raised:
        # The copied question leads to 'intro', which the other dialogue does not have.
        engine.sequences.duplicate_blocks(
            p,
            d,
            "menu",
            {"duplicate-to-sequence-id": "target", "duplicate-to-dialogue-id": other.id},
        )
    assert raised.value.errors[0].type == "reference"
    for x, record in before.items():
        after = engine.get_dialogue(p, x)
        assert (after.revision_id, after.document) == (record.revision_id, record.document)
    assert len(engine.list_revisions(p, other.id).items) == 1


def test_duplication_targets_must_be_dialogues_of_the_same_project_the_caller_writes(
    engine: DialogueEngine, world: tuple[str, str]
) -> None:
    p, d = world
    elsewhere = engine.create_project("Q")
    foreign = engine.create_dialogue(elsewhere.id, {"title": "F", "sequences": [sequence("t")]})
    body = {"duplicate-to-sequence-id": "t", "duplicate-to-dialogue-id": foreign.id}
    with pytest.raises(ValidationFailed) as raised:
        engine.sequences.duplicate_blocks(p, d, "intro", body)
    assert raised.value.errors[0].path == "/duplicate-to-dialogue-id"
    other = engine.create_dialogue(p, {"title": "O", "sequences": [sequence("t")]})
    reader = Actor("r", (Grant("project:dialogues:read", p),))
    with pytest.raises(PermissionDenied):
        engine.sequences.duplicate_blocks(
            p, d, "intro", {**body, "duplicate-to-dialogue-id": other.id}, actor=reader
        )


# The read model


def test_created_at_is_the_first_revision_adding_the_id_and_updated_at_the_last_change(
    engine: DialogueEngine,
) -> None:
    p = engine.create_project("P").id
    d = engine.create_dialogue(
        p, {"title": "D", "sequences": [sequence("a"), sequence("b")]}, created=1_000
    ).id
    engine.edit_dialogue(
        p, d, [{"op": "replace", "path": "/sequences/1/title", "value": "B!"}], created=2_000
    )
    engine.edit_dialogue(
        p, d, [{"op": "add", "path": "/sequences/-", "value": sequence("c")}], created=3_000
    )
    found = rows(engine)
    assert (found[d, "a"].created_at, found[d, "a"].updated_at) == (1_000, 1_000)
    assert (found[d, "b"].created_at, found[d, "b"].updated_at) == (1_000, 2_000)
    assert (found[d, "c"].created_at, found[d, "c"].updated_at) == (3_000, 3_000)
    # A patch that touches a sequence without changing it does not update it.
    engine.edit_dialogue(
        p,
        d,
        [
            {"op": "replace", "path": "/sequences/0/title", "value": "A"},
            {"op": "replace", "path": "/title", "value": "D2"},
        ],
        created=4_000,
    )
    assert rows(engine)[d, "a"].updated_at == 1_000
    assert rows(engine)[d, "a"].dialogue_title == "D2"


def test_a_removed_and_re_added_id_keeps_its_first_created_at(engine: DialogueEngine) -> None:
    p = engine.create_project("P").id
    d = engine.create_dialogue(p, {"title": "D", "sequences": [sequence("a")]}, created=1_000).id
    engine.edit_dialogue(p, d, [{"op": "remove", "path": "/sequences/0"}], created=2_000)
    assert rows(engine) == {}
    engine.edit_dialogue(
        p, d, [{"op": "add", "path": "/sequences/0", "value": sequence("a")}], created=3_000
    )
    row = rows(engine)[d, "a"]
    assert (row.created_at, row.updated_at) == (1_000, 3_000)


def test_rows_carry_folder_steps_and_zero_participants(
    engine: DialogueEngine, world: tuple[str, str]
) -> None:
    p, d = world
    engine.sequences.create(
        p,
        d,
        sequence(
            "menu",
            {"id": "t", "type": "message", "title": "Welcome", "properties": {"text": "x"}},
            message("u"),
            description="Main",
            visibility="public",
        ),
    )
    row = rows(engine)[d, "menu"]
    assert (row.project_id, row.dialogue_title, row.description) == (p, "Survey", "Main")
    assert row.display_status == 1 and rows(engine)[d, "intro"].display_status == 0
    assert row.number_active_steps == 2
    assert row.step_info == [
        {"id": "t", "type": "message", "title": "Welcome"},
        {"id": "u", "type": "message", "title": None},
    ]
    counts = (
        row.number_users_active,
        row.number_users_paused,
        row.number_users_inactive,
        row.number_users_finished,
    )
    assert counts == (0, 0, 0, 0)


def test_status_follows_the_releases(engine: DialogueEngine) -> None:
    p = engine.create_project("P").id
    d = engine.create_dialogue(p, {"title": "D", "sequences": [sequence("a")]}).id
    status = lambda sid: rows(engine)[d, sid].status  # noqa: E731
    assert status("a") == 0  # Draft
    first = engine.get_dialogue(p, d).revision_id
    engine.create_release(p, d, first)
    assert status("a") == 1  # Published
    engine.sequences.create(p, d, sequence("b"))
    assert (status("a"), status("b")) == (1, 0)
    latest = engine.get_dialogue(p, d).revision_id
    engine.create_release(p, d, latest)
    assert (status("a"), status("b")) == (1, 1)
    engine.create_release(p, d, first)  # publish the old revision again
    assert (status("a"), status("b")) == (1, 2)  # b: in an earlier release only
    engine.sequences.delete(p, d, "b")
    engine.sequences.create(p, d, sequence("b"))
    assert status("b") == 2  # the same id, still in an earlier release only


def test_search_counts_and_returns_only_what_the_caller_can_read(engine: DialogueEngine) -> None:
    p = engine.create_project("P").id
    q = engine.create_project("Q").id
    d1 = engine.create_dialogue(p, {"title": "1", "sequences": [sequence("a")]}).id
    d2 = engine.create_dialogue(p, {"title": "2", "sequences": [sequence("b")]}).id
    d3 = engine.create_dialogue(q, {"title": "3", "sequences": [sequence("c")]}).id
    visible = {
        Actor("x", (Grant("dialogue:read", p, d1),)): {(d1, "a")},
        Actor("y", (Grant("project:dialogues:read", p),)): {(d1, "a"), (d2, "b")},
        Actor("z", (Grant("project:admin", q), Grant("dialogue:write", p, d2))): {
            (d2, "b"),
            (d3, "c"),
        },
        # A dialogue grant naming the wrong project reaches nothing.
        Actor("w", (Grant("dialogue:read", q, d1),)): set(),
        Actor("nobody"): set(),
    }
    for actor, expected in visible.items():
        page = engine.sequences.search({}, actor=actor)
        assert {(r.dialogue_id, r.id) for r in page.items} == expected
        assert page.total == len(expected)


def test_a_rebuild_from_zero_gives_the_same_rows(engine: DialogueEngine) -> None:
    p = engine.create_project("P").id
    d = engine.create_dialogue(p, {"title": "D", "sequences": [sequence("a"), sequence("b")]}).id
    engine.create_release(p, d, engine.get_dialogue(p, d).revision_id)
    engine.sequences.delete(p, d, "b")
    engine.sequences.create_block(p, d, "a", message("m"))
    engine.sequences.create(p, d, sequence("b"))
    before = rows(engine)
    engine.rebuild()
    assert rows(engine) == before


def test_a_restarted_process_continues_from_the_tables(store_url: str) -> None:
    url = store_url
    with DialogueEngine.open(url, follow=False) as engine:
        p = engine.create_project("P").id
        d = engine.create_dialogue(
            p, {"title": "D", "sequences": [sequence("a"), sequence("b")]}, created=1_000
        ).id
        engine.create_release(p, d, engine.get_dialogue(p, d).revision_id)
        rows(engine)
    with DialogueEngine.open(url, follow=False) as engine:
        # No state in memory: the view loads the dialogue's rows and fingerprints.
        engine.edit_dialogue(
            p,
            d,
            [
                {"op": "replace", "path": "/sequences/0/title", "value": "A!"},
                {"op": "remove", "path": "/sequences/1"},
                {"op": "add", "path": "/sequences/-", "value": sequence("c")},
            ],
            created=2_000,
        )
        found = rows(engine)
        assert set(found) == {(d, "a"), (d, "c")}
        assert (found[d, "a"].created_at, found[d, "a"].updated_at) == (1_000, 2_000)
        assert (found[d, "a"].status, found[d, "c"].status) == (1, 0)
        engine.rebuild()
        assert rows(engine) == found


def test_a_batch_that_fails_to_commit_is_applied_again_from_the_tables(
    engine: DialogueEngine, world: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    p, d = world
    rows(engine)
    engine.create_release(p, d, engine.get_dialogue(p, d).revision_id)
    engine.sequences.create(p, d, sequence("menu"))

    class Boom(Exception):
        pass

    calls = []
    real_apply = SequenceView.apply

    def apply_then_fail(self: SequenceView, cursor: Any, changes: Any) -> None:
        real_apply(self, cursor, changes)  # memory state advances...
        calls.append(len(changes))
        raise Boom  # ...but the transaction rolls back

    monkeypatch.setattr(SequenceView, "apply", apply_then_fail)
    with pytest.raises(Boom):
        engine.projector.catch_up()
    monkeypatch.setattr(SequenceView, "apply", real_apply)
    assert calls
    found = rows(engine)
    assert (found[d, "intro"].status, found[d, "menu"].status) == (1, 0)
    engine.rebuild()
    assert rows(engine) == found
