"""OpenAPI component schemas and query parameters of the auditor's endpoints.

Merged into the document by :mod:`.openapi`; kept beside the handlers'
owners (:mod:`.audit`, :mod:`.events`, :mod:`.history`).
"""

from __future__ import annotations

from typing import Any

_STRING = {"type": "string"}
_INTEGER = {"type": "integer"}
_MS = {"type": "integer", "description": "Milliseconds since the Unix epoch."}
_HASH = {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "SHA-256, hex."}


def _object(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required or properties),
        "additionalProperties": False,
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_CHAIN = _object(
    {
        "aggregate": {"enum": ["dialogue", "releases"]},
        "aggregate_id": _STRING,
        "events": _INTEGER,
        "head": {**_HASH, "description": "The hash of the last event (64 zeros: none)."},
        "intact": {"type": "boolean"},
        "broken": {
            "oneOf": [
                {"type": "null"},
                _object(
                    {"version": _INTEGER, "expected": _HASH, "found": {"type": ["string", "null"]}}
                ),
            ],
            "description": "The first event whose stored hash is not what its content gives.",
        },
        "snapshots": {**_INTEGER, "description": "Snapshots compared with the events."},
        "bad_snapshots": {
            "type": "array",
            "items": _INTEGER,
            "description": "Versions whose snapshot differs from the aggregate its events give.",
        },
    }
)
_ADDED = {**_ref("RevisionStamp"), "description": "The revision that added it."}
_CHANGED = {**_ref("RevisionStamp"), "description": "The revision that last changed it."}

SCHEMAS: dict[str, Any] = {
    "RevisionStamp": _object(
        {
            "id": _STRING,
            "url": _STRING,
            "number": {"type": "integer", "minimum": 1},
            "user_id": _STRING,
            "created": _MS,
        }
    ),
    "ChainVerification": _object(
        {
            "dialogue_id": _STRING,
            "revision_number": _INTEGER,
            "intact": {"type": "boolean"},
            "chains": {"type": "array", "items": _CHAIN},
        }
    ),
    "Blame": _object(
        {
            "dialogue_id": _STRING,
            "revision_id": _STRING,
            "revision_number": _INTEGER,
            "title": _object({"value": _STRING, "revision": _CHANGED}),
            "sequences": {
                "type": "array",
                "items": _object(
                    {
                        "id": _STRING,
                        "title": _STRING,
                        "revision": _CHANGED,
                        "added": _ADDED,
                        "blocks": {
                            "type": "array",
                            "items": _object(
                                {
                                    "id": _STRING,
                                    "type": _STRING,
                                    "revision": _CHANGED,
                                    "added": _ADDED,
                                }
                            ),
                        },
                    }
                ),
            },
        }
    ),
    "BlockHistoryEntry": _object(
        {
            "revision": _ref("RevisionStamp"),
            "change": {"enum": ["added", "changed", "removed"]},
            "block": {
                "oneOf": [_ref("Block"), {"type": "null"}],
                "description": "The block after the revision (null: removed).",
            },
        }
    ),
    "HtmlPage": {"type": "string", "description": "An HTML document."},
    "EventStream": {
        "type": "object",
        "description": "One event of the text/event-stream (as OpenAPI 3.2's itemSchema "
        "reads it): 'revision' and 'release' events whose id is a notification id; data is "
        "one line of JSON {type, project_id, dialogue_id, revision | release}. Reconnect "
        "with Last-Event-ID to continue after an event.",
        "properties": {
            "id": {"type": "string", "pattern": "^[0-9]+$"},
            "event": {"enum": ["revision", "release"]},
            "data": {"type": "string", "contentMediaType": "application/json"},
            "retry": {"type": "integer", "minimum": 0},
        },
    },
}

QUERY: dict[str, dict[str, Any]] = {
    "as_of": {
        **_MS,
        "minimum": 0,
        "description": "The description as it stood then: the last revision n such that "
        "revisions 1..n were all created at or before as_of.",
    },
    "to": {**_STRING, "description": "A revision id (default: the current revision)."},
    "revision": {"type": "integer", "minimum": 1, "description": "The revision shown."},
    "access_token": {
        **_STRING,
        "description": "A bearer token (RFC 6750), for browsers: moved into a cookie at once.",
    },
    "after": {
        "type": "integer",
        "minimum": 0,
        "description": "Start after this notification id (default: now); Last-Event-ID wins.",
    },
    "timeout": {
        "type": "integer",
        "minimum": 0,
        "maximum": 300,
        "default": 300,
        "description": "End the stream after this many seconds (0: what exists now).",
    },
}
