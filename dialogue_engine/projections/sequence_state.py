"""What the sequence view knows about one dialogue, and how each event changes it.

Pure Python, no SQL: :mod:`.sequences` loads a :class:`DialogueState` from its
tables (or keeps it in memory between batches), applies each event of a batch
with :func:`dialogue_changed` and :func:`releases_changed`, and writes what a
:class:`Pending` collected in the batch's transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ..domain.jsonvalue import JSON, canonical_bytes, json_equal
from ..domain.sequence_search import DRAFT, PUBLISHED, UNPUBLISHED

Interval = list[int | None]
"""``[from_revision, to_revision)``; ``to`` is None while the sequence is present."""


@dataclass(slots=True)
class Presence:
    created_at: int
    created_revision: int
    intervals: list[Interval]

    def present_at(self, revision: int) -> bool:
        return any(
            start is not None and start <= revision and (end is None or revision < end)
            for start, end in self.intervals
        )


@dataclass(slots=True)
class Current:
    fingerprint: bytes
    sequence: JSON = None
    """The sequence object itself when known (None when loaded from the tables)."""


@dataclass(slots=True)
class DialogueState:
    """What the view knows about one dialogue after notification ``position``."""

    project_id: str
    title: str
    released: list[int]
    current: dict[str, Current] = field(default_factory=dict)
    history: dict[str, Presence] = field(default_factory=dict)
    position: int = 0


@dataclass(slots=True)
class Pending:
    """One batch's writes for one dialogue."""

    state: DialogueState
    dialogue: bool = False
    rows: dict[str, tuple[JSON, int, int]] = field(default_factory=dict)
    """Sequence id -> (sequence, updated_at, updated_revision) to upsert."""
    removed: set[str] = field(default_factory=set)
    removed_for_good: set[str] = field(default_factory=set)
    """Ids absent at the end of the batch whose history goes to ``view_sequence_removed``."""
    revived: set[str] = field(default_factory=set)
    """Ids present again whose history leaves ``view_sequence_removed``."""
    statuses: bool = False


def status_of(presence: Presence, released: list[int]) -> int:
    if not released:
        return DRAFT
    if presence.present_at(released[-1]):
        return PUBLISHED
    if any(presence.present_at(revision) for revision in released[:-1]):
        return UNPUBLISHED
    return DRAFT


def fingerprint(sequence: JSON) -> bytes:
    return hashlib.blake2b(canonical_bytes(sequence), digest_size=16).digest()


def dialogue_changed(work: Pending, description: JSON, version: int, created: int) -> None:
    """Revision ``version`` (recorded at ``created``) of the dialogue: what it added,
    changed and removed. Copy-on-write descriptions make the common case cheap: a
    sequence that is the very object it was is unchanged."""
    state = work.state
    if description.get("title") != state.title:
        state.title = description.get("title", "")
        work.dialogue = True
    sequences = description.get("sequences", ())
    if not state.current and not state.history:
        # A new dialogue (the bulk of a rebuild): every sequence is new.
        for sequence in sequences:
            sequence_id = sequence.get("id")
            state.current[sequence_id] = Current(fingerprint(sequence), sequence)
            state.history[sequence_id] = Presence(created, version, [[version, None]])
            work.rows[sequence_id] = (sequence, created, version)
        return
    seen = set()
    for sequence in sequences:
        sequence_id = sequence.get("id")
        seen.add(sequence_id)
        known = state.current.get(sequence_id)
        if known is not None:
            if known.sequence is sequence:
                continue
            if known.sequence is not None and json_equal(known.sequence, sequence):
                known.sequence = sequence
                continue
            printed = fingerprint(sequence)
            if printed == known.fingerprint:
                known.sequence = sequence
                continue
            state.current[sequence_id] = Current(printed, sequence)
            work.rows[sequence_id] = (sequence, created, version)
            continue
        state.current[sequence_id] = Current(fingerprint(sequence), sequence)
        presence = state.history.get(sequence_id)
        if presence is None:
            state.history[sequence_id] = Presence(created, version, [[version, None]])
        else:
            presence.intervals.append([version, None])
        work.rows[sequence_id] = (sequence, created, version)
        work.removed.discard(sequence_id)
        if sequence_id in work.removed_for_good:
            work.removed_for_good.discard(sequence_id)
        elif presence is not None:
            work.revived.add(sequence_id)
    for sequence_id in [s for s in state.current if s not in seen]:
        del state.current[sequence_id]
        state.history[sequence_id].intervals[-1][1] = version
        work.rows.pop(sequence_id, None)
        work.removed.add(sequence_id)
        work.removed_for_good.add(sequence_id)


def releases_changed(work: Pending, released: list[int]) -> None:
    """The dialogue's releases now pin ``released`` (revision numbers, oldest first)."""
    if released != work.state.released:
        work.state.released = released
        work.dialogue = work.statuses = True
