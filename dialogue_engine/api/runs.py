"""Submitting a sequence (source 004's submit), a run and its replies, and the outbox.

``POST …/sequences/{s}/submit/`` answers 202 with the ids of the runs it started;
the rules live in :mod:`dialogue_engine.runs`.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ..runs import RunRecord
from .pagination import paged
from .requests import Call
from .responses import JSONBytesResponse


def run_url(record: RunRecord) -> str:
    return f"/projects/{record.project_id}/runs/{record.id}"


def run(record: RunRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "url": run_url(record),
        "project_id": record.project_id,
        "dialogue_id": record.dialogue_id,
        "sequence_id": record.sequence_id,
        "participant_id": record.participant_id,
        "release_id": record.release_id,
        "status": record.status,
        "position": record.position,
        "answers": record.answers,
        "messages": record.messages,
        "created": record.created,
    }


def submit(call: Call) -> Response:
    started = call.engine.runs.submit(
        call.project_id, call.dialogue_id, call.param("sequence_id"), actor=call.actor
    )
    return JSONBytesResponse({"runs": [r.id for r in started]}, 202)


def get_run(call: Call) -> Response:
    record = call.engine.runs.get(call.project_id, call.param("run_id"), actor=call.actor)
    return JSONBytesResponse(run(record))


def reply(call: Call) -> Response:
    runs = call.engine.runs
    record = runs.reply(call.project_id, call.param("run_id"), call.json(), actor=call.actor)
    return JSONBytesResponse(run(record))


def outbox(call: Call) -> Response:
    query = call.request.query_params
    page = call.engine.runs.outbox(
        call.project_id,
        actor=call.actor,
        participant_id=query.get("participant_id"),
        channel_id=query.get("channel_id"),
        **call.page(),
    )
    return paged(call.request.url, page, lambda message: message)
