"""The dialogue description and its validation.

A description is ``{title, sequences[], is_archived}``; a sequence is
``{id, title, blocks[], description?, visibility?}``; a block is
``{id, type, title?, properties?}``. Ids are symbols (``^[a-z][a-z0-9-]*$``),
unique among the sequences of a dialogue and among all its blocks; a block's
``properties`` fit its type's schema; every ``next`` names a sequence.

Validation is incremental. Descriptions are copy-on-write, so a node that is
the very same object as in the previous (valid) description was valid and is
skipped; whole-dialogue checks (unique ids, references) run again only when
ids, or the number of sequences or blocks, changed. Editing one block of a
1,000-block dialogue checks one block.
"""

from __future__ import annotations

import re
from typing import Any

from .blocktypes import SYMBOL_PATTERN, BlockTypeRegistry, next_references, template_reference
from .errors import FieldError, ValidationFailed, unexpected_members
from .jsonvalue import JSON

_SYMBOL = re.compile(SYMBOL_PATTERN)
_DESCRIPTION_KEYS = frozenset({"title", "sequences", "is_archived"})
_SEQUENCE_KEYS = frozenset({"id", "title", "blocks", "description", "visibility"})
_BLOCK_KEYS = frozenset({"id", "type", "title", "properties"})
VISIBILITIES = ("private", "public")
MAX_TITLE_LENGTH = 1_000


def normalise(description: JSON) -> JSON:
    """The description as stored: ``is_archived`` defaults to false."""
    if type(description) is dict and "is_archived" not in description:
        return {**description, "is_archived": False}
    return description


def require_valid(
    description: JSON, registry: BlockTypeRegistry, previous: JSON | None = None
) -> None:
    errors = check_description(description, registry, previous)
    if errors:
        raise ValidationFailed(errors)


def check_description(
    description: JSON, registry: BlockTypeRegistry, previous: JSON | None = None
) -> list[FieldError]:
    """Every error of ``description``; ``previous`` is a valid description it was derived from."""
    if type(description) is not dict:
        return [FieldError("type", "", "a dialogue description is an object")]
    errors: list[FieldError] = []
    old = previous if type(previous) is dict else {}
    if description is old:
        return errors
    _check_members(
        description, "", _DESCRIPTION_KEYS, ("title", "sequences", "is_archived"), errors
    )
    _check_text(description, "title", "", errors, min_length=1)
    if "is_archived" in description and type(description["is_archived"]) is not bool:
        errors.append(FieldError("type", "/is_archived", "is_archived must be a boolean"))
    sequences = description.get("sequences")
    if type(sequences) is not list:
        if "sequences" in description:
            errors.append(FieldError("type", "/sequences", "sequences must be an array"))
        return errors

    old_sequences: Any = old.get("sequences")
    aligned, changed = _changed_items(sequences, old_sequences)
    same_shape = aligned
    changed_refs: list[tuple[str, JSON]] = []
    for i in changed:
        sequence = sequences[i]
        at = f"/sequences/{i}"
        if type(sequence) is not dict:
            errors.append(FieldError("type", at, "a sequence is an object"))
            same_shape = False
            continue
        _check_sequence(sequence, at, errors)
        previous_sequence = old_sequences[i] if aligned else None
        if type(previous_sequence) is not dict or previous_sequence.get("id") != sequence.get("id"):
            same_shape = False
        blocks = sequence.get("blocks")
        if type(blocks) is not list:
            continue
        old_blocks = previous_sequence.get("blocks") if type(previous_sequence) is dict else None
        blocks_same_shape, changed_blocks = _changed_items(blocks, old_blocks)
        if not blocks_same_shape:
            same_shape = False
        for j in changed_blocks:
            block = blocks[j]
            block_at = f"{at}/blocks/{j}"
            if type(block) is not dict:
                errors.append(FieldError("type", block_at, "a block is an object"))
                same_shape = False
                continue
            _check_block(block, block_at, registry, errors)
            if not blocks_same_shape or old_blocks[j].get("id") != block.get("id"):  # type: ignore[index,unused-ignore]
                same_shape = False
            changed_refs.append((block_at, block))

    if same_shape:
        sequence_ids = {s["id"] for s in sequences}
        _check_references(changed_refs, sequence_ids, errors)
    else:
        _check_whole_dialogue(sequences, errors)
    return errors


def _changed_items(items: list[JSON], old_items: Any) -> tuple[bool, list[int]]:
    """Whether ``items`` line up one to one with ``old_items``, and the indices of new objects.

    An item that is the very object of the previous description is unchanged.
    """
    if type(old_items) is list and len(old_items) == len(items):
        return True, [
            i for i, (new, old) in enumerate(zip(items, old_items, strict=True)) if new is not old
        ]
    known = {id(item) for item in old_items} if type(old_items) is list else set()
    return False, [i for i, item in enumerate(items) if id(item) not in known]


def _check_members(
    node: dict[str, Any],
    at: str,
    allowed: frozenset[str],
    required: tuple[str, ...],
    errors: list[FieldError],
) -> None:
    for key in required:
        if key not in node:
            errors.append(FieldError("required", at, f"'{key}' is a required property"))
    errors += unexpected_members(node, allowed, at)


def _check_text(
    node: dict[str, Any],
    key: str,
    at: str,
    errors: list[FieldError],
    *,
    min_length: int = 0,
) -> None:
    if key not in node:
        return
    value = node[key]
    if type(value) is not str:
        errors.append(FieldError("type", f"{at}/{key}", f"{key} must be a string"))
    elif len(value) < min_length:
        errors.append(FieldError("minLength", f"{at}/{key}", f"{key} must not be empty"))
    elif len(value) > MAX_TITLE_LENGTH and key == "title":
        errors.append(
            FieldError("maxLength", f"{at}/{key}", f"{key} is longer than {MAX_TITLE_LENGTH}")
        )


def _check_symbol(node: dict[str, Any], key: str, at: str, errors: list[FieldError]) -> None:
    value = node.get(key)
    if key not in node:
        return
    if type(value) is not str or _SYMBOL.fullmatch(value) is None:
        errors.append(
            FieldError("pattern", f"{at}/{key}", f"{value!r} does not match '{SYMBOL_PATTERN}'")
        )


def _check_sequence(sequence: dict[str, Any], at: str, errors: list[FieldError]) -> None:
    _check_members(sequence, at, _SEQUENCE_KEYS, ("id", "title", "blocks"), errors)
    _check_symbol(sequence, "id", at, errors)
    _check_text(sequence, "title", at, errors)
    _check_text(sequence, "description", at, errors)
    if "visibility" in sequence and sequence["visibility"] not in VISIBILITIES:
        errors.append(
            FieldError("enum", f"{at}/visibility", "visibility must be 'private' or 'public'")
        )
    if "blocks" in sequence and type(sequence["blocks"]) is not list:
        errors.append(FieldError("type", f"{at}/blocks", "blocks must be an array"))


def _check_block(
    block: dict[str, Any], at: str, registry: BlockTypeRegistry, errors: list[FieldError]
) -> None:
    _check_members(block, at, _BLOCK_KEYS, ("id", "type"), errors)
    _check_symbol(block, "id", at, errors)
    _check_text(block, "title", at, errors)
    properties = block.get("properties", {})
    if type(properties) is not dict:
        errors.append(FieldError("type", f"{at}/properties", "properties must be an object"))
        return
    block_type = block.get("type")
    if "type" not in block:
        return
    if type(block_type) is not str or block_type not in registry:
        errors.append(
            FieldError("enum", f"{at}/type", f"{block_type!r} is not a registered block type")
        )
        return
    for error in registry.check_properties(block_type, properties):
        errors.append(error.under(f"{at}/properties"))


def _check_references(
    blocks: list[tuple[str, JSON]], sequence_ids: set[Any], errors: list[FieldError]
) -> None:
    for at, block in blocks:
        properties = block.get("properties")
        if type(properties) is not dict:
            continue
        for pointer, target in next_references(properties, f"{at}/properties"):
            if target not in sequence_ids:
                errors.append(
                    FieldError(
                        "reference", pointer, f"{target!r} is not a sequence of this dialogue"
                    )
                )


def _check_whole_dialogue(sequences: list[JSON], errors: list[FieldError]) -> None:
    sequence_at: dict[Any, str] = {}
    block_at: dict[Any, str] = {}
    all_blocks: list[tuple[str, JSON]] = []
    for i, sequence in enumerate(sequences):
        if type(sequence) is not dict:
            continue
        at = f"/sequences/{i}"
        _unique(sequence.get("id"), f"{at}/id", "sequence", sequence_at, errors)
        blocks = sequence.get("blocks")
        if type(blocks) is not list:
            continue
        for j, block in enumerate(blocks):
            if type(block) is not dict:
                continue
            _unique(block.get("id"), f"{at}/blocks/{j}/id", "block", block_at, errors)
            all_blocks.append((f"{at}/blocks/{j}", block))
    _check_references(all_blocks, set(sequence_at), errors)


def _unique(value: Any, at: str, kind: str, seen: dict[Any, str], errors: list[FieldError]) -> None:
    if type(value) is not str:
        return
    if value in seen:
        errors.append(
            FieldError("unique", at, f"{kind} id {value!r} is already used at {seen[value]}")
        )
    else:
        seen[value] = at.rsplit("/", 1)[0]


def changed_template_references(
    description: JSON, previous: JSON | None = None
) -> list[tuple[str, str, str | None]]:
    """``(block path, template_id, version_id or None)`` of each block that references a
    template and is new or changed since ``previous`` (descriptions are copy-on-write:
    an unchanged block is the very same object, and is skipped)."""
    if type(description) is not dict:
        return []
    old = previous if type(previous) is dict else {}
    if description is old:
        return []
    sequences = description.get("sequences")
    if type(sequences) is not list:
        return []
    old_sequences: Any = old.get("sequences")
    aligned, changed = _changed_items(sequences, old_sequences)
    found = []
    for i in changed:
        sequence = sequences[i]
        blocks = sequence.get("blocks") if type(sequence) is dict else None
        if type(blocks) is not list:
            continue
        previous_sequence = old_sequences[i] if aligned else None
        old_blocks = previous_sequence.get("blocks") if type(previous_sequence) is dict else None
        _, changed_blocks = _changed_items(blocks, old_blocks)
        for j in changed_blocks:
            block = blocks[j]
            reference = template_reference(block.get("properties")) if type(block) is dict else None
            if reference is not None:
                found.append((f"/sequences/{i}/blocks/{j}", *reference))
    return found


def template_references(description: JSON) -> dict[tuple[str, str | None], str]:
    """Every ``(template_id, version_id or None)`` a description's blocks reference,
    with the path of the first block that does."""
    found: dict[tuple[str, str | None], str] = {}
    sequences = description.get("sequences") if type(description) is dict else None
    if type(sequences) is not list:
        return found
    for i, sequence in enumerate(sequences):
        blocks = sequence.get("blocks") if type(sequence) is dict else None
        if type(blocks) is not list:
            continue
        for j, block in enumerate(blocks):
            if type(block) is not dict:
                continue
            reference = template_reference(block.get("properties"))
            if reference is not None:
                found.setdefault(reference, f"/sequences/{i}/blocks/{j}")
    return found
