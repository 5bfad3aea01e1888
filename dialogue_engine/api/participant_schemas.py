"""OpenAPI pieces of the participant endpoints, merged by :mod:`.openapi`."""

from __future__ import annotations

from typing import Any

from ..domain.participants import STATUSES

_STRING = {"type": "string"}
_NULLABLE = {"type": ["string", "null"]}
_READ_ONLY = {"readOnly": True}
_FIELDS = {"address": _STRING, "name": _NULLABLE, "channel_id": _NULLABLE}
_CONTEXT = {
    "id": {**_STRING, **_READ_ONLY},
    "url": {**_STRING, **_READ_ONLY},
    "project_id": {**_STRING, **_READ_ONLY},
    "created": {"type": "integer", "readOnly": True, "description": "ms since the epoch"},
}


def _object(properties: dict[str, Any], required: tuple[str, ...] = (), **extra: Any) -> Any:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
        **extra,
    }


SCHEMAS: dict[str, Any] = {
    "NewParticipant": _object(_FIELDS, ("address",)),
    "ParticipantReplacement": _object(
        {**_FIELDS, **_CONTEXT},
        ("address",),
        description="Read-only members are ignored; left-out name and channel_id become null.",
    ),
    "Participant": _object({**_FIELDS, **_CONTEXT}, ("id", "url", "project_id", "address")),
    "NewEnrolment": _object({"participant_id": _STRING}, ("participant_id",)),
    "Enrolment": _object(
        {
            "url": _STRING,
            "project_id": _STRING,
            "dialogue_id": _STRING,
            "sequence_id": _STRING,
            "participant_id": _STRING,
            "status": {"enum": list(STATUSES)},
            "enrolled": {"type": "integer", "description": "ms since the epoch"},
        },
        ("participant_id", "status"),
    ),
}
ERRORS_BY_PERMISSION = {"project:write": ("401", "403", "404")}
