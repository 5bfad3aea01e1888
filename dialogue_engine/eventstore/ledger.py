"""Audit reads of the event store: stored rows exactly as written, not domain events.

An auditor's question is whether what is stored is what was written, so
these reads trust nothing derived: the hash chain is recomputed from the
stored bytes (:mod:`.chain`), and a snapshot, which every read of a long
history starts from, is checked against the aggregate folded from its events
alone. Driver errors become :class:`~.application.StoreUnavailable`, as in
the store itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import Snapshot
from eventsourcing.persistence import Notification, PersistenceError, StoredEvent

from .application import DialogueStore, StoreUnavailable, replay
from .chain import GENESIS, BrokenLink, ChainVerifier

BATCH = 1000
"""Rows read per query: bounded memory whatever the history's length."""


@dataclass(frozen=True)
class ChainCheck:
    """One aggregate's chain recomputed from its stored events."""

    aggregate_id: str
    events: int
    head: str
    """The hash of its last event (the genesis hash when it has none)."""
    broken: BrokenLink | None
    snapshots: int = 0
    """Snapshots compared with the aggregate folded from its events."""
    bad_snapshots: tuple[int, ...] = ()
    """Versions whose snapshot differs from the folded aggregate."""

    @property
    def intact(self) -> bool:
        return self.broken is None and not self.bad_snapshots


@dataclass(frozen=True)
class LogCheck:
    """Every chain of the store recomputed in log order."""

    events: int
    aggregates: int
    broken: BrokenLink | None
    topic: str | None = None
    """The topic of the broken event (what kind of aggregate it belongs to)."""
    gap: tuple[int, int] | None = None
    """The first run of missing notification ids ``(first, last)``.

    SQLite numbers notifications without gaps (a rolled-back insert frees its
    id again), so a gap means stored events were deleted: the one way to
    remove an aggregate's newest events that its own chain cannot show.
    PostgreSQL's sequences skip the ids of rolled-back inserts (every refused
    concurrent write), so there gaps prove nothing and none is reported.
    """

    @property
    def intact(self) -> bool:
        return self.broken is None and self.gap is None


def stored_events(store: DialogueStore, aggregate_id: UUID) -> Iterator[StoredEvent]:
    """An aggregate's stored events in version order, read in batches."""
    position = 0
    while True:
        try:
            batch = store.recorder.select_events(aggregate_id, gt=position, limit=BATCH)
        except PersistenceError as e:
            raise StoreUnavailable(str(e)) from e
        yield from batch
        if len(batch) < BATCH:
            return
        position = batch[-1].originator_version


def notifications(
    store: DialogueStore, after: int = 0, *, batch: int = BATCH, topics: Sequence[str] = ()
) -> Iterator[Sequence[Notification]]:
    """The log after ``after`` in batches, up to its end when the first batch was read."""
    stop = store.max_notification_id()
    position = after
    while position < stop:
        rows = select(store, position, batch, stop, topics)
        if not rows:
            return
        yield rows
        position = rows[-1].id


def select(
    store: DialogueStore, after: int, limit: int, stop: int, topics: Sequence[str]
) -> Sequence[Notification]:
    """Up to ``limit`` notifications of ``topics`` in ``(after, stop]``."""
    try:
        return store.recorder.select_notifications(
            after, limit, stop, topics, inclusive_of_start=False
        )
    except PersistenceError as e:
        raise StoreUnavailable(str(e)) from e


def verify_log(
    store: DialogueStore, progress: Callable[[int, int], None] | None = None
) -> LogCheck:
    """Recompute every chain of the store; stops at the first broken link."""
    verifier = ChainVerifier()
    total = store.max_notification_id()
    gap = None
    expected_id = 1
    gapless = store.gapless_notification_ids
    for rows in notifications(store):
        for row in rows:
            if gapless and row.id != expected_id and gap is None:
                gap = (expected_id, row.id - 1)
            expected_id = row.id + 1
            broken = verifier.check(row)
            if broken is not None:
                return LogCheck(verifier.checked, len(verifier.heads), broken, row.topic, gap)
        if progress:
            progress(rows[-1].id, total)
    return LogCheck(verifier.checked, len(verifier.heads), None, None, gap)


def verify_aggregate(store: DialogueStore, aggregate_id: UUID) -> ChainCheck:
    """Recompute one aggregate's chain, and check its snapshots against its events.

    The aggregate is folded from its events alone (no snapshot), so each
    stored snapshot can be compared with the state at its version.
    """
    verifier = ChainVerifier()
    snapshots = _snapshots(store, aggregate_id)
    aggregate: Any = None
    bad: list[int] = []
    broken = None
    for stored in stored_events(store, aggregate_id):
        broken = verifier.check(stored)
        if broken is not None:
            break
        if snapshots:
            aggregate = replay(aggregate, [store.mapper.to_domain_event(stored)])
            snapshot = snapshots.get(stored.originator_version)
            if snapshot is not None and _state(store, snapshot.mutate(None)) != _state(
                store, aggregate
            ):
                bad.append(stored.originator_version)
    return ChainCheck(
        str(aggregate_id),
        verifier.checked,
        verifier.heads.get(aggregate_id, GENESIS),
        broken,
        len(snapshots),
        tuple(bad),
    )


def _snapshots(store: DialogueStore, aggregate_id: UUID) -> dict[int, Any]:
    if store.snapshots is None:
        return {}
    try:
        return {s.originator_version: s for s in store.snapshots.get(aggregate_id)}
    except PersistenceError as e:
        raise StoreUnavailable(str(e)) from e


def _state(store: DialogueStore, aggregate: Any) -> bytes:
    """An aggregate's state as a snapshot of it stores it."""
    state = dict(Snapshot.take(aggregate).state)
    return store.mapper.transcoder.encode(state)
