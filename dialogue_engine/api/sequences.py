"""Sequences and blocks of a dialogue (source 000's shape), and source 001's search.

Sub-resources of ``/projects/{p}/dialogues/{d}/``: each write is one edit
revision of the dialogue, so every response carries the dialogue's revision
as ``ETag`` and ``If-Match`` works as on the dialogue itself. Read-only
members are ignored on PUT and rejected on POST and PATCH, as for dialogues.

``GET /sequences/search/`` answers source 001's ``{count, next, previous,
results}`` page, with full URLs and statuses in words.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import URL
from starlette.responses import Response

from ..domain.paging import Page
from ..domain.sequence_search import display_status_name, iso_from_ms, status_name
from ..projections.sequences import SequenceRow
from ..sequences import BlockRecord, DuplicationRecord, SequenceRecord
from .pagination import paged
from .requests import Call, drop_read_only, reject_read_only
from .responses import JSONBytesResponse
from .shapes import dialogue_url

SEQUENCE_READ_ONLY = frozenset({"url", "project_id", "dialogue_id", "revision_id"})
BLOCK_READ_ONLY = frozenset({*SEQUENCE_READ_ONLY, "sequence_id"})
SEARCH_QUERY = (
    "id",
    "title",
    "description",
    "status",
    "display_status",
    "created_at",
    "created_at.gt",
    "created_at.gte",
    "created_at.lt",
    "created_at.lte",
    "ordering",
    "page",
    "page_size",
)


# Search


def search_sequences(call: Call) -> Response:
    page = call.engine.sequences.search(dict(call.request.query_params), actor=call.actor)
    return JSONBytesResponse(search_page(call.request.url, page))


# Sequences


def list_sequences(call: Call) -> Response:
    page = call.engine.sequences.list(
        call.project_id, call.dialogue_id, actor=call.actor, **call.page()
    )
    return paged(call.request.url, page, sequence_body)


def create_sequence(call: Call) -> Response:
    body = reject_read_only(call.json(), SEQUENCE_READ_ONLY)
    record = call.engine.sequences.create(call.project_id, call.dialogue_id, body, **_writing(call))
    return _sequence(record, 201, location=True)


def get_sequence(call: Call) -> Response:
    return _sequence(
        call.engine.sequences.get(
            call.project_id, call.dialogue_id, call.param("sequence_id"), actor=call.actor
        )
    )


def replace_sequence(call: Call) -> Response:
    body = drop_read_only(call.json(), SEQUENCE_READ_ONLY)
    record = call.engine.sequences.replace(
        call.project_id, call.dialogue_id, call.param("sequence_id"), body, **_writing(call)
    )
    return _sequence(record)


def patch_sequence(call: Call) -> Response:
    patch = call.patch(SEQUENCE_READ_ONLY | {"id"})
    record = call.engine.sequences.patch(
        call.project_id, call.dialogue_id, call.param("sequence_id"), patch, **_writing(call)
    )
    return _sequence(record)


def delete_sequence(call: Call) -> Response:
    record = call.engine.sequences.delete(
        call.project_id, call.dialogue_id, call.param("sequence_id"), **_writing(call)
    )
    return _sequence(record)


def duplicate_blocks(call: Call) -> Response:
    result = call.engine.sequences.duplicate_blocks(
        call.project_id, call.dialogue_id, call.param("sequence_id"), call.json(), **_writing(call)
    )
    target = result.target
    return JSONBytesResponse(
        duplication_body(result),
        201,
        headers={"Location": _sequence_url(target), "ETag": f'"{target.revision_id}"'},
    )


# Blocks


def list_blocks(call: Call) -> Response:
    page = call.engine.sequences.list_blocks(
        call.project_id, call.dialogue_id, call.param("sequence_id"), actor=call.actor,
        **call.page(),
    )  # fmt: skip
    return paged(call.request.url, page, block_body)


def create_block(call: Call) -> Response:
    body = reject_read_only(call.json(), BLOCK_READ_ONLY)
    record = call.engine.sequences.create_block(
        call.project_id, call.dialogue_id, call.param("sequence_id"), body, **_writing(call)
    )
    return _block(record, 201, location=True)


def get_block(call: Call) -> Response:
    return _block(
        call.engine.sequences.get_block(
            call.project_id,
            call.dialogue_id,
            call.param("sequence_id"),
            call.param("block_id"),
            actor=call.actor,
        )
    )


def replace_block(call: Call) -> Response:
    body = drop_read_only(call.json(), BLOCK_READ_ONLY)
    record = call.engine.sequences.replace_block(
        call.project_id, call.dialogue_id, call.param("sequence_id"), call.param("block_id"),
        body, **_writing(call),
    )  # fmt: skip
    return _block(record)


def delete_block(call: Call) -> Response:
    record = call.engine.sequences.delete_block(
        call.project_id, call.dialogue_id, call.param("sequence_id"), call.param("block_id"),
        **_writing(call),
    )  # fmt: skip
    return _block(record)


# Shapes


def sequence_body(record: SequenceRecord) -> dict[str, Any]:
    sequence = record.sequence
    return {
        "id": sequence["id"],
        "url": _sequence_url(record),
        "project_id": record.project_id,
        "dialogue_id": record.dialogue_id,
        "revision_id": record.revision_id,
        **sequence,
    }


def block_body(record: BlockRecord) -> dict[str, Any]:
    return {
        "id": record.block["id"],
        "url": f"{_url(record.project_id, record.dialogue_id, record.sequence_id)}"
        f"/blocks/{record.block['id']}",
        "project_id": record.project_id,
        "dialogue_id": record.dialogue_id,
        "sequence_id": record.sequence_id,
        "revision_id": record.revision_id,
        **record.block,
    }


def duplication_body(result: DuplicationRecord) -> dict[str, Any]:
    return {"sequence": sequence_body(result.target), "blocks": result.blocks}


def search_result(row: SequenceRow) -> dict[str, Any]:
    """One sequence as source 001 shows it (folder: the dialogue holding it)."""
    return {
        "id": row.id,
        "url": _url(row.project_id, row.dialogue_id, row.id),
        "project_id": row.project_id,
        "dialogue_id": row.dialogue_id,
        "created_at": iso_from_ms(row.created_at),
        "updated_at": iso_from_ms(row.updated_at),
        "title": row.title,
        "description": row.description,
        "folder": {
            "id": row.dialogue_id,
            "title": row.dialogue_title,
            "project_id": row.project_id,
        },
        "status": status_name(row.status),
        "display_status": display_status_name(row.display_status),
        "number_users_active": row.number_users_active,
        "number_users_paused": row.number_users_paused,
        "number_users_inactive": row.number_users_inactive,
        "number_users_finished": row.number_users_finished,
        "number_active_steps": row.number_active_steps,
        "step_info": row.step_info,
    }


def search_page(url: URL, page: Page[SequenceRow]) -> dict[str, Any]:
    """``{count, next, previous, results}``; next and previous are full URLs or null."""
    last = page.last_page
    following = str(url.include_query_params(page=page.page + 1)) if page.page < last else None
    before = min(page.page - 1, last)
    previous = str(url.include_query_params(page=before)) if page.page > 1 else None
    return {
        "count": page.total,
        "next": following,
        "previous": previous,
        "results": [search_result(row) for row in page.items],
    }


def _writing(call: Call) -> dict[str, Any]:
    return {"actor": call.actor, "expected_revision": call.expected_revision()}


def _url(project_id: str, dialogue_id: str, sequence_id: str) -> str:
    return f"{dialogue_url(project_id, dialogue_id)}/sequences/{sequence_id}"


def _sequence_url(record: SequenceRecord) -> str:
    return _url(record.project_id, record.dialogue_id, record.id)


def _sequence(record: SequenceRecord, status: int = 200, *, location: bool = False) -> Response:
    headers = {"ETag": f'"{record.revision_id}"'}
    if location:
        headers["Location"] = _sequence_url(record)
    return JSONBytesResponse(sequence_body(record), status, headers=headers)


def _block(record: BlockRecord, status: int = 200, *, location: bool = False) -> Response:
    body = block_body(record)
    headers = {"ETag": f'"{record.revision_id}"'}
    if location:
        headers["Location"] = body["url"]
    return JSONBytesResponse(body, status, headers=headers)
