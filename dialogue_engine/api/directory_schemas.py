"""OpenAPI component schemas of users, password flows, permissions, channels and providers.

Field names as in source 002's data structures. ``POST /providers/`` and
``POST /channels/`` are extensions (source 002 cannot create either); their
bodies are ``NewProvider`` and ``NewChannel``.
"""

from __future__ import annotations

from typing import Any

from ..domain.permissions import PERMISSION_TYPES

_STRING = {"type": "string"}
_BOOLEAN = {"type": "boolean"}
_NULLABLE_ID = {"type": ["string", "null"], "description": "null: no project"}

RATE_LIMITED = frozenset({("POST", "/auth/tokens"), ("POST", "/user/password-changes/")})
"""Endpoints answering 429 after too many failed attempts for one email."""


def _object(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


PERMISSION_FIELDS: dict[str, Any] = {
    "type": {"enum": list(PERMISSION_TYPES)},
    "properties": _object({"project_id": _STRING, "dialogue_id": _STRING}),
}
"""A permission's writable members; the types come from the domain's one list."""


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_USER = {
    "id": _STRING,
    "url": _STRING,
    "email": {"type": "string", "format": "email"},
    "first_name": _STRING,
    "last_name": _STRING,
}
_CHANNEL = {
    "id": _STRING,
    "url": _STRING,
    "project_id": _NULLABLE_ID,
    "title": _STRING,
    "address": _STRING,
    "type": _STRING,
    "is_available": _BOOLEAN,
}
_PROVIDER = {"id": _STRING, "url": _STRING, "title": _STRING}

DIRECTORY_SCHEMAS: dict[str, Any] = {
    "PasswordChange": _object(
        {"old_password": _STRING, "new_password": {"type": "string", "minLength": 8}},
        ("old_password", "new_password"),
    ),
    "PasswordReset": _object({"email": {"type": "string", "format": "email"}}, ("email",)),
    "PasswordConfirmation": _object(
        {
            "token": {**_STRING, "description": "The token mailed for the reset."},
            "password": {"type": "string", "minLength": 8},
        },
        ("token", "password"),
    ),
    "UserSummary": _object(_USER),
    "NewUser": _object(
        {
            "email": {"type": "string", "format": "email"},
            "password": {"type": "string", "minLength": 8},
            "first_name": _STRING,
            "last_name": _STRING,
        },
        ("email", "password"),
    ),
    "UserReplacement": {
        "description": "Read-only members (id, url, email, permissions) are accepted and "
        "ignored: the email cannot be changed.",
        **_object({**_USER, "permissions": {"type": "array"}}),
    },
    "NewPermission": _object(PERMISSION_FIELDS, ("type",)),
    "ProviderSummary": _object(_PROVIDER),
    "Provider": _object(
        {**_PROVIDER, "channels": {"type": "array", "items": _ref("ChannelSummary")}}
    ),
    "NewProvider": _object({"title": {"type": "string", "minLength": 1}}, ("title",)),
    "ChannelSummary": _object(_CHANNEL),
    "Channel": _object({**_CHANNEL, "provider": _ref("ProviderSummary")}),
    "ChannelReplacement": {
        "description": "Only project_id is written; the read-only members are accepted "
        "and ignored. A left-out project_id is null.",
        **_object({**_CHANNEL, "provider": {"type": "object"}}),
    },
    "NewChannel": _object(
        {
            "title": {"type": "string", "minLength": 1},
            "address": {"type": "string", "minLength": 1},
            "type": {"type": "string", "pattern": "^[a-z][a-z0-9_-]{0,49}$"},
            "provider": {
                "description": "The provider's id (or its summary with the id).",
                "oneOf": [_STRING, _object({"id": _STRING, "url": _STRING, "title": _STRING})],
            },
            "is_available": {"type": "boolean", "default": True},
        },
        ("title", "address", "type", "provider"),
    ),
}

ERRORS_BY_PERMISSION = {
    "admin": ("401", "403"),
    "user:self": ("401", "404"),
    "permissions:read": ("401", "404"),
    "channel:read": ("401", "404"),
    "provider:read": ("401", "404"),
}
