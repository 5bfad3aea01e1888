"""The dialogue aggregate: every change a numbered revision, nothing recorded for no change."""

from __future__ import annotations

import copy
import time
import uuid
from typing import Any

import pytest

from dialogue_engine.domain.blocktypes import BlockTypeRegistry
from dialogue_engine.domain.dialogue import (
    CREATE_EDIT_TYPE,
    Dialogue,
    Revision,
    revision_from_event,
    revision_id,
)
from dialogue_engine.domain.errors import PatchConflict, PermissionDenied, ValidationFailed
from dialogue_engine.domain.jsonvalue import json_equal
from dialogue_engine.domain.patching import apply_patch

from .factories import error_keys, minimal_description, valid_description

REGISTRY = BlockTypeRegistry()
RETITLE = [{"op": "replace", "path": "/title", "value": "Renamed"}]
ARCHIVE = [{"op": "replace", "path": "/is_archived", "value": True}]


def start(description: Any = None, **kwargs: Any) -> Dialogue:
    kwargs.setdefault("user_id", "author")
    if description is None:
        description = minimal_description()
    return Dialogue.start("project-1", description, registry=REGISTRY, **kwargs)


def edit(dialogue: Dialogue, patch: Any, **kwargs: Any) -> bool:
    kwargs.setdefault("user_id", "editor")
    return dialogue.edit(patch, registry=REGISTRY, **kwargs)


def replay(events: list[Any]) -> Any:
    aggregate = None
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


# --- start ----------------------------------------------------------------------------------


def test_start_records_revision_one_with_the_description() -> None:
    dialogue = start(valid_description(), user_id="u1", created=1_700_000_000_000, details={"a": 1})
    assert dialogue.version == dialogue.revision_number == 1
    assert dialogue.project_id == "project-1"
    assert json_equal(dialogue.description, valid_description())
    [created] = dialogue.collect_events()
    assert isinstance(created, Dialogue.Created)
    assert (created.user_id, created.created, created.details) == (
        "u1",
        1_700_000_000_000,
        {"a": 1},
    )


def test_start_defaults_is_archived_to_false() -> None:
    description = minimal_description()
    del description["is_archived"]
    dialogue = start(description)
    assert dialogue.description["is_archived"] is False
    assert dialogue.is_archived is False


def test_start_owns_its_description() -> None:
    description = minimal_description()
    dialogue = start(description)
    description["title"] = "Changed by the caller"
    description["sequences"].clear()
    assert dialogue.description == minimal_description()


def test_start_defaults_created_to_now_in_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    dialogue = start()
    after = time.time_ns() // 1_000_000
    [created] = dialogue.collect_events()
    assert before <= created.created <= after
    assert created.details == {}


def test_start_refuses_an_invalid_description_with_paths_into_it() -> None:
    description = minimal_description()
    description["sequences"][0]["blocks"][0]["type"] = "video"
    with pytest.raises(ValidationFailed) as caught:
        start(description)
    assert error_keys(caught.value.errors) == [("enum", "/sequences/0/blocks/0/type")]


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"created": -1}, "/created"),
        ({"created": 1.5}, "/created"),
        ({"created": "now"}, "/created"),
        ({"created": True}, "/created"),
        ({"created": 2**70}, "/created"),
        ({"details": []}, "/details"),
        ({"details": "x"}, "/details"),
        ({"details": {"x": float("nan")}}, "/details/x"),
    ],
)
def test_start_refuses_bad_created_or_details(kwargs: dict[str, Any], path: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        start(**kwargs)
    assert [e.path for e in caught.value.errors] == [path]


def test_start_refuses_what_json_cannot_carry() -> None:
    description = minimal_description()
    description["sequences"][0]["blocks"][0]["properties"]["text"] = float("inf")
    with pytest.raises(ValidationFailed) as caught:
        start(description)
    assert error_keys(caught.value.errors) == [("type", "/sequences/0/blocks/0/properties/text")]


# --- edit -----------------------------------------------------------------------------------


def test_edit_records_a_numbered_revision_with_its_patch() -> None:
    dialogue = start()
    assert edit(dialogue, RETITLE, user_id="u2", edit_type="rename", details={"n": 1}, created=7)
    assert dialogue.version == 2
    assert dialogue.description["title"] == "Renamed"
    [_, edited] = dialogue.collect_events()
    assert edited.patch == RETITLE
    assert (edited.user_id, edited.edit_type, edited.details, edited.created) == (
        "u2",
        "rename",
        {"n": 1},
        7,
    )


def test_edit_numbers_revisions_without_gaps() -> None:
    dialogue = start()
    for n in range(2, 6):
        assert edit(dialogue, [{"op": "replace", "path": "/title", "value": f"Title {n}"}])
        assert dialogue.revision_number == n
    assert [e.originator_version for e in dialogue.collect_events()] == [1, 2, 3, 4, 5]


def test_edit_defaults_edit_type_to_edit() -> None:
    dialogue = start()
    edit(dialogue, RETITLE)
    assert dialogue.collect_events()[-1].edit_type == "edit"


def test_edit_leaves_the_previous_description_untouched() -> None:
    dialogue = start(valid_description())
    before = dialogue.description
    snapshot = copy.deepcopy(before)
    edit(dialogue, [{"op": "remove", "path": "/sequences/1/blocks/2"}, *RETITLE])
    assert before == snapshot
    assert dialogue.description is not before
    assert dialogue.description["sequences"][0] is before["sequences"][0]


@pytest.mark.parametrize(
    "patch",
    [
        [],
        [{"op": "test", "path": "/title", "value": "Hello"}],
        [{"op": "replace", "path": "/title", "value": "Hello"}],
        [*RETITLE, {"op": "replace", "path": "/title", "value": "Hello"}],
        [{"op": "move", "from": "/title", "path": "/title"}],
    ],
)
def test_an_edit_that_changes_nothing_records_nothing(patch: list[dict[str, Any]]) -> None:
    dialogue = start()
    dialogue.collect_events()
    before = dialogue.description
    assert edit(dialogue, patch) is False
    assert dialogue.version == 1
    assert dialogue.collect_events() == []
    assert dialogue.description is before


def test_an_edit_that_changes_a_number_type_is_a_change() -> None:
    description = minimal_description()
    description["sequences"][0]["blocks"] = [
        {
            "id": "branch",
            "type": "route",
            "properties": {
                "rules": [{"variable": "x", "operator": "gt", "value": 1, "next": "start"}]
            },
        }
    ]
    dialogue = start(description)
    path = "/sequences/0/blocks/0/properties/rules/0/value"
    assert edit(dialogue, [{"op": "replace", "path": path, "value": 1.0}])
    assert edit(dialogue, [{"op": "replace", "path": path, "value": True}])
    assert dialogue.version == 3


def test_a_malformed_patch_is_a_validation_error_pointing_into_the_patch() -> None:
    dialogue = start()
    dialogue.collect_events()
    with pytest.raises(ValidationFailed) as caught:
        edit(dialogue, [*RETITLE, {"op": "replace", "path": "title", "value": 1}])
    assert caught.value.message == "Invalid JSON patch"
    assert error_keys(caught.value.errors) == [("format", "/1/path")]
    assert dialogue.collect_events() == []


def test_a_patch_value_json_cannot_carry_is_a_validation_error_at_the_value() -> None:
    dialogue = start()
    with pytest.raises(ValidationFailed) as caught:
        edit(dialogue, [{"op": "replace", "path": "/title", "value": float("nan")}])
    assert error_keys(caught.value.errors) == [("type", "/0/value")]


def test_an_op_that_cannot_apply_is_a_conflict_and_nothing_changes() -> None:
    dialogue = start()
    dialogue.collect_events()
    before = dialogue.description
    patch = [*RETITLE, {"op": "remove", "path": "/sequences/5"}]
    with pytest.raises(PatchConflict) as caught:
        edit(dialogue, patch)
    assert caught.value.op_index == 1
    assert dialogue.description is before
    assert dialogue.description["title"] == "Hello"
    assert dialogue.version == 1
    assert dialogue.collect_events() == []


def test_a_failed_test_op_is_a_conflict() -> None:
    dialogue = start()
    with pytest.raises(PatchConflict) as caught:
        edit(dialogue, [{"op": "test", "path": "/title", "value": "Other"}, *RETITLE])
    assert caught.value.op_index == 0


def test_an_edit_whose_result_is_invalid_is_refused_with_paths_into_the_description() -> None:
    dialogue = start()
    dialogue.collect_events()
    patch = [
        {"op": "add", "path": "/sequences/0/blocks/-", "value": {"id": "hi", "type": "end"}},
        {"op": "replace", "path": "/title", "value": ""},
    ]
    with pytest.raises(ValidationFailed) as caught:
        edit(dialogue, patch)
    assert error_keys(caught.value.errors) == [
        ("minLength", "/title"),
        ("unique", "/sequences/0/blocks/1/id"),
    ]
    assert dialogue.version == 1
    assert dialogue.collect_events() == []


def test_an_edit_replacing_the_root_with_a_non_object_is_refused() -> None:
    dialogue = start()
    with pytest.raises(ValidationFailed) as caught:
        edit(dialogue, [{"op": "replace", "path": "", "value": [1]}])
    assert error_keys(caught.value.errors) == [("type", "")]


@pytest.mark.parametrize("edit_type", ["", 5, None, ["x"]])
def test_edit_type_must_be_a_non_empty_string(edit_type: Any) -> None:
    dialogue = start()
    with pytest.raises(ValidationFailed) as caught:
        edit(dialogue, RETITLE, edit_type=edit_type)
    assert error_keys(caught.value.errors) == [("type", "/edit_type")]
    assert dialogue.version == 1


@pytest.mark.parametrize(
    ("kwargs", "path"), [({"created": -5}, "/created"), ({"details": 1}, "/details")]
)
def test_edit_refuses_bad_created_or_details(kwargs: dict[str, Any], path: str) -> None:
    dialogue = start()
    with pytest.raises(ValidationFailed) as caught:
        edit(dialogue, RETITLE, **kwargs)
    assert [e.path for e in caught.value.errors] == [path]
    assert dialogue.version == 1


@pytest.mark.parametrize(
    "patch",
    [
        ARCHIVE,
        [
            {"op": "remove", "path": "/is_archived"},
            {"op": "add", "path": "/is_archived", "value": True},
        ],
    ],
)
def test_archiving_without_may_archive_is_denied(patch: list[dict[str, Any]]) -> None:
    dialogue = start()
    dialogue.collect_events()
    with pytest.raises(PermissionDenied):
        edit(dialogue, patch, may_archive=False)
    assert dialogue.is_archived is False
    assert dialogue.collect_events() == []


def test_unarchiving_without_may_archive_is_denied() -> None:
    dialogue = start()
    edit(dialogue, ARCHIVE)
    assert dialogue.is_archived is True
    with pytest.raises(PermissionDenied):
        edit(
            dialogue, [{"op": "replace", "path": "/is_archived", "value": False}], may_archive=False
        )


def test_other_edits_need_no_may_archive() -> None:
    dialogue = start()
    edit(dialogue, ARCHIVE)
    assert edit(dialogue, RETITLE, may_archive=False)
    assert dialogue.is_archived is True


def test_edit_owns_its_patch() -> None:
    dialogue = start()
    value = {"id": "more", "title": "More", "blocks": []}
    patch = [{"op": "add", "path": "/sequences/-", "value": value}]
    edit(dialogue, patch)
    value["title"] = "Changed by the caller"
    patch.append({"op": "remove", "path": "/title"})
    assert dialogue.description["sequences"][1]["title"] == "More"
    assert len(dialogue.collect_events()[-1].patch) == 1


# --- replace --------------------------------------------------------------------------------


def test_replace_records_an_edit_with_the_computed_patch() -> None:
    dialogue = start(valid_description())
    target = valid_description()
    target["sequences"][0]["title"] = "First"
    assert dialogue.replace(target, registry=REGISTRY, user_id="u3")
    [*_, edited] = dialogue.collect_events()
    assert edited.edit_type == "replace_dialogue"
    assert edited.patch == [{"op": "replace", "path": "/sequences/0/title", "value": "First"}]
    assert json_equal(dialogue.description, target)


def test_replace_with_the_same_description_records_nothing() -> None:
    dialogue = start(valid_description())
    same = valid_description()
    del same["is_archived"]
    assert dialogue.replace(same, registry=REGISTRY, user_id="u3") is False
    assert dialogue.version == 1


@pytest.mark.parametrize("description", [[], "x", None, 5])
def test_replace_with_a_non_object_is_a_validation_error(description: Any) -> None:
    dialogue = start()
    with pytest.raises(ValidationFailed) as caught:
        dialogue.replace(description, registry=REGISTRY, user_id="u3")
    assert error_keys(caught.value.errors) == [("type", "")]


def test_replace_with_an_invalid_description_records_nothing() -> None:
    dialogue = start()
    target = minimal_description()
    target["sequences"].append(copy.deepcopy(target["sequences"][0]))
    with pytest.raises(ValidationFailed) as caught:
        dialogue.replace(target, registry=REGISTRY, user_id="u3")
    assert error_keys(caught.value.errors) == [
        ("unique", "/sequences/1/blocks/0/id"),
        ("unique", "/sequences/1/id"),
    ]
    assert dialogue.version == 1


# --- revert ---------------------------------------------------------------------------------


def test_revert_restores_a_previous_description() -> None:
    dialogue = start(valid_description())
    first = dialogue.description
    edit(dialogue, [{"op": "remove", "path": "/sequences/1/blocks/2"}])
    edit(dialogue, RETITLE)
    assert dialogue.revert(1, first, registry=REGISTRY, user_id="u4", created=9, details={"w": 1})
    assert dialogue.version == 4
    assert json_equal(dialogue.description, valid_description())
    reverted = dialogue.collect_events()[-1]
    assert isinstance(reverted, Dialogue.Reverted)
    assert reverted.revision_id == revision_id(dialogue.id, 1)
    assert reverted.revision_number == 1
    assert (reverted.user_id, reverted.created, reverted.details) == ("u4", 9, {"w": 1})


def test_revert_to_the_current_description_records_nothing() -> None:
    dialogue = start()
    edit(dialogue, RETITLE)
    assert dialogue.revert(2, dialogue.description, registry=REGISTRY, user_id="u4") is False
    assert dialogue.version == 2


@pytest.mark.parametrize("number", [0, -1, 3, 99, True, "1", 1.0, None])
def test_revert_to_an_unknown_revision_is_a_validation_error(number: Any) -> None:
    dialogue = start()
    edit(dialogue, RETITLE)
    with pytest.raises(ValidationFailed) as caught:
        dialogue.revert(number, minimal_description(), registry=REGISTRY, user_id="u4")
    assert error_keys(caught.value.errors) == [("unknown", "/revision_id")]
    assert dialogue.version == 2


def test_revert_across_an_archive_change_needs_may_archive() -> None:
    dialogue = start()
    first = dialogue.description
    edit(dialogue, ARCHIVE)
    with pytest.raises(PermissionDenied):
        dialogue.revert(1, first, registry=REGISTRY, user_id="u4", may_archive=False)
    assert dialogue.revert(1, first, registry=REGISTRY, user_id="u4")
    assert dialogue.is_archived is False


# --- replay, revisions, copies --------------------------------------------------------------


def test_replaying_the_events_rebuilds_the_same_dialogue() -> None:
    dialogue = start(valid_description())
    first = dialogue.description
    edit(dialogue, [{"op": "move", "from": "/sequences/1", "path": "/sequences/0"}])
    dialogue.replace(minimal_description("Other"), registry=REGISTRY, user_id="u")
    dialogue.revert(1, first, registry=REGISTRY, user_id="u")
    rebuilt = replay(dialogue.collect_events())
    assert rebuilt.id == dialogue.id
    assert rebuilt.version == dialogue.version == 4
    assert json_equal(rebuilt.description, dialogue.description)


def test_revision_ids_are_derived_stable_and_unique() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    ids = {revision_id(d, n) for d in (first, second) for n in range(1, 51)}
    assert len(ids) == 100
    assert revision_id(first, 3) == revision_id(first, 3)
    assert uuid.UUID(revision_id(first, 3)).version == 5


def test_the_creation_revision_is_an_edit_adding_the_whole_description() -> None:
    dialogue = start(details={"why": "first"}, created=11, user_id="u1")
    [created] = dialogue.collect_events()
    revision = revision_from_event(created)
    assert revision == Revision(
        id=revision_id(dialogue.id, 1),
        number=1,
        user_id="u1",
        created=11,
        type="edit",
        details={"why": "first"},
        properties={
            "edit_type": CREATE_EDIT_TYPE,
            "patch": [{"op": "add", "path": "", "value": dialogue.description}],
        },
    )
    assert json_equal(apply_patch(None, revision.properties["patch"]), dialogue.description)


def test_edit_and_revert_revisions_have_the_contract_shapes() -> None:
    dialogue = start(user_id="u1")
    first = dialogue.description
    edit(dialogue, RETITLE, user_id="u2", edit_type="rename", created=20)
    dialogue.revert(1, first, registry=REGISTRY, user_id="u3", created=30)
    _, edited, reverted = (revision_from_event(e) for e in dialogue.collect_events())
    assert (edited.type, edited.number, edited.user_id, edited.created) == ("edit", 2, "u2", 20)
    assert edited.id == revision_id(dialogue.id, 2)
    assert edited.properties == {"edit_type": "rename", "patch": RETITLE}
    assert (reverted.type, reverted.number, reverted.user_id) == ("revert", 3, "u3")
    assert reverted.properties == {"revision_id": revision_id(dialogue.id, 1)}


def test_a_detached_copy_changes_without_touching_the_original() -> None:
    dialogue = start()
    dialogue.collect_events()
    copied = dialogue.detached_copy()
    edit(copied, RETITLE)
    assert copied.version == 2
    assert dialogue.version == 1
    assert dialogue.description["title"] == "Hello"
    assert dialogue.collect_events() == []
    assert len(copied.collect_events()) == 1
