"""Shared aggregate helpers and the error tree."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from dialogue_engine.domain.aggregates import (
    check_created,
    check_title,
    derived_id,
    now_ms,
)
from dialogue_engine.domain.errors import (
    DomainError,
    FieldError,
    NotFound,
    PatchConflict,
    PermissionDenied,
    StaleRevision,
    ValidationFailed,
)


def test_created_defaults_to_now_in_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    assert before <= check_created(None) <= now_ms()


@pytest.mark.parametrize("created", [0, 1, 1_700_000_000_000, 2**63 - 1])
def test_a_client_supplied_created_is_kept(created: int) -> None:
    assert check_created(created) == created


@pytest.mark.parametrize("created", [-1, 2**63, 2**70, 1.0, "1", True, [], {}])
def test_a_created_that_is_not_a_non_negative_integer_is_refused(created: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_created(created, at="/0/created")
    assert [(e.type, e.path) for e in caught.value.errors] == [("type", "/0/created")]


@pytest.mark.parametrize("title", ["x", " padded ", "é" * 1000])
def test_a_title_is_kept_as_given(title: str) -> None:
    assert check_title(title) == title


def test_derived_ids_are_stable_and_distinct() -> None:
    parent = uuid.uuid4()
    assert derived_id(parent, "a") == derived_id(parent, "a")
    assert derived_id(parent, "a") != derived_id(parent, "b")
    assert derived_id(parent, "a") != derived_id(uuid.uuid4(), "a")


def test_field_errors_move_under_a_prefix() -> None:
    error = FieldError("type", "/0/op", "bad")
    assert error.under("/properties/patch") == FieldError("type", "/properties/patch/0/op", "bad")
    assert error.as_dict() == {"type": "type", "path": "/0/op", "message": "bad"}


@pytest.mark.parametrize(
    ("error", "error_type", "details"),
    [
        (
            NotFound("dialogue", "d1", project_id="p1"),
            "not_found",
            {"id": "d1", "project_id": "p1"},
        ),
        (
            ValidationFailed([FieldError("required", "", "x")]),
            "validation_error",
            {"errors": [{"type": "required", "path": "", "message": "x"}]},
        ),
        (
            PatchConflict(2, "test failed", "/a"),
            "patch_conflict",
            {"op_index": 2, "reason": "test failed", "path": "/a"},
        ),
        (StaleRevision("r1", "r2"), "precondition_failed", {"expected": "r1", "current": "r2"}),
        (
            PermissionDenied("archive", "dialogue d1"),
            "authorization_error",
            {"action": "archive", "resource": "dialogue d1"},
        ),
    ],
)
def test_each_error_carries_its_type_and_fields(
    error: DomainError, error_type: str, details: dict[str, Any]
) -> None:
    assert isinstance(error, DomainError)
    assert error.type == error_type
    assert error.details == details
    assert error.message
