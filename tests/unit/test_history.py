"""Walking descriptions forward: what each revision changed, blame and block trails."""

from __future__ import annotations

from typing import Any

import pytest

from dialogue_engine.domain.history import (
    ADDED,
    CHANGED,
    REMOVED,
    BlameIndex,
    BlockTrail,
    DescriptionWalk,
    Stamp,
)
from dialogue_engine.domain.patching import apply_patch


def block(block_id: str, text: str = "hi") -> dict[str, Any]:
    return {"id": block_id, "type": "message", "properties": {"text": text}}


def first() -> dict[str, Any]:
    return {
        "title": "Survey",
        "is_archived": False,
        "sequences": [
            {"id": "a", "title": "A", "blocks": [block("a1"), block("a2")]},
            {"id": "b", "title": "B", "blocks": [block("b1")]},
        ],
    }


def stamp(number: int) -> Stamp:
    return Stamp(number, f"user-{number}", 1000 * number)


def test_the_first_revision_adds_the_title_every_sequence_and_every_block() -> None:
    touched = DescriptionWalk().advance(1, first())
    assert touched.title
    assert set(touched.sequences) == {"a", "b"}
    assert {key: change for key, (change, _) in touched.blocks.items()} == {
        ("a", "a1"): ADDED,
        ("a", "a2"): ADDED,
        ("b", "b1"): ADDED,
    }


def test_a_block_edit_touches_that_block_and_its_sequence_only() -> None:
    walk = DescriptionWalk()
    description = first()
    walk.advance(1, description)
    edited = apply_patch(
        description,
        [{"op": "replace", "path": "/sequences/0/blocks/1/properties/text", "value": "x"}],
    )
    touched = walk.advance(2, edited)
    assert not touched.title
    assert set(touched.sequences) == {"a"}
    assert touched.blocks == {("a", "a2"): (CHANGED, edited["sequences"][0]["blocks"][1])}


def test_an_equal_value_put_back_is_not_a_change() -> None:
    walk = DescriptionWalk()
    description = first()
    walk.advance(1, description)
    same = apply_patch(
        description, [{"op": "replace", "path": "/sequences/1", "value": first()["sequences"][1]}]
    )
    same = apply_patch(same, [{"op": "replace", "path": "/title", "value": "Survey 2"}])
    touched = walk.advance(2, same)
    assert touched.title and touched.sequences == {} and touched.blocks == {}


def test_moving_a_block_to_another_sequence_removes_it_there_and_adds_it_here() -> None:
    walk = DescriptionWalk()
    description = first()
    walk.advance(1, description)
    moved = apply_patch(
        description,
        [{"op": "move", "from": "/sequences/0/blocks/0", "path": "/sequences/1/blocks/-"}],
    )
    touched = walk.advance(2, moved)
    assert touched.blocks[("a", "a1")] == (REMOVED, None)
    assert touched.blocks[("b", "a1")][0] == ADDED
    assert set(touched.sequences) == {"a", "b"}


def test_reordering_sequences_changes_none_of_them() -> None:
    walk = DescriptionWalk()
    description = first()
    walk.advance(1, description)
    swapped = apply_patch(
        description, [{"op": "move", "from": "/sequences/1", "path": "/sequences/0"}]
    )
    touched = walk.advance(2, swapped)
    assert touched.sequences == {} and touched.blocks == {}


def test_blame_names_the_last_revision_that_changed_each_thing() -> None:
    index = BlameIndex()
    description = first()
    index.advance(stamp(1), description)
    description = apply_patch(description, [{"op": "replace", "path": "/title", "value": "T2"}])
    index.advance(stamp(2), description)
    description = apply_patch(
        description,
        [{"op": "replace", "path": "/sequences/1/blocks/0/properties/text", "value": "b"}],
    )
    index.advance(stamp(3), description)
    description = apply_patch(description, [{"op": "remove", "path": "/sequences/0/blocks/0"}])
    index.advance(stamp(4), description)
    assert index.title == stamp(2)
    assert index.sequences["a"].changed == stamp(4) and index.sequences["a"].added == stamp(1)
    assert index.sequences["b"].changed == stamp(3)
    assert index.blocks[("b", "b1")].changed == stamp(3)
    assert index.blocks[("a", "a2")].changed == stamp(1)
    assert ("a", "a1") not in index.blocks


def test_a_trail_lists_every_revision_that_touched_its_block_with_the_value_after() -> None:
    trail = BlockTrail("a", "a1")
    description = first()
    trail.advance(stamp(1), description)
    description = apply_patch(description, [{"op": "replace", "path": "/title", "value": "T2"}])
    trail.advance(stamp(2), description)
    description = apply_patch(
        description,
        [{"op": "replace", "path": "/sequences/0/blocks/0/properties/text", "value": "v3"}],
    )
    trail.advance(stamp(3), description)
    description = apply_patch(description, [{"op": "remove", "path": "/sequences/0"}])
    trail.advance(stamp(4), description)
    assert [(c.stamp.number, c.change) for c in trail.changes] == [
        (1, ADDED),
        (3, CHANGED),
        (4, REMOVED),
    ]
    assert trail.changes[1].block == block("a1", "v3")
    assert trail.changes[2].block is None


def test_revisions_must_be_fed_in_order() -> None:
    walk = DescriptionWalk()
    walk.advance(1, first())
    with pytest.raises(ValueError, match="does not follow"):
        walk.advance(3, first())
