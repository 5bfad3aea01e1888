"""The block type registry: built-ins, custom types with checked schemas, a correct memo."""

from __future__ import annotations

from typing import Any

import pytest

from dialogue_engine.domain.blocktypes import (
    BUILTIN_TYPES,
    BlockType,
    BlockTypeRegistry,
    next_references,
)
from dialogue_engine.domain.description import check_description
from dialogue_engine.domain.errors import FieldError, ValidationFailed
from dialogue_engine.domain.patching import apply_patch

from .factories import error_keys, minimal_description

RATING = BlockType(
    "rating",
    {
        "type": "object",
        "properties": {
            "max": {"type": "integer", "minimum": 2},
            "next": {"type": "string"},
        },
        "required": ["max"],
        "additionalProperties": False,
    },
    "Asks for a score from 1 to max.",
)


def with_block(block: dict[str, Any]) -> Any:
    return apply_patch(
        minimal_description(), [{"op": "add", "path": "/sequences/0/blocks/-", "value": block}]
    )


def test_the_builtin_types_are_registered_in_name_order() -> None:
    registry = BlockTypeRegistry()
    names = [t.name for t in registry]
    assert names == ["email", "end", "freetext", "message", "question", "route"]
    assert {t.name for t in BUILTIN_TYPES} == set(names)
    assert all(t.description for t in registry)


def test_get_and_contains_know_only_registered_types() -> None:
    registry = BlockTypeRegistry()
    assert "message" in registry
    assert "rating" not in registry
    assert 5 not in registry
    assert registry.get("message") is not None
    assert registry.get("rating") is None


def test_a_registered_custom_type_validates_blocks_of_that_type() -> None:
    registry = BlockTypeRegistry()
    block = {"id": "rate", "type": "rating", "properties": {"max": 5}}
    assert error_keys(check_description(with_block(block), registry)) == [
        ("enum", "/sequences/0/blocks/1/type")
    ]
    registry.register(RATING)
    assert "rating" in registry
    assert check_description(with_block(block), registry) == []
    bad = {"id": "rate", "type": "rating", "properties": {"max": 1, "colour": "red"}}
    assert error_keys(check_description(with_block(bad), registry)) == [
        ("additionalProperties", "/sequences/0/blocks/1/properties"),
        ("minimum", "/sequences/0/blocks/1/properties/max"),
    ]


def test_a_next_inside_a_custom_type_must_name_a_sequence() -> None:
    registry = BlockTypeRegistry()
    registry.register(RATING)
    good = {"id": "rate", "type": "rating", "properties": {"max": 5, "next": "start"}}
    assert check_description(with_block(good), registry) == []
    bad = {"id": "rate", "type": "rating", "properties": {"max": 5, "next": "nowhere"}}
    assert error_keys(check_description(with_block(bad), registry)) == [
        ("reference", "/sequences/0/blocks/1/properties/next")
    ]


def test_registering_in_one_registry_leaves_others_alone() -> None:
    first, second = BlockTypeRegistry(), BlockTypeRegistry()
    first.register(RATING)
    assert "rating" in first
    assert "rating" not in second


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "nonsense"},
        {"type": "object", "minProperties": -1},
        {"type": "object", "required": "max"},
        {"properties": []},
        [],
        "object",
    ],
)
def test_a_custom_type_with_an_invalid_schema_is_refused(schema: Any) -> None:
    registry = BlockTypeRegistry()
    with pytest.raises(ValidationFailed) as caught:
        registry.register(BlockType("rating", schema))
    assert error_keys(caught.value.errors) == [("schema", "/schema")]
    assert "rating" not in registry


@pytest.mark.parametrize("name", ["", "Rating", "1x", "a_b", "-a"])
def test_a_custom_type_whose_name_is_not_a_symbol_is_refused(name: str) -> None:
    registry = BlockTypeRegistry()
    with pytest.raises(ValidationFailed) as caught:
        registry.register(BlockType(name, {"type": "object"}))
    assert error_keys(caught.value.errors) == [("pattern", "/name")]


def test_a_custom_check_runs_after_the_schema_with_paths_under_properties() -> None:
    def even(properties: Any) -> list[FieldError]:
        if properties["max"] % 2:
            return [FieldError("even", "/max", "max must be even")]
        return []

    registry = BlockTypeRegistry()
    registry.register(BlockType("rating", RATING.schema, check=even))
    assert registry.check_properties("rating", {"max": 4}) == ()
    assert registry.check_properties("rating", {"max": 3}) == (
        FieldError("even", "/max", "max must be even"),
    )
    # The schema fails first; the check would raise on a missing "max".
    assert error_keys(list(registry.check_properties("rating", {}))) == [("required", "")]
    block = {"id": "rate", "type": "rating", "properties": {"max": 3}}
    assert error_keys(check_description(with_block(block), registry)) == [
        ("even", "/sequences/0/blocks/1/properties/max")
    ]


def test_replacing_a_type_forgets_results_memoised_under_the_old_schema() -> None:
    registry = BlockTypeRegistry()
    assert registry.check_properties("message", {"text": "Hello"}) == ()
    short = {
        "type": "object",
        "properties": {"text": {"type": "string", "maxLength": 3}},
        "required": ["text"],
    }
    registry.register(BlockType("message", short))
    assert error_keys(list(registry.check_properties("message", {"text": "Hello"}))) == [
        ("maxLength", "/text")
    ]


@pytest.mark.parametrize("first", [True, 1])
def test_memoised_results_tell_true_from_one(first: Any) -> None:
    registry = BlockTypeRegistry()
    schema = {"type": "object", "properties": {"flag": {"type": "boolean"}}}
    registry.register(BlockType("toggle", schema))
    for value in (first, 1 if first is True else True, first):
        errors = registry.check_properties("toggle", {"flag": value})
        assert (errors == ()) is (value is True)


def test_memoised_results_ignore_key_order_but_not_values() -> None:
    registry = BlockTypeRegistry()
    choices = [{"value": "1", "label": "One"}]
    assert registry.check_properties("question", {"text": "Q", "choices": choices}) == ()
    assert registry.check_properties("question", {"choices": choices, "text": "Q"}) == ()
    assert error_keys(list(registry.check_properties("question", {"text": "Q"}))) == [
        ("required", "")
    ]


def test_memoised_results_stay_correct_when_the_memo_overflows() -> None:
    registry = BlockTypeRegistry()
    registry.MEMO_LIMIT = 2
    for _ in range(2):
        for text in ("a", "", "b", "", "c"):
            errors = registry.check_properties("message", {"text": text})
            assert (errors == ()) is bool(text)


def test_the_same_properties_are_judged_per_type() -> None:
    registry = BlockTypeRegistry()
    assert registry.check_properties("message", {"text": "Hi"}) == ()
    assert error_keys(list(registry.check_properties("end", {"text": "Hi"}))) == [
        ("additionalProperties", "")
    ]


@pytest.mark.parametrize(
    "send_at",
    [
        "2024-05-01T09:30Z",
        "2024-05-01T09:30:00Z",
        "2024-05-01T09:30:00.123456Z",
        "2024-02-29T23:59:59+05:30",
        "2024-05-01T09:30:00-00:00",
    ],
)
def test_email_send_at_accepts_iso_8601_date_times(send_at: str) -> None:
    registry = BlockTypeRegistry()
    properties = {"subject": "S", "body": "B", "send_at": send_at}
    assert registry.check_properties("email", properties) == ()


@pytest.mark.parametrize(
    ("send_at", "error_type"),
    [
        ("2024-05-01", "pattern"),
        ("2024-05-01 09:30Z", "pattern"),
        ("2024-05-01T09:30:00.1234567Z", "pattern"),
        ("2024-05-01T09:30:00", "pattern"),
        ("2023-02-29T09:30Z", "format"),
        ("2024-05-01T25:00Z", "format"),
        ("2024-13-01T09:30Z", "format"),
    ],
)
def test_email_send_at_rejects_other_strings(send_at: str, error_type: str) -> None:
    registry = BlockTypeRegistry()
    properties = {"template_id": "t", "send_at": send_at}
    assert error_keys(list(registry.check_properties("email", properties))) == [
        (error_type, "/send_at")
    ]


def test_next_references_finds_every_string_next_with_its_pointer() -> None:
    properties = {
        "next": "a",
        "choices": [{"next": "b"}, {"label": "x"}, [{"next": "c"}]],
        "a/b": {"next": "d"},
        "wrapped": {"next": {"next": "e"}},
        "number": {"next": 5},
    }
    assert sorted(next_references(properties, "/p")) == [
        ("/p/a~1b/next", "d"),
        ("/p/choices/0/next", "b"),
        ("/p/choices/2/0/next", "c"),
        ("/p/next", "a"),
        ("/p/wrapped/next/next", "e"),
    ]


@pytest.mark.parametrize("properties", [{}, [], "next", None, {"nexts": "a"}])
def test_next_references_finds_nothing_without_a_next_member(properties: Any) -> None:
    assert list(next_references(properties)) == []


def test_properties_json_cannot_carry_are_an_error_not_an_exception() -> None:
    registry = BlockTypeRegistry()
    errors = registry.check_properties("message", {"text": "Hi", "n": 2**64})
    assert error_keys(list(errors)) == [("type", "")]
