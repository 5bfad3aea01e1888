"""``GET /events``: Server-Sent Events of the revisions and releases the caller may see.

Each event's ``id`` is its notification id in the store's log. A client that
reconnects with ``Last-Event-ID`` (browsers' ``EventSource`` does so by
itself) continues right after it: notification ids grow in commit order, so
nothing is missed and nothing is sent twice. Without the header the stream
starts at ``?after=`` (``0``: the whole history), else at the log's end.

The stream polls the log on the app's worker threads (never blocking the
event loop) every :data:`POLL_SECONDS` while idle, sends a comment every
:data:`HEARTBEAT_SECONDS` so proxies keep it open, and ends after
``?timeout=`` seconds (default and at most :data:`MAX_SECONDS`; the server
may end it sooner, ``DIALOGUE_ENGINE_EVENTS_MAX_SECONDS``): the client
then reconnects with ``Last-Event-ID``, and is authenticated again, so a
revoked token or grant stops counting within that time. ``timeout=0`` sends
what has been recorded so far and ends: a catch-up for scripts. Starlette
cancels the stream as soon as the client disconnects.

Event types: ``revision`` (``data``: ``{type, project_id, dialogue_id,
revision}``, the revision as ``GET …/revisions/{id}`` shows it) and
``release`` (``{type, project_id, dialogue_id, release}``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from functools import partial

import orjson
from starlette.responses import Response, StreamingResponse

from ..audit import FeedItem, FeedPage
from ..domain.errors import FieldError, ValidationFailed
from . import shapes
from .requests import Call
from .settings import EVENTS_MAX_SECONDS
from .threads import WorkerPool

EVENT_STREAM = "text/event-stream"
POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 15.0
MAX_SECONDS = EVENTS_MAX_SECONDS
RETRY_MS = 1000
BATCH = 200


def stream_events(call: Call) -> Response:
    """Parse the starting point and the duration; the stream itself runs on the event loop."""
    after = _start(call)
    timeout = min(_timeout(call), call.request.app.state.events_max_seconds)
    workers: WorkerPool = call.request.app.state.workers
    feed = partial(call.engine.audit.feed, actor=call.actor, limit=BATCH)
    return StreamingResponse(
        _stream(feed, workers, after, time.monotonic() + timeout),
        media_type=EVENT_STREAM,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _stream(
    feed: partial[FeedPage], workers: WorkerPool, after: int, deadline: float
) -> AsyncIterator[bytes]:
    yield f"retry: {RETRY_MS}\n\n".encode()
    position = after
    quiet_since = time.monotonic()
    while True:
        page: FeedPage = await workers.run(feed, position)
        for item in page.items:
            yield encode(item)
        position = page.position
        now = time.monotonic()
        if page.items:
            quiet_since = now
        if page.more:
            continue
        if now >= deadline:
            return
        if now - quiet_since >= HEARTBEAT_SECONDS:
            quiet_since = now
            yield b": keep-alive\n\n"
        await asyncio.sleep(min(POLL_SECONDS, deadline - now))


def encode(item: FeedItem) -> bytes:
    """One SSE message; its ``data`` is one line of JSON."""
    data: dict[str, object] = {
        "type": item.kind,
        "project_id": item.project_id,
        "dialogue_id": item.dialogue_id,
    }
    if item.revision is not None:
        data["revision"] = shapes.revision(item.project_id, item.dialogue_id, item.revision)
    if item.release is not None:
        data["release"] = shapes.release(item.project_id, item.dialogue_id, item.release)
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (item.id, item.kind.encode(), orjson.dumps(data))


def _start(call: Call) -> int:
    header = call.request.headers.get("last-event-id")
    if header is not None:
        return _non_negative(header.strip(), "Last-Event-ID")
    raw = call.request.query_params.get("after")
    if raw is not None:
        return _non_negative(raw, "after")
    return call.engine.store.max_notification_id()


def _timeout(call: Call) -> int:
    raw = call.request.query_params.get("timeout")
    if raw is None:
        return MAX_SECONDS
    value = _non_negative(raw, "timeout")
    if value > MAX_SECONDS:
        raise _invalid("timeout", f"timeout must be at most {MAX_SECONDS} seconds")
    return value


def _non_negative(raw: str, name: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise _invalid(name, f"{name} must be a non-negative integer") from None
    if value < 0:
        raise _invalid(name, f"{name} must be a non-negative integer")
    return value


def _invalid(name: str, message: str) -> ValidationFailed:
    return ValidationFailed([FieldError("type", f"/{name}", message)], "Invalid query parameters")
