"""``/channels/``, ``/channels/{id}``, ``/projects/{id}/channels/``, ``/providers/`` and
``/providers/{id}``; ``POST /providers/`` and ``POST /channels/`` are this API's extensions
(source 002 has no way to create either).

Access follows source 002's wording; the rules live in :mod:`dialogue_engine.channels`.
"""

from __future__ import annotations

from starlette.responses import Response

from ..channels import check_channel_fields, check_new_channel
from . import directoryshapes as shapes
from .accounts import _object
from .pagination import paged
from .requests import Call, drop_read_only, reject_read_only
from .responses import JSONBytesResponse


def list_channels(call: Call) -> Response:
    page = call.engine.channels.list_channels(actor=call.actor, **call.page())
    return paged(call.request.url, page, shapes.channel)


def create_channel(call: Call) -> Response:
    fields = check_new_channel(reject_read_only(call.json(), shapes.NEW_CHANNEL_READ_ONLY))
    channel = call.engine.channels.create_channel(**fields, actor=call.actor)
    url = shapes.channel_url(channel.id)
    return JSONBytesResponse(shapes.channel(channel), 201, headers={"Location": url})


def get_channel(call: Call) -> Response:
    channel = call.engine.channels.get_channel(call.param("channel_id"), actor=call.actor)
    return JSONBytesResponse(shapes.channel(channel))


def replace_channel(call: Call) -> Response:
    fields = check_channel_fields(drop_read_only(call.json(), shapes.CHANNEL_READ_ONLY))
    channels = call.engine.channels
    channel = channels.replace_channel(call.param("channel_id"), fields, actor=call.actor)
    return JSONBytesResponse(shapes.channel(channel))


def patch_channel(call: Call) -> Response:
    patch = call.patch(shapes.CHANNEL_READ_ONLY)
    channel = call.engine.channels.patch_channel(call.param("channel_id"), patch, actor=call.actor)
    return JSONBytesResponse(shapes.channel(channel))


def project_channels(call: Call) -> Response:
    found = call.engine.channels.project_channels(call.project_id, actor=call.actor)
    return JSONBytesResponse([shapes.channel(c) for c in found])


def list_providers(call: Call) -> Response:
    page = call.engine.channels.list_providers(actor=call.actor, **call.page())
    return paged(call.request.url, page, shapes.provider_summary)


def create_provider(call: Call) -> Response:
    body = _object(reject_read_only(call.json(), shapes.PROVIDER_READ_ONLY), required=("title",))
    provider = call.engine.channels.create_provider(body["title"], actor=call.actor)
    url = shapes.provider_url(provider.id)
    detail = call.engine.channels.get_provider(provider.id, actor=call.actor)
    return JSONBytesResponse(shapes.provider(detail), 201, headers={"Location": url})


def get_provider(call: Call) -> Response:
    provider = call.engine.channels.get_provider(call.param("provider_id"), actor=call.actor)
    return JSONBytesResponse(shapes.provider(provider))
