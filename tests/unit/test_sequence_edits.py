"""Sequence and block edits built as pure functions: patches, edit types, details, errors."""

from __future__ import annotations

from typing import Any

import pytest

from dialogue_engine.domain import blocks
from dialogue_engine.domain import sequences as edits
from dialogue_engine.domain.blocktypes import BlockTypeRegistry
from dialogue_engine.domain.description import check_description
from dialogue_engine.domain.errors import (
    FieldError,
    NotFound,
    PatchConflict,
    SequenceInUse,
    ValidationFailed,
)
from dialogue_engine.domain.patching import apply_patch
from dialogue_engine.domain.schedule import check_conversion

from .factories import valid_description

REGISTRY = BlockTypeRegistry()


def message(block_id: str, text: str = "Hi") -> dict[str, Any]:
    return {"id": block_id, "type": "message", "properties": {"text": text}}


def description() -> dict[str, Any]:
    return {
        "title": "D",
        "is_archived": False,
        "sequences": [
            {"id": "intro", "title": "Intro", "blocks": [message("a"), message("b"), message("c")]},
            {
                "id": "menu",
                "title": "Menu",
                "blocks": [
                    {
                        "id": "ask",
                        "type": "question",
                        "properties": {
                            "text": "?",
                            "choices": [{"value": "1", "label": "Intro", "next": "intro"}],
                        },
                    }
                ],
            },
        ],
    }


def applied(doc: dict[str, Any], edit: edits.Edit) -> dict[str, Any]:
    result: dict[str, Any] = apply_patch(doc, edit.patch)
    assert check_description(result, REGISTRY) == []
    return result


def test_new_sequence_without_id_gets_a_free_symbol_from_its_title() -> None:
    doc = description()
    edit = edits.new_sequence(doc, {"title": "Intro"})
    assert edit.edit_type == "new_sequence"
    assert edit.patch == [
        {
            "op": "add",
            "path": "/sequences/2",
            "value": {"id": "intro-2", "title": "Intro", "blocks": []},
        }
    ]
    assert edit.details["id"] == "intro-2"
    assert "Added sequence 'Intro' (intro-2)" in edit.details["summary"]
    assert applied(doc, edit)["sequences"][2]["id"] == "intro-2"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Élan Vital!", "elan-vital"),
        ("2nd round", "nd-round"),
        ("日本", "sequence"),
        (None, "sequence"),
    ],
)
def test_generated_ids_are_symbols(title: object, expected: str) -> None:
    assert edits.free_symbol(title, set(), "sequence") == expected


def test_new_sequence_with_a_taken_id_is_422_at_id() -> None:
    with pytest.raises(ValidationFailed) as raised:
        edits.new_sequence(description(), {"id": "menu", "title": "Again"})
    assert raised.value.errors == [
        FieldError("unique", "/id", "sequence id 'menu' is already used in this dialogue")
    ]


def test_new_sequence_whose_blocks_reuse_a_block_id_is_422_at_that_block() -> None:
    with pytest.raises(ValidationFailed) as raised:
        edits.new_sequence(description(), {"title": "X", "blocks": [message("z"), message("ask")]})
    assert raised.value.errors[0].path == "/blocks/1/id"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ([], ""),
        ({"title": "T", "colour": "red"}, ""),
        ({"id": "Not A Symbol", "title": "T"}, "/id"),
    ],
)
def test_malformed_sequence_bodies_are_422(body: object, path: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        edits.new_sequence(description(), body)
    assert raised.value.errors[0].path == path


def test_replace_sequence_keeps_blocks_left_out_and_records_only_the_difference() -> None:
    doc = description()
    edit = edits.replace_sequence(doc, "intro", {"title": "Welcome", "visibility": "public"})
    assert edit.edit_type == "update_sequence"
    assert sorted(edit.patch, key=lambda op: op["path"]) == [
        {"op": "replace", "path": "/sequences/0/title", "value": "Welcome"},
        {"op": "add", "path": "/sequences/0/visibility", "value": "public"},
    ]
    assert edit.details["old_title"] == "Intro" and edit.details["new_title"] == "Welcome"
    assert edit.details["changed"] == ["title", "visibility"]
    assert applied(doc, edit)["sequences"][0]["blocks"] == doc["sequences"][0]["blocks"]


def test_replace_sequence_cannot_change_its_id() -> None:
    with pytest.raises(ValidationFailed) as raised:
        edits.replace_sequence(description(), "intro", {"id": "other", "title": "T"})
    assert raised.value.errors[0].path == "/id"


def test_replace_of_a_missing_sequence_is_not_found() -> None:
    with pytest.raises(NotFound):
        edits.replace_sequence(description(), "nowhere", {"title": "T"})


def test_a_patch_of_only_block_moves_is_a_move_block_revision_rooted_at_the_sequence() -> None:
    doc = description()
    patch = [{"op": "move", "from": "/blocks/0", "path": "/blocks/2"}]
    edit = edits.patch_sequence(doc, "intro", patch)
    assert edit.edit_type == "move_block"
    assert edit.patch == [
        {"op": "move", "from": "/sequences/0/blocks/0", "path": "/sequences/0/blocks/2"}
    ]
    assert edit.details["moves"] == [{"id": "a", "from": 1, "to": 3}]
    assert "block 'a' from position 1 to 3" in edit.details["summary"]
    assert [b["id"] for b in applied(doc, edit)["sequences"][0]["blocks"]] == ["b", "c", "a"]


def test_several_moves_are_described_in_order() -> None:
    patch = [
        {"op": "move", "from": "/blocks/2", "path": "/blocks/0"},
        {"op": "move", "from": "/blocks/2", "path": "/blocks/1"},
    ]
    edit = edits.patch_sequence(description(), "intro", patch)
    assert edit.details["moves"] == [
        {"id": "c", "from": 3, "to": 1},
        {"id": "b", "from": 3, "to": 2},
    ]


def test_other_sequence_patches_are_update_sequence_with_the_operations_kept() -> None:
    patch = [{"op": "replace", "path": "/title", "value": "Hello"}]
    edit = edits.patch_sequence(description(), "intro", patch)
    assert edit.edit_type == "update_sequence"
    assert edit.patch == [{"op": "replace", "path": "/sequences/0/title", "value": "Hello"}]


def test_a_patch_of_the_sequence_root_is_recorded_as_the_difference_it_makes() -> None:
    doc = description()
    replacement = {**doc["sequences"][0], "title": "Root"}
    edit = edits.patch_sequence(doc, "intro", [{"op": "replace", "path": "", "value": replacement}])
    assert edit.patch == [{"op": "replace", "path": "/sequences/0/title", "value": "Root"}]


def test_a_sequence_patch_cannot_change_the_id_or_stop_being_an_object() -> None:
    for patch in (
        [{"op": "replace", "path": "", "value": {"id": "x", "title": "T", "blocks": []}}],
        [{"op": "replace", "path": "", "value": []}],
    ):
        with pytest.raises(ValidationFailed):
            edits.patch_sequence(description(), "intro", patch)


def test_sequence_patch_conflicts_name_the_callers_operation_index() -> None:
    patch = [
        {"op": "test", "path": "/title", "value": "Intro"},
        {"op": "remove", "path": "/blocks/9"},
    ]
    with pytest.raises(PatchConflict) as raised:
        edits.patch_sequence(description(), "intro", patch)
    assert raised.value.op_index == 1


def test_removing_a_sequence_other_blocks_lead_to_names_those_blocks() -> None:
    with pytest.raises(SequenceInUse) as raised:
        edits.remove_sequence(description(), "intro")
    assert raised.value.details["referring_blocks"] == [
        {
            "sequence_id": "menu",
            "block_id": "ask",
            "path": "/sequences/1/blocks/0/properties/choices/0/next",
        }
    ]


def test_a_sequence_leading_only_to_itself_can_be_removed() -> None:
    doc = valid_description()
    for sequence in doc["sequences"]:
        blocks = sequence["blocks"]
        sequence["blocks"] = [b for b in blocks if "next" not in str(b.get("properties"))]
    doc["sequences"][0]["blocks"].append(
        {
            "id": "loop",
            "type": "question",
            "properties": {"text": "?", "choices": [{"value": "1", "label": "L", "next": "start"}]},
        }
    )
    edit = edits.remove_sequence(doc, "start")
    assert edit.edit_type == "remove_sequence"
    assert all(s["id"] != "start" for s in applied(doc, edit)["sequences"])


def test_block_edits_have_their_own_edit_types_and_details() -> None:
    doc = description()
    added = blocks.new_block(
        doc, "menu", {"type": "message", "title": "Thanks!", "properties": {"text": "x"}}
    )
    assert (added.edit_type, added.details["id"]) == ("new_block", "thanks")
    assert added.patch[0]["path"] == "/sequences/1/blocks/1"
    changed = blocks.replace_block(
        doc, "intro", "b", {"type": "message", "properties": {"text": "New"}}
    )
    assert changed.edit_type == "update_block"
    assert changed.patch == [
        {"op": "replace", "path": "/sequences/0/blocks/1/properties/text", "value": "New"}
    ]
    removed = blocks.remove_block(doc, "intro", "c")
    assert removed.edit_type == "remove_block"
    assert removed.patch == [{"op": "remove", "path": "/sequences/0/blocks/2"}]
    assert "position 3" in removed.details["summary"]


def test_block_ids_are_unique_across_the_dialogue() -> None:
    with pytest.raises(ValidationFailed) as raised:
        blocks.new_block(description(), "intro", message("ask"))
    assert raised.value.errors[0].path == "/id"
    generated = blocks.new_block(
        description(), "intro", {"type": "message", "properties": {"text": "x"}}
    )
    assert generated.result["id"] == "message"


def test_missing_blocks_are_not_found_with_their_sequence() -> None:
    with pytest.raises(NotFound) as raised:
        blocks.remove_block(description(), "intro", "zzz")
    assert raised.value.details == {"id": "zzz", "sequence_id": "intro"}


def test_duplicated_blocks_get_fresh_ids_unique_in_the_target_dialogue() -> None:
    doc = description()
    doc["sequences"][1]["blocks"].append(message("a-copy"))
    source = doc["sequences"][0]
    edit = blocks.duplicate_blocks(
        source,
        doc,
        "menu",
        check_conversion("none", None),
        source_dialogue_id="d",
        target_dialogue_id="d",
    )
    assert edit.edit_type == "duplicate_blocks"
    assert edit.details["blocks"] == [
        {"from": "a", "to": "a-copy-2"},
        {"from": "b", "to": "b-copy"},
        {"from": "c", "to": "c-copy"},
    ]
    result = applied(doc, edit)
    assert [b["id"] for b in result["sequences"][1]["blocks"]] == [
        "ask",
        "a-copy",
        "a-copy-2",
        "b-copy",
        "c-copy",
    ]
    assert result["sequences"][0] is doc["sequences"][0]


def test_duplicating_into_a_missing_sequence_is_422_at_the_member() -> None:
    doc = description()
    with pytest.raises(ValidationFailed) as raised:
        blocks.duplicate_blocks(
            doc["sequences"][0],
            doc,
            "nope",
            check_conversion("none", None),
            source_dialogue_id="d",
            target_dialogue_id="d",
        )
    assert raised.value.errors[0].path == "/duplicate-to-sequence-id"


def test_relative_errors_reroot_only_paths_under_the_resource() -> None:
    error = ValidationFailed(
        [
            FieldError("type", "/sequences/2/blocks/0/properties/text", "m"),
            FieldError("type", "/sequences/2", "m"),
            FieldError("type", "/sequences/20/title", "m"),
        ]
    )
    paths = [e.path for e in edits.relative_errors(error, "/sequences/2").errors]
    assert paths == ["/blocks/0/properties/text", "", "/sequences/20/title"]
