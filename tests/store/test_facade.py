"""The library facade: every public command, its errors and its guarantees."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from dialogue_engine import (
    Actor,
    DialogueEngine,
    Grant,
    NotFound,
    PatchConflict,
    PermissionDenied,
    StaleRevision,
    ValidationFailed,
)
from dialogue_engine.domain.project import Project

README = Path(__file__).parents[2] / "README.md"


def sequence(sequence_id: str, *blocks: dict[str, Any]) -> dict[str, Any]:
    return {"id": sequence_id, "title": sequence_id.title(), "blocks": list(blocks)}


def message(block_id: str, text: str = "Hi") -> dict[str, Any]:
    return {"id": block_id, "type": "message", "properties": {"text": text}}


def test_the_readme_examples_run_as_written() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert len(blocks) >= 2
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})


def test_a_new_dialogue_is_revision_one_and_has_is_archived(engine: DialogueEngine) -> None:
    project = engine.create_project("P")
    dialogue = engine.create_dialogue(project.id, {"title": "T", "sequences": []})
    assert dialogue.revision_number == 1
    assert dialogue.description == {"title": "T", "sequences": [], "is_archived": False}
    (revision,) = engine.list_revisions(project.id, dialogue.id).items
    assert revision.id == dialogue.revision_id
    assert revision.type == "edit"
    assert revision.properties["edit_type"] == "create_dialogue"


def test_descriptions_handed_out_are_independent_copies(engine: DialogueEngine) -> None:
    project = engine.create_project("P")
    dialogue = engine.create_dialogue(project.id, {"title": "T", "sequences": [sequence("a")]})
    engine.edit_dialogue(
        project.id, dialogue.id, [{"op": "replace", "path": "/title", "value": "U"}]
    )
    for record in (
        engine.get_dialogue(project.id, dialogue.id),
        engine.get_revision_dialogue(project.id, dialogue.id, dialogue.revision_id),
    ):
        first = record.description
        first["sequences"].clear()
        first["title"] = "mutated"
        second = record.description
        assert second["sequences"] and second["title"] != "mutated"
        assert b"mutated" not in record.document
    assert engine.get_revision_dialogue(project.id, dialogue.id, dialogue.revision_id).title == "T"
    assert engine.get_dialogue(project.id, dialogue.id).title == "U"


def test_a_failing_patch_changes_nothing_and_names_the_operation(engine: DialogueEngine) -> None:
    project = engine.create_project("P")
    dialogue = engine.create_dialogue(project.id, {"title": "T", "sequences": []})
    with pytest.raises(PatchConflict) as caught:
        engine.edit_dialogue(
            project.id,
            dialogue.id,
            [
                {"op": "replace", "path": "/title", "value": "changed"},
                {"op": "test", "path": "/title", "value": "something else"},
            ],
        )
    assert caught.value.details["op_index"] == 1
    after = engine.get_dialogue(project.id, dialogue.id)
    assert (after.title, after.revision_number) == ("T", 1)


def test_an_invalid_result_is_a_validation_error_with_pointers(engine: DialogueEngine) -> None:
    project = engine.create_project("P")
    dialogue = engine.create_dialogue(project.id, {"title": "T", "sequences": [sequence("a")]})
    with pytest.raises(ValidationFailed) as caught:
        engine.edit_dialogue(
            project.id,
            dialogue.id,
            [{"op": "add", "path": "/sequences/-", "value": sequence("a")}],
        )
    assert caught.value.details["errors"] == [
        {
            "type": "unique",
            "path": "/sequences/1/id",
            "message": "sequence id 'a' is already used at /sequences/0",
        }
    ]


def test_the_contract_example_adding_at_sequences_replaces_the_array_and_is_refused(
    engine: DialogueEngine,
) -> None:
    project = engine.create_project("P")
    dialogue = engine.create_dialogue(project.id, {"title": "T", "sequences": [sequence("a")]})
    with pytest.raises(ValidationFailed) as caught:
        engine.edit_dialogue(
            project.id,
            dialogue.id,
            [
                {"op": "remove", "path": "/sequences/0"},
                {"op": "add", "path": "/sequences", "value": sequence("start")},
            ],
        )
    assert caught.value.errors[0].path == "/sequences"


def test_replacing_with_the_same_description_records_nothing(engine: DialogueEngine) -> None:
    project = engine.create_project("P")
    dialogue = engine.create_dialogue(project.id, {"title": "T", "sequences": [sequence("a")]})
    same = engine.replace_dialogue(
        project.id, dialogue.id, {"title": "T", "sequences": [sequence("a")]}
    )
    assert same.revision_number == 1
    assert engine.list_revisions(project.id, dialogue.id).total == 1


def test_replacing_without_is_archived_keeps_the_archive_flag(engine: DialogueEngine) -> None:
    project = engine.create_project("P")
    dialogue = engine.create_dialogue(
        project.id, {"title": "T", "sequences": [], "is_archived": True}
    )
    replaced = engine.replace_dialogue(project.id, dialogue.id, {"title": "U", "sequences": []})
    assert replaced.is_archived is True
    (edit, _) = engine.list_revisions(project.id, dialogue.id).items
    assert edit.properties["patch"] == [{"op": "replace", "path": "/title", "value": "U"}]


def test_an_expected_revision_that_is_stale_is_refused(engine: DialogueEngine) -> None:
    project = engine.create_project("P")
    first = engine.create_dialogue(project.id, {"title": "T", "sequences": []})
    second = engine.edit_dialogue(
        project.id,
        first.id,
        [{"op": "replace", "path": "/title", "value": "U"}],
        expected_revision=first.revision_id,
    )
    for stale in (first.revision_id, 1):
        with pytest.raises(StaleRevision):
            engine.edit_dialogue(
                project.id,
                first.id,
                [{"op": "replace", "path": "/title", "value": "V"}],
                expected_revision=stale,
            )
    by_number = engine.edit_dialogue(
        project.id,
        first.id,
        [{"op": "replace", "path": "/title", "value": "V"}],
        expected_revision=second.revision_number,
    )
    assert by_number.revision_number == 3


def test_a_bulk_is_all_or_nothing_and_names_the_failing_revision(engine: DialogueEngine) -> None:
    project = engine.create_project("P")
    dialogue = engine.create_dialogue(project.id, {"title": "T", "sequences": []})
    good = {
        "type": "edit",
        "details": {"id": "start"},
        "properties": {
            "edit_type": "new_sequence",
            "patch": [{"op": "add", "path": "/sequences/-", "value": sequence("start")}],
        },
    }
    bad = {
        "type": "edit",
        "properties": {
            "edit_type": "rename_sequence",
            "patch": [{"op": "add", "path": "/sequences/title", "value": "Start"}],
        },
    }
    with pytest.raises(PatchConflict) as caught:
        engine.add_revisions(project.id, dialogue.id, [good, bad])
    assert caught.value.details["revision_index"] == 1
    assert engine.get_dialogue(project.id, dialogue.id).revision_number == 1

    with pytest.raises(ValidationFailed) as invalid:
        engine.add_revisions(project.id, dialogue.id, [good, {"type": "edit", "id": "9"}])
    assert {e.path for e in invalid.value.errors} == {"/1", "/1/properties"}

    created = engine.add_revisions(
        project.id,
        dialogue.id,
        [
            good,
            {
                **good,
                "details": {"n": 2},
                "properties": {
                    "edit_type": "retitle",
                    "patch": [{"op": "replace", "path": "/title", "value": "U"}],
                },
            },
        ],
    )
    assert [r.number for r in created] == [2, 3]
    assert created[0].details == {"id": "start"}


def test_a_bulk_can_revert_to_a_revision_it_created_itself(engine: DialogueEngine) -> None:
    project = engine.create_project("P")
    dialogue = engine.create_dialogue(project.id, {"title": "T", "sequences": []})
    upcoming = [
        {
            "type": "edit",
            "properties": {
                "edit_type": "retitle",
                "patch": [{"op": "replace", "path": "/title", "value": title}],
            },
        }
        for title in ("A", "B")
    ]
    created = engine.add_revisions(project.id, dialogue.id, upcoming)
    reverted = engine.add_revisions(
        project.id,
        dialogue.id,
        [
            upcoming[0]
            | {
                "properties": {
                    "edit_type": "x",
                    "patch": [{"op": "replace", "path": "/title", "value": "C"}],
                }
            },
            {"type": "revert", "properties": {"revision_id": created[0].id}},
        ],
    )
    assert [r.type for r in reverted] == ["edit", "revert"]
    assert engine.get_dialogue(project.id, dialogue.id).title == "A"


def test_reverting_to_or_releasing_an_unknown_revision_is_a_validation_error(
    engine: DialogueEngine,
) -> None:
    project = engine.create_project("P")
    dialogue = engine.create_dialogue(project.id, {"title": "T", "sequences": []})
    with pytest.raises(ValidationFailed):
        engine.revert_dialogue(project.id, dialogue.id, "not-a-revision")
    with pytest.raises(ValidationFailed):
        engine.create_release(project.id, dialogue.id, "not-a-revision")
    other = engine.create_dialogue(project.id, {"title": "O", "sequences": []})
    with pytest.raises(ValidationFailed):
        engine.create_release(project.id, dialogue.id, other.revision_id)


def test_revisions_page_and_sort_by_several_keys(engine: DialogueEngine) -> None:
    project = engine.create_project("P")
    dialogue = engine.create_dialogue(project.id, {"title": "T", "sequences": []}, created=500)
    for number, created in ((2, 300), (3, 300), (4, 100)):
        engine.edit_dialogue(
            project.id,
            dialogue.id,
            [{"op": "replace", "path": "/title", "value": f"t{number}"}],
            created=created,
        )

    def numbers(*ordering: str, page: int = 1, per_page: int = 30) -> list[int]:
        listed = engine.list_revisions(
            project.id, dialogue.id, ordering=ordering, page=page, per_page=per_page
        )
        return [r.number for r in listed.items]

    assert numbers() == [4, 3, 2, 1]
    assert numbers("number") == [1, 2, 3, 4]
    assert numbers("number", page=2, per_page=3) == [4]
    assert numbers("-number", page=2, per_page=3) == [1]
    assert numbers("created", "-number") == [4, 3, 2, 1]
    assert numbers("-created", "number") == [1, 2, 3, 4]
    assert numbers("created", "number", page=2, per_page=2) == [3, 1]
    assert numbers("number", page=9) == []
    with pytest.raises(ValidationFailed):
        numbers("title")
    with pytest.raises(ValidationFailed):
        numbers(per_page=101)


def test_releases_pin_revisions_and_latest_names_the_newest(engine: DialogueEngine) -> None:
    project = engine.create_project("P")
    dialogue = engine.create_dialogue(project.id, {"title": "v1", "sequences": []})
    with pytest.raises(NotFound) as none_yet:
        engine.get_release(project.id, dialogue.id, "latest")
    assert none_yet.value.details == {"id": "latest", "dialogue_id": dialogue.id}
    first = engine.create_release(project.id, dialogue.id, dialogue.revision_id, created=7)
    v2 = engine.edit_dialogue(
        project.id, dialogue.id, [{"op": "replace", "path": "/title", "value": "v2"}]
    )
    assert (v2.is_published, v2.has_changes) == (True, True)
    second = engine.create_release(project.id, dialogue.id, v2.revision_id)
    assert engine.get_dialogue(project.id, dialogue.id).has_changes is False
    assert engine.get_release(project.id, dialogue.id, "latest") == second
    assert engine.get_release(project.id, dialogue.id, first.id) == first
    assert first.created == 7
    assert engine.get_release_dialogue(project.id, dialogue.id, first.id).title == "v1"
    assert engine.get_release_dialogue(project.id, dialogue.id).title == "v2"
    listed = engine.list_releases(project.id, dialogue.id)
    assert [r.number for r in listed.items] == [2, 1]
    assert [
        r.number for r in engine.list_releases(project.id, dialogue.id, ordering=["number"]).items
    ] == [1, 2]


def test_dialogue_lists_filter_on_their_flags(engine: DialogueEngine) -> None:
    project = engine.create_project("P")
    draft = engine.create_dialogue(project.id, {"title": "draft", "sequences": []})
    archived = engine.create_dialogue(
        project.id, {"title": "archived", "sequences": [], "is_archived": True}
    )
    released = engine.create_dialogue(project.id, {"title": "released", "sequences": []})
    engine.create_release(project.id, released.id, released.revision_id)
    changed = engine.create_dialogue(project.id, {"title": "changed", "sequences": []})
    engine.create_release(project.id, changed.id, changed.revision_id)
    engine.edit_dialogue(
        project.id, changed.id, [{"op": "replace", "path": "/title", "value": "changed!"}]
    )

    def titles(**filters: Any) -> list[str]:
        return [d.title for d in engine.list_dialogues(project.id, **filters).items]

    assert titles() == ["draft", "archived", "released", "changed!"]
    assert titles(is_archived=True) == ["archived"]
    assert titles(is_published=True) == ["released", "changed!"]
    assert titles(is_published=False) == ["draft", "archived"]
    assert titles(has_changes=True) == ["changed!"]
    assert titles(has_changes=False, is_archived=False) == ["draft", "released"]
    assert titles(per_page=2, page=2) == ["released", "changed!"]
    assert engine.list_dialogues(project.id, per_page=3).total == 4
    assert draft.id != archived.id


def test_what_an_actor_may_not_see_is_not_found_and_what_it_may_not_change_is_denied(
    engine: DialogueEngine,
) -> None:
    project = engine.create_project("P")
    other_project = engine.create_project("Q")
    shared = engine.create_dialogue(project.id, {"title": "shared", "sequences": []})
    hidden = engine.create_dialogue(project.id, {"title": "hidden", "sequences": []})
    reader = Actor("reader", (Grant("dialogue:read", project.id, shared.id),))
    writer = Actor("writer", (Grant("project:dialogues:write", project.id),))
    patch = [{"op": "replace", "path": "/title", "value": "x"}]

    assert engine.get_dialogue(project.id, shared.id, actor=reader).can_edit is False
    with pytest.raises(NotFound):
        engine.get_dialogue(project.id, hidden.id, actor=reader)
    with pytest.raises(NotFound):
        engine.get_project(other_project.id, actor=reader)
    with pytest.raises(PermissionDenied):
        engine.edit_dialogue(project.id, shared.id, patch, actor=reader)
    assert [d.title for d in engine.list_dialogues(project.id, actor=reader).items] == ["shared"]
    assert [p.id for p in engine.list_projects(actor=reader).items] == [project.id]

    edited = engine.edit_dialogue(project.id, hidden.id, patch, actor=writer)
    assert engine.list_revisions(project.id, hidden.id).items[0].user_id == "writer"
    assert edited.can_edit is True
    with pytest.raises(PermissionDenied):  # archiving needs project:admin
        engine.edit_dialogue(
            project.id,
            hidden.id,
            [{"op": "replace", "path": "/is_archived", "value": True}],
            actor=writer,
        )
    with pytest.raises(PermissionDenied):  # publishing needs project:admin
        engine.create_release(project.id, hidden.id, edited.revision_id, actor=writer)
    with pytest.raises(PermissionDenied):
        engine.create_dialogue(project.id, {"title": "new", "sequences": []}, actor=writer)
    with pytest.raises(PermissionDenied):
        engine.create_project("R", actor=writer)
    assert engine.list_dialogues(project.id, actor=writer, can_edit=True).total == 2
    assert engine.list_dialogues(project.id, actor=reader, can_edit=True).total == 0
    assert engine.list_dialogues(project.id, actor=reader, can_view=False).total == 0


def test_ids_that_are_not_ids_are_simply_not_found(engine: DialogueEngine) -> None:
    project = engine.create_project("P")
    dialogue = engine.create_dialogue(project.id, {"title": "T", "sequences": []})
    for call in (
        lambda: engine.get_project("23"),
        lambda: engine.get_dialogue(project.id, "21"),
        lambda: engine.get_dialogue("nope", dialogue.id),
        lambda: engine.get_dialogue(project.id, project.id),
        lambda: engine.get_revision(project.id, dialogue.id, "1"),
        lambda: engine.get_release(project.id, dialogue.id, "44"),
    ):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(NotFound) as caught:
        engine.get_project("23")
    assert (caught.value.message, caught.value.details) == ("Project 23 not found", {"id": "23"})


def test_projects_rename_and_archive_record_nothing_when_unchanged(engine: DialogueEngine) -> None:
    project = engine.create_project("P")
    assert engine.rename_project(project.id, "P") == project
    renamed = engine.rename_project(project.id, "Q")
    archived = engine.archive_project(project.id)
    assert (renamed.title, archived.is_archived) == ("Q", True)
    assert engine.archive_project(project.id, False).is_archived is False
    assert engine.store.get(UUID(project.id), Project).version == 4
    with pytest.raises(ValidationFailed):
        engine.rename_project(project.id, "")
    assert [p.title for p in engine.list_projects().items] == ["Q"]


def test_read_models_rebuilt_from_zero_equal_the_live_ones(engine: DialogueEngine) -> None:
    project = engine.create_project("P")
    for n in range(5):
        dialogue = engine.create_dialogue(project.id, {"title": f"d{n}", "sequences": []})
        if n % 2:
            engine.create_release(project.id, dialogue.id, dialogue.revision_id)
    before = (engine.list_projects(), engine.list_dialogues(project.id))
    engine.rebuild()
    assert (engine.list_projects(), engine.list_dialogues(project.id)) == before


def test_every_write_accepts_an_expected_revision_and_refuses_a_stale_one(
    engine: DialogueEngine,
) -> None:
    project = engine.create_project("P")
    dialogue = engine.create_dialogue(project.id, {"title": "T", "sequences": []})
    engine.rename_project(project.id, "Q", expected_version=1)
    with pytest.raises(StaleRevision):
        engine.rename_project(project.id, "R", expected_version=1)
    with pytest.raises(StaleRevision):
        engine.archive_project(project.id, expected_version=1)
    edited = engine.edit_dialogue(
        project.id, dialogue.id, [{"op": "replace", "path": "/title", "value": "U"}]
    )
    with pytest.raises(StaleRevision):
        engine.create_release(
            project.id, dialogue.id, dialogue.revision_id, expected_revision=dialogue.revision_id
        )
    release = engine.create_release(
        project.id, dialogue.id, dialogue.revision_id, expected_revision=edited.revision_id
    )
    assert release.revision_number == 1
    assert engine.get_project(project.id).title == "Q"
