"""A dialogue's releases: list, publish a revision, read one (``latest`` too) and its dialogue."""

from __future__ import annotations

from starlette.responses import Response

from ..domain.errors import FieldError, ValidationFailed, unexpected_members
from ..engine import ReleaseRecord
from . import shapes
from .dialogues import dialogue_response
from .pagination import paged
from .requests import Call, reject_read_only
from .responses import JSONBytesResponse


def list_releases(call: Call) -> Response:
    page = call.engine.list_releases(
        call.project_id, call.dialogue_id, actor=call.actor, ordering=call.ordering(), **call.page()
    )
    return paged(call.request.url, page, lambda r: _shape(call, r))


def create_release(call: Call) -> Response:
    body = _release_body(reject_read_only(call.json(), shapes.RELEASE_READ_ONLY))
    release = call.engine.create_release(
        call.project_id, call.dialogue_id, body["revision_id"], actor=call.actor
    )
    url = shapes.release_url(call.project_id, call.dialogue_id, release.id)
    return JSONBytesResponse(_shape(call, release), 201, headers={"Location": url})


def get_release(call: Call) -> Response:
    release = call.engine.get_release(
        call.project_id, call.dialogue_id, call.param("release_id"), actor=call.actor
    )
    return JSONBytesResponse(_shape(call, release))


def get_release_dialogue(call: Call) -> Response:
    return dialogue_response(
        call,
        call.engine.get_release_dialogue(
            call.project_id, call.dialogue_id, call.param("release_id"), actor=call.actor
        ),
    )


def _release_body(body: object) -> dict[str, str]:
    """``{"revision_id": "..."}`` and nothing else."""
    if type(body) is not dict:
        raise ValidationFailed([FieldError("type", "", "a release is an object")])
    errors = unexpected_members(body, {"revision_id"})
    if type(body.get("revision_id")) is not str:
        errors.append(FieldError("required", "/revision_id", "revision_id must be a string"))
    if errors:
        raise ValidationFailed(errors)
    return body


def _shape(call: Call, release: ReleaseRecord) -> dict[str, object]:
    return shapes.release(call.project_id, call.dialogue_id, release)
