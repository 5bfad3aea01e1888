"""Description validation: every rule, each error with its JSON pointer into the description.

Each case is a patch applied to a valid description, so the same cases also check that
incremental validation (``previous`` = the valid description) finds exactly what a full
validation finds.
"""

from __future__ import annotations

from typing import Any

import pytest

from dialogue_engine.domain.blocktypes import BlockTypeRegistry
from dialogue_engine.domain.description import check_description, normalise, require_valid
from dialogue_engine.domain.errors import ValidationFailed
from dialogue_engine.domain.patching import apply_patch

from .factories import error_keys, valid_description

REGISTRY = BlockTypeRegistry()
S0 = "/sequences/0"
S1 = "/sequences/1"
ASK = f"{S0}/blocks/1/properties"
NAME = f"{S0}/blocks/2/properties"
ROUTE = f"{S0}/blocks/3/properties"
MAIL = f"{S1}/blocks/0/properties"
END = f"{S1}/blocks/2"


def add(path: str, value: Any) -> dict[str, Any]:
    return {"op": "add", "path": path, "value": value}


def replace(path: str, value: Any) -> dict[str, Any]:
    return {"op": "replace", "path": path, "value": value}


def remove(path: str) -> dict[str, Any]:
    return {"op": "remove", "path": path}


CASES: dict[str, tuple[list[dict[str, Any]], list[tuple[str, str]]]] = {
    # the description itself
    "missing title": ([remove("/title")], [("required", "")]),
    "empty title": ([replace("/title", "")], [("minLength", "/title")]),
    "non-string title": ([replace("/title", 5)], [("type", "/title")]),
    "overlong title": ([replace("/title", "x" * 1001)], [("maxLength", "/title")]),
    "non-bool is_archived": ([replace("/is_archived", "no")], [("type", "/is_archived")]),
    "integer is_archived": ([replace("/is_archived", 0)], [("type", "/is_archived")]),
    "missing is_archived": ([remove("/is_archived")], [("required", "")]),
    "unknown member": ([add("/owner", "me")], [("additionalProperties", "")]),
    "sequences not an array": ([replace("/sequences", {})], [("type", "/sequences")]),
    "missing sequences": ([remove("/sequences")], [("required", "")]),
    # sequences
    "sequence not an object": ([add("/sequences/-", 5)], [("type", "/sequences/2")]),
    "sequence missing id": (
        [remove(f"{S1}/id")],
        [
            ("required", S1),
            ("reference", f"{ASK}/choices/0/next"),
            ("reference", f"{ROUTE}/rules/0/next"),
        ],
    ),
    "sequence missing title": ([remove(f"{S0}/title")], [("required", S0)]),
    "sequence missing blocks": ([remove(f"{S1}/blocks")], [("required", S1)]),
    "sequence title not a string": ([replace(f"{S0}/title", None)], [("type", f"{S0}/title")]),
    "blocks not an array": ([replace(f"{S1}/blocks", {})], [("type", f"{S1}/blocks")]),
    "description not a string": (
        [replace(f"{S1}/description", ["x"])],
        [("type", f"{S1}/description")],
    ),
    "unknown visibility": ([replace(f"{S1}/visibility", "secret")], [("enum", f"{S1}/visibility")]),
    "visibility not a string": (
        [replace(f"{S1}/visibility", ["public"])],
        [("enum", f"{S1}/visibility")],
    ),
    "unknown sequence member": ([add(f"{S0}/colour", "red")], [("additionalProperties", S0)]),
    "renamed sequence breaks references": (
        [replace(f"{S1}/id", "later")],
        [("reference", f"{ASK}/choices/0/next"), ("reference", f"{ROUTE}/rules/0/next")],
    ),
    "sequence id not a symbol": (
        [replace(f"{S0}/id", "Start")],
        [("pattern", f"{S0}/id"), ("reference", f"{ROUTE}/next")],
    ),
    "sequence id not a string": (
        [replace(f"{S0}/id", 7)],
        [("pattern", f"{S0}/id"), ("reference", f"{ROUTE}/next")],
    ),
    "duplicate sequence id": (
        [add("/sequences/-", {"id": "start", "title": "Again", "blocks": []})],
        [("unique", "/sequences/2/id")],
    ),
    "removed sequence still referenced": (
        [remove(S1)],
        [("reference", f"{ASK}/choices/0/next"), ("reference", f"{ROUTE}/rules/0/next")],
    ),
    # blocks
    "block not an object": ([replace(f"{S0}/blocks/0", "hi")], [("type", f"{S0}/blocks/0")]),
    "block missing id": ([remove(f"{S0}/blocks/0/id")], [("required", f"{S0}/blocks/0")]),
    "block missing type": ([remove(f"{S0}/blocks/0/type")], [("required", f"{S0}/blocks/0")]),
    "block id not a symbol": ([replace(f"{END}/id", "Bye!")], [("pattern", f"{END}/id")]),
    "unknown block type": ([replace(f"{END}/type", "video")], [("enum", f"{END}/type")]),
    "block type not a string": ([replace(f"{END}/type", ["end"])], [("enum", f"{END}/type")]),
    "block title not a string": ([add(f"{END}/title", 1)], [("type", f"{END}/title")]),
    "unknown block member": ([add(f"{END}/next", "start")], [("additionalProperties", END)]),
    "properties not an object": ([add(f"{END}/properties", [])], [("type", f"{END}/properties")]),
    "duplicate block id in one sequence": (
        [add(f"{S0}/blocks/-", {"id": "hello", "type": "end"})],
        [("unique", f"{S0}/blocks/4/id")],
    ),
    "duplicate block id across sequences": (
        [add(f"{S1}/blocks/0", {"id": "hello", "type": "end"})],
        [("unique", f"{S1}/blocks/0/id")],
    ),
    "block id may equal a sequence id": (
        [add(f"{S1}/blocks/-", {"id": "start", "type": "end"})],
        [],
    ),
    # message
    "message without text": (
        [remove(f"{S0}/blocks/0/properties/text")],
        [("required", f"{S0}/blocks/0/properties")],
    ),
    "message without properties": (
        [remove(f"{S0}/blocks/0/properties")],
        [("required", f"{S0}/blocks/0/properties")],
    ),
    "message with empty text": (
        [replace(f"{S0}/blocks/0/properties/text", "")],
        [("minLength", f"{S0}/blocks/0/properties/text")],
    ),
    "message with unknown property": (
        [add(f"{S0}/blocks/0/properties/x", 1)],
        [("additionalProperties", f"{S0}/blocks/0/properties")],
    ),
    # question
    "question without choices": ([remove(f"{ASK}/choices")], [("required", ASK)]),
    "question with no choice": ([replace(f"{ASK}/choices", [])], [("minItems", f"{ASK}/choices")]),
    "choice without label": (
        [remove(f"{ASK}/choices/1/label")],
        [("required", f"{ASK}/choices/1")],
    ),
    "choice with empty value": (
        [replace(f"{ASK}/choices/1/value", "")],
        [("minLength", f"{ASK}/choices/1/value")],
    ),
    "choice leading to a missing sequence": (
        [add(f"{ASK}/choices/1/next", "nowhere")],
        [("reference", f"{ASK}/choices/1/next")],
    ),
    "choice next not a symbol": (
        [replace(f"{ASK}/choices/0/next", "More")],
        [
            ("pattern", f"{ASK}/choices/0/next"),
            ("reference", f"{ASK}/choices/0/next"),
        ],
    ),
    # freetext
    "freetext without store_as": ([remove(f"{NAME}/store_as")], [("required", NAME)]),
    "freetext store_as not a symbol": (
        [replace(f"{NAME}/store_as", "first name")],
        [("pattern", f"{NAME}/store_as")],
    ),
    # route
    "route without rules": ([remove(f"{ROUTE}/rules")], [("required", ROUTE)]),
    "route rule with unknown operator": (
        [replace(f"{ROUTE}/rules/0/operator", "like")],
        [("enum", f"{ROUTE}/rules/0/operator")],
    ),
    "route rule value of a wrong type": (
        [replace(f"{ROUTE}/rules/0/value", [1])],
        [("type", f"{ROUTE}/rules/0/value")],
    ),
    "route rule without next": (
        [remove(f"{ROUTE}/rules/0/next")],
        [("required", f"{ROUTE}/rules/0")],
    ),
    "route default next to a missing sequence": (
        [replace(f"{ROUTE}/next", "gone")],
        [("reference", f"{ROUTE}/next")],
    ),
    "route rule next to a missing sequence": (
        [replace(f"{ROUTE}/rules/0/next", "gone")],
        [("reference", f"{ROUTE}/rules/0/next")],
    ),
    # email
    "email with neither body nor template": ([remove(f"{MAIL}/body")], [("anyOf", MAIL)]),
    "email version without template": (
        [add(f"{MAIL}/version_id", "v1")],
        [("dependentRequired", MAIL)],
    ),
    "email template removed under its version": (
        [remove(f"{S1}/blocks/1/properties/template_id")],
        [
            ("anyOf", f"{S1}/blocks/1/properties"),
            ("dependentRequired", f"{S1}/blocks/1/properties"),
        ],
    ),
    "email send_at not ISO-8601": (
        [replace(f"{MAIL}/send_at", "tomorrow")],
        [("pattern", f"{MAIL}/send_at")],
    ),
    "email send_at without a zone": (
        [replace(f"{MAIL}/send_at", "2024-05-01T09:30:00")],
        [("pattern", f"{MAIL}/send_at")],
    ),
    "email send_at not a real date": (
        [replace(f"{MAIL}/send_at", "2024-02-30T09:30Z")],
        [("format", f"{MAIL}/send_at")],
    ),
    "email send_at with an offset": (
        [replace(f"{MAIL}/send_at", "2024-02-29T23:59:59.5+05:30")],
        [],
    ),
    # end
    "end with a property": (
        [add(f"{END}/properties", {"x": 1})],
        [("additionalProperties", f"{END}/properties")],
    ),
    "end with empty properties": ([add(f"{END}/properties", {})], []),
    # several at once
    "errors in several places are all reported": (
        [replace("/title", ""), replace(f"{END}/type", "nope"), add(f"{S0}/visibility", "x")],
        [("minLength", "/title"), ("enum", f"{END}/type"), ("enum", f"{S0}/visibility")],
    ),
}


def test_the_valid_description_has_no_error() -> None:
    assert check_description(valid_description(), REGISTRY) == []


@pytest.mark.parametrize("case", CASES)
def test_each_rule_is_reported_at_its_pointer(case: str) -> None:
    patch, expected = CASES[case]
    described = apply_patch(valid_description(), patch)
    errors = check_description(described, REGISTRY)
    assert error_keys(errors) == sorted(expected)
    assert all(type(e.message) is str and e.message for e in errors)


@pytest.mark.parametrize("case", CASES)
def test_incremental_validation_reports_what_full_validation_reports(case: str) -> None:
    patch, _ = CASES[case]
    previous = valid_description()
    described = apply_patch(previous, patch)
    assert error_keys(check_description(described, REGISTRY, previous)) == error_keys(
        check_description(described, REGISTRY)
    )


@pytest.mark.parametrize("description", [None, [], "x", 1, True])
def test_a_description_that_is_not_an_object_is_a_type_error_at_the_root(description: Any) -> None:
    assert error_keys(check_description(description, REGISTRY)) == [("type", "")]


@pytest.mark.parametrize("symbol", ["a", "a1", "a-b", "ask-1", "x-", "z9-9"])
def test_symbols_start_with_a_lowercase_letter(symbol: str) -> None:
    described = apply_patch(valid_description(), [replace(f"{END}/id", symbol)])
    assert check_description(described, REGISTRY) == []


@pytest.mark.parametrize("symbol", ["", "A", "1a", "-a", "a_b", "a b", "é", "a.b", "ab\n"])
def test_other_symbols_are_rejected(symbol: str) -> None:
    described = apply_patch(valid_description(), [replace(f"{END}/id", symbol)])
    assert error_keys(check_description(described, REGISTRY)) == [("pattern", f"{END}/id")]


def test_unchanged_description_passed_as_previous_has_no_error() -> None:
    description = valid_description()
    assert check_description(description, REGISTRY, description) == []


def test_require_valid_raises_every_error() -> None:
    described = apply_patch(valid_description(), [replace("/title", ""), remove(f"{S1}/title")])
    with pytest.raises(ValidationFailed) as caught:
        require_valid(described, REGISTRY)
    assert error_keys(caught.value.errors) == [("minLength", "/title"), ("required", S1)]
    assert caught.value.details["errors"] == [e.as_dict() for e in caught.value.errors]


def test_normalise_defaults_is_archived_to_false() -> None:
    assert normalise({"title": "t", "sequences": []}) == {
        "title": "t",
        "sequences": [],
        "is_archived": False,
    }


def test_normalise_keeps_an_explicit_is_archived_and_the_same_object() -> None:
    description = {"title": "t", "sequences": [], "is_archived": True}
    assert normalise(description) is description
