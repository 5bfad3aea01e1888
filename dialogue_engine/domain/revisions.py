"""Revision requests in the contract's shape, checked before anything is applied.

``{"type": "edit", "details": {...}, "created": ms?, "properties": {"edit_type", "patch"}}``
or ``{"type": "revert", "details": {...}, "created": ms?, "properties": {"revision_id"}}``.
Read-only members (``id``, ``url``, ``number``, ``user_id``) are rejected.
Error paths point into the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .aggregates import MAX_CREATED
from .errors import FieldError, ValidationFailed, unexpected_members
from .patching import check_patch

_ALLOWED = frozenset({"type", "details", "created", "properties"})
_PROPERTIES = {"edit": frozenset({"edit_type", "patch"}), "revert": frozenset({"revision_id"})}


@dataclass(frozen=True)
class EditRequest:
    patch: list[dict[str, Any]]
    edit_type: str
    details: dict[str, Any]
    created: int | None


@dataclass(frozen=True)
class RevertRequest:
    revision_id: str
    details: dict[str, Any]
    created: int | None


RevisionRequest = EditRequest | RevertRequest


def parse_revision(body: Any, at: str = "") -> RevisionRequest:
    errors = _errors(body, at)
    if errors:
        raise ValidationFailed(errors)
    properties = body["properties"]
    details = body.get("details") or {}
    created = body.get("created")
    if body["type"] == "edit":
        return EditRequest(properties["patch"], properties["edit_type"], details, created)
    return RevertRequest(properties["revision_id"], details, created)


def parse_revisions(body: Any) -> list[RevisionRequest]:
    """One revision object, or an array of them (a bulk, all or nothing)."""
    if type(body) is list:
        if not body:
            raise ValidationFailed(
                [FieldError("minItems", "", "a bulk needs at least one revision")]
            )
        errors = [e for i, item in enumerate(body) for e in _errors(item, f"/{i}")]
        if errors:
            raise ValidationFailed(errors)
        return [parse_revision(item, f"/{i}") for i, item in enumerate(body)]
    return [parse_revision(body)]


def _errors(body: Any, at: str) -> list[FieldError]:
    if type(body) is not dict:
        return [FieldError("type", at, "a revision is an object")]
    errors = unexpected_members(body, _ALLOWED, at)
    kind = body.get("type")
    if kind not in ("edit", "revert"):
        errors.append(FieldError("enum", f"{at}/type", "type must be 'edit' or 'revert'"))
    if "details" in body and type(body["details"]) is not dict:
        errors.append(FieldError("type", f"{at}/details", "details must be an object"))
    created = body.get("created")
    if created is not None and (type(created) is not int or not 0 <= created <= MAX_CREATED):
        errors.append(
            FieldError("type", f"{at}/created", "created must be a non-negative integer (ms)")
        )
    properties = body.get("properties")
    if type(properties) is not dict:
        errors.append(FieldError("required", f"{at}/properties", "properties must be an object"))
        return errors
    if kind == "edit":
        if type(properties.get("edit_type")) is not str or not properties["edit_type"]:
            errors.append(
                FieldError("type", f"{at}/properties/edit_type", "edit_type must be a string")
            )
        if "patch" not in properties:
            errors.append(
                FieldError("required", f"{at}/properties", "'patch' is a required property")
            )
        else:
            errors.extend(
                e.under(f"{at}/properties/patch") for e in check_patch(properties["patch"])
            )
    elif kind == "revert" and type(properties.get("revision_id")) is not str:
        errors.append(
            FieldError("type", f"{at}/properties/revision_id", "revision_id must be a string")
        )
    if type(kind) is str and kind in _PROPERTIES:  # a dict or list type is no key
        errors += unexpected_members(properties, _PROPERTIES[kind], f"{at}/properties")
    return errors
