"""The sequences facade: sequence and block sub-resources, duplication, and search.

Exposed as ``DialogueEngine.sequences``. A sequence lives inside a dialogue,
so every write here is one edit revision of the dialogue that holds it,
recorded through :meth:`~.domain.dialogue.Dialogue.edit` with a patch built
by :mod:`.domain.sequences` (same validation, permissions, ``If-Match`` and
history as any other edit; a write that changes nothing records nothing).
Reads of one dialogue's sequences come from the aggregate (read-your-writes);
search across dialogues comes from the sequence read model
(:mod:`.projections.sequences`), caught up to this process's own writes.

Example::

    sequences = engine.sequences
    intro = sequences.create(project.id, dialogue.id, {"title": "Intro"})
    sequences.create_block(project.id, dialogue.id, intro.id,
                           {"type": "message", "properties": {"text": "Hi"}})
    found = sequences.search({"title": "intro", "status": "0"})
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .domain import blocks
from .domain import permissions as perms
from .domain import sequences as edits
from .domain.dialogue import Dialogue, revision_id
from .domain.errors import FieldError, NotFound, ValidationFailed
from .domain.jsonvalue import JSON, dumps, loads
from .domain.paging import Page, PageRequest
from .domain.permissions import SYSTEM, Actor
from .domain.sequence_search import SequenceSearch, parse_search, readable_scope
from .eventstore.application import UnitOfWork
from .projections.sequences import SequenceRow, SequenceView

if TYPE_CHECKING:
    from .engine import DialogueEngine


@dataclass(frozen=True)
class SequenceRecord:
    """One sequence at one revision of its dialogue (``sequence`` is the caller's copy)."""

    project_id: str
    dialogue_id: str
    revision_id: str
    sequence: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.sequence["id"])


@dataclass(frozen=True)
class BlockRecord:
    project_id: str
    dialogue_id: str
    sequence_id: str
    revision_id: str
    block: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.block["id"])


@dataclass(frozen=True)
class DuplicationRecord:
    """The target sequence after a duplication, and each copied block's ``{from, to}`` ids."""

    target: SequenceRecord
    blocks: list[dict[str, str]]


class Sequences:
    def __init__(self, engine: DialogueEngine) -> None:
        # A companion of the engine: it authorizes and loads through the
        # engine's own helpers so permissions stay in one place.
        self._engine = engine

    # Sequences

    def list(
        self,
        project_id: str,
        dialogue_id: str,
        *,
        actor: Actor = SYSTEM,
        page: int = 1,
        per_page: int = 30,
    ) -> Page[SequenceRecord]:
        """The dialogue's sequences in their order."""
        request = PageRequest(page, per_page)
        dialogue = self._engine._readable(project_id, dialogue_id, actor)
        sequences = dialogue.description["sequences"]
        chosen = sequences[request.offset : request.offset + request.per_page]
        items = [_sequence(dialogue, s) for s in chosen]
        return Page(items, len(sequences), request.page, request.per_page)

    def get(
        self, project_id: str, dialogue_id: str, sequence_id: str, *, actor: Actor = SYSTEM
    ) -> SequenceRecord:
        dialogue = self._engine._readable(project_id, dialogue_id, actor)
        return _sequence(dialogue, _found(dialogue, sequence_id))

    def create(
        self,
        project_id: str,
        dialogue_id: str,
        body: JSON,
        *,
        actor: Actor = SYSTEM,
        expected_revision: int | str | None = None,
    ) -> SequenceRecord:
        """Append a sequence (``new_sequence``); without an ``id`` one is made from the title."""
        dialogue, edit = self._edit(
            project_id, dialogue_id, actor, expected_revision, lambda d: edits.new_sequence(d, body)
        )
        return _sequence(dialogue, _found(dialogue, edit.result["id"]))

    def replace(
        self,
        project_id: str,
        dialogue_id: str,
        sequence_id: str,
        body: JSON,
        *,
        actor: Actor = SYSTEM,
        expected_revision: int | str | None = None,
    ) -> SequenceRecord:
        """Replace a sequence's fields (``update_sequence``); left-out ``blocks`` are kept."""
        dialogue, _ = self._edit(
            project_id,
            dialogue_id,
            actor,
            expected_revision,
            lambda d: edits.replace_sequence(d, sequence_id, body),
        )
        return _sequence(dialogue, _found(dialogue, sequence_id))

    def patch(
        self,
        project_id: str,
        dialogue_id: str,
        sequence_id: str,
        patch: JSON,
        *,
        actor: Actor = SYSTEM,
        expected_revision: int | str | None = None,
    ) -> SequenceRecord:
        """RFC 6902 on one sequence (``update_sequence``, or ``move_block`` for block moves)."""
        dialogue, _ = self._edit(
            project_id,
            dialogue_id,
            actor,
            expected_revision,
            lambda d: edits.patch_sequence(d, sequence_id, patch),
        )
        return _sequence(dialogue, _found(dialogue, sequence_id))

    def delete(
        self,
        project_id: str,
        dialogue_id: str,
        sequence_id: str,
        *,
        actor: Actor = SYSTEM,
        expected_revision: int | str | None = None,
    ) -> SequenceRecord:
        """Remove a sequence (``remove_sequence``); the record is the sequence as it was.

        :class:`~.domain.errors.SequenceInUse` while other blocks' ``next`` name it.
        """
        dialogue, edit = self._edit(
            project_id,
            dialogue_id,
            actor,
            expected_revision,
            lambda d: edits.remove_sequence(d, sequence_id),
        )
        return _sequence(dialogue, edit.result)

    # Blocks

    def list_blocks(
        self,
        project_id: str,
        dialogue_id: str,
        sequence_id: str,
        *,
        actor: Actor = SYSTEM,
        page: int = 1,
        per_page: int = 30,
    ) -> Page[BlockRecord]:
        request = PageRequest(page, per_page)
        dialogue = self._engine._readable(project_id, dialogue_id, actor)
        blocks = _found(dialogue, sequence_id)["blocks"]
        chosen = blocks[request.offset : request.offset + request.per_page]
        items = [_block(dialogue, sequence_id, b) for b in chosen]
        return Page(items, len(blocks), request.page, request.per_page)

    def get_block(
        self,
        project_id: str,
        dialogue_id: str,
        sequence_id: str,
        block_id: str,
        *,
        actor: Actor = SYSTEM,
    ) -> BlockRecord:
        dialogue = self._engine._readable(project_id, dialogue_id, actor)
        _, block = edits.find_block(_found(dialogue, sequence_id), block_id)
        return _block(dialogue, sequence_id, block)

    def create_block(
        self,
        project_id: str,
        dialogue_id: str,
        sequence_id: str,
        body: JSON,
        *,
        actor: Actor = SYSTEM,
        expected_revision: int | str | None = None,
    ) -> BlockRecord:
        """Append a block (``new_block``); without an ``id`` one is made from title or type."""
        dialogue, edit = self._edit(
            project_id,
            dialogue_id,
            actor,
            expected_revision,
            lambda d: blocks.new_block(d, sequence_id, body),
        )
        return self._saved_block(dialogue, sequence_id, edit.result["id"])

    def replace_block(
        self,
        project_id: str,
        dialogue_id: str,
        sequence_id: str,
        block_id: str,
        body: JSON,
        *,
        actor: Actor = SYSTEM,
        expected_revision: int | str | None = None,
    ) -> BlockRecord:
        dialogue, _ = self._edit(
            project_id,
            dialogue_id,
            actor,
            expected_revision,
            lambda d: blocks.replace_block(d, sequence_id, block_id, body),
        )
        return self._saved_block(dialogue, sequence_id, block_id)

    def delete_block(
        self,
        project_id: str,
        dialogue_id: str,
        sequence_id: str,
        block_id: str,
        *,
        actor: Actor = SYSTEM,
        expected_revision: int | str | None = None,
    ) -> BlockRecord:
        """Remove a block (``remove_block``); the record is the block as it was."""
        dialogue, edit = self._edit(
            project_id,
            dialogue_id,
            actor,
            expected_revision,
            lambda d: blocks.remove_block(d, sequence_id, block_id),
        )
        return _block(dialogue, sequence_id, edit.result)

    # Duplication

    def duplicate_blocks(
        self,
        project_id: str,
        dialogue_id: str,
        sequence_id: str,
        body: JSON,
        *,
        actor: Actor = SYSTEM,
        expected_revision: int | str | None = None,
    ) -> DuplicationRecord:
        """Copy a sequence's blocks into another sequence (``duplicate_blocks``).

        The target is a sequence of this dialogue or, with
        ``duplicate-to-dialogue-id``, of another dialogue of the same project
        (read access to this one and write access to that one are needed).
        Both dialogues are read and saved in one unit of work, so the copy is
        recorded against the source exactly as it was read, and whatever the
        command changes is saved atomically; the source itself does not
        change, so it records no revision. ``expected_revision`` is this
        (the source) dialogue's.
        """
        request = blocks.check_duplication(body)
        engine = self._engine
        source_id = engine._readable(project_id, dialogue_id, actor).id
        target_id = request.to_dialogue_id or dialogue_id
        may_archive = perms.can_admin_project(actor, project_id)

        def command(unit: UnitOfWork) -> tuple[Dialogue, edits.Edit]:
            if target_id == dialogue_id:
                source = target = engine._writable(
                    unit, project_id, dialogue_id, actor, expected_revision
                )
            else:
                source = unit.get(source_id, Dialogue)
                _check_expected(source, expected_revision)
                target = self._target(unit, project_id, target_id, actor)
            _, sequence = edits.find_sequence(source.description, sequence_id)
            edit = blocks.duplicate_blocks(
                sequence,
                target.description,
                request.to_sequence_id,
                request.conversion,
                source_dialogue_id=str(source.id),
                target_dialogue_id=str(target.id),
            )
            self._record(target, edit, actor, may_archive, relative=False)
            return target, edit

        target, edit = engine.store.write(command)
        record = _sequence(target, _found(target, request.to_sequence_id))
        return DuplicationRecord(record, list(edit.details["blocks"]))

    def _target(
        self, unit: UnitOfWork, project_id: str, dialogue_id: str, actor: Actor
    ) -> Dialogue:
        try:
            return self._engine._writable(unit, project_id, dialogue_id, actor, None)
        except NotFound:
            raise ValidationFailed(
                [
                    FieldError(
                        "unknown",
                        "/duplicate-to-dialogue-id",
                        f"dialogue {dialogue_id!r} does not exist in project {project_id}",
                    )
                ]
            ) from None

    # Search

    def search(
        self, query: Mapping[str, str] | SequenceSearch, *, actor: Actor = SYSTEM
    ) -> Page[SequenceRow]:
        """Source 001's search over every sequence ``actor`` may read, newest first by default.

        ``query`` is the search's query parameters (one value each), or a
        parsed :class:`SequenceSearch`; a value that cannot be understood is
        an :class:`~.domain.errors.InvalidParameter` naming the parameter.
        """
        search = query if isinstance(query, SequenceSearch) else parse_search(query)
        engine = self._engine
        engine._catch_up()
        with engine._views.datastore.transaction(commit=False) as cursor:
            rows, total = SequenceView.search(cursor, search, readable_scope(actor))
        return Page(rows, total, search.page, search.page_size)

    # Helpers

    def _edit(
        self,
        project_id: str,
        dialogue_id: str,
        actor: Actor,
        expected_revision: int | str | None,
        build: Callable[[JSON], edits.Edit],
    ) -> tuple[Dialogue, edits.Edit]:
        """Build an edit from the current description and record it: one revision, or none."""
        may_archive = perms.can_admin_project(actor, project_id)
        engine = self._engine

        def command(unit: UnitOfWork) -> tuple[Dialogue, edits.Edit]:
            dialogue = engine._writable(unit, project_id, dialogue_id, actor, expected_revision)
            edit = build(dialogue.description)
            self._record(dialogue, edit, actor, may_archive)
            return dialogue, edit

        return engine.store.write(command)

    def _record(
        self,
        dialogue: Dialogue,
        edit: edits.Edit,
        actor: Actor,
        may_archive: bool,
        *,
        relative: bool = True,
    ) -> None:
        try:
            dialogue.edit(
                edit.patch,
                registry=self._engine.block_types,
                user_id=actor.user_id,
                edit_type=edit.edit_type,
                details=edit.details,
                may_archive=may_archive,
            )
        except ValidationFailed as e:
            if not relative:
                raise
            raise edits.relative_errors(e, edit.at) from e

    def _saved_block(self, dialogue: Dialogue, sequence_id: str, block_id: str) -> BlockRecord:
        _, block = edits.find_block(_found(dialogue, sequence_id), block_id)
        return _block(dialogue, sequence_id, block)


def _check_expected(dialogue: Dialogue, expected: int | str | None) -> None:
    from .engine import _check_expected as check  # the engine's own rule (imported late: cycle)

    check(dialogue, expected)


def _found(dialogue: Dialogue, sequence_id: str) -> dict[str, Any]:
    _, sequence = edits.find_sequence(dialogue.description, sequence_id)
    return sequence


def _copy(value: JSON) -> Any:
    return loads(dumps(value))


def _sequence(dialogue: Dialogue, sequence: dict[str, Any]) -> SequenceRecord:
    return SequenceRecord(
        dialogue.project_id,
        str(dialogue.id),
        revision_id(dialogue.id, dialogue.version),
        _copy(sequence),
    )


def _block(dialogue: Dialogue, sequence_id: str, block: dict[str, Any]) -> BlockRecord:
    return BlockRecord(
        dialogue.project_id,
        str(dialogue.id),
        sequence_id,
        revision_id(dialogue.id, dialogue.version),
        _copy(block),
    )
