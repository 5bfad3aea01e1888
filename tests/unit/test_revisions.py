"""Revision requests: parsed whole before anything applies, errors pointing into the request."""

from __future__ import annotations

from typing import Any

import pytest

from dialogue_engine.domain.errors import ValidationFailed
from dialogue_engine.domain.revisions import (
    EditRequest,
    RevertRequest,
    parse_revision,
    parse_revisions,
)

from .factories import error_keys

PATCH = [{"op": "replace", "path": "/title", "value": "New"}]


def edit_body(**extra: Any) -> dict[str, Any]:
    return {"type": "edit", "properties": {"edit_type": "rename", "patch": PATCH}, **extra}


def revert_body(**extra: Any) -> dict[str, Any]:
    return {"type": "revert", "properties": {"revision_id": "r-1"}, **extra}


def errors_of(body: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as caught:
        parse_revisions(body)
    return error_keys(caught.value.errors)


def test_an_edit_request_carries_patch_type_details_and_created() -> None:
    body = edit_body(details={"note": "x"}, created=12)
    assert parse_revisions(body) == [EditRequest(PATCH, "rename", {"note": "x"}, 12)]


def test_a_revert_request_carries_the_revision_id() -> None:
    assert parse_revision(revert_body()) == RevertRequest("r-1", {}, None)


def test_details_default_to_an_empty_object() -> None:
    [request] = parse_revisions(edit_body())
    assert request.details == {}
    assert request.created is None


def test_a_bulk_parses_every_revision_in_order() -> None:
    assert parse_revisions([edit_body(), revert_body(), edit_body(created=0)]) == [
        EditRequest(PATCH, "rename", {}, None),
        RevertRequest("r-1", {}, None),
        EditRequest(PATCH, "rename", {}, 0),
    ]


@pytest.mark.parametrize("member", ["id", "url", "number", "user_id", "extra"])
def test_read_only_and_unknown_members_are_rejected(member: str) -> None:
    assert errors_of(edit_body(**{member: "x"})) == [("additionalProperties", "")]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (None, [("type", "")]),
        ("edit", [("type", "")]),
        ({"type": "rename", "properties": {}}, [("enum", "/type")]),
        ({"properties": {}}, [("enum", "/type")]),
        (edit_body(details=[]), [("type", "/details")]),
        (edit_body(details=None), [("type", "/details")]),
        (edit_body(created=-1), [("type", "/created")]),
        (edit_body(created=2**63), [("type", "/created")]),
        (edit_body(created=1.5), [("type", "/created")]),
        (edit_body(created=True), [("type", "/created")]),
        (edit_body(created="2024-01-01"), [("type", "/created")]),
        ({"type": "edit"}, [("required", "/properties")]),
        ({"type": "edit", "properties": []}, [("required", "/properties")]),
        ({"type": "edit", "properties": {"patch": PATCH}}, [("type", "/properties/edit_type")]),
        (
            {"type": "edit", "properties": {"edit_type": "", "patch": PATCH}},
            [("type", "/properties/edit_type")],
        ),
        ({"type": "edit", "properties": {"edit_type": "e"}}, [("required", "/properties")]),
        (
            {"type": "edit", "properties": {"edit_type": "e", "patch": {}}},
            [("type", "/properties/patch")],
        ),
        (
            {"type": "edit", "properties": {"edit_type": "e", "patch": [{"op": "x", "path": ""}]}},
            [("enum", "/properties/patch/0/op")],
        ),
        (
            {"type": "edit", "properties": {"edit_type": "e", "patch": PATCH, "more": 1}},
            [("additionalProperties", "/properties")],
        ),
        ({"type": "revert", "properties": {}}, [("type", "/properties/revision_id")]),
        (
            {"type": "revert", "properties": {"revision_id": 7}},
            [("type", "/properties/revision_id")],
        ),
        (
            {"type": "revert", "properties": {"revision_id": "r", "patch": PATCH}},
            [("additionalProperties", "/properties")],
        ),
        (
            {"type": "edit", "id": "1", "details": 1, "created": -1},
            [
                ("additionalProperties", ""),
                ("type", "/details"),
                ("type", "/created"),
                ("required", "/properties"),
            ],
        ),
    ],
)
def test_each_error_points_into_the_request(body: Any, expected: list[tuple[str, str]]) -> None:
    assert errors_of(body) == sorted(expected)


def test_an_empty_bulk_is_a_validation_error() -> None:
    assert errors_of([]) == [("minItems", "")]


def test_bulk_errors_are_prefixed_with_the_index_and_all_reported() -> None:
    body = [
        edit_body(),
        edit_body(number=2),
        5,
        {"type": "revert", "properties": {"revision_id": None}},
        {"type": "edit", "properties": {"edit_type": "e", "patch": [{"op": "remove"}]}},
    ]
    assert errors_of(body) == sorted(
        [
            ("additionalProperties", "/1"),
            ("type", "/2"),
            ("type", "/3/properties/revision_id"),
            ("required", "/4/properties/patch/0"),
        ]
    )


def test_a_single_revision_is_parsed_into_a_list_of_one() -> None:
    assert parse_revisions(revert_body()) == [RevertRequest("r-1", {}, None)]
