"""``/healthz``, ``/block-types/`` and ``/openapi.json``."""

from __future__ import annotations

from starlette.responses import Response

from . import shapes
from .requests import Call
from .responses import JSONBytesResponse


def healthz(call: Call) -> Response:
    """200 while the store answers (503 ``service_unavailable`` otherwise)."""
    position = call.engine.store.max_notification_id()
    return JSONBytesResponse({"status": "ok", "notification_id": position})


def list_block_types(call: Call) -> Response:
    return JSONBytesResponse([shapes.block_type(t) for t in call.engine.block_types])


def openapi(call: Call) -> Response:
    return JSONBytesResponse(call.request.app.state.openapi)
