"""Channels and providers: what the channel and provider lists show.

A channel row carries its provider's id; its provider's title is joined in at
query time, so a provider's row is the one place its title lives. A channel
row's ``position`` is the notification id that created it (stable order).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.sqlite import SQLiteCursor

from ..domain.channels import Channel, Provider
from .base import Change, latest_per_aggregate


@dataclass(frozen=True)
class ProviderRow:
    id: str
    title: str


@dataclass(frozen=True)
class ChannelRow:
    id: str
    title: str
    address: str
    type: str
    is_available: bool
    project_id: str | None
    provider: ProviderRow


_CHANNELS = (
    "SELECT c.id, c.title, c.address, c.type, c.is_available, c.project_id, p.id, p.title "
    "FROM view_channels c JOIN view_providers p ON p.id = c.provider_id"
)


class ChannelSummaries:
    name = "channel_summaries"

    def create_statements(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS view_providers ("
            "id TEXT PRIMARY KEY, title TEXT NOT NULL, position INTEGER NOT NULL)",
            "CREATE INDEX IF NOT EXISTS view_providers_position ON view_providers (position)",
            "CREATE TABLE IF NOT EXISTS view_channels ("
            "id TEXT PRIMARY KEY, title TEXT NOT NULL, address TEXT NOT NULL, "
            "type TEXT NOT NULL, is_available INTEGER NOT NULL, project_id TEXT, "
            "provider_id TEXT NOT NULL, position INTEGER NOT NULL)",
            "CREATE INDEX IF NOT EXISTS view_channels_position ON view_channels (position)",
            "CREATE INDEX IF NOT EXISTS view_channels_project "
            "ON view_channels (project_id, position)",
            "CREATE INDEX IF NOT EXISTS view_channels_provider "
            "ON view_channels (provider_id, position)",
        ]

    def drop_statements(self) -> list[str]:
        return ["DROP TABLE IF EXISTS view_channels", "DROP TABLE IF EXISTS view_providers"]

    def apply(self, cursor: SQLiteCursor, changes: Sequence[Change]) -> None:
        providers = []
        channels = []
        for change, at in latest_per_aggregate(changes):
            aggregate = change.aggregate
            if isinstance(aggregate, Provider):
                providers.append((str(aggregate.id), aggregate.title, at))
            elif isinstance(aggregate, Channel):
                channels.append(
                    (
                        str(aggregate.id),
                        aggregate.title,
                        aggregate.address,
                        aggregate.type,
                        int(aggregate.is_available),
                        aggregate.project_id,
                        aggregate.provider_id,
                        at,
                    )
                )
        cursor.executemany(
            "INSERT INTO view_providers (id, title, position) VALUES (?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET title = excluded.title",
            providers,
        )
        cursor.executemany(
            "INSERT INTO view_channels (id, title, address, type, is_available, project_id, "
            "provider_id, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET project_id = excluded.project_id, "
            "title = excluded.title, is_available = excluded.is_available",
            channels,
        )

    @staticmethod
    def providers(cursor: SQLiteCursor, offset: int, limit: int) -> tuple[list[ProviderRow], int]:
        cursor.execute("SELECT COUNT(*) FROM view_providers")
        total = cursor.fetchone()[0]
        cursor.execute(
            "SELECT id, title FROM view_providers ORDER BY position LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [ProviderRow(r[0], r[1]) for r in cursor.fetchall()], total

    @staticmethod
    def channels(cursor: SQLiteCursor, offset: int, limit: int) -> tuple[list[ChannelRow], int]:
        cursor.execute("SELECT COUNT(*) FROM view_channels")
        total = cursor.fetchone()[0]
        cursor.execute(f"{_CHANNELS} ORDER BY c.position LIMIT ? OFFSET ?", (limit, offset))
        return [_channel(r) for r in cursor.fetchall()], total

    @staticmethod
    def of_project(cursor: SQLiteCursor, project_id: str) -> list[ChannelRow]:
        cursor.execute(f"{_CHANNELS} WHERE c.project_id = ? ORDER BY c.position", (project_id,))
        return [_channel(r) for r in cursor.fetchall()]

    @staticmethod
    def of_provider(
        cursor: SQLiteCursor, provider_id: str, projects: Collection[str] | None
    ) -> list[ChannelRow]:
        """The provider's channels; with ``projects``, only those serving one of them."""
        where = "c.provider_id = ?"
        params: list[Any] = [provider_id]
        if projects is not None:
            ordered = sorted(projects)
            where += f" AND c.project_id IN ({', '.join('?' * len(ordered))})"
            params.extend(ordered)
        cursor.execute(f"{_CHANNELS} WHERE {where} ORDER BY c.position", params)
        return [_channel(r) for r in cursor.fetchall()]


def _channel(row: Any) -> ChannelRow:
    return ChannelRow(
        id=row[0],
        title=row[1],
        address=row[2],
        type=row[3],
        is_available=bool(row[4]),
        project_id=row[5],
        provider=ProviderRow(row[6], row[7]),
    )
