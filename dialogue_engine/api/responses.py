"""JSON responses rendered by orjson, and bodies spliced from cached bytes.

A dialogue's description is kept as canonical JSON bytes by the engine;
:func:`splice_object` puts the response's extra members in front of those
bytes without decoding or re-encoding the description.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse, Response


class JSONBytesResponse(JSONResponse):
    """``JSONResponse`` rendered with orjson (~15x faster than the standard library)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class RawJSONResponse(Response):
    """A body that is already JSON bytes."""

    media_type = "application/json"


def splice_object(members: dict[str, Any], encoded_object: bytes) -> bytes:
    """``members`` followed by the members of an encoded JSON object, as one object.

    ``encoded_object`` must be a non-empty object whose keys differ from ``members``.
    """
    head = orjson.dumps(members)
    return b"".join((head[:-1], b",", memoryview(encoded_object)[1:]))
