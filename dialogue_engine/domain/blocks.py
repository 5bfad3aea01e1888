"""Block edits and duplication: pure functions from a description to one edit revision.

The companions of :mod:`.sequences` for a sequence's blocks (``new_block``,
``update_block``, ``remove_block``) and for source 000's duplication of a
sequence's blocks into another sequence (``duplicate_blocks``), whose send
dates :mod:`.schedule` converts. Moving a block is a patch of its sequence
(:func:`.sequences.patch_sequence`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .diff import make_patch
from .errors import FieldError, ValidationFailed, unexpected_members
from .jsonvalue import JSON, owned_copy
from .schedule import NEW_START_DATE, Conversion, check_conversion, convert_dates
from .sequences import (
    Edit,
    block_ids,
    changed_members,
    check_same_id,
    checked_object,
    count_of,
    find_block,
    find_sequence,
    free_symbol,
    id_taken,
    name_of,
    summarised,
)

NEW_BLOCK = "new_block"
UPDATE_BLOCK = "update_block"
REMOVE_BLOCK = "remove_block"
DUPLICATE_BLOCKS = "duplicate_blocks"

BLOCK_MEMBERS = frozenset({"id", "type", "title", "properties"})
DUPLICATION_MEMBERS = frozenset(
    {"duplicate-to-sequence-id", "duplicate-to-dialogue-id", "date-conversion", "new-start-date"}
)


@dataclass(frozen=True)
class Duplication:
    """A checked ``duplicate-blocks`` request (source 000's members)."""

    to_sequence_id: str
    to_dialogue_id: str | None
    conversion: Conversion


def check_duplication(body: JSON) -> Duplication:
    """Source 000's duplication members, plus ``duplicate-to-dialogue-id`` (default: this one).

    ``date-conversion`` defaults to ``none``; ``new-start-date`` goes with
    ``new-start-date`` only (see :func:`.schedule.check_conversion`).
    """
    if type(body) is not dict:
        raise ValidationFailed([FieldError("type", "", "a duplication request is an object")])
    unexpected = unexpected_members(body, DUPLICATION_MEMBERS)
    if unexpected:
        raise ValidationFailed(unexpected)
    target = body.get("duplicate-to-sequence-id")
    if type(target) is not str:
        raise ValidationFailed(
            [
                FieldError(
                    "required",
                    "/duplicate-to-sequence-id",
                    "duplicate-to-sequence-id must name a sequence",
                )
            ]
        )
    other = body.get("duplicate-to-dialogue-id")
    if other is not None and type(other) is not str:
        raise ValidationFailed(
            [FieldError("type", "/duplicate-to-dialogue-id", "a dialogue id is a string")]
        )
    conversion = check_conversion(body.get("date-conversion", "none"), body.get("new-start-date"))
    return Duplication(target, other, conversion)


def new_block(description: JSON, sequence_id: str, body: JSON) -> Edit:
    """Append a block to a sequence; without an ``id`` one is made from its title or type."""
    index, sequence = find_sequence(description, sequence_id)
    block = checked_object(body, BLOCK_MEMBERS, "block")
    taken = block_ids(description)
    if "id" not in block:
        block = {
            "id": free_symbol(block.get("title") or block.get("type"), taken, "block"),
            **block,
        }
    elif block["id"] in taken:
        raise id_taken("/id", "block", block["id"])
    position = len(sequence["blocks"])
    at = f"/sequences/{index}/blocks/{position}"
    return Edit(
        [{"op": "add", "path": at, "value": block}],
        NEW_BLOCK,
        summarised(
            {"sequence_id": sequence_id, "id": block["id"], "type": block.get("type")},
            f"Added {block.get('type')} block {name_of(block)} to sequence {name_of(sequence)}",
        ),
        at,
        block,
    )


def replace_block(description: JSON, sequence_id: str, block_id: str, body: JSON) -> Edit:
    index, sequence = find_sequence(description, sequence_id)
    position, current = find_block(sequence, block_id)
    block = checked_object(body, BLOCK_MEMBERS, "block")
    check_same_id(block, block_id)
    block = {"id": block_id, **block}
    at = f"/sequences/{index}/blocks/{position}"
    changed = changed_members(current, block)
    listed = ", ".join(changed) if changed else "nothing"
    return Edit(
        [{**op, "path": at + op["path"]} for op in make_patch(current, block)],
        UPDATE_BLOCK,
        summarised(
            {"sequence_id": sequence_id, "id": block_id, "changed": changed},
            f"Changed {listed} of block {name_of(current)} in sequence {name_of(sequence)}",
        ),
        at,
        block,
    )


def remove_block(description: JSON, sequence_id: str, block_id: str) -> Edit:
    index, sequence = find_sequence(description, sequence_id)
    position, current = find_block(sequence, block_id)
    return Edit(
        [{"op": "remove", "path": f"/sequences/{index}/blocks/{position}"}],
        REMOVE_BLOCK,
        summarised(
            {"sequence_id": sequence_id, "id": block_id, "position": position + 1},
            f"Removed {current.get('type')} block {name_of(current)} "
            f"(position {position + 1}) from sequence {name_of(sequence)}",
        ),
        "",
        current,
    )


def duplicate_blocks(
    source: dict[str, Any],
    target_description: JSON,
    target_sequence_id: str,
    conversion: Conversion,
    *,
    source_dialogue_id: str,
    target_dialogue_id: str,
) -> Edit:
    """Copy every block of ``source`` (a sequence) to the end of a target sequence.

    Copies get fresh ids (``<id>-copy``, ``<id>-copy-2``…) unique in the target
    dialogue, and their ``send_at`` converted as :mod:`.schedule` says.
    """
    index, target = _find_target(target_description, target_sequence_id)
    copies = convert_dates(owned_copy(source["blocks"]), conversion)
    taken = block_ids(target_description)
    renamed = []
    start = len(target["blocks"])
    patch = []
    for offset, block in enumerate(copies):
        new_id = free_symbol(f"{block['id']}-copy", taken, "block")
        taken.add(new_id)
        renamed.append({"from": block["id"], "to": new_id})
        patch.append(
            {
                "op": "add",
                "path": f"/sequences/{index}/blocks/{start + offset}",
                "value": {**block, "id": new_id},
            }
        )
    details: dict[str, Any] = {
        "from_dialogue_id": source_dialogue_id,
        "from_sequence_id": source["id"],
        "to_dialogue_id": target_dialogue_id,
        "to_sequence_id": target_sequence_id,
        "date_conversion": conversion.kind,
        "blocks": renamed,
    }
    dates = {"none": "send dates kept", "delete": "send dates removed"}.get(conversion.kind, "")
    if conversion.kind == NEW_START_DATE:
        details["new_start_date"] = conversion.start_text
        dates = f"send dates moved to start at {conversion.start_text}"
    where = "" if source_dialogue_id == target_dialogue_id else " of another dialogue"
    summary = (
        f"Copied {count_of(copies, 'block')} from sequence {name_of(source)} "
        f"to sequence {name_of(target)}{where} ({dates})"
    )
    result = {**target, "blocks": [*target["blocks"], *(op["value"] for op in patch)]}
    return Edit(
        patch, DUPLICATE_BLOCKS, summarised(details, summary), f"/sequences/{index}", result
    )


def _find_target(description: JSON, sequence_id: object) -> tuple[int, dict[str, Any]]:
    for index, sequence in enumerate(description["sequences"]):
        if sequence["id"] == sequence_id:
            return index, sequence
    raise ValidationFailed(
        [
            FieldError(
                "unknown",
                "/duplicate-to-sequence-id",
                f"sequence {sequence_id!r} does not exist in the target dialogue",
            )
        ]
    )
