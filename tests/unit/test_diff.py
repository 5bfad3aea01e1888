"""make_patch: a patch that turns one document into another, strict about JSON types."""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import pytest
from hypothesis import given, settings

from dialogue_engine.domain.diff import make_patch
from dialogue_engine.domain.jsonvalue import json_equal
from dialogue_engine.domain.patching import apply_patch, check_patch

from .factories import JSON_VALUES, valid_description


@settings(max_examples=200, deadline=None)
@given(source=JSON_VALUES, target=JSON_VALUES)
def test_patch_applied_to_the_source_gives_the_target(source: Any, target: Any) -> None:
    before = copy.deepcopy(source)
    patch = make_patch(source, target)
    assert check_patch(patch) == []
    assert json_equal(apply_patch(source, patch), target)
    assert json_equal(source, before)


@settings(max_examples=100, deadline=None)
@given(source=JSON_VALUES, target=JSON_VALUES)
def test_patch_gives_the_target_under_the_reference_implementation_too(
    source: Any, target: Any
) -> None:
    assert json_equal(jsonpatch.apply_patch(source, make_patch(source, target)), target)


@settings(max_examples=100, deadline=None)
@given(document=JSON_VALUES)
def test_equal_documents_give_an_empty_patch(document: Any) -> None:
    assert make_patch(document, document) == []
    assert make_patch(document, copy.deepcopy(document)) == []


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ({"a": 1}, {"a": 1.0}),
        ({"a": 1}, {"a": True}),
        ({"a": 0}, {"a": False}),
        ([1.0], [1]),
        ({"a": None}, {"a": False}),
        ({"a": "1"}, {"a": 1}),
    ],
)
def test_values_of_different_json_types_are_replaced(source: Any, target: Any) -> None:
    patch = make_patch(source, target)
    assert len(patch) == 1
    assert patch[0]["op"] == "replace"
    assert json_equal(apply_patch(source, patch), target)


def test_key_order_alone_is_no_change() -> None:
    assert make_patch({"a": 1, "b": 2}, {"b": 2, "a": 1}) == []


def test_different_root_types_replace_the_root() -> None:
    assert make_patch({"a": 1}, [1]) == [{"op": "replace", "path": "", "value": [1]}]


def test_keys_needing_escapes_are_escaped_in_paths() -> None:
    patch = make_patch({"a/b": 1, "m~n": 1}, {"a/b": 2})
    assert {op["path"] for op in patch} == {"/a~1b", "/m~0n"}


def test_an_insertion_in_the_middle_of_a_list_is_one_add() -> None:
    source = [{"id": i} for i in range(10)]
    target = [*source[:5], {"id": 99}, *source[5:]]
    assert make_patch(source, target) == [{"op": "add", "path": "/5", "value": {"id": 99}}]


def test_a_removal_in_the_middle_of_a_list_is_one_remove() -> None:
    source = [{"id": i} for i in range(10)]
    assert make_patch(source, source[:3] + source[4:]) == [{"op": "remove", "path": "/3"}]


def test_one_block_edit_of_a_description_touches_only_that_block() -> None:
    source = valid_description()
    target = copy.deepcopy(source)
    target["sequences"][1]["blocks"][0]["properties"]["subject"] = "New"
    assert make_patch(source, target) == [
        {"op": "replace", "path": "/sequences/1/blocks/0/properties/subject", "value": "New"}
    ]
