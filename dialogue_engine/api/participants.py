"""``/projects/{p}/participants/`` and a sequence's users,
``/projects/{p}/dialogues/{d}/sequences/{s}/participants/`` (source 000's "users of a
sequence"). The rules live in :mod:`dialogue_engine.participants`.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ..participants import EnrolmentRecord, ParticipantRecord
from .pagination import paged
from .requests import Call, drop_read_only, reject_read_only
from .responses import JSONBytesResponse

PARTICIPANT_READ_ONLY = frozenset({"id", "url", "project_id", "created"})
ENROLMENT_READ_ONLY = frozenset({"url", "project_id", "dialogue_id", "sequence_id", "enrolled"})


def participant_url(record: ParticipantRecord) -> str:
    return f"/projects/{record.project_id}/participants/{record.id}"


def enrolment_url(record: EnrolmentRecord) -> str:
    return (
        f"/projects/{record.project_id}/dialogues/{record.dialogue_id}/sequences/"
        f"{record.sequence_id}/participants/{record.participant_id}"
    )


def participant(record: ParticipantRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "url": participant_url(record),
        "project_id": record.project_id,
        "address": record.address,
        "name": record.name,
        "channel_id": record.channel_id,
        "created": record.created,
    }


def enrolment(record: EnrolmentRecord) -> dict[str, Any]:
    return {
        "url": enrolment_url(record),
        "project_id": record.project_id,
        "dialogue_id": record.dialogue_id,
        "sequence_id": record.sequence_id,
        "participant_id": record.participant_id,
        "status": record.status,
        "enrolled": record.enrolled,
    }


# Participants


def list_participants(call: Call) -> Response:
    page = call.engine.participants.list(call.project_id, actor=call.actor, **call.page())
    return paged(call.request.url, page, participant)


def create_participant(call: Call) -> Response:
    fields = reject_read_only(call.json(), PARTICIPANT_READ_ONLY)
    record = call.engine.participants.create(call.project_id, fields, actor=call.actor)
    headers = {"Location": participant_url(record)}
    return JSONBytesResponse(participant(record), 201, headers=headers)


def get_participant(call: Call) -> Response:
    participants = call.engine.participants
    record = participants.get(call.project_id, call.param("participant_id"), actor=call.actor)
    return JSONBytesResponse(participant(record))


def replace_participant(call: Call) -> Response:
    fields = drop_read_only(call.json(), PARTICIPANT_READ_ONLY)
    record = call.engine.participants.replace(
        call.project_id, call.param("participant_id"), fields, actor=call.actor
    )
    return JSONBytesResponse(participant(record))


def patch_participant(call: Call) -> Response:
    record = call.engine.participants.patch(
        call.project_id,
        call.param("participant_id"),
        call.patch(PARTICIPANT_READ_ONLY),
        actor=call.actor,
    )
    return JSONBytesResponse(participant(record))


def delete_participant(call: Call) -> Response:
    participants = call.engine.participants
    record = participants.delete(call.project_id, call.param("participant_id"), actor=call.actor)
    return JSONBytesResponse(participant(record))


# A sequence's users


def _sequence(call: Call) -> tuple[str, str, str]:
    return call.project_id, call.dialogue_id, call.param("sequence_id")


def list_enrolments(call: Call) -> Response:
    page = call.engine.participants.enrolments(*_sequence(call), actor=call.actor, **call.page())
    return paged(call.request.url, page, enrolment)


def enrol(call: Call) -> Response:
    body = reject_read_only(call.json(), ENROLMENT_READ_ONLY)
    record = call.engine.participants.enrol(*_sequence(call), body, actor=call.actor)
    return JSONBytesResponse(enrolment(record), 201, headers={"Location": enrolment_url(record)})


def get_enrolment(call: Call) -> Response:
    participants = call.engine.participants
    ref = call.param("participant_id")
    return JSONBytesResponse(
        enrolment(participants.get_enrolment(*_sequence(call), ref, actor=call.actor))
    )


def patch_enrolment(call: Call) -> Response:
    record = call.engine.participants.patch_enrolment(
        *_sequence(call),
        call.param("participant_id"),
        call.patch(ENROLMENT_READ_ONLY | {"participant_id"}),
        actor=call.actor,
    )
    return JSONBytesResponse(enrolment(record))


def withdraw(call: Call) -> Response:
    participants = call.engine.participants
    ref = call.param("participant_id")
    return JSONBytesResponse(
        enrolment(participants.withdraw(*_sequence(call), ref, actor=call.actor))
    )
