"""The event-sourced store: one eventsourcing Application for every aggregate.

One application (one events table, one notification log) holds projects,
dialogues, release logs, templates and accounts, so a unit of work touching several of them saves
atomically and projections follow a single log.

Reads are served from a cache of *committed* aggregates. Writers work on
detached copies inside :meth:`DialogueStore.write` and publish them to the
cache only after the save succeeded, so readers never observe a half-applied
command and need no lock. Writes in one process are serialised by one lock
(SQLite has a single writer anyway); across processes the event store's
version check rejects the loser, whose command is then re-run once on fresh
state (a stale ``expected_revision`` turns that into a precondition error).
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    LRUCache,
    ProcessingEvent,
)
from eventsourcing.persistence import (
    IntegrityError,
    Notification,
    PersistenceError,
    Recording,
    Transcoder,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import get_topic

from ..domain.aggregates import EngineAggregate
from ..domain.dialogue import Dialogue
from ..domain.errors import ConcurrentWrite, DomainError, NotFound, StaleRevision
from ..domain.participants import Participant
from ..domain.project import Project
from ..domain.releases import ReleaseLog
from ..domain.runs import Run
from ..domain.templates import Template
from ..domain.user import Credential, EmailClaim, User, UserDirectory
from .chain import CHAIN_HEAD, HASH_FIELD, BrokenLink, ChainVerifier, chain_head, link
from .transcoder import CanonicalJSONTranscoder

logger = logging.getLogger(__name__)

A = TypeVar("A", bound=EngineAggregate)
R = TypeVar("R")

SNAPSHOT_INTERVAL = 50
"""Reading any revision replays at most this many patches after a snapshot."""

WRITE_ATTEMPTS = 3
MAX_GROUP = 64
"""At most this many concurrent commands share one transaction."""


class StoreUnavailable(DomainError):
    """The database cannot be reached or refused the operation; nothing was written."""

    type = "service_unavailable"

    def __init__(self, reason: str) -> None:
        super().__init__("The event store is unavailable", {"reason": reason})


class WouldBlock(Exception):
    """A read inside :func:`memory_only` needed the database."""


_MEMORY_ONLY: ContextVar[bool] = ContextVar("dialogue_engine_memory_only", default=False)


@contextlib.contextmanager
def memory_only() -> Iterator[None]:
    """Reads served from the caches work; one that would query the database raises WouldBlock.

    Lets an event-loop caller answer cached reads at once and hand the rest
    to a thread, without ever blocking the loop on I/O.
    """
    token = _MEMORY_ONLY.set(True)
    try:
        yield
    finally:
        _MEMORY_ONLY.reset(token)


def replay(initial: Any, events: Iterable[Any]) -> Any:
    """Apply events in order (twice as fast as the library's checking projector),
    keeping the aggregate's chain head: the hash of the last event applied."""
    aggregate = initial
    for event in events:
        aggregate = event.mutate(aggregate)
        head = getattr(event, HASH_FIELD, None)
        if head is not None:
            setattr(aggregate, CHAIN_HEAD, head)
    return aggregate


class _Ticket:
    """One caller's command waiting for a group commit, and its outcome."""

    __slots__ = ("_woken", "command", "done", "error", "result")

    def __init__(self, command: Callable[[UnitOfWork], Any]) -> None:
        self.command = command
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None
        self._woken = threading.Event()

    def finish(self, *, result: Any = None, error: BaseException | None = None) -> None:
        self.result, self.error, self.done = result, error, True
        self._woken.set()

    def lead(self) -> None:
        """Wake the caller, unfinished: it is to run the next group."""
        self._woken.set()

    def wait(self) -> None:
        """Until the command is finished or its caller is to lead."""
        self._woken.wait()

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


class UnitOfWork:
    """The aggregates one command reads for change and the new ones it adds."""

    def __init__(
        self, store: DialogueStore, batch: dict[UUID, EngineAggregate] | None = None
    ) -> None:
        self._store = store
        self._batch = batch or {}
        self.aggregates: dict[UUID, EngineAggregate] = {}

    def get(self, aggregate_id: UUID, cls: type[A]) -> A:
        """A detached, changeable copy of the aggregate as the commands before this one left it."""
        found = self.aggregates.get(aggregate_id)
        if found is None:
            earlier = self._batch.get(aggregate_id)
            if earlier is None:
                earlier = self._store.get(aggregate_id, cls)
            found = earlier.detached_copy()
            self.aggregates[aggregate_id] = found
        if not isinstance(found, cls):
            raise NotFound(cls.__name__, str(aggregate_id))
        return found

    def find(self, aggregate_id: UUID, cls: type[A]) -> A | None:
        try:
            return self.get(aggregate_id, cls)
        except NotFound:
            return None

    def add(self, aggregate: A) -> A:
        self.aggregates[aggregate.id] = aggregate
        return aggregate


class DialogueStore(Application[UUID]):
    name = "dialogue_engine"
    snapshotting_intervals = {
        Dialogue: SNAPSHOT_INTERVAL,
        ReleaseLog: SNAPSHOT_INTERVAL,
        Template: SNAPSHOT_INTERVAL,
        Project: SNAPSHOT_INTERVAL,
        User: SNAPSHOT_INTERVAL,
        Credential: SNAPSHOT_INTERVAL,
        EmailClaim: SNAPSHOT_INTERVAL,
        UserDirectory: SNAPSHOT_INTERVAL,
        Participant: SNAPSHOT_INTERVAL,
        Run: SNAPSHOT_INTERVAL,
    }
    snapshotting_projectors = {cls: replay for cls in snapshotting_intervals}

    def __init__(self, env: dict[str, str], *, cache_size: int = 500, shared: bool = False) -> None:
        try:
            super().__init__(env)
        except (PersistenceError, OSError) as e:
            raise StoreUnavailable(str(e)) from e
        self.shared = shared
        """Whether other processes write to this store too (PostgreSQL, several workers).

        Commands run on this process's cache, which another process's writes
        make stale until the projector observes them. A stale aggregate that
        a command changes is caught by the event store's version check (and
        the command re-run on fresh state); a stale one that makes an
        ``expected_revision`` look out of date is caught here: on a shared
        store a :class:`StaleRevision` is checked against the database before
        it is believed (see :meth:`_refreshed`).
        """
        self._committed: LRUCache[UUID, EngineAggregate] = LRUCache(maxsize=cache_size)
        self._historical: LRUCache[tuple[UUID, int], EngineAggregate] = LRUCache(maxsize=4)
        # Ids known to have no events (a dialogue's release log before its
        # first release is looked up on every read of the dialogue).
        self._absent: LRUCache[UUID, bool] = LRUCache(maxsize=10_000)
        self._cache_lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._queue_lock = threading.Lock()
        self._queue: list[_Ticket] = []
        self._leading = False
        """Whether a caller is running a group or has been handed the next one."""
        self._leader: int | None = None
        self._listeners: list[Callable[[int], None]] = []
        self._own_ids: list[int] = []
        self._own_ids_lock = threading.Lock()
        self.last_notification_id = self.max_notification_id()
        """The newest notification this process wrote or found at start.

        Lists wait for the projections to reach it: a process reads its own
        writes and everything written before it started.
        """

    @property
    def gapless_notification_ids(self) -> bool:
        """Whether notification ids have no gaps unless events were deleted (SQLite's do;
        PostgreSQL's sequences skip the ids of rolled-back inserts)."""
        return isinstance(self.recorder, SQLiteApplicationRecorder)

    def construct_transcoder(self) -> Transcoder:
        return CanonicalJSONTranscoder()

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        # The library reloads the aggregate to snapshot it, and a failure would
        # surface after the events were committed. The saved object is at hand,
        # and a snapshot is only an optimisation: a failed one is logged.
        assert self.snapshots is not None
        for aggregate in processing_event.aggregates.values():
            assert isinstance(aggregate, EngineAggregate)
            interval = self.snapshotting_intervals.get(type(aggregate))
            if interval is None:
                continue
            new_events = sum(1 for e in processing_event.events if e.originator_id == aggregate.id)
            if aggregate.version // interval == (aggregate.version - new_events) // interval:
                continue
            try:
                self.snapshots.put([aggregate.Snapshot.take(aggregate)])
            except PersistenceError:
                logger.warning(
                    "snapshot of %s at version %s failed", aggregate.id, aggregate.version
                )

    # Reading

    def get(self, aggregate_id: UUID, cls: type[A]) -> A:
        """The committed aggregate (shared: never change it; use :meth:`write`)."""
        try:
            aggregate = self._committed.get(aggregate_id)
        except KeyError:
            try:
                self._absent.get(aggregate_id)
            except KeyError:
                pass
            else:
                raise NotFound(cls.__name__, str(aggregate_id)) from None
            try:
                aggregate = self._load(aggregate_id)
            except NotFound:
                self._absent.put(aggregate_id, True)
                raise
            self._publish(aggregate)
        if not isinstance(aggregate, cls):
            raise NotFound(cls.__name__, str(aggregate_id))
        return aggregate

    def cached(self, aggregate_id: UUID, version: int) -> EngineAggregate | None:
        """The committed aggregate if it is cached at exactly ``version``."""
        try:
            aggregate = self._committed.get(aggregate_id)
        except KeyError:
            return None
        return aggregate if aggregate.version == version else None

    def find(self, aggregate_id: UUID, cls: type[A]) -> A | None:
        """Like :meth:`get`, but ``None`` when there is no such aggregate."""
        try:
            self._absent.get(aggregate_id)
        except KeyError:
            pass
        else:
            return None
        try:
            return self.get(aggregate_id, cls)
        except NotFound:
            return None

    def get_at(self, aggregate_id: UUID, version: int, cls: type[A]) -> A:
        """The aggregate as it was at ``version`` (shared: never change it)."""
        try:
            current = self._committed.get(aggregate_id)
        except KeyError:
            current = None
        if current is not None and current.version == version:
            aggregate = current
        else:
            key = (aggregate_id, version)
            try:
                aggregate = self._historical.get(key)
            except KeyError:
                aggregate = self._load(aggregate_id, version)
                if aggregate.version != version:
                    raise NotFound(cls.__name__, f"{aggregate_id} version {version}") from None
                self._historical.put(key, aggregate)
        if not isinstance(aggregate, cls):
            raise NotFound(cls.__name__, str(aggregate_id))
        return aggregate

    def load_at(self, aggregate_id: UUID, version: int, cls: type[A]) -> A:
        """A freshly loaded copy at ``version``, shared with no cache: the caller owns it."""
        aggregate = self._load(aggregate_id, version)
        if aggregate.version != version or not isinstance(aggregate, cls):
            raise NotFound(cls.__name__, f"{aggregate_id} version {version}")
        return aggregate

    def events_of(
        self,
        aggregate_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[Any]:
        if _MEMORY_ONLY.get():
            raise WouldBlock
        try:
            return list(self.events.get(aggregate_id, gt=gt, lte=lte, desc=desc, limit=limit))
        except PersistenceError as e:
            raise StoreUnavailable(str(e)) from e

    def notifications(self, after: int, limit: int) -> Sequence[Notification]:
        try:
            return self.recorder.select_notifications(
                start=after, limit=limit, inclusive_of_start=False
            )
        except PersistenceError as e:
            raise StoreUnavailable(str(e)) from e

    def notification_heads(self, after: int, limit: int) -> list[tuple[int, UUID, int]]:
        """``(notification id, aggregate id, version)`` of up to ``limit`` notifications
        after ``after``: what a cache needs to hear of a write, without its payload."""
        recorder = self.recorder
        try:
            if isinstance(recorder, SQLiteApplicationRecorder):
                statement = (
                    f"SELECT rowid, originator_id, originator_version FROM "
                    f"{recorder.events_table_name} WHERE rowid > ? ORDER BY rowid LIMIT ?"
                )
                with recorder.datastore.transaction(commit=False) as cursor:
                    cursor.execute(statement, (after, limit))
                    return [(row[0], UUID(row[1]), row[2]) for row in cursor.fetchall()]
            statement = recorder.heads_statement  # type: ignore[attr-defined]
            datastore = recorder.datastore  # type: ignore[attr-defined]
            # As the library reads the log: one statement, no explicit transaction.
            with datastore.get_connection() as conn, conn.cursor() as cursor:
                cursor.execute(statement, (after, limit), prepare=True)
                return [
                    (row["notification_id"], row["originator_id"], row["originator_version"])
                    for row in cursor.fetchall()
                ]
        except PersistenceError as e:
            raise StoreUnavailable(str(e)) from e

    def verify_chain(self, progress: Callable[[int, int], None] | None = None) -> BrokenLink | None:
        """Recompute every aggregate's hash chain over the whole log; the first broken link."""
        verifier = ChainVerifier()
        total = self.max_notification_id()
        position = 0
        while True:
            batch = self.notifications(position, 1000)
            if not batch:
                return None
            for notification in batch:
                broken = verifier.check(notification)
                if broken is not None:
                    return broken
            position = batch[-1].id
            if progress:
                progress(position, total)

    def max_notification_id(self) -> int:
        try:
            return self.recorder.max_notification_id() or 0
        except PersistenceError as e:
            raise StoreUnavailable(str(e)) from e

    def _load(self, aggregate_id: UUID, version: int | None = None) -> EngineAggregate:
        if _MEMORY_ONLY.get():
            raise WouldBlock
        try:
            aggregate: EngineAggregate = self.repository.get(
                aggregate_id, version=version, projector_func=replay
            )
        except AggregateNotFoundError:
            raise NotFound("Aggregate", str(aggregate_id)) from None
        except PersistenceError as e:
            raise StoreUnavailable(str(e)) from e
        return aggregate

    def _publish(self, aggregate: EngineAggregate) -> None:
        # A reader that loaded an older version must not replace a newer one
        # that a writer published meanwhile.
        with self._cache_lock:
            with contextlib.suppress(KeyError):
                self._absent.get(aggregate.id, evict=True)
            try:
                cached = self._committed.get(aggregate.id)
            except KeyError:
                cached = None
            if cached is None or cached.version <= aggregate.version:
                self._committed.put(aggregate.id, aggregate)

    def observe(self, aggregate_id: UUID, version: int) -> None:
        """Drop a cached aggregate older than ``version`` (written by another process).

        The projector calls this for every event it follows, which bounds how
        stale another process's writes can look here by its polling interval.
        """
        self.observe_all({aggregate_id: version})

    def observe_all(self, versions: Mapping[UUID, int]) -> None:
        """:meth:`observe` for each aggregate id and its newest version, under one lock.

        Most ids are of aggregates this process holds at that very version
        (its own writes) or not at all: membership is looked up first, so
        they cost a dictionary lookup each, not a raised ``KeyError``.
        """
        committed, absent = self._committed, self._absent
        with self._cache_lock:
            for aggregate_id, version in versions.items():
                if aggregate_id in absent.cache:
                    absent.get(aggregate_id, evict=True)
                if (
                    aggregate_id in committed.cache
                    and committed.get(aggregate_id).version < version
                ):
                    committed.get(aggregate_id, evict=True)

    def _forget(self, aggregate_ids: Iterable[UUID]) -> None:
        """Read these again from the database next time (what we knew of them, even
        that they did not exist, may be out of date)."""
        with self._cache_lock:
            for aggregate_id in aggregate_ids:
                with contextlib.suppress(KeyError):
                    self._committed.get(aggregate_id, evict=True)
                with contextlib.suppress(KeyError):
                    self._absent.get(aggregate_id, evict=True)

    # Writing

    def write(self, command: Callable[[UnitOfWork], R]) -> R:
        """Run ``command`` on detached copies and save what it changed, atomically.

        Concurrent callers are served in groups (*group commit*): one caller
        at a time leads, running every command queued meanwhile, each on
        copies of the state the previous ones left, and saves all their events
        in one transaction, so one fsync serves many writes. A command that raises
        fails alone. If the group's save conflicts with another process, each
        command is run again on its own (see :meth:`_write_alone`).
        """
        if self._leader == threading.get_ident():
            return self._write_alone(command)  # a command that writes again
        ticket = _Ticket(command)
        with self._queue_lock:
            self._queue.append(ticket)
            leads = not self._leading
            self._leading = True
        if not leads:
            ticket.wait()
        if not ticket.done:
            self._lead()
        return cast(R, ticket.outcome())

    def _lead(self) -> None:
        """Run the queue's first group, then hand the lead to the next caller waiting.

        Waiters sleep on their own ticket, not on the write lock: each would
        otherwise take the lock in turn only to find its command done, and
        the next group would wait behind that convoy (measured: one server
        process PATCHing from 64 connections, ~1,300 revisions/s before,
        ~1,550 after). The queue is empty whenever nobody leads, so the
        leader's own command is always in the group it runs.
        """
        try:
            with self._queue_lock:
                batch, self._queue = self._queue[:MAX_GROUP], self._queue[MAX_GROUP:]
            with self._write_lock:
                self._leader = threading.get_ident()
                try:
                    self._run_group(batch)
                finally:
                    self._leader = None
        finally:
            with self._queue_lock:
                if self._queue:
                    self._queue[0].lead()
                else:
                    self._leading = False

    def _run_group(self, tickets: list[_Ticket]) -> None:
        state: dict[UUID, EngineAggregate] = {}
        events: list[Any] = []
        succeeded: list[_Ticket] = []
        stale: list[_Ticket] = []
        """Refused on a cache another process made stale: re-run alone after the group."""
        try:
            for ticket in tickets:
                unit = UnitOfWork(self, state)
                try:
                    result = ticket.command(unit)
                except StaleRevision as e:
                    if self._refreshed(unit.aggregates):
                        stale.append(ticket)
                    else:
                        ticket.finish(error=e)
                    continue
                except Exception as e:
                    ticket.finish(error=e)
                    continue
                for aggregate in unit.aggregates.values():
                    if aggregate.pending_events:
                        new_events = aggregate.collect_events()
                        self._chain(aggregate, new_events)
                        events.extend(new_events)
                        state[aggregate.id] = aggregate
                ticket.result = result
                succeeded.append(ticket)
            if not events:
                for ticket in succeeded:
                    ticket.finish(result=ticket.result)
                self._run_alone(stale)
                return
            try:
                recordings = self._record_group(events, state)
            except IntegrityError:
                # Another process saved first: run each command on its own
                # against fresh state, so only a real conflict fails.
                self._forget(state)
                self._run_alone(succeeded + stale)
                return
            except PersistenceError as e:
                self._forget(state)
                for ticket in succeeded:
                    ticket.finish(error=StoreUnavailable(str(e)))
                return
            self._published(state.values(), recordings)
            for ticket in succeeded:
                ticket.finish(result=ticket.result)
            self._run_alone(stale)
        finally:
            for ticket in tickets:
                if not ticket.done:
                    ticket.finish(error=ConcurrentWrite("interrupted group of writes"))

    def _run_alone(self, tickets: list[_Ticket]) -> None:
        for ticket in tickets:
            try:
                ticket.finish(result=self._write_alone(ticket.command))
            except Exception as e:
                ticket.finish(error=e)

    def _refreshed(self, aggregates: dict[UUID, EngineAggregate]) -> bool:
        """On a shared store: drop from the cache those of ``aggregates`` that the
        database has newer versions of; whether there were any."""
        if not self.shared:
            return False
        stale = [a.id for a in aggregates.values() if self.events_of(a.id, gt=a.version, limit=1)]
        self._forget(stale)
        return bool(stale)

    def _write_alone(self, command: Callable[[UnitOfWork], R]) -> R:
        """One command, saved on its own; retried on fresh state after a conflict."""
        with self._write_lock:
            for _ in range(WRITE_ATTEMPTS):
                unit = UnitOfWork(self)
                try:
                    result = command(unit)
                except StaleRevision:
                    if self._refreshed(unit.aggregates):
                        continue
                    raise
                changed = [a for a in unit.aggregates.values() if a.pending_events]
                if not changed:
                    return result
                try:
                    recordings = self._save(changed)
                except IntegrityError:
                    self._forget(unit.aggregates)
                    continue
                except PersistenceError as e:
                    self._forget(unit.aggregates)
                    raise StoreUnavailable(str(e)) from e
                self._published(changed, recordings)
                return result
            raise ConcurrentWrite(", ".join(str(i) for i in unit.aggregates))

    def _published(
        self, aggregates: Iterable[EngineAggregate], recordings: list[Recording[UUID]]
    ) -> None:
        """After a commit: readers see the new aggregates, listeners hear of it."""
        for aggregate in aggregates:
            self._publish(aggregate)
        if recordings:
            ids = [r.notification.id for r in recordings]
            with self._own_ids_lock:
                self._own_ids.extend(ids)
            self.last_notification_id = max(self.last_notification_id, *ids)
        for listener in self._listeners:
            listener(self.last_notification_id)

    def _record_group(
        self, events: list[Any], aggregates: dict[UUID, EngineAggregate]
    ) -> list[Recording[UUID]]:
        processing: ProcessingEvent[UUID] = ProcessingEvent()
        processing.events.extend(events)
        processing.aggregates.update(aggregates)
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        return recordings

    def _save(self, aggregates: list[EngineAggregate]) -> list[Recording[UUID]]:
        """What ``Application.save`` does, without its per-object protocol checks.

        ``isinstance`` against runtime-checkable protocols costs ~30 µs per save
        here; these objects are known to be aggregates.
        """
        processing: ProcessingEvent[UUID] = ProcessingEvent()
        for aggregate in aggregates:
            events = aggregate.collect_events()
            self._chain(aggregate, events)
            processing.events.extend(events)
            processing.aggregates[aggregate.id] = aggregate
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        return recordings

    def _chain(self, aggregate: EngineAggregate, events: Sequence[Any]) -> None:
        """Give each new event its link in the aggregate's hash chain (see :mod:`.chain`)."""
        head = chain_head(aggregate)
        for event in events:
            state = dict(vars(event))
            state.pop("originator_id")
            state.pop("originator_version")
            state.pop(HASH_FIELD, None)
            # The mapper stores an event's class_version beside its state (from
            # v2 on): the hash covers exactly what is stored.
            class_version = getattr(type(event), "class_version", 1)
            if class_version > 1:
                state["class_version"] = class_version
            encoded = self.mapper.transcoder.encode(state)
            head = link(
                head, get_topic(type(event)), event.originator_id, event.originator_version, encoded
            )
            object.__setattr__(event, HASH_FIELD, head)
        setattr(aggregate, CHAIN_HEAD, head)

    def written_here_after(self, position: int) -> int:
        """How many notifications after ``position`` this process wrote itself."""
        with self._own_ids_lock:
            return len(self._own_ids) - bisect.bisect_right(self._own_ids, position)

    def forget_written_up_to(self, position: int) -> None:
        # Not the write lock: the projector would wait out a whole commit.
        with self._own_ids_lock:
            del self._own_ids[: bisect.bisect_right(self._own_ids, position)]

    def on_write(self, listener: Callable[[int], None]) -> None:
        """Call ``listener(notification_id)`` after every successful write."""
        self._listeners.append(listener)
