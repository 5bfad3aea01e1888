"""Canonical JSON for stored events: sorted keys, no NaN, one encoding.

Event payloads are plain JSON, so a hash over the stored bytes is stable (the
audit chain relies on it). The only typed values are the library's own
bookkeeping at the top level of an event or of a snapshot's ``state``
(timestamps, ids); they are tagged the way eventsourcing's JSONTranscoder tags
them, so stores stay readable by the stock transcoder. orjson encodes a
330 KB snapshot ~15x faster than the standard library.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Transcoder

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


class CanonicalJSONTranscoder(Transcoder):
    def encode(self, obj: Any) -> bytes:
        state = {key: _tag(value) for key, value in obj.items()}
        inner = state.get("state")
        if type(inner) is dict:
            state["state"] = {key: _tag(value) for key, value in inner.items()}
        return orjson.dumps(state, option=_OPTIONS, default=_refuse)

    def decode(self, data: bytes) -> Any:
        state = orjson.loads(data)
        for key, value in state.items():
            if type(value) is dict:
                state[key] = _untag(value)
        inner = state.get("state")
        if type(inner) is dict:
            for key, value in inner.items():
                if type(value) is dict:
                    inner[key] = _untag(value)
        return state


def _tag(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"_type_": "datetime_iso", "_data_": value.isoformat()}
    if isinstance(value, UUID):
        return {"_type_": "uuid_hex", "_data_": value.hex}
    return value


def _untag(value: dict[str, Any]) -> Any:
    if len(value) == 2 and "_type_" in value and "_data_" in value:
        if value["_type_"] == "datetime_iso":
            return datetime.fromisoformat(value["_data_"])
        if value["_type_"] == "uuid_hex":
            return UUID(value["_data_"])
    return value


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not a plain JSON value")
