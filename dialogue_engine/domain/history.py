"""Walking a dialogue's revisions forward: what each one changed, and who changed what last.

Pure: the caller feeds the description after each revision (in order) with
a :class:`Stamp` of who recorded it and when. Descriptions are copy-on-write
(:mod:`.patching`): a revision builds a new root that shares every untouched
subtree with the previous one, so almost every comparison here ends at an
identity check. Where identity fails the values are compared strictly
(:func:`~.jsonvalue.json_equal`), so a sequence or block replaced by an equal
value is *not* a change. Each step costs O(number of sequences) plus the blocks
of the sequences that changed, whatever the length of the history, which is
what lets the engine keep a blame current one revision at a time.

Definitions (the contract is silent, so they are stated here):

- The *title* changed when its value differs from the previous revision's.
- A *sequence* (keyed by its id) changed when its value differs: any of its
  own members or any of its blocks, their order included. Moving a sequence
  within the dialogue changes no sequence.
- A *block* is keyed by its sequence and its id, the way
  ``/sequences/{s}/blocks/{b}`` names it; it changed when its value in that
  sequence differs, was *added* when it appears there (also when moved in from
  another sequence) and *removed* when it leaves it (or its sequence goes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .dialogue import Dialogue
from .jsonvalue import JSON, json_equal
from .patching import apply_patch

ADDED = "added"
CHANGED = "changed"
REMOVED = "removed"


@dataclass(frozen=True)
class Stamp:
    """Who recorded a revision, and when (``created``, ms since the epoch)."""

    number: int
    user_id: str
    created: int


def stamp_of(event: Any) -> Stamp:
    """The stamp of a stored dialogue event (every dialogue event is a revision)."""
    return Stamp(event.originator_version, event.user_id, event.created)


def description_after(previous: JSON, event: Any) -> JSON:
    """The description right after a dialogue event, from the one right before it.

    Copy-on-write: ``previous`` is left as it is and shares its untouched
    subtrees with the result.
    """
    if isinstance(event, Dialogue.Created):
        return event.description
    return apply_patch(previous, event.patch)


@dataclass(frozen=True)
class Touched:
    """What one revision changed: the value after it of each thing (None: removed)."""

    title: bool
    sequences: dict[str, JSON | None]
    blocks: dict[tuple[str, str], tuple[str, JSON | None]]
    """(sequence id, block id) -> (``added``, ``changed`` or ``removed``, value after)."""


class DescriptionWalk:
    """Compares each description with the previous one fed in."""

    def __init__(self) -> None:
        self.version = 0
        self.description: JSON = None
        self._sequences: dict[str, JSON] = {}

    def advance(self, number: int, description: JSON) -> Touched:
        """Revision ``number`` (the next one) left ``description``."""
        if number != self.version + 1:
            raise ValueError(f"revision {number} does not follow {self.version}")
        previous, old = self.description, self._sequences
        self.version, self.description = number, description
        if previous is None:
            self._sequences = {s["id"]: s for s in description["sequences"]}
            touched = Touched(True, {}, {})
            for sequence_id, sequence in self._sequences.items():
                _sequence_changed(touched, sequence_id, None, sequence)
            return touched
        touched = Touched(description["title"] != previous["title"], {}, {})
        if description["sequences"] is previous["sequences"]:
            return touched
        new = self._sequences = {s["id"]: s for s in description["sequences"]}
        for sequence_id, sequence in new.items():
            before = old.get(sequence_id)
            if before is not sequence:
                _sequence_changed(touched, sequence_id, before, sequence)
        for sequence_id, before in old.items():
            if sequence_id not in new:
                _sequence_changed(touched, sequence_id, before, None)
        return touched


def _sequence_changed(touched: Touched, sequence_id: str, before: JSON, after: JSON) -> None:
    if before is not None and after is not None and json_equal(before, after):
        return
    touched.sequences[sequence_id] = after
    old_blocks = before["blocks"] if before is not None else []
    new_blocks = after["blocks"] if after is not None else []
    if old_blocks is new_blocks:
        return
    old = {b["id"]: b for b in old_blocks}
    seen = set()
    for block in new_blocks:
        block_id = block["id"]
        seen.add(block_id)
        previous = old.get(block_id)
        if previous is None:
            touched.blocks[(sequence_id, block_id)] = (ADDED, block)
        elif previous is not block and not json_equal(previous, block):
            touched.blocks[(sequence_id, block_id)] = (CHANGED, block)
    for block_id in old:
        if block_id not in seen:
            touched.blocks[(sequence_id, block_id)] = (REMOVED, None)


@dataclass
class Attribution:
    """The revision that last changed something, and the one that added it."""

    changed: Stamp
    added: Stamp


@dataclass
class BlameIndex:
    """For the title, every sequence and every block: who changed it last.

    Kept current by :meth:`advance`, one revision at a time, so a long
    history is walked once and then only extended.
    """

    walk: DescriptionWalk = field(default_factory=DescriptionWalk)
    title: Stamp | None = None
    sequences: dict[str, Attribution] = field(default_factory=dict)
    blocks: dict[tuple[str, str], Attribution] = field(default_factory=dict)

    @property
    def version(self) -> int:
        return self.walk.version

    @property
    def description(self) -> JSON:
        return self.walk.description

    def advance(self, stamp: Stamp, description: JSON) -> None:
        touched = self.walk.advance(stamp.number, description)
        if touched.title:
            self.title = stamp
        for sequence_id, value in touched.sequences.items():
            _attribute(self.sequences, sequence_id, value is None, stamp)
        for key, (change, _) in touched.blocks.items():
            _attribute(self.blocks, key, change == REMOVED, stamp)


def _attribute(table: dict[Any, Attribution], key: Any, removed: bool, stamp: Stamp) -> None:
    if removed:
        table.pop(key, None)
        return
    found = table.get(key)
    if found is None:
        table[key] = Attribution(stamp, stamp)
    else:
        found.changed = stamp


@dataclass(frozen=True)
class BlockChange:
    """One revision that touched a block, and the block's value after it (None: removed)."""

    stamp: Stamp
    change: str
    block: JSON


@dataclass
class BlockTrail:
    """Every revision that touched one block of one sequence."""

    sequence_id: str
    block_id: str
    walk: DescriptionWalk = field(default_factory=DescriptionWalk)
    changes: list[BlockChange] = field(default_factory=list)

    @property
    def version(self) -> int:
        return self.walk.version

    @property
    def description(self) -> JSON:
        return self.walk.description

    def advance(self, stamp: Stamp, description: JSON) -> None:
        touched = self.walk.advance(stamp.number, description)
        found = touched.blocks.get((self.sequence_id, self.block_id))
        if found is not None:
            change, value = found
            self.changes.append(BlockChange(stamp, change, value))
