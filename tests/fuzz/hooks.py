"""Schemathesis hooks for the fuzz run (loaded through ``SCHEMATHESIS_HOOKS``).

``GET /events`` is a Server-Sent Events stream that stays open for ``timeout``
seconds (up to 300): each such draw would stall the run for minutes while
testing nothing a one-second stream does not. Values are clamped, not
removed, so the parameter is still fuzzed (types, negatives, 0, 1).
"""

from __future__ import annotations

from typing import Any

import schemathesis

LONGEST_STREAM = 1


@schemathesis.hook("map_query").apply_to(path="/events")
def short_event_streams(context: schemathesis.HookContext, query: Any) -> Any:
    """Without ``timeout`` the stream lasts its default 300 s: give one of 1 s."""
    if query is None:
        query = {}
    if isinstance(query, dict):
        timeout = query.get("timeout")
        if timeout is None:
            query["timeout"] = LONGEST_STREAM
        elif type(timeout) is int:
            query["timeout"] = min(timeout, LONGEST_STREAM)
    return query
