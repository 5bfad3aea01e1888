"""Users, channels and providers shaped as source 002 shows them, and their read-only members.

A user's description (``/users/{id}``) has no ``permissions`` (source 002's
User schema); ``GET /user`` keeps them (:func:`.shapes.user`). Provider
summaries inside a channel carry ``url`` besides the example's ``id`` and
``title``, as the Provider Summary schema says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..accounts import UserRecord
    from ..channels import ChannelRecord, ProviderDetail, ProviderRecord
    from ..projections.users import UserRow

USER_READ_ONLY = frozenset({"id", "url", "email", "permissions"})
NEW_USER_READ_ONLY = frozenset({"id", "url", "permissions"})
PERMISSION_READ_ONLY = frozenset({"id"})
CHANNEL_READ_ONLY = frozenset({"id", "url", "title", "type", "address", "is_available", "provider"})
NEW_CHANNEL_READ_ONLY = frozenset({"id", "url", "project_id"})
PROVIDER_READ_ONLY = frozenset({"id", "url", "channels"})


def user_url(user_id: str) -> str:
    return f"/users/{user_id}"


def channel_url(channel_id: str) -> str:
    return f"/channels/{channel_id}"


def provider_url(provider_id: str) -> str:
    return f"/providers/{provider_id}"


def user_summary(user: UserRecord | UserRow) -> dict[str, Any]:
    return {
        "id": user.id,
        "url": user_url(user.id),
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
    }


def provider_summary(provider: ProviderRecord | ProviderDetail) -> dict[str, Any]:
    return {"id": provider.id, "url": provider_url(provider.id), "title": provider.title}


def channel_summary(channel: ChannelRecord) -> dict[str, Any]:
    return {
        "id": channel.id,
        "url": channel_url(channel.id),
        "project_id": channel.project_id,
        "title": channel.title,
        "address": channel.address,
        "type": channel.type,
        "is_available": channel.is_available,
    }


def channel(channel: ChannelRecord) -> dict[str, Any]:
    return {**channel_summary(channel), "provider": provider_summary(channel.provider)}


def provider(provider: ProviderDetail) -> dict[str, Any]:
    return {
        **provider_summary(provider),
        "channels": [channel_summary(c) for c in provider.channels],
    }
