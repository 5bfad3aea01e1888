"""The auditor's facade (``engine.audit``): verify, diff, blame, time travel, replay, feed.

Every method authorizes its :class:`~dialogue_engine.domain.permissions.Actor`
the way the engine does (what the actor may not read is ``NotFound``) and
returns frozen records holding copies. The REST handlers and the CLI only
parse and call these.

- Tamper evidence: :meth:`Audit.verify` recomputes every hash chain of the
  store, :meth:`Audit.verify_dialogue` one dialogue's chains (its revisions
  and its release log) and checks its snapshots against its events.
- Looking back: :meth:`Audit.diff`, :meth:`Audit.blame`,
  :meth:`Audit.dialogue_as_of`, :meth:`Audit.block_history` and
  :meth:`Audit.replay` (from the stored events alone, verifying as it goes).
- Export and import of the log: :mod:`dialogue_engine.eventstore.transfer`.
- The live feed: :meth:`Audit.feed`, a cursor over the notification log.

Blame, block histories and the time index are kept per dialogue and only
extended by the revisions recorded since, so a long history is walked once.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Generic, Protocol, TypeVar
from uuid import UUID

from eventsourcing.application import LRUCache
from eventsourcing.utils import get_topic

from .domain import permissions as perms
from .domain.dialogue import Dialogue, Revision, revision_from_event, revision_id
from .domain.diff import make_patch
from .domain.errors import DomainError, FieldError, NotFound, PermissionDenied, ValidationFailed
from .domain.history import (
    BlameIndex,
    BlockTrail,
    Stamp,
    description_after,
    stamp_of,
)
from .domain.jsonvalue import JSON, canonical_bytes, loads
from .domain.paging import Page, PageRequest
from .domain.permissions import SYSTEM, Actor
from .domain.releases import ReleaseLog, release_id, release_log_id
from .eventstore import ledger, transfer
from .eventstore.chain import BrokenLink, ChainVerifier

if TYPE_CHECKING:
    from .engine import DialogueEngine, DialogueRecord, ReleaseRecord

BATCH = 1000
"""Events read per query while walking a history."""

REVISION_TOPICS = tuple(
    get_topic(cls) for cls in (Dialogue.Created, Dialogue.Edited, Dialogue.Reverted)
)
RELEASE_LOG_CREATED = get_topic(ReleaseLog.Created)
RELEASED = get_topic(ReleaseLog.Released)
FEED_TOPICS = (*REVISION_TOPICS, RELEASE_LOG_CREATED, RELEASED)


class ChainBroken(DomainError):
    """A stored event's hash is not what its content and its predecessor give."""

    type = "chain_broken"

    def __init__(self, broken: BrokenLink) -> None:
        super().__init__(
            f"The hash chain of aggregate {broken.aggregate_id} is broken at version "
            f"{broken.version}",
            {
                "aggregate_id": broken.aggregate_id,
                "version": broken.version,
                "notification_id": broken.notification_id,
                "expected": broken.expected,
                "found": broken.found,
            },
        )
        self.broken = broken


@dataclass(frozen=True)
class RevisionStamp:
    """A revision as blame and histories name it: which, by whom, when."""

    id: str
    number: int
    user_id: str
    created: int


@dataclass(frozen=True)
class BlockBlame:
    id: str
    type: str
    changed: RevisionStamp
    added: RevisionStamp


@dataclass(frozen=True)
class SequenceBlame:
    id: str
    title: str
    changed: RevisionStamp
    """The last revision that changed the sequence (its own members or its blocks)."""
    added: RevisionStamp
    blocks: tuple[BlockBlame, ...]


@dataclass(frozen=True)
class DialogueBlame:
    dialogue_id: str
    revision_id: str
    revision_number: int
    title: str
    title_changed: RevisionStamp
    sequences: tuple[SequenceBlame, ...]


@dataclass(frozen=True)
class BlockHistoryEntry:
    """A revision that touched the block (added, changed, removed) and its value after."""

    revision: RevisionStamp
    change: str
    block: JSON


@dataclass(frozen=True)
class RevisionDiff:
    from_revision: RevisionStamp
    to_revision: RevisionStamp
    patch: list[dict[str, Any]]
    """RFC 6902 operations turning ``from_revision``'s description into ``to_revision``'s."""


@dataclass(frozen=True)
class RevisionChange:
    """One revision with the descriptions right before and right after it."""

    revision: Revision
    before: dict[str, Any] | None
    """None for revision 1 (nothing came before)."""
    after: dict[str, Any]


@dataclass(frozen=True)
class DialogueVerification:
    dialogue_id: str
    revision_number: int
    dialogue: ledger.ChainCheck
    releases: ledger.ChainCheck | None
    """The release log's chain (None: the dialogue was never released)."""

    @property
    def intact(self) -> bool:
        return self.dialogue.intact and (self.releases is None or self.releases.intact)


@dataclass(frozen=True)
class Replayed:
    dialogue_id: str
    project_id: str
    revision_id: str
    revision_number: int
    head: str
    """The hash of the last event replayed (the chain was verified up to it)."""
    description: dict[str, Any]


@dataclass(frozen=True)
class FeedItem:
    """One revision or release in the log, at notification ``id``."""

    id: int
    kind: str
    """``revision`` or ``release``."""
    project_id: str
    dialogue_id: str
    revision: Revision | None = None
    release: ReleaseRecord | None = None


@dataclass(frozen=True)
class FeedPage:
    items: list[FeedItem]
    position: int
    """Read up to here: pass it as ``after`` next time (it can pass hidden events)."""
    more: bool = False
    """The read stopped at ``limit`` before the log's end: call again at once."""


class _Walker(Protocol):
    @property
    def version(self) -> int: ...

    @property
    def description(self) -> JSON: ...

    def advance(self, stamp: Stamp, description: JSON) -> None: ...


W = TypeVar("W", bound=_Walker)


class _Kept(Generic[W]):
    """An index kept for a dialogue, with the lock that guards its extension."""

    def __init__(self, index: W) -> None:
        self.index = index
        self.lock = threading.Lock()


class Audit:
    def __init__(self, engine: DialogueEngine) -> None:
        self._engine = engine
        self._store = engine.store
        self._lock = threading.Lock()
        self._blames: LRUCache[Hashable, _Kept[BlameIndex]] = LRUCache(maxsize=16)
        self._trails: LRUCache[Hashable, _Kept[BlockTrail]] = LRUCache(maxsize=64)
        self._clocks: LRUCache[UUID, list[int]] = LRUCache(maxsize=1000)
        self._owners: LRUCache[UUID, tuple[str, str]] = LRUCache(maxsize=10_000)

    # Tamper evidence

    def verify(
        self, *, actor: Actor = SYSTEM, progress: Callable[[int, int], None] | None = None
    ) -> ledger.LogCheck:
        """Recompute every hash chain of the store (admin only); the first broken link."""
        if not actor.is_admin:
            raise PermissionDenied("verify", "the store")
        return ledger.verify_log(self._store, progress)

    def verify_dialogue(
        self, project_id: str, dialogue_id: str, *, actor: Actor = SYSTEM
    ) -> DialogueVerification:
        """Recompute the chains of a dialogue and of its release log; check their snapshots."""
        dialogue = self._engine._readable(project_id, dialogue_id, actor)
        releases = ledger.verify_aggregate(self._store, release_log_id(dialogue.id))
        return DialogueVerification(
            dialogue_id=str(dialogue.id),
            revision_number=dialogue.version,
            dialogue=ledger.verify_aggregate(self._store, dialogue.id),
            releases=releases if releases.events else None,
        )

    # Looking back

    def diff(
        self,
        project_id: str,
        dialogue_id: str,
        from_revision: str,
        to_revision: str | None = None,
        *,
        actor: Actor = SYSTEM,
    ) -> RevisionDiff:
        """The RFC 6902 patch from one revision's description to another's (default: current)."""
        source = self._engine.get_revision_dialogue(
            project_id, dialogue_id, from_revision, actor=actor
        )
        target = (
            self._engine.get_dialogue(project_id, dialogue_id, actor=actor)
            if to_revision is None
            else self._engine.get_revision_dialogue(
                project_id, dialogue_id, to_revision, actor=actor
            )
        )
        return RevisionDiff(
            self._stamp_of_record(project_id, dialogue_id, source, actor),
            self._stamp_of_record(project_id, dialogue_id, target, actor),
            make_patch(source.description, target.description),
        )

    def revision_change(
        self, project_id: str, dialogue_id: str, number: int | None = None, *, actor: Actor = SYSTEM
    ) -> RevisionChange:
        """Revision ``number`` (default: the latest) and the descriptions around it."""
        dialogue = self._engine._readable(project_id, dialogue_id, actor)
        number = dialogue.version if number is None else number
        if type(number) is not int or not 1 <= number <= dialogue.version:
            raise NotFound("Revision", str(number), dialogue_id=dialogue_id)
        revision = self._engine.get_revision(
            project_id, dialogue_id, revision_id(dialogue.id, number), actor=actor
        )
        after = self._engine._record(dialogue, actor, number).description
        before = (
            self._engine._record(dialogue, actor, number - 1).description if number > 1 else None
        )
        return RevisionChange(revision, before, after)

    def blame(self, project_id: str, dialogue_id: str, *, actor: Actor = SYSTEM) -> DialogueBlame:
        """For the title, each sequence and each block: the revision that last changed it."""
        dialogue = self._engine._readable(project_id, dialogue_id, actor)
        kept = self._kept(self._blames, dialogue.id, BlameIndex)
        with kept.lock:
            index = self._extend(kept.index, dialogue)
            assert index.title is not None
            description = index.description
            sequences = []
            for sequence in description["sequences"]:
                attribution = index.sequences[sequence["id"]]
                blocks = []
                for block in sequence["blocks"]:
                    found = index.blocks[(sequence["id"], block["id"])]
                    blocks.append(
                        BlockBlame(
                            block["id"],
                            block["type"],
                            self._named(dialogue.id, found.changed),
                            self._named(dialogue.id, found.added),
                        )
                    )
                sequences.append(
                    SequenceBlame(
                        sequence["id"],
                        sequence["title"],
                        self._named(dialogue.id, attribution.changed),
                        self._named(dialogue.id, attribution.added),
                        tuple(blocks),
                    )
                )
            return DialogueBlame(
                str(dialogue.id),
                revision_id(dialogue.id, index.version),
                index.version,
                description["title"],
                self._named(dialogue.id, index.title),
                tuple(sequences),
            )

    def block_history(
        self,
        project_id: str,
        dialogue_id: str,
        sequence_id: str,
        block_id: str,
        *,
        actor: Actor = SYSTEM,
        page: int = 1,
        per_page: int = 30,
    ) -> Page[BlockHistoryEntry]:
        """Every revision that touched block ``block_id`` of sequence ``sequence_id``, oldest first.

        Blocks that have left the dialogue keep their history; a block that
        never was in that sequence is ``NotFound``.
        """
        request = PageRequest(page, per_page)
        dialogue = self._engine._readable(project_id, dialogue_id, actor)
        if type(sequence_id) is not str or type(block_id) is not str:
            raise NotFound("Block", f"{sequence_id}/{block_id}", dialogue_id=dialogue_id)
        kept = self._kept(
            self._trails,
            (dialogue.id, sequence_id, block_id),
            lambda: BlockTrail(sequence_id, block_id),
        )
        with kept.lock:
            changes = list(self._extend(kept.index, dialogue).changes)
        if not changes:
            raise NotFound("Block", f"{sequence_id}/{block_id}", dialogue_id=dialogue_id)
        shown = changes[request.offset : request.offset + request.per_page]
        items = [
            BlockHistoryEntry(
                self._named(dialogue.id, c.stamp), c.change, loads(canonical_bytes(c.block))
            )
            for c in shown
        ]
        return Page(items, len(changes), request.page, request.per_page)

    def dialogue_as_of(
        self, project_id: str, dialogue_id: str, as_of: object, *, actor: Actor = SYSTEM
    ) -> DialogueRecord:
        """The description as it stood at ``as_of`` (ms since the epoch).

        ``created`` is client-supplied and may go back in time, so revisions
        are placed on a clock that never runs backwards: revision *n* counts
        as recorded at the latest ``created`` of revisions 1..n. The answer is
        the last revision recorded by ``as_of`` on that clock, that is the
        longest run of revisions from the first whose ``created`` are all at
        or before ``as_of``; a backdated revision never shows content that
        the revisions before it added later. Before the first revision:
        ``NotFound``.
        """
        if type(as_of) is not int or as_of < 0:
            raise ValidationFailed(
                [FieldError("type", "/as_of", "as_of must be a non-negative integer (ms)")],
                "Invalid query parameters",
            )
        dialogue = self._engine._readable(project_id, dialogue_id, actor)
        clock = self._clock(dialogue)
        number = bisect.bisect_right(clock, as_of)
        if number == 0:
            raise NotFound("Dialogue", dialogue_id, as_of=str(as_of))
        return self._engine._record(dialogue, actor, number)

    def replay(
        self,
        dialogue_id: str,
        *,
        to: int | None = None,
        actor: Actor = SYSTEM,
        progress: Callable[[int, int], None] | None = None,
    ) -> Replayed:
        """The description as of revision ``to`` (default: the latest), from the stored events.

        No snapshot and no cache is used: each stored event's hash is
        recomputed before its patch is applied (a broken link raises
        :class:`ChainBroken`), so the result rests on the verified log alone.
        """
        aggregate_id = _uuid(dialogue_id)
        current = self._store.find(aggregate_id, Dialogue) if aggregate_id else None
        if current is None or not perms.can_read_dialogue(
            actor, current.project_id, str(current.id)
        ):
            raise NotFound("Dialogue", str(dialogue_id))
        last = current.version if to is None else to
        if type(last) is not int or not 1 <= last <= current.version:
            raise NotFound("Revision", str(to), dialogue_id=str(dialogue_id))
        verifier = ChainVerifier()
        description: JSON = None
        for stored in ledger.stored_events(self._store, current.id):
            if stored.originator_version > last:
                break
            broken = verifier.check(stored)
            if broken is not None:
                raise ChainBroken(broken)
            description = description_after(description, self._store.mapper.to_domain_event(stored))
            if progress:
                progress(stored.originator_version, last)
        return Replayed(
            str(current.id),
            current.project_id,
            revision_id(current.id, last),
            last,
            verifier.heads[current.id],
            loads(canonical_bytes(description)),
        )

    # Export and import (see eventstore/transfer.py)

    def export(
        self,
        out: IO[bytes],
        *,
        project_id: str | None = None,
        actor: Actor = SYSTEM,
        progress: Callable[[int, int], None] | None = None,
    ) -> transfer.ExportSummary:
        """Write the log (or one project's aggregates) as JSON Lines, hashes included.

        The whole store needs ``admin``; one project needs ``project:admin`` on it.
        """
        if project_id is None:
            if not actor.is_admin:
                raise PermissionDenied("export", "the store")
        else:
            self._engine.get_project(project_id, actor=actor)
            if not perms.can_admin_project(actor, project_id):
                raise PermissionDenied("export", f"project {project_id}")
        return transfer.export_events(self._store, out, project_id=project_id, progress=progress)

    def import_file(
        self,
        path: Path,
        *,
        actor: Actor = SYSTEM,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> transfer.ImportSummary:
        """Import an export into this (empty) store; refused unless every chain verifies."""
        if not actor.is_admin:
            raise PermissionDenied("import", "the store")
        summary = transfer.import_events(self._store, path, progress=progress)
        views = (lambda done, total: progress("read models", done, total)) if progress else None
        self._engine.projector.catch_up(progress=views)
        return summary

    # The live feed

    def feed(self, after: int, *, actor: Actor = SYSTEM, limit: int = 100) -> FeedPage:
        """Revisions and releases recorded after notification ``after`` that ``actor`` may see.

        ``position`` is where the next call continues: past every event read,
        shown or not, so hidden events are not read again. Notification ids
        increase in commit order (SQLite has one writer), so a cursor misses
        nothing and repeats nothing.
        """
        if type(after) is not int or after < 0:
            raise ValidationFailed(
                [FieldError("type", "/after", "after must be a non-negative integer")]
            )
        stop = self._store.max_notification_id()
        if after >= stop:
            return FeedPage([], after)
        rows = ledger.select(self._store, after, limit, stop, FEED_TOPICS)
        more = len(rows) == limit
        items = []
        for row in rows:
            item = self._feed_item(row, actor)
            if item is not None:
                items.append(item)
        return FeedPage(items, rows[-1].id if more else stop, more)

    def _feed_item(self, row: Any, actor: Actor) -> FeedItem | None:
        event: Any = self._store.mapper.to_domain_event(row)
        if row.topic == RELEASE_LOG_CREATED:
            self._owners.put(event.originator_id, (event.project_id, event.dialogue_id))
            return None
        if isinstance(event, Dialogue.Created):
            self._owners.put(event.originator_id, (event.project_id, str(event.originator_id)))
        project_id, dialogue_id = self._owner(event.originator_id, row.topic)
        if not perms.can_read_dialogue(actor, project_id, dialogue_id):
            return None
        if row.topic == RELEASED:
            number = event.originator_version - 1
            release = self._engine.get_release(
                project_id, dialogue_id, release_id(UUID(dialogue_id), number), actor=actor
            )
            return FeedItem(row.id, "release", project_id, dialogue_id, release=release)
        revision = revision_from_event(event)
        return FeedItem(row.id, "revision", project_id, dialogue_id, revision=revision)

    def _owner(self, aggregate_id: UUID, topic: str) -> tuple[str, str]:
        """(project id, dialogue id) of a dialogue or a release log."""
        try:
            return self._owners.get(aggregate_id)
        except KeyError:
            pass
        if topic == RELEASED:
            log = self._store.get(aggregate_id, ReleaseLog)
            owner = (log.project_id, log.dialogue_id)
        else:
            dialogue = self._store.get(aggregate_id, Dialogue)
            owner = (dialogue.project_id, str(dialogue.id))
        self._owners.put(aggregate_id, owner)
        return owner

    # Helpers

    def _kept(
        self, cache: LRUCache[Hashable, _Kept[W]], key: Hashable, make: Callable[[], W]
    ) -> _Kept[W]:
        with self._lock:
            try:
                return cache.get(key)
            except KeyError:
                kept = _Kept(make())
                cache.put(key, kept)
                return kept

    def _extend(self, index: W, dialogue: Dialogue) -> W:
        """Feed ``index`` the revisions after its version, up to the dialogue's."""
        while index.version < dialogue.version:
            events = self._store.events_of(
                dialogue.id, gt=index.version, lte=dialogue.version, limit=BATCH
            )
            if not events:
                raise NotFound("Revision", str(index.version + 1), dialogue_id=str(dialogue.id))
            description = index.description
            for event in events:
                description = description_after(description, event)
                index.advance(stamp_of(event), description)
        return index

    def _clock(self, dialogue: Dialogue) -> list[int]:
        """Per revision (index n-1), the latest ``created`` of revisions 1..n."""
        with self._lock:
            try:
                clock = self._clocks.get(dialogue.id)
            except KeyError:
                clock = []
        while len(clock) < dialogue.version:
            events = self._store.events_of(
                dialogue.id, gt=len(clock), lte=dialogue.version, limit=BATCH
            )
            if not events:
                break
            latest = clock[-1] if clock else 0
            extended = list(clock)
            for event in events:
                latest = max(latest, event.created)
                extended.append(latest)
            clock = extended
        with self._lock:
            self._clocks.put(dialogue.id, clock)
        return clock

    def _named(self, dialogue_id: UUID, stamp: Stamp) -> RevisionStamp:
        return RevisionStamp(
            revision_id(dialogue_id, stamp.number), stamp.number, stamp.user_id, stamp.created
        )

    def _stamp_of_record(
        self, project_id: str, dialogue_id: str, record: DialogueRecord, actor: Actor
    ) -> RevisionStamp:
        revision = self._engine.get_revision(
            project_id, dialogue_id, record.revision_id, actor=actor
        )
        return RevisionStamp(revision.id, revision.number, revision.user_id, revision.created)


def _uuid(value: object) -> UUID | None:
    if type(value) is not str:
        return None
    try:
        return UUID(value)
    except ValueError:
        return None
