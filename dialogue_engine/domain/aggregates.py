"""Base for the engine's aggregates: stable topics, cheap detached copies.

Every stored event names its class by topic, so topics here are explicit,
short and never derived from module paths: moving code never orphans stored
history. A test pins every topic string.
"""

from __future__ import annotations

import time
from typing import Any, Self
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from .errors import FieldError, ValidationFailed

NAMESPACE = UUID("5b0e8d7c-3c1e-4f7e-9a53-6f1f3f1b2d10")
"""Namespace of the engine's derived (uuid5) identifiers."""


class EngineAggregate(Aggregate):
    """An aggregate whose detached copy is cheap.

    Writers change a copy and publish it only once it is saved, so readers
    never see an uncommitted state and a failed save leaves nothing to undo.
    Attribute values are shared one level down: descriptions are copy-on-write
    and never mutated in place.
    """

    def detached_copy(self) -> Self:
        state: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            if type(value) is list:
                value = list(value)
            elif type(value) is dict:
                value = dict(value)
            state[key] = value
        state["_pending_events"] = []
        copy = object.__new__(type(self))
        object.__setattr__(copy, "__dict__", state)
        return copy


MAX_CREATED = 2**63 - 1


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def derived_id(parent: UUID, name: str) -> UUID:
    return uuid5(parent, name)


def check_created(created: object, at: str = "/created") -> int:
    """A client-supplied ``created`` timestamp (ms since the epoch), or now.

    At most ``2**63 - 1``: stored payloads and database columns hold 64-bit integers.
    """
    if created is None:
        return now_ms()
    if type(created) is not int or not 0 <= created <= MAX_CREATED:
        raise ValidationFailed(
            [FieldError("type", at, "created must be a non-negative integer (ms since the epoch)")]
        )
    return created


def check_title(title: object, at: str = "/title") -> str:
    if type(title) is not str:
        raise ValidationFailed([FieldError("type", at, "title must be a string")])
    if not title.strip():
        raise ValidationFailed([FieldError("minLength", at, "title must not be empty")])
    if len(title) > 1_000:
        raise ValidationFailed([FieldError("maxLength", at, "title is longer than 1000")])
    return title
