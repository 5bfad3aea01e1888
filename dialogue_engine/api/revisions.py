"""A dialogue's revisions: list, create (one or a bulk, atomic), read, and replay.

A POST that records nothing (its patch leaves the description as it is, or
it reverts to the current description) answers 204 for a single revision and
200 with ``[]`` for a bulk; a bulk answers only the revisions it recorded.
Every answer carries the dialogue's current revision as ``ETag``.
"""

from __future__ import annotations

from starlette.responses import Response

from ..domain.dialogue import Revision
from . import shapes
from .dialogues import dialogue_response
from .pagination import paged
from .requests import Call
from .responses import JSONBytesResponse


def list_revisions(call: Call) -> Response:
    page = call.engine.list_revisions(
        call.project_id, call.dialogue_id, actor=call.actor, ordering=call.ordering(), **call.page()
    )
    return paged(call.request.url, page, lambda r: _shape(call, r))


def create_revisions(call: Call) -> Response:
    body = call.revisions()
    created = call.engine.add_revisions(
        call.project_id,
        call.dialogue_id,
        body,
        actor=call.actor,
        expected_revision=call.expected_revision(),
    )
    return _created(call, created, bulk=type(body) is list)


def get_revision(call: Call) -> Response:
    revision = call.engine.get_revision(
        call.project_id, call.dialogue_id, call.param("revision_id"), actor=call.actor
    )
    return JSONBytesResponse(_shape(call, revision))


def get_revision_dialogue(call: Call) -> Response:
    return dialogue_response(
        call,
        call.engine.get_revision_dialogue(
            call.project_id, call.dialogue_id, call.param("revision_id"), actor=call.actor
        ),
    )


def _created(call: Call, created: list[Revision], *, bulk: bool) -> Response:
    if not created:
        current = call.engine.get_dialogue(call.project_id, call.dialogue_id, actor=call.actor)
        etag = {"ETag": f'"{current.revision_id}"'}
        return JSONBytesResponse([], 200, headers=etag) if bulk else Response(None, 204, etag)
    last = created[-1]
    headers = {
        "Location": shapes.revision_url(call.project_id, call.dialogue_id, last.id),
        "ETag": f'"{last.id}"',
    }
    body = [_shape(call, r) for r in created] if bulk else _shape(call, last)
    return JSONBytesResponse(body, 201, headers=headers)


def _shape(call: Call, revision: Revision) -> dict[str, object]:
    return shapes.revision(call.project_id, call.dialogue_id, revision)
