"""The auditor's JSON endpoints: verify one dialogue, diff two revisions, blame, block history.

Handlers parse and call :mod:`dialogue_engine.audit`; the shapes live here
with them. A revision is named by ``{id, url, number, user_id, created}``
wherever blame or a history points at one.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ..audit import DialogueBlame, RevisionStamp
from ..domain.errors import FieldError, ValidationFailed
from ..eventstore.ledger import ChainCheck
from .pagination import paged
from .requests import JSON_PATCH, Call
from .responses import JSONBytesResponse
from .shapes import revision_url


def verify_dialogue(call: Call) -> Response:
    check = call.engine.audit.verify_dialogue(call.project_id, call.dialogue_id, actor=call.actor)
    chains = [_chain("dialogue", check.dialogue)]
    if check.releases is not None:
        chains.append(_chain("releases", check.releases))
    return JSONBytesResponse(
        {
            "dialogue_id": check.dialogue_id,
            "revision_number": check.revision_number,
            "intact": check.intact,
            "chains": chains,
        }
    )


def diff_revisions(call: Call) -> Response:
    diff = call.engine.audit.diff(
        call.project_id,
        call.dialogue_id,
        call.param("revision_id"),
        _optional_string(call, "to"),
        actor=call.actor,
    )
    headers = {
        "X-From-Revision": diff.from_revision.id,
        "X-To-Revision": diff.to_revision.id,
    }
    return JSONBytesResponse(diff.patch, headers=headers, media_type=JSON_PATCH)


def blame(call: Call) -> Response:
    found = call.engine.audit.blame(call.project_id, call.dialogue_id, actor=call.actor)
    return JSONBytesResponse(_blame(call, found))


def block_history(call: Call) -> Response:
    page = call.engine.audit.block_history(
        call.project_id,
        call.dialogue_id,
        call.param("sequence_id"),
        call.param("block_id"),
        actor=call.actor,
        **call.page(),
    )
    return paged(
        call.request.url,
        page,
        lambda entry: {
            "revision": _stamp(call, entry.revision),
            "change": entry.change,
            "block": entry.block,
        },
    )


def _chain(kind: str, check: ChainCheck) -> dict[str, Any]:
    broken = check.broken
    return {
        "aggregate": kind,
        "aggregate_id": check.aggregate_id,
        "events": check.events,
        "head": check.head,
        "intact": check.intact,
        "broken": None
        if broken is None
        else {"version": broken.version, "expected": broken.expected, "found": broken.found},
        "snapshots": check.snapshots,
        "bad_snapshots": list(check.bad_snapshots),
    }


def _blame(call: Call, found: DialogueBlame) -> dict[str, Any]:
    return {
        "dialogue_id": found.dialogue_id,
        "revision_id": found.revision_id,
        "revision_number": found.revision_number,
        "title": {"value": found.title, "revision": _stamp(call, found.title_changed)},
        "sequences": [
            {
                "id": sequence.id,
                "title": sequence.title,
                "revision": _stamp(call, sequence.changed),
                "added": _stamp(call, sequence.added),
                "blocks": [
                    {
                        "id": block.id,
                        "type": block.type,
                        "revision": _stamp(call, block.changed),
                        "added": _stamp(call, block.added),
                    }
                    for block in sequence.blocks
                ],
            }
            for sequence in found.sequences
        ],
    }


def _stamp(call: Call, stamp: RevisionStamp) -> dict[str, Any]:
    return {
        "id": stamp.id,
        "url": revision_url(call.project_id, call.dialogue_id, stamp.id),
        "number": stamp.number,
        "user_id": stamp.user_id,
        "created": stamp.created,
    }


def _optional_string(call: Call, name: str) -> str | None:
    value = call.request.query_params.get(name)
    if value is not None and not value:
        raise ValidationFailed(
            [FieldError("minLength", f"/{name}", f"{name} must not be empty")],
            "Invalid query parameters",
        )
    return value
