"""Channels and providers: the addresses dialogues use to reach end users.

A provider (Twitter, MTN Nigeria) offers channels; a channel (an SMS
shortcode, a USSD starcode, a twitter handle) serves at most one project at a
time. The channel aggregate itself holds ``project_id``, so that rule holds
by construction: there is no second record to keep in step, and two admins
assigning one channel at once are serialised by the store's version check on
that one aggregate (the later save wins; either way it names one project).

A channel's id is derived from its type and address, so an address of a type
exists once: a second creation of it fails the version check (or finds the
first), and is refused as a duplicate.
"""

from __future__ import annotations

import re
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from eventsourcing.domain import Snapshot as BaseSnapshot

from .aggregates import NAMESPACE, EngineAggregate, check_title, derived_id
from .errors import FieldError, ValidationFailed

CHANNEL_TYPE = re.compile(r"^[a-z][a-z0-9_-]{0,49}$")
MAX_ADDRESS_LENGTH = 200


def channel_id(type: str, address: str) -> UUID:
    return derived_id(NAMESPACE, f"channel:{type}:{address}")


def check_channel_type(value: object, at: str = "/type") -> str:
    if type(value) is not str or not CHANNEL_TYPE.fullmatch(value):
        raise ValidationFailed(
            [FieldError("pattern", at, "type must be a lower-case word such as sms or ussd")]
        )
    return value


def check_address(value: object, at: str = "/address") -> str:
    if type(value) is not str:
        raise ValidationFailed([FieldError("type", at, "address must be a string")])
    address = value.strip()
    if not address:
        raise ValidationFailed([FieldError("minLength", at, "address must not be empty")])
    if len(address) > MAX_ADDRESS_LENGTH:
        raise ValidationFailed(
            [FieldError("maxLength", at, f"address is longer than {MAX_ADDRESS_LENGTH}")]
        )
    return address


def check_project_ref(value: object, at: str = "/project_id") -> str | None:
    """A channel's ``project_id``: a project id, or ``None`` for no project."""
    if value is not None and (type(value) is not str or not value):
        raise ValidationFailed([FieldError("type", at, "project_id must be a string or null")])
    return value


class Provider(EngineAggregate):
    """The service offering a set of channels."""

    TOPIC = "dialogue_engine:Provider"

    class Created(Aggregate.Created):
        TOPIC = "dialogue_engine:Provider.Created"
        title: str
        user_id: str

    class Snapshot(BaseSnapshot):
        TOPIC = "dialogue_engine:Provider.Snapshot"

    @event(Created)
    def __init__(self, title: str, user_id: str) -> None:
        self.title = title

    @classmethod
    def start(cls, title: object, *, user_id: str) -> Provider:
        return cls(title=check_title(title), user_id=user_id)


class Channel(EngineAggregate):
    """One address of one provider, serving one project or none."""

    TOPIC = "dialogue_engine:Channel"

    class Created(Aggregate.Created):
        TOPIC = "dialogue_engine:Channel.Created"
        title: str
        address: str
        type: str
        provider_id: str
        is_available: bool
        user_id: str

    class Snapshot(BaseSnapshot):
        TOPIC = "dialogue_engine:Channel.Snapshot"

    @staticmethod
    def create_id(title: str, address: str, type: str, **_: object) -> UUID:
        return channel_id(type, address)

    @event(Created)
    def __init__(
        self,
        title: str,
        address: str,
        type: str,
        provider_id: str,
        is_available: bool,
        user_id: str,
    ) -> None:
        self.title = title
        self.address = address
        self.type = type
        self.provider_id = provider_id
        self.is_available = is_available
        self.project_id: str | None = None

    @classmethod
    def start(
        cls,
        *,
        title: object,
        address: object,
        channel_type: object,
        provider_id: str,
        is_available: object = True,
        user_id: str,
    ) -> Channel:
        errors: list[FieldError] = []
        checked: dict[str, object] = {}
        for name, check, value in (
            ("title", check_title, title),
            ("address", check_address, address),
            ("type", check_channel_type, channel_type),
        ):
            try:
                checked[name] = check(value)
            except ValidationFailed as e:
                errors.extend(e.errors)
        if type(is_available) is not bool:
            errors.append(FieldError("type", "/is_available", "is_available must be a boolean"))
        if errors:
            raise ValidationFailed(errors)
        return cls(
            title=str(checked["title"]),
            address=str(checked["address"]),
            type=str(checked["type"]),
            provider_id=provider_id,
            is_available=bool(is_available),
            user_id=user_id,
        )

    def assign(self, project_id: object, *, user_id: str) -> None:
        """Serve ``project_id`` from now on (``None``: no project); unchanged records nothing."""
        wanted = check_project_ref(project_id)
        if wanted == self.project_id:
            return
        if wanted is None:
            self._unassigned(user_id=user_id)
        else:
            self._assigned(project_id=wanted, user_id=user_id)

    @event("Assigned", topic="dialogue_engine:Channel.Assigned")
    def _assigned(self, project_id: str, user_id: str) -> None:
        self.project_id = project_id

    @event("Unassigned", topic="dialogue_engine:Channel.Unassigned")
    def _unassigned(self, user_id: str) -> None:
        self.project_id = None
