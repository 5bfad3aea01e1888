"""OpenAPI pieces of the participant, run and outbox endpoints, merged by :mod:`.openapi`."""

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
_MESSAGE = {
    "type": "object",
    "description": "One outbound message: its block's type (message, email, question, "
    "freetext) and content; templates rendered at the versions the release pinned.",
    "properties": {
        "id": _STRING,
        "run_id": _STRING,
        "project_id": _STRING,
        "participant_id": _STRING,
        "channel_id": _NULLABLE,
        "address": _STRING,
        "sequence_id": _STRING,
        "block_id": _STRING,
        "type": _STRING,
        "subject": _STRING,
        "text": _NULLABLE,
        "html": _STRING,
        "choices": {"type": "array", "items": {"type": "object"}},
        "send_at": _STRING,
    },
    "required": ["id", "run_id", "participant_id", "block_id", "type"],
}
SCHEMAS.update(
    {
        "Submission": _object(
            {"runs": {"type": "array", "items": _STRING}},
            ("runs",),
            description="The ids of the runs started, one per active participant.",
        ),
        "Reply": _object({"text": _STRING}, ("text",)),
        "OutboundMessage": _MESSAGE,
        "Run": _object(
            {
                "id": _STRING,
                "url": _STRING,
                "project_id": _STRING,
                "dialogue_id": _STRING,
                "sequence_id": _STRING,
                "participant_id": _STRING,
                "release_id": _STRING,
                "status": {"enum": ["waiting", "finished", "inactive"]},
                "position": {
                    "type": ["object", "null"],
                    "description": "{sequence_id, block_id, index} of the block awaiting a reply.",
                },
                "answers": {"type": "array", "items": {"type": "object"}},
                "messages": {"type": "array", "items": _MESSAGE},
                "created": {"type": "integer"},
            },
            ("id", "status"),
        ),
    }
)
QUERY = {
    "participant_id": {"type": "string", "description": "Messages to this participant."},
    "channel_id": {"type": "string", "description": "Messages through this channel."},
}
ERRORS_BY_PERMISSION = {
    "project:write": ("401", "403", "404"),
    "dialogue:execute": ("401", "403", "404", "409"),
    "run:execute": ("401", "403", "404", "409"),
}
