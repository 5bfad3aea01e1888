"""Plain JSON values: strict equality, owned copies that reject what JSON cannot carry."""

from __future__ import annotations

from typing import Any

import pytest

from dialogue_engine.domain.errors import ValidationFailed
from dialogue_engine.domain.jsonvalue import (
    MAX_DEPTH,
    canonical_bytes,
    escape,
    json_equal,
    owned_copy,
    pointer,
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (1, 1.0),
        (1, True),
        (0, False),
        (0.0, False),
        (None, False),
        ("", None),
        ([1], [True]),
        ([1, 2], [2, 1]),
        ([1], [1, 1]),
        ({"a": 1}, {"a": 1.0}),
        ({"a": 1}, {"b": 1}),
        ({"a": 1}, {"a": 1, "b": 1}),
        ({"a": [{"b": 1}]}, {"a": [{"b": True}]}),
        ({}, []),
    ],
)
def test_json_equal_tells_types_and_values_apart(a: Any, b: Any) -> None:
    assert not json_equal(a, b)
    assert not json_equal(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({"a": 1, "b": [1.5, None, True, "x"]}, {"b": [1.5, None, True, "x"], "a": 1}),
        ([], []),
        ({}, {}),
        (0.0, -0.0),
        ("é", "é"),
    ],
)
def test_json_equal_accepts_equal_documents_whatever_the_key_order(a: Any, b: Any) -> None:
    assert json_equal(a, b)


def test_owned_copy_is_equal_and_shares_nothing() -> None:
    value = {"a": [{"b": 1}], "c": {"d": None}}
    copied = owned_copy(value)
    assert json_equal(copied, value)
    assert copied is not value
    assert copied["a"] is not value["a"]
    assert copied["a"][0] is not value["a"][0]
    assert copied["c"] is not value["c"]


def test_owned_copy_keeps_the_json_type_of_numbers() -> None:
    copied = owned_copy({"i": 1, "f": 1.0, "b": True, "big": 2**64 - 1, "neg": -(2**63)})
    assert [type(copied[k]) for k in ("i", "f", "b", "big", "neg")] == [int, float, bool, int, int]


@pytest.mark.parametrize(
    ("value", "path"),
    [
        (float("nan"), ""),
        (float("inf"), ""),
        ({"a": [1, float("-inf")]}, "/a/1"),
        ({"a": {1: "x"}}, "/a"),
        ({"a/b": {"c": (1, 2)}}, "/a~1b/c"),
        ({"a": {1, 2}}, "/a"),
        ([b"bytes"], "/0"),
        ({"big": 2**64}, "/big"),
        ({"small": [-(2**63) - 1]}, "/small/0"),
        (object(), ""),
    ],
)
def test_owned_copy_rejects_what_json_cannot_carry_at_its_path(value: Any, path: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        owned_copy(value)
    assert [(e.type, e.path) for e in caught.value.errors] == [("type", path)]


def test_owned_copy_prefixes_error_paths() -> None:
    with pytest.raises(ValidationFailed) as caught:
        owned_copy({"x": float("nan")}, path="/details")
    assert caught.value.errors[0].path == "/details/x"


def test_canonical_bytes_sort_keys_at_every_level() -> None:
    assert canonical_bytes({"b": 1, "a": {"d": 1, "c": 2}}) == b'{"a":{"c":2,"d":1},"b":1}'


def test_canonical_bytes_keep_numbers_distinct() -> None:
    assert canonical_bytes([1, 1.0, True]) == b"[1,1.0,true]"


@pytest.mark.parametrize(
    ("token", "escaped"), [("a", "a"), ("a/b", "a~1b"), ("m~n", "m~0n"), ("~1", "~01"), ("", "")]
)
def test_escape_follows_rfc_6901(token: str, escaped: str) -> None:
    assert escape(token) == escaped


def test_pointer_joins_escaped_tokens() -> None:
    assert pointer("sequences", 0, "a/b") == "/sequences/0/a~1b"
    assert pointer() == ""


def nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_owned_copy_accepts_nesting_up_to_the_limit() -> None:
    assert owned_copy(nested(MAX_DEPTH)) == nested(MAX_DEPTH)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 300, 1000])
def test_owned_copy_refuses_deeper_nesting_at_the_first_level_too_deep(depth: int) -> None:
    with pytest.raises(ValidationFailed) as caught:
        owned_copy({"a": nested(depth)})
    [error] = caught.value.errors
    assert error.type == "maxDepth"
    assert error.path == "/a" + "/0" * (MAX_DEPTH - 1)
