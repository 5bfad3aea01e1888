"""The shapes of account request bodies, checked before any account is touched.

Like :func:`dialogue_engine.engine.check_project_fields`, these turn a JSON
body into checked fields or a 422 with JSON pointers, so route handlers stay
free of rules and the CLI and embedders share them.
"""

from __future__ import annotations

from typing import Any

from .domain.errors import FieldError, ValidationFailed, unexpected_members
from .domain.jsonvalue import JSON
from .domain.user import check_name

USER_FIELDS = ("first_name", "last_name")
"""What a user may change of itself (the email is read-only)."""


def check_user_fields(fields: JSON) -> dict[str, str]:
    """A user's changeable fields, ``{first_name, last_name}`` (a missing one: empty)."""
    if type(fields) is not dict:
        raise ValidationFailed([FieldError("type", "", "a user is an object")])
    unexpected = unexpected_members(fields, USER_FIELDS)
    if unexpected:
        raise ValidationFailed(unexpected)
    return {name: check_name(fields.get(name), f"/{name}") for name in USER_FIELDS}


def check_new_user(fields: JSON) -> dict[str, Any]:
    """``POST /users/``: ``email`` and ``password``, optionally ``first_name`` and ``last_name``
    (the email and password themselves are checked by :meth:`Accounts.register`)."""
    _check_members(fields, required=("email", "password"), optional=USER_FIELDS)
    assert type(fields) is dict
    return {
        "email": fields["email"],
        "password": fields["password"],
        **{name: check_name(fields.get(name), f"/{name}") for name in USER_FIELDS},
    }


def check_new_permission(fields: JSON) -> dict[str, Any]:
    """``POST /users/{id}/permissions/``: ``{type, properties: {project_id, dialogue_id}}``
    with the scope the type needs (checked by :func:`~.domain.user.check_grant`)."""
    _check_members(fields, required=("type",), optional=("properties",))
    assert type(fields) is dict
    scope = fields.get("properties", {})
    if type(scope) is not dict:
        raise ValidationFailed([FieldError("type", "/properties", "properties must be an object")])
    _check_members(scope, optional=("project_id", "dialogue_id"), at="/properties")
    return {
        "type": fields["type"],
        "project_id": scope.get("project_id"),
        "dialogue_id": scope.get("dialogue_id"),
    }


def _check_members(
    fields: JSON, *, required: tuple[str, ...] = (), optional: tuple[str, ...] = (), at: str = ""
) -> None:
    if type(fields) is not dict:
        raise ValidationFailed([FieldError("type", at, "the body must be an object")])
    errors = [
        FieldError("required", at, f"'{name}' is a required property")
        for name in required
        if name not in fields
    ]
    errors += unexpected_members(fields, (*required, *optional), at)
    if errors:
        raise ValidationFailed(errors)
