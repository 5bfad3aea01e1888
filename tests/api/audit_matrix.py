"""The auditor's endpoints in the permission matrix: each is a read of a dialogue
(``dialogue:read``) or, for the live feed, of whatever the caller may see (``user``).

The feed is asked with ``timeout=0`` (what exists now, then the end of the
stream), so the request completes in the test client.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dialogue_engine.api.routes import DIALOGUE

Send = Callable[[Any, str, dict[str, str]], Any]


def _get(query: str = "") -> Send:
    return lambda w, url, headers: w.client.get(url + query, headers=headers)


AUDIT_SAMPLES: dict[tuple[str, str], Send] = {
    ("GET", DIALOGUE + "/verify"): _get(),
    ("GET", DIALOGUE + "/revisions/{revision_id}/diff"): _get(),
    ("GET", DIALOGUE + "/blame"): _get(),
    ("GET", DIALOGUE + "/sequences/{sequence_id}/blocks/{block_id}/history"): _get(),
    ("GET", DIALOGUE + "/history"): _get(),
    ("GET", "/events"): _get("?after=0&timeout=0"),
}
