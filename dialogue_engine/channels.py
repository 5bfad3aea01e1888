"""The channels facade (``DialogueEngine.channels``): providers, channels, who uses which.

Access follows source 002's wording:

- ``GET /channels/`` and ``GET /providers/``: admin only.
- A channel: an admin, or whoever "has access to a project using the channel"
  (any grant inside that project); to anyone else it is not found.
- A provider: an admin, or whoever has access to a project using one of its
  channels. Such a caller sees only those of its channels (lists omit what a
  caller may not see).
- A project's channels: whoever can see the project.
- Changing which project a channel serves: admin only (403 to a caller who can
  see the channel, 404 to others). Only ``project_id`` is writable.
- Creating providers and channels (an extension: source 002 has no way to):
  admin only.

Every change is an event naming the acting user.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from .accounts import ViewReader
from .domain import permissions as perms
from .domain.aggregates import EngineAggregate
from .domain.channels import (
    Channel,
    Provider,
    check_address,
    check_channel_type,
    check_project_ref,
)
from .domain.errors import (
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    unexpected_members,
)
from .domain.jsonvalue import JSON
from .domain.paging import Page, PageRequest
from .domain.patching import apply_patch, check_patch
from .domain.permissions import SYSTEM, Actor
from .domain.project import Project
from .eventstore.application import DialogueStore, UnitOfWork
from .projections.channels import ChannelRow, ChannelSummaries, ProviderRow

ChannelRecord = ChannelRow
"""A channel with its provider's summary (frozen)."""
ProviderRecord = ProviderRow

A = TypeVar("A", bound=EngineAggregate)

CHANNEL_FIELDS = ("project_id",)


class ProviderDetail:
    """A provider and the channels of it the caller may see."""

    __slots__ = ("channels", "id", "title")

    def __init__(self, provider: ProviderRecord, channels: list[ChannelRecord]) -> None:
        self.id = provider.id
        self.title = provider.title
        self.channels = tuple(channels)


class Channels:
    def __init__(self, store: DialogueStore, read_views: ViewReader) -> None:
        self.store = store
        self.read_views = read_views

    # Providers

    def create_provider(self, title: object, *, actor: Actor = SYSTEM) -> ProviderRecord:
        if not actor.is_admin:
            raise PermissionDenied("create", "providers")
        provider = self.store.write(
            lambda unit: unit.add(Provider.start(title, user_id=actor.user_id))
        )
        return ProviderRecord(str(provider.id), provider.title)

    def list_providers(
        self, *, actor: Actor = SYSTEM, page: int = 1, per_page: int = 30
    ) -> Page[ProviderRecord]:
        if not actor.is_admin:
            raise PermissionDenied("list", "providers")
        request = PageRequest(page, per_page)
        rows, total = self.read_views(
            lambda cursor: ChannelSummaries.providers(cursor, request.offset, request.per_page)
        )
        return Page(rows, total, request.page, request.per_page)

    def get_provider(self, provider_id: str, *, actor: Actor = SYSTEM) -> ProviderDetail:
        """The provider with the channels ``actor`` may see (none visible: not found)."""
        provider = self._provider(provider_id)
        visible = perms.visible_projects(actor)
        channels = self.read_views(
            lambda cursor: ChannelSummaries.of_provider(cursor, provider_id, visible)
        )
        if visible is not None and not channels:
            raise NotFound("Provider", provider_id)
        return ProviderDetail(ProviderRecord(str(provider.id), provider.title), channels)

    # Channels

    def create_channel(
        self,
        *,
        title: object,
        address: object,
        channel_type: object,
        provider_id: object,
        is_available: object = True,
        actor: Actor = SYSTEM,
    ) -> ChannelRecord:
        """A new channel of a provider, serving no project yet. One address of one type
        exists once (its id is derived from both)."""
        if not actor.is_admin:
            raise PermissionDenied("create", "channels")
        if type(provider_id) is not str:
            raise ValidationFailed([FieldError("type", "/provider", "provider must be an id")])
        provider = self._find(provider_id, Provider)
        if provider is None:
            raise ValidationFailed(
                [FieldError("unknown", "/provider", f"provider {provider_id} does not exist")]
            )

        def command(unit: UnitOfWork) -> Channel:
            channel = Channel.start(
                title=title,
                address=address,
                channel_type=channel_type,
                provider_id=str(provider.id),
                is_available=is_available,
                user_id=actor.user_id,
            )
            if unit.find(channel.id, Channel) is not None:
                raise ValidationFailed(
                    [
                        FieldError(
                            "unique",
                            "/address",
                            f"a {channel.type} channel {channel.address!r} already exists",
                        )
                    ]
                )
            return unit.add(channel)

        return _record(self.store.write(command), provider)

    def get_channel(self, channel_id: str, *, actor: Actor = SYSTEM) -> ChannelRecord:
        return self._record(self._visible(channel_id, actor))

    def list_channels(
        self, *, actor: Actor = SYSTEM, page: int = 1, per_page: int = 30
    ) -> Page[ChannelRecord]:
        if not actor.is_admin:
            raise PermissionDenied("list", "channels")
        request = PageRequest(page, per_page)
        rows, total = self.read_views(
            lambda cursor: ChannelSummaries.channels(cursor, request.offset, request.per_page)
        )
        return Page(rows, total, request.page, request.per_page)

    def project_channels(self, project_id: str, *, actor: Actor = SYSTEM) -> list[ChannelRecord]:
        """The channels serving a project the caller can see."""
        if not perms.can_see_project(actor, project_id) or self._find(project_id, Project) is None:
            raise NotFound("Project", project_id)
        return self.read_views(lambda cursor: ChannelSummaries.of_project(cursor, project_id))

    def replace_channel(
        self, channel_id: str, fields: JSON, *, actor: Actor = SYSTEM
    ) -> ChannelRecord:
        """Set the project the channel serves (``project_id`` left out or ``null``: none)."""
        checked = check_channel_fields(fields)
        return self._change(channel_id, actor, lambda channel: checked["project_id"])

    def patch_channel(
        self, channel_id: str, patch: JSON, *, actor: Actor = SYSTEM
    ) -> ChannelRecord:
        """Apply an RFC 6902 patch to ``{project_id}``, all or nothing."""
        errors = check_patch(patch)
        if errors:
            raise ValidationFailed(errors, "Invalid JSON patch")

        def wanted(channel: Channel) -> Any:
            current = {"project_id": channel.project_id}
            return check_channel_fields(apply_patch(current, patch))["project_id"]

        return self._change(channel_id, actor, wanted)

    def assign_channel(
        self, channel_id: str, project_id: str | None, *, actor: Actor = SYSTEM
    ) -> ChannelRecord:
        """Let the channel serve ``project_id`` (``None``: no project). Admin only."""
        return self._change(channel_id, actor, lambda channel: check_project_ref(project_id))

    def _change(
        self, channel_id: str, actor: Actor, wanted: Callable[[Channel], str | None]
    ) -> ChannelRecord:
        """Authorize, then set the project ``wanted(channel)`` names, on the channel as
        it is inside the write (a patch never applies to a stale copy)."""
        found = self._visible(channel_id, actor)
        if not actor.is_admin:
            raise PermissionDenied("change", f"channel {channel_id}")

        def command(unit: UnitOfWork) -> Channel:
            channel = unit.get(found.id, Channel)
            project_id = wanted(channel)
            if project_id is not None and self._find(project_id, Project) is None:
                raise ValidationFailed(
                    [FieldError("unknown", "/project_id", f"project {project_id} does not exist")]
                )
            channel.assign(project_id, user_id=actor.user_id)
            return channel

        return self._record(self.store.write(command))

    # Helpers

    def _visible(self, channel_id: str, actor: Actor) -> Channel:
        channel = self._find(channel_id, Channel)
        if channel is None or not perms.can_see_channel(actor, channel.project_id):
            raise NotFound("Channel", channel_id)
        return channel

    def _provider(self, provider_id: str) -> Provider:
        provider = self._find(provider_id, Provider)
        if provider is None:
            raise NotFound("Provider", provider_id)
        return provider

    def _record(self, channel: Channel) -> ChannelRecord:
        return _record(channel, self._provider(channel.provider_id))

    def _find(self, raw_id: str, cls: type[A]) -> A | None:
        try:
            aggregate_id = UUID(raw_id)
        except (ValueError, TypeError, AttributeError):
            return None
        return self.store.find(aggregate_id, cls)


def check_channel_fields(fields: JSON) -> dict[str, Any]:
    """A channel's writable fields: ``{project_id}`` (a string or null; left out: null)."""
    if type(fields) is not dict:
        raise ValidationFailed([FieldError("type", "", "a channel is an object")])
    unexpected = unexpected_members(fields, CHANNEL_FIELDS)
    if unexpected:
        raise ValidationFailed(unexpected)
    project_id = fields.get("project_id")
    if project_id is not None and (type(project_id) is not str or not project_id):
        raise ValidationFailed(
            [FieldError("type", "/project_id", "project_id must be a string or null")]
        )
    return {"project_id": project_id}


def check_new_channel(fields: JSON) -> dict[str, Any]:
    """``POST /channels/``: title, address, type, provider (an id, or ``{"id": ...}``) and
    optionally is_available (default true)."""
    if type(fields) is not dict:
        raise ValidationFailed([FieldError("type", "", "a channel is an object")])
    allowed = {"title", "address", "type", "provider", "is_available"}
    errors = [
        FieldError("required", "", f"'{name}' is a required property")
        for name in ("title", "address", "type", "provider")
        if name not in fields
    ]
    errors += unexpected_members(fields, allowed)
    if errors:
        raise ValidationFailed(errors)
    provider = fields["provider"]
    if type(provider) is dict:
        provider = provider.get("id")
    check_channel_type(fields["type"])
    check_address(fields["address"])
    return {
        "title": fields["title"],
        "address": fields["address"],
        "channel_type": fields["type"],
        "provider_id": provider,
        "is_available": fields.get("is_available", True),
    }


def _record(channel: Channel, provider: Provider) -> ChannelRecord:
    return ChannelRecord(
        id=str(channel.id),
        title=channel.title,
        address=channel.address,
        type=channel.type,
        is_available=channel.is_available,
        project_id=channel.project_id,
        provider=ProviderRecord(str(provider.id), provider.title),
    )
