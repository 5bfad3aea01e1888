"""``/projects/{project_id}/dialogues/`` and one dialogue.

A dialogue response is the cached description bytes with the caller's flags
spliced in front, and an ``ETag`` naming its revision; ``If-Match`` on PUT and
PATCH is passed to the engine, which answers 412 when it is stale.
"""

from __future__ import annotations

from typing import TypedDict

from starlette.responses import Response

from ..engine import DialogueRecord
from . import shapes
from .cache import BodyCache
from .pagination import paged
from .requests import Call, drop_read_only, reject_read_only
from .responses import RawJSONResponse

FILTERS = ("is_archived", "is_published", "has_changes", "can_view", "can_edit")


class Filters(TypedDict):
    is_archived: bool | None
    is_published: bool | None
    has_changes: bool | None
    can_view: bool | None
    can_edit: bool | None


def list_dialogues(call: Call) -> Response:
    page = call.engine.list_dialogues(
        call.project_id, actor=call.actor, **_filters(call), **call.page()
    )
    return paged(call.request.url, page, shapes.dialogue_summary)


def create_dialogue(call: Call) -> Response:
    body = reject_read_only(call.json(), shapes.DIALOGUE_READ_ONLY)
    dialogue = call.engine.create_dialogue(call.project_id, body, actor=call.actor)
    url = shapes.dialogue_url(dialogue.project_id, dialogue.id)
    return dialogue_response(call, dialogue, 201, {"Location": url})


def get_dialogue(call: Call) -> Response:
    """The dialogue now, or as it stood at ``?as_of=<ms>`` (see ``engine.audit.dialogue_as_of``)."""
    as_of = call.integer("as_of")
    if as_of is not None:
        return dialogue_response(
            call,
            call.engine.audit.dialogue_as_of(
                call.project_id, call.dialogue_id, as_of, actor=call.actor
            ),
        )
    return dialogue_response(
        call, call.engine.get_dialogue(call.project_id, call.dialogue_id, actor=call.actor)
    )


def replace_dialogue(call: Call) -> Response:
    body = drop_read_only(call.json(), shapes.DIALOGUE_READ_ONLY)
    dialogue = call.engine.replace_dialogue(
        call.project_id,
        call.dialogue_id,
        body,
        actor=call.actor,
        expected_revision=call.expected_revision(),
    )
    return dialogue_response(call, dialogue)


def patch_dialogue(call: Call) -> Response:
    patch = call.patch(shapes.DIALOGUE_READ_ONLY)
    dialogue = call.engine.edit_dialogue(
        call.project_id,
        call.dialogue_id,
        patch,
        actor=call.actor,
        expected_revision=call.expected_revision(),
    )
    return dialogue_response(call, dialogue)


def _filters(call: Call) -> Filters:
    return {
        "is_archived": call.flag("is_archived"),
        "is_published": call.flag("is_published"),
        "has_changes": call.flag("has_changes"),
        "can_view": call.flag("can_view"),
        "can_edit": call.flag("can_edit"),
    }


def dialogue_response(
    call: Call, dialogue: DialogueRecord, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """The dialogue's bytes (reused while revision and flags are the same) with its ETag."""
    bodies: BodyCache = call.request.app.state.bodies
    key = (
        dialogue.project_id,
        dialogue.revision_id,
        dialogue.is_published,
        dialogue.has_changes,
        dialogue.can_view,
        dialogue.can_edit,
    )
    return RawJSONResponse(
        bodies.get(key, lambda: shapes.dialogue_bytes(dialogue)),
        status,
        headers={"ETag": f'"{dialogue.revision_id}"', **(headers or {})},
    )
