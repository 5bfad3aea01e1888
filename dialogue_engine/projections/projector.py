"""Follows the notification log into the read models.

A pull loop (SQLite has no subscriptions): read a batch of notifications after
the slowest view's position, turn each into its event and the aggregate right
after it, and record the batch in one transaction with the tracking rows.
Following the log also tells the store's cache about other processes'
writes, so their staleness here is bounded by the polling interval.

Readers that need their own writes call :meth:`Projector.ensure` with the
process's last notification id; it catches up in the caller's thread if the
background follower has not yet. The follower wakes on every local write and
polls for other processes' writes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import LRUCache
from eventsourcing.persistence import Notification

from ..domain.aggregates import EngineAggregate
from ..eventstore.application import DialogueStore
from .base import Change, ViewRecorder
from .lease import Lease

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called with (notifications processed so far, notifications in the log)."""


class Projector:
    BATCH_SIZE = 500
    FOLDED_AGGREGATES = 100
    """How many aggregates the projector keeps folded, to apply the next event to."""
    YIELD_EVERY = 16
    MIN_INTERVAL = 0.02
    """Seconds between two catch-ups of the background follower, at least."""

    def __init__(
        self, store: DialogueStore, recorder: ViewRecorder, lease: Lease | None = None
    ) -> None:
        self.store = store
        self.recorder = recorder
        self.lease = lease or Lease(None)
        """Whether this process applies the log in the background (see :mod:`.lease`)."""
        self._lock = threading.Lock()
        self._positions = recorder.positions()
        self._observed = store.last_notification_id
        """Every notification up to here has been shown to the store's cache
        (whose aggregates were all loaded after this process started)."""
        self._aggregates: LRUCache[UUID, EngineAggregate] = LRUCache(self.FOLDED_AGGREGATES)
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._poked = False
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None
        store.on_write(lambda _: self._wakeup.set())

    @property
    def position(self) -> int:
        """The notification id every view has applied."""
        return min(self._positions.values(), default=0)

    def ensure(self, notification_id: int) -> None:
        """Return once every view has applied ``notification_id``."""
        if self.position < notification_id:
            self.catch_up(until=notification_id)

    def catch_up(self, until: int | None = None, progress: Progress | None = None) -> int:
        """Apply the log to the views up to ``until`` (default: its end); the new position.

        Other processes may share the views and apply the log too: their
        positions are read first, so only what no process has applied yet
        is decoded (and :meth:`ViewRecorder.record` reads them again under
        the write lock, so nothing is applied twice). Every notification is
        still shown to the store's cache (:meth:`DialogueStore.observe`),
        which costs no decoding.

        A batch shorter than :attr:`BATCH_SIZE` was the end of the log: the
        follower under load catches up fifty times a second, and asking
        again only to be told there is nothing more cost as much as a
        batch of ten events.
        """
        with self._lock:
            total = self.store.max_notification_id() if progress else 0
            self._merge_positions(self.recorder.positions())
            while until is None or self.position < until:
                start = min(self.position, self._observed)
                notifications = self.store.notifications(start, self.BATCH_SIZE)
                if not notifications:
                    break
                self._observe(notifications)
                pending = [n for n in notifications if n.id > self.position]
                if pending:
                    self.recorder.record(self._changes(pending), self._positions)
                if progress:
                    progress(self.position, max(total, self.position))
                if len(notifications) < self.BATCH_SIZE:
                    break
            self.store.forget_written_up_to(self.position)
            return self.position

    def _merge_positions(self, positions: dict[str, int]) -> None:
        for name, position in positions.items():
            self._positions[name] = max(self._positions.get(name, 0), position)

    def _observe(self, notifications: Sequence[Notification]) -> None:
        """Show the store's cache what it has not seen; keep folded aggregates current
        through what other processes applied to the views."""
        position = self.position
        unseen: dict[UUID, int] = {}
        for notification in notifications:
            raw_id = notification.originator_id
            aggregate_id = raw_id if isinstance(raw_id, UUID) else UUID(raw_id)
            if notification.id > self._observed:
                unseen[aggregate_id] = notification.originator_version
            if notification.id <= position:
                self._keep_folded(aggregate_id, notification)
        self.store.observe_all(unseen)
        self._observed = max(self._observed, notifications[-1].id)

    def _keep_folded(self, aggregate_id: UUID, notification: Notification) -> None:
        # Without this, the next change of the aggregate this process applies
        # would have to load it from the database (a snapshot and up to an
        # interval of events) instead of folding one event.
        try:
            folded = self._aggregates.get(aggregate_id)
        except KeyError:
            return
        if folded.version == notification.originator_version - 1:
            event: Any = self.store.mapper.to_domain_event(notification)
            self._aggregates.put(aggregate_id, event.mutate(folded.detached_copy()))
        elif folded.version < notification.originator_version:
            self._aggregates.get(aggregate_id, evict=True)

    def rebuild(self, progress: Progress | None = None) -> int:
        """Drop every view and apply the whole log again."""
        with self._lock:
            self.recorder.drop()
            self._positions = self.recorder.positions()
            # LRUCache.clear() in eventsourcing 9.5.6 keeps its dict: start afresh.
            self._aggregates = LRUCache(self.FOLDED_AGGREGATES)
        return self.catch_up(progress=progress)

    def _changes(self, notifications: Sequence[Notification]) -> list[Change]:
        changes = []
        for count, notification in enumerate(notifications, 1):
            changes.append(self._change(notification))
            if count % self.YIELD_EVERY == 0:
                # Hand the GIL over: a writer coming back from its fsync would
                # otherwise wait up to the 5 ms switch interval behind us.
                time.sleep(0)
        return changes

    def _change(self, notification: Notification) -> Change:
        raw_id = notification.originator_id
        aggregate_id = raw_id if isinstance(raw_id, UUID) else UUID(raw_id)
        version = notification.originator_version

        def decode() -> Any:
            return self.store.mapper.to_domain_event(notification)

        # In the writing process the store holds exactly this version, and
        # committed aggregates are never changed: no need to decode or fold.
        aggregate = self.store.cached(aggregate_id, version)
        if aggregate is None:
            event = decode()
            return Change(notification.id, self._fold(event), lambda: event)
        # Kept folded too: by the time the next event of this aggregate is
        # applied, the store may hold a later version (this process wrote
        # again), and that event is then folded from this one rather than
        # loaded from the database.
        self._aggregates.put(aggregate_id, aggregate)
        return Change(notification.id, aggregate, decode)

    def _fold(self, event: Any) -> EngineAggregate:
        """The aggregate right after ``event``, from the previous one this projector saw."""
        aggregate_id = event.originator_id
        version = event.originator_version
        try:
            aggregate = self._aggregates.get(aggregate_id)
        except KeyError:
            aggregate = None
        if aggregate is None or aggregate.version != version - 1:
            aggregate = (
                None
                if version == 1
                else self.store.get_at(aggregate_id, version - 1, EngineAggregate).detached_copy()
            )
        else:
            aggregate = aggregate.detached_copy()
        folded: EngineAggregate = event.mutate(aggregate)
        self._aggregates.put(aggregate_id, folded)
        return folded

    def _written_elsewhere(self) -> bool:
        """Whether the log holds notifications past our position that another process wrote."""
        position = self.position
        unseen = self.store.max_notification_id() - position
        return unseen > self.store.written_here_after(position)

    # Following in the background

    def start(self, poll_interval: float = 0.5, settle: float = 0.2) -> None:
        """Follow the log in a background thread.

        Every ``poll_interval`` it applies what other processes wrote (which
        also refreshes the store's cache). This process's own writes are
        applied once they pause for ``settle`` seconds, or by a reader that
        needs them (:meth:`ensure`), so a burst of writes is not slowed down
        by a thread competing for the GIL and the database.
        """
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._follow, args=(poll_interval, settle), name="projector", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stopping.set()
        self._wakeup.set()
        self._thread.join()
        self._thread = None
        self.lease.release()

    def poke(self) -> None:
        """Another process may have written: look now rather than at the next poll.

        Called by a listener on the database's notifications (PostgreSQL). A
        poke that turns out to be this process's own write is treated as one.
        """
        self._poked = True
        self._wakeup.set()

    def observe(self) -> None:
        """Show the store's cache what the log holds past what it was shown.

        Reads only ids and versions: no payloads cross the network, nothing is
        decoded. Aggregates this process keeps folded are dropped if stale.
        """
        with self._lock:
            while heads := self.store.notification_heads(self._observed, self.BATCH_SIZE):
                # An aggregate's versions rise with the log: its last head is its newest.
                newest = {aggregate_id: version for _, aggregate_id, version in heads}
                self.store.observe_all(newest)
                folded = self._aggregates
                for aggregate_id, version in newest.items():
                    if aggregate_id in folded.cache and folded.get(aggregate_id).version < version:
                        folded.get(aggregate_id, evict=True)
                self._observed = max(self._observed, heads[-1][0])
                if len(heads) < self.BATCH_SIZE:
                    return

    def _follow(self, poll_interval: float, settle: float) -> None:
        while not self._stopping.is_set():
            self._wakeup.wait(poll_interval)
            if self._stopping.is_set():
                return
            if not self.lease.held():
                # Another process applies the log to the views; this one only
                # keeps its cache current (once a poll interval, whatever the
                # pokes), and applies before its own reads (ensure).
                self._run_step(self.observe, poll_interval, pause=poll_interval)
                self._wakeup.clear()
                self._poked = False
                continue
            if self._poked and self._written_elsewhere():
                self._poked = False
                self._wakeup.clear()
            elif self._wakeup.is_set():
                self._poked = False
                # This process is writing. Its own writes reach the views when a
                # reader needs them (ensure) or once writing pauses; only other
                # processes' writes are worth interrupting a burst for.
                self._wakeup.clear()
                if self._stopping.wait(settle):
                    return
                if self._wakeup.is_set() and not self._written_elsewhere():
                    continue
            # Pokes come with every commit anywhere: batch them a little.
            self._run_step(self.catch_up, poll_interval, pause=self.MIN_INTERVAL)

    def _run_step(self, step: Callable[[], object], poll_interval: float, pause: float) -> None:
        try:
            step()
            self.last_error = None
            self._stopping.wait(pause)
        except Exception as e:
            # Not swallowed: readers calling ensure() hit the same error in
            # their own thread, and health checks report last_error. While
            # it persists (a locked or absent store), one line per retry.
            error = f"{type(e).__name__}: {e}"
            if error == self.last_error:
                logger.warning("projector still failing at %s: %s", self.position, error)
            else:
                logger.exception("projector failed at notification %s", self.position)
            self.last_error = error
            self._stopping.wait(poll_interval)
