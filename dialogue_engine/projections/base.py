"""Read models fed from the notification log, each with its own tracking row.

Projection work is prepared outside the transaction and each view applies a
whole batch at once, so the view transaction holds SQLite's write lock only
briefly and writers of events are not made to wait.

A :class:`View` owns some tables and knows how one event changes them. The
:class:`ViewRecorder` applies a batch of events to every view that has not
seen them yet and advances each view's tracking row *in the same
transaction*, so a crash can neither apply an event twice nor skip one, and a
restarted process resumes where the log was left. A view can be dropped and
rebuilt from zero without touching the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from eventsourcing.persistence import PersistenceError, Tracking
from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore, SQLiteTrackingRecorder

from ..eventstore.application import StoreUnavailable


class Change:
    """One notification, the aggregate right after it, and its event (decoded on demand).

    The writing process already holds the aggregate, so its own events need
    no decoding unless a view asks for them.
    """

    __slots__ = ("_decode", "_event", "aggregate", "notification_id")

    def __init__(self, notification_id: int, aggregate: Any, decode: Callable[[], Any]) -> None:
        self.notification_id = notification_id
        self.aggregate = aggregate
        self._decode = decode
        self._event: Any = None

    @property
    def event(self) -> Any:
        if self._event is None:
            self._event = self._decode()
        return self._event


class View(Protocol):
    """A read model: its tables and how an event changes them."""

    name: str
    """Stable name, also its tracking key."""

    def create_statements(self) -> list[str]: ...

    def drop_statements(self) -> list[str]: ...

    def apply(self, cursor: SQLiteCursor, changes: Sequence[Change]) -> None:
        """Apply ``changes`` in order, inside the caller's transaction."""
        ...


def latest_per_aggregate(changes: Sequence[Change]) -> list[tuple[Change, int]]:
    """For views that only keep current state: each aggregate's last change in
    the batch, with the notification id of its first (a creation position)."""
    first: dict[Any, int] = {}
    last: dict[Any, Change] = {}
    for change in changes:
        key = change.aggregate.id
        first.setdefault(key, change.notification_id)
        last[key] = change
    return [(change, first[key]) for key, change in last.items()]


class ViewRecorder(SQLiteTrackingRecorder):
    """Every view's tables and tracking rows, in the event store's own database."""

    def __init__(self, datastore: SQLiteDatastore, views: Sequence[View]) -> None:
        self.views = list(views)
        super().__init__(datastore)

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        for view in self.views:
            statements.extend(view.create_statements())
        return statements

    def positions(self) -> dict[str, int]:
        """The last notification id each view has applied (0: none yet).

        One statement for all views: a follower asks before every catch-up.
        """
        with self.datastore.transaction(commit=False) as cursor:
            found = _tracked(cursor)
        return {view.name: found.get(view.name, 0) for view in self.views}

    def record(self, changes: Sequence[Change], positions: dict[str, int]) -> None:
        """Apply ``changes`` to each view past its position; advance tracking; one transaction.

        Several processes may share these views (server workers on one
        machine), so each view's position is read again once the transaction
        holds the write lock: ``positions`` is only where this process last
        left them, and a change another process applied meanwhile is skipped
        rather than applied twice.
        """
        if not changes:
            return
        last = changes[-1].notification_id
        try:
            with self.datastore.transaction(commit=True) as cursor:
                current = self._positions_locked(cursor)
                for view in self.views:
                    position = positions[view.name] = max(
                        positions[view.name], current.get(view.name, 0)
                    )
                    if position >= last:
                        continue
                    view.apply(cursor, [c for c in changes if c.notification_id > position])
                    self._insert_tracking(cursor, Tracking(view.name, last))
        except PersistenceError as e:
            raise StoreUnavailable(str(e)) from e
        for view in self.views:
            positions[view.name] = max(positions[view.name], last)

    def _positions_locked(self, cursor: SQLiteCursor) -> dict[str, int]:
        # A write statement first: SQLite then holds the write lock (waiting
        # its busy timeout for it), and what is read next cannot change
        # before this transaction commits.
        cursor.execute("UPDATE tracking SET notification_id = notification_id WHERE 0")
        return _tracked(cursor)

    def drop(self, names: Sequence[str] | None = None) -> None:
        """Drop the named views (all by default) and forget their positions."""
        with self.datastore.transaction(commit=True) as cursor:
            for view in self.views:
                if names is not None and view.name not in names:
                    continue
                for statement in view.drop_statements():
                    cursor.execute(statement)
                cursor.execute("DELETE FROM tracking WHERE application_name = ?", (view.name,))
            for view in self.views:
                for statement in view.create_statements():
                    cursor.execute(statement)


def _tracked(cursor: SQLiteCursor) -> dict[str, int]:
    """Every tracking row's name and position (the newest, whatever the tracking mode)."""
    cursor.execute(
        "SELECT application_name, MAX(notification_id) FROM tracking GROUP BY application_name"
    )
    return dict(cursor.fetchall())
