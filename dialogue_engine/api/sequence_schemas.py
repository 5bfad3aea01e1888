"""OpenAPI pieces of the sequence endpoints: schemas, query parameters, extra errors.

Kept beside the handlers of :mod:`.sequences` and merged into the document by
:mod:`.openapi`, so the shared generator only needs to ask this module.
"""

from __future__ import annotations

from typing import Any

from ..domain.paging import MAX_PAGE
from ..domain.schedule import CONVERSIONS
from ..domain.sequence_search import DISPLAY_STATUSES, MAX_PAGE_SIZE, ORDERINGS, STATUSES

SEARCH_PATH = "/sequences/search/"
WITH_ETAG = ("SequenceResource", "BlockResource", "Duplication")
"""Responses that carry the dialogue's revision as ``ETag``."""

_STRING = {"type": "string"}
_SYMBOL = {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"}
_READ_ONLY = {"readOnly": True}
_ISO = {"type": "string", "description": "ISO-8601; without an offset it is UTC."}
_CONTEXT = {
    "url": {**_STRING, **_READ_ONLY},
    "project_id": {**_STRING, **_READ_ONLY},
    "dialogue_id": {**_STRING, **_READ_ONLY},
    "revision_id": {**_STRING, **_READ_ONLY},
}
_SEQUENCE_FIELDS = {
    "id": _SYMBOL,
    "title": _STRING,
    "description": _STRING,
    "visibility": {"enum": ["private", "public"]},
    "blocks": {"type": "array", "items": {"$ref": "#/components/schemas/Block"}},
}
_BLOCK_FIELDS = {
    "id": _SYMBOL,
    "type": _SYMBOL,
    "title": _STRING,
    "properties": {"type": "object", "description": "Fits the block type's schema."},
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
    "NewSequence": _object(
        _SEQUENCE_FIELDS,
        ("title",),
        description="Without an id, one is made from the title; blocks default to [].",
    ),
    "SequenceReplacement": _object(
        {**_SEQUENCE_FIELDS, **_CONTEXT},
        ("title",),
        description="Left-out blocks are kept; read-only members are ignored; "
        "an id must be the one in the URL.",
    ),
    "SequenceResource": _object({**_SEQUENCE_FIELDS, **_CONTEXT}, ("id", "title", "blocks")),
    "NewBlock": _object(
        _BLOCK_FIELDS, ("type",), description="Without an id, one is made from title or type."
    ),
    "BlockReplacement": _object(
        {**_BLOCK_FIELDS, **_CONTEXT, "sequence_id": {**_STRING, **_READ_ONLY}},
        ("type",),
        description="Read-only members are ignored; an id must be the one in the URL.",
    ),
    "BlockResource": _object(
        {**_BLOCK_FIELDS, **_CONTEXT, "sequence_id": {**_STRING, **_READ_ONLY}}, ("id", "type")
    ),
    "DuplicateBlocks": _object(
        {
            "duplicate-to-sequence-id": _SYMBOL,
            "duplicate-to-dialogue-id": {
                **_STRING,
                "description": "Another dialogue of the project (default: this one).",
            },
            "date-conversion": {"enum": list(CONVERSIONS), "default": "none"},
            "new-start-date": {
                **_STRING,
                "description": "Only with new-start-date, e.g. 2013-03-14 09:30 "
                "(without an offset: the earliest block's).",
            },
        },
        ("duplicate-to-sequence-id",),
    ),
    "Duplication": _object(
        {
            "sequence": {"$ref": "#/components/schemas/SequenceResource"},
            "blocks": {
                "type": "array",
                "items": _object({"from": _SYMBOL, "to": _SYMBOL}, ("from", "to")),
            },
        },
        ("sequence", "blocks"),
    ),
    "SequenceSearchResult": _object(
        {
            "id": _SYMBOL,
            "url": _STRING,
            "project_id": _STRING,
            "dialogue_id": _STRING,
            "created_at": _ISO,
            "updated_at": _ISO,
            "title": _STRING,
            "description": {"type": ["string", "null"]},
            "folder": _object(
                {"id": _STRING, "title": _STRING, "project_id": _STRING},
                ("id", "title", "project_id"),
            ),
            "status": {"enum": list(STATUSES)},
            "display_status": {"enum": list(DISPLAY_STATUSES)},
            **{
                f"number_users_{state}": {"type": "integer", "minimum": 0}
                for state in ("active", "paused", "inactive", "finished")
            },
            "number_active_steps": {"type": "integer", "minimum": 0},
            "step_info": {
                "type": "array",
                "items": _object(
                    {"id": _SYMBOL, "type": _SYMBOL, "title": {"type": ["string", "null"]}},
                    ("id", "type", "title"),
                ),
            },
        },
        ("id", "created_at", "updated_at", "title", "folder", "status", "display_status"),
    ),
    "SequenceSearchPage": _object(
        {
            "count": {"type": "integer", "minimum": 0},
            "next": {"type": ["string", "null"], "format": "uri"},
            "previous": {"type": ["string", "null"], "format": "uri"},
            "results": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/SequenceSearchResult"},
            },
        },
        ("count", "next", "previous", "results"),
    ),
}

_NUMBERED = {"type": "string", "description": "A number or the word source 001 answers with."}
QUERY: dict[str, dict[str, Any]] = {
    "id": {**_SYMBOL, "description": "The sequence's id (exact)."},
    "title": {**_STRING, "description": "Contained in the title, any case."},
    "description": {**_STRING, "description": "Contained in the description, any case."},
    "status": {**_NUMBERED, "enum": ["0", "1", "2", *STATUSES]},
    "display_status": {**_NUMBERED, "enum": ["0", "1", *DISPLAY_STATUSES]},
    "created_at": _ISO,
    **{f"created_at.{op}": _ISO for op in ("gt", "gte", "lt", "lte")},
    "ordering": {"enum": list(ORDERINGS), "default": "-created_at"},
    "page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
    "page_size": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 30},
}
"""The search's query parameters (its ``ordering`` differs from the revision lists')."""


def query_schema(path: str, name: str) -> dict[str, Any] | None:
    """The schema of query parameter ``name`` on ``path`` when this module defines it."""
    return QUERY.get(name) if path == SEARCH_PATH else None


def takes_if_match(method: str, path: str) -> bool:
    """Every write of a sequence or block checks ``If-Match`` against the dialogue.

    Enrolments and submissions under a sequence's path change participants and
    runs, not the dialogue: they take no ``If-Match``.
    """
    if "/participants/" in path or path.endswith("/submit/"):
        return False
    return "/dialogues/{dialogue_id}/sequences/" in path and method != "GET"


def error_codes(method: str, path: str, generic: set[str]) -> set[str]:
    """The statuses of a sequence endpoint, from those the generic rules give it."""
    codes = set(generic)
    if path == SEARCH_PATH:
        # Every bad query parameter of the search is a 400 (source 001), never a 422.
        codes = (codes - {"422"}) | {"400"}
    if method == "DELETE" and path.endswith("/sequences/{sequence_id}"):
        codes.add("409")
    return codes
