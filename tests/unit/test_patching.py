"""RFC 6902 JSON Patch applied copy-on-write: every op, every error, no mutation."""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import jsonpointer
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogue_engine.domain.errors import PatchConflict
from dialogue_engine.domain.jsonvalue import json_equal
from dialogue_engine.domain.patching import (
    apply_patch,
    check_patch,
    defined_members,
    parse_pointer,
    pointer_syntax_error,
)

from .factories import JSON_VALUES, error_keys, json_patches


def conflict(document: Any, patch: list[dict[str, Any]]) -> PatchConflict:
    with pytest.raises(PatchConflict) as caught:
        apply_patch(document, patch)
    return caught.value


# --- RFC 6902 Appendix A ---------------------------------------------------------------------

RFC_EXAMPLES = {
    "A.1 adding an object member": (
        {"foo": "bar"},
        [{"op": "add", "path": "/baz", "value": "qux"}],
        {"baz": "qux", "foo": "bar"},
    ),
    "A.2 adding an array element": (
        {"foo": ["bar", "baz"]},
        [{"op": "add", "path": "/foo/1", "value": "qux"}],
        {"foo": ["bar", "qux", "baz"]},
    ),
    "A.3 removing an object member": (
        {"baz": "qux", "foo": "bar"},
        [{"op": "remove", "path": "/baz"}],
        {"foo": "bar"},
    ),
    "A.4 removing an array element": (
        {"foo": ["bar", "qux", "baz"]},
        [{"op": "remove", "path": "/foo/1"}],
        {"foo": ["bar", "baz"]},
    ),
    "A.5 replacing a value": (
        {"baz": "qux", "foo": "bar"},
        [{"op": "replace", "path": "/baz", "value": "boo"}],
        {"baz": "boo", "foo": "bar"},
    ),
    "A.6 moving a value": (
        {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
        [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
        {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}},
    ),
    "A.7 moving an array element": (
        {"foo": ["all", "grass", "cows", "eat"]},
        [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
        {"foo": ["all", "cows", "eat", "grass"]},
    ),
    "A.8 testing a value: success": (
        {"baz": "qux", "foo": ["a", 2, "c"]},
        [
            {"op": "test", "path": "/baz", "value": "qux"},
            {"op": "test", "path": "/foo/1", "value": 2},
        ],
        {"baz": "qux", "foo": ["a", 2, "c"]},
    ),
    "A.10 adding a nested member object": (
        {"foo": "bar"},
        [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
        {"foo": "bar", "child": {"grandchild": {}}},
    ),
    "A.14 ~ escape ordering": (
        {"/": 9, "~1": 10},
        [{"op": "test", "path": "/~01", "value": 10}],
        {"/": 9, "~1": 10},
    ),
    "A.16 adding an array value": (
        {"foo": ["bar"]},
        [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}],
        {"foo": ["bar", ["abc", "def"]]},
    ),
}


@pytest.mark.parametrize("name", RFC_EXAMPLES)
def test_rfc_6902_examples_give_the_rfc_result_like_jsonpatch(name: str) -> None:
    document, patch, expected = RFC_EXAMPLES[name]
    assert check_patch(patch) == []
    result = apply_patch(document, patch)
    assert json_equal(result, expected)
    assert json_equal(jsonpatch.apply_patch(document, patch), expected)


RFC_ERRORS = {
    "A.9 testing a value: error": (
        {"baz": "qux"},
        [{"op": "test", "path": "/baz", "value": "bar"}],
    ),
    "A.12 adding to a nonexistent target": (
        {"foo": "bar"},
        [{"op": "add", "path": "/baz/bat", "value": "qux"}],
    ),
    "A.15 comparing strings and numbers": (
        {"/": 9, "~1": 10},
        [{"op": "test", "path": "/~01", "value": "10"}],
    ),
}


@pytest.mark.parametrize("name", RFC_ERRORS)
def test_rfc_6902_error_examples_conflict_at_op_zero_like_jsonpatch(name: str) -> None:
    document, patch = RFC_ERRORS[name]
    assert check_patch(patch) == []
    assert conflict(document, patch).op_index == 0
    with pytest.raises((jsonpatch.JsonPatchException, jsonpointer.JsonPointerException)):
        jsonpatch.apply_patch(document, patch)


def test_unrecognised_members_are_ignored_as_rfc_example_a11_says() -> None:
    patch = [{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}]
    assert check_patch(patch) == []
    assert defined_members(patch) == [{"op": "add", "path": "/baz", "value": "qux"}]
    assert apply_patch({"foo": "bar"}, defined_members(patch)) == {"foo": "bar", "baz": "qux"}


def test_defined_members_keeps_each_ops_own_members_only() -> None:
    patch = [
        {"op": "remove", "path": "/a", "value": 1, "from": "/b"},
        {"op": "move", "path": "/a", "from": "/b", "value": 1},
        {"op": "test", "path": "/a", "value": 1},
    ]
    assert defined_members(patch) == [
        {"op": "remove", "path": "/a"},
        {"op": "move", "path": "/a", "from": "/b"},
        {"op": "test", "path": "/a", "value": 1},
    ]


# --- each op on objects and arrays ----------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "op", "expected"),
    [
        ({"a": 1}, {"op": "add", "path": "/a", "value": 2}, {"a": 2}),
        ({}, {"op": "add", "path": "/", "value": 1}, {"": 1}),
        ([1, 2], {"op": "add", "path": "/0", "value": 0}, [0, 1, 2]),
        ([1, 2], {"op": "add", "path": "/2", "value": 3}, [1, 2, 3]),
        ([1, 2], {"op": "add", "path": "/-", "value": 3}, [1, 2, 3]),
        ({"a": {"-": 1}}, {"op": "add", "path": "/a/-", "value": 2}, {"a": {"-": 2}}),
        ({"a": 1}, {"op": "add", "path": "", "value": [5]}, [5]),
        ({"a/b": 1}, {"op": "add", "path": "/a~1b", "value": 2}, {"a/b": 2}),
        ({"m~n": 1}, {"op": "add", "path": "/m~0n", "value": 2}, {"m~n": 2}),
        ({"a": 1, "b": 2}, {"op": "remove", "path": "/a"}, {"b": 2}),
        ([1, 2, 3], {"op": "remove", "path": "/1"}, [1, 3]),
        ({"a/b": 1, "~": 2}, {"op": "remove", "path": "/~0"}, {"a/b": 1}),
        ({"a": 1}, {"op": "replace", "path": "/a", "value": None}, {"a": None}),
        ([1, 2], {"op": "replace", "path": "/1", "value": 9}, [1, 9]),
        ({"a": 1}, {"op": "replace", "path": "", "value": "x"}, "x"),
        ({"a": 1, "b": {}}, {"op": "move", "from": "/a", "path": "/b/a"}, {"b": {"a": 1}}),
        ([1, 2, 3], {"op": "move", "from": "/0", "path": "/-"}, [2, 3, 1]),
        ({"a": [1]}, {"op": "move", "from": "/a", "path": "/a"}, {"a": [1]}),
        ({"a": {"b": 1}}, {"op": "move", "from": "/a/b", "path": ""}, 1),
        ({"a": [1]}, {"op": "copy", "from": "/a", "path": "/b"}, {"a": [1], "b": [1]}),
        ([1, 2], {"op": "copy", "from": "/1", "path": "/0"}, [2, 1, 2]),
        ({"a": 1}, {"op": "copy", "from": "", "path": "/b"}, {"a": 1, "b": {"a": 1}}),
        ({"a": 1}, {"op": "test", "path": "/a", "value": 1}, {"a": 1}),
        ({"a": [1, {"b": 1.5}]}, {"op": "test", "path": "", "value": {"a": [1, {"b": 1.5}]}}, None),
    ],
)
def test_each_op_gives_the_rfc_result(document: Any, op: dict[str, Any], expected: Any) -> None:
    if expected is None:
        expected = document
    assert check_patch([op]) == []
    assert json_equal(apply_patch(document, [op]), expected)


@pytest.mark.parametrize(
    ("document", "op", "reason"),
    [
        ({"a": 1}, {"op": "remove", "path": "/b"}, "does not exist"),
        ({"a": 1}, {"op": "replace", "path": "/b", "value": 1}, "does not exist"),
        ({"a": 1}, {"op": "test", "path": "/b", "value": 1}, "does not exist"),
        ({"a": 1}, {"op": "move", "from": "/b", "path": "/c"}, "does not exist"),
        ({"a": 1}, {"op": "copy", "from": "/b", "path": "/c"}, "does not exist"),
        ({"a": 1}, {"op": "add", "path": "/b/c", "value": 1}, "does not exist"),
        ([1, 2], {"op": "add", "path": "/3", "value": 1}, "past the end"),
        ([1, 2], {"op": "remove", "path": "/2"}, "does not exist"),
        ([1, 2], {"op": "replace", "path": "/2", "value": 1}, "does not exist"),
        ([1, 2], {"op": "remove", "path": "/-"}, "not an array index"),
        ([1, 2], {"op": "replace", "path": "/-", "value": 1}, "not an array index"),
        ([1, 2], {"op": "add", "path": "/01", "value": 1}, "not an array index"),
        ([1, 2], {"op": "remove", "path": "/00"}, "not an array index"),
        ([1, 2], {"op": "add", "path": "/-1", "value": 1}, "not an array index"),
        ([1, 2], {"op": "add", "path": "/1.0", "value": 1}, "not an array index"),
        ([1, 2], {"op": "add", "path": "/x", "value": 1}, "not an array index"),
        ([1, 2], {"op": "add", "path": "/", "value": 1}, "not an array index"),
        ([1, 2], {"op": "add", "path": "/\u0661", "value": 1}, "not an array index"),
        ({"a": "text"}, {"op": "add", "path": "/a/b", "value": 1}, "not a container"),
        ({"a": 5}, {"op": "test", "path": "/a/0", "value": 5}, "does not exist"),
        ("scalar", {"op": "add", "path": "/a", "value": 1}, "not a container"),
        ({"a": 1}, {"op": "remove", "path": ""}, "root cannot be removed"),
        ({"a": {"b": {}}}, {"op": "move", "from": "/a", "path": "/a/b"}, "own child"),
        ({"a": {"b": {}}}, {"op": "move", "from": "/a", "path": "/a/b/c"}, "own child"),
        ([[1]], {"op": "move", "from": "", "path": "/0/0"}, "own child"),
        ({"a": 1}, {"op": "test", "path": "/a", "value": 2}, "test failed"),
    ],
)
def test_op_that_cannot_apply_is_a_conflict_naming_its_index_and_path(
    document: Any, op: dict[str, Any], reason: str
) -> None:
    assert check_patch([op]) == []
    error = conflict(document, [{"op": "test", "path": "", "value": document}, op])
    assert error.op_index == 1
    assert error.details["op_index"] == 1
    assert reason in error.reason
    assert error.path in (op["path"], op.get("from"))


def test_move_to_a_sibling_with_a_shared_name_prefix_is_allowed() -> None:
    assert apply_patch({"a": 1}, [{"op": "move", "from": "/a", "path": "/ab"}]) == {"ab": 1}


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        (1, True),
        (True, 1),
        (0, False),
        (1.0, True),
        (None, False),
        ("1", 1),
        ({"a": 1}, {"a": True}),
        ([1, 2], [2, 1]),
        ({"a": 1}, {"a": 1, "b": 2}),
    ],
)
def test_test_op_tells_json_types_apart(actual: Any, expected: Any) -> None:
    error = conflict({"v": actual}, [{"op": "test", "path": "/v", "value": expected}])
    assert error.op_index == 0
    assert "test failed" in error.reason


@pytest.mark.parametrize(
    ("actual", "expected"),
    [(1, 1.0), (1.0, 1), (-0.0, 0), ([1], [1.0]), ({"a": [2.50]}, {"a": [2.5]}), (10**20, 1e20)],
)
def test_test_op_compares_numbers_by_value(actual: Any, expected: Any) -> None:
    """RFC 6902 4.6: numbers are equal if their values are numerically equal."""
    document = {"v": actual}
    assert apply_patch(document, [{"op": "test", "path": "/v", "value": expected}]) is document


def test_test_op_ignores_object_key_order() -> None:
    document = {"v": {"a": 1, "b": [True, None]}}
    patch = [{"op": "test", "path": "/v", "value": {"b": [True, None], "a": 1}}]
    assert apply_patch(document, patch) is document


# --- copy-on-write --------------------------------------------------------------------------


def test_apply_never_mutates_the_input_document() -> None:
    document = {"a": {"x": [1, 2]}, "b": {"y": [3]}, "c": [{"z": 1}]}
    before = copy.deepcopy(document)
    patch = [
        {"op": "add", "path": "/a/x/-", "value": 3},
        {"op": "remove", "path": "/c/0/z"},
        {"op": "move", "from": "/b/y", "path": "/a/y"},
        {"op": "copy", "from": "/a", "path": "/d"},
        {"op": "replace", "path": "/a/x/0", "value": 0},
    ]
    result = apply_patch(document, patch)
    assert document == before
    assert result == {
        "a": {"x": [0, 2, 3], "y": [3]},
        "b": {},
        "c": [{}],
        "d": {"x": [1, 2, 3], "y": [3]},
    }


def test_apply_shares_every_untouched_subtree_with_the_input() -> None:
    document = {"a": {"x": [1], "keep": {"deep": [1]}}, "b": {"y": [2]}, "c": [[1], [2]]}
    result = apply_patch(document, [{"op": "replace", "path": "/a/x/0", "value": 9}])
    assert result is not document
    assert result["a"] is not document["a"]
    assert result["a"]["x"] is not document["a"]["x"]
    assert result["a"]["keep"] is document["a"]["keep"]
    assert result["b"] is document["b"]
    assert result["c"] is document["c"]


def test_a_failing_op_leaves_the_input_untouched() -> None:
    document = {"a": [1, 2], "b": {"c": 1}}
    before = copy.deepcopy(document)
    patch = [
        {"op": "remove", "path": "/a/0"},
        {"op": "add", "path": "/b/d", "value": 1},
        {"op": "remove", "path": "/nope"},
    ]
    assert conflict(document, patch).op_index == 2
    assert document == before


def test_later_ops_never_mutate_values_taken_from_the_patch() -> None:
    value: dict[str, Any] = {"inner": []}
    patch = [
        {"op": "add", "path": "/a", "value": value},
        {"op": "add", "path": "/a/inner/-", "value": 1},
        {"op": "add", "path": "/a/more", "value": 2},
    ]
    result = apply_patch({}, patch)
    assert result == {"a": {"inner": [1], "more": 2}}
    assert value == {"inner": []}


def test_copy_places_an_independent_value() -> None:
    document = {"a": {"list": [1]}}
    patch = [
        {"op": "copy", "from": "/a", "path": "/b"},
        {"op": "add", "path": "/b/list/-", "value": 2},
    ]
    result = apply_patch(document, patch)
    assert result == {"a": {"list": [1]}, "b": {"list": [1, 2]}}
    assert document == {"a": {"list": [1]}}


def test_an_empty_patch_returns_the_document_itself() -> None:
    document = {"a": 1}
    assert apply_patch(document, []) is document


# --- malformed patches ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({"op": "add"}, [("type", "")]),
        ("[]", [("type", "")]),
        (None, [("type", "")]),
        ([1], [("type", "/0")]),
        ([[]], [("type", "/0")]),
        ([{"op": "delete", "path": "/a"}], [("enum", "/0/op")]),
        ([{"op": 1, "path": "/a"}], [("enum", "/0/op")]),
        ([{"op": None, "path": "/a"}], [("enum", "/0/op")]),
        ([{"path": "/a", "value": 1}], [("required", "/0")]),
        ([{"op": "remove"}], [("required", "/0")]),
        ([{"op": "add", "path": "/a"}], [("required", "/0")]),
        ([{"op": "replace", "path": "/a"}], [("required", "/0")]),
        ([{"op": "test", "path": "/a"}], [("required", "/0")]),
        ([{"op": "move", "path": "/a"}], [("required", "/0")]),
        ([{"op": "copy", "path": "/a"}], [("required", "/0")]),
        ([{"op": "add", "value": 1}], [("required", "/0")]),
        ([{"op": "move"}], [("required", "/0"), ("required", "/0")]),
        ([{"op": "remove", "path": 1}], [("type", "/0/path")]),
        ([{"op": "remove", "path": None}], [("type", "/0/path")]),
        ([{"op": "remove", "path": ["a"]}], [("type", "/0/path")]),
        ([{"op": "copy", "from": 0, "path": "/a"}], [("type", "/0/from")]),
        ([{"op": "remove", "path": "a/b"}], [("format", "/0/path")]),
        ([{"op": "remove", "path": "/a~2"}], [("format", "/0/path")]),
        ([{"op": "remove", "path": "/a~"}], [("format", "/0/path")]),
        ([{"op": "remove", "path": "/~~1"}], [("format", "/0/path")]),
        ([{"op": "move", "from": "x", "path": "/a"}], [("format", "/0/from")]),
        (
            [{"op": "remove", "path": "/a"}, {"op": "nope"}, {"op": "add", "path": 5}],
            [("enum", "/1/op"), ("required", "/2"), ("type", "/2/path")],
        ),
    ],
)
def test_malformed_patch_errors_point_into_the_patch(
    patch: Any, expected: list[tuple[str, str]]
) -> None:
    assert error_keys(check_patch(patch)) == sorted(expected)


def test_members_other_ops_define_are_tolerated() -> None:
    patch = [{"op": "remove", "path": "/a", "value": 1, "from": "/b"}]
    assert check_patch(patch) == []
    assert apply_patch({"a": 1}, patch) == {}


@pytest.mark.parametrize("pointer", ["", "/", "/a", "/a/0", "/~0~1", "/a~01", "//", "/-"])
def test_well_formed_pointers_have_no_syntax_error(pointer: str) -> None:
    assert pointer_syntax_error(pointer) is None


@pytest.mark.parametrize(
    ("pointer", "tokens"),
    [
        ("", []),
        ("/", [""]),
        ("/a/b", ["a", "b"]),
        ("/~01", ["~1"]),
        ("/~10", ["/0"]),
        ("//", ["", ""]),
    ],
)
def test_pointers_unescape_tilde_one_before_tilde_zero(pointer: str, tokens: list[str]) -> None:
    assert parse_pointer(pointer) == tokens


# --- agreement with the reference implementation -------------------------------------------


@settings(max_examples=150, deadline=None)
@given(data=st.data(), document=JSON_VALUES)
def test_apply_agrees_with_jsonpatch_on_random_patches(data: st.DataObject, document: Any) -> None:
    # `test` is left out: jsonpatch compares with ==, so 1, 1.0 and true are equal there.
    patch = data.draw(json_patches(document, with_test=False))
    assert check_patch(patch) == []
    before = copy.deepcopy(document)
    try:
        expected = jsonpatch.apply_patch(document, patch)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException):
        expected = PatchConflict
    try:
        result = apply_patch(document, patch)
    except PatchConflict:
        result = PatchConflict
    if expected is PatchConflict or result is PatchConflict:
        assert result is expected
    else:
        assert json_equal(result, expected)
    assert json_equal(document, before)
