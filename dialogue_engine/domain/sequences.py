"""Sequence edits: pure functions from a description to one edit revision.

Sequences and blocks live inside a dialogue's description, so writing one of
them through its own resource is an ordinary edit of the dialogue: each
function here reads the current description and returns an :class:`Edit`
(an RFC 6902 patch, an ``edit_type`` and ``details`` a person can read in a
history list) that :meth:`~.dialogue.Dialogue.edit` records and validates like
any other. Nothing here holds state or does I/O.

Request bodies are checked here only for what the description validator
cannot say in the request's own terms (unknown members, an ``id`` that is
taken or does not match its URL); everything else is the validator's, and
:func:`relative_errors` re-roots its paths at the sequence or block the
request was about. Block edits and duplication (:mod:`.blocks`) share the
helpers here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .blocktypes import SYMBOL_PATTERN, next_references
from .diff import make_patch
from .errors import FieldError, NotFound, SequenceInUse, ValidationFailed, unexpected_members
from .jsonvalue import JSON, json_equal, owned_copy
from .patching import apply_patch, check_patch, parse_pointer

NEW_SEQUENCE = "new_sequence"
UPDATE_SEQUENCE = "update_sequence"
REMOVE_SEQUENCE = "remove_sequence"
MOVE_BLOCK = "move_block"

SEQUENCE_MEMBERS = frozenset({"id", "title", "description", "visibility", "blocks"})
_SYMBOL = re.compile(SYMBOL_PATTERN)
_MOVE_PATH = re.compile(r"/blocks/(0|[1-9][0-9]*)")
MAX_GENERATED_ID = 40


@dataclass(frozen=True)
class Edit:
    """One edit revision to record: the patch and what the history list shows.

    ``at`` points at the sequence or block the request was about, in the
    description *after* the edit, so validation errors can be re-rooted there.
    """

    patch: list[dict[str, Any]]
    edit_type: str
    details: dict[str, Any]
    at: str = ""
    result: dict[str, Any] = field(default_factory=dict, compare=False)
    """The sequence (or block) as it will be, for the response."""


# Finding things


def find_sequence(description: JSON, sequence_id: str) -> tuple[int, dict[str, Any]]:
    for index, sequence in enumerate(description["sequences"]):
        if sequence.get("id") == sequence_id:
            return index, sequence
    raise NotFound("Sequence", sequence_id)


def find_block(sequence: dict[str, Any], block_id: str) -> tuple[int, dict[str, Any]]:
    for index, block in enumerate(sequence["blocks"]):
        if block.get("id") == block_id:
            return index, block
    raise NotFound("Block", block_id, sequence_id=str(sequence["id"]))


def block_ids(description: JSON, *, except_sequence: str | None = None) -> set[str]:
    return {
        block["id"]
        for sequence in description["sequences"]
        if sequence["id"] != except_sequence
        for block in sequence["blocks"]
    }


def free_symbol(text: object, taken: Iterable[str], fallback: str) -> str:
    """A symbol made from ``text`` (a title) that is not in ``taken``: ``intro``, ``intro-2``…"""
    ascii_text = unicodedata.normalize("NFKD", text if type(text) is str else "")
    ascii_text = ascii_text.encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:MAX_GENERATED_ID].strip("-")
    slug = re.sub(r"^[0-9-]+", "", slug) or fallback
    used = set(taken)
    candidate, number = slug, 1
    while candidate in used:
        number += 1
        candidate = f"{slug}-{number}"
    return candidate


def referring_blocks(description: JSON, sequence_id: str) -> list[dict[str, str]]:
    """Blocks of *other* sequences whose ``next`` names ``sequence_id``."""
    found = []
    for i, sequence in enumerate(description["sequences"]):
        if sequence["id"] == sequence_id:
            continue
        for j, block in enumerate(sequence["blocks"]):
            at = f"/sequences/{i}/blocks/{j}/properties"
            for path, target in next_references(block.get("properties", {}), at):
                if target == sequence_id:
                    found.append(
                        {"sequence_id": sequence["id"], "block_id": block["id"], "path": path}
                    )
    return found


# Sequences


def new_sequence(description: JSON, body: JSON) -> Edit:
    """Append a sequence; without an ``id`` one is made from its title."""
    sequence = checked_object(body, SEQUENCE_MEMBERS, "sequence")
    sequence.setdefault("blocks", [])
    taken = {s["id"] for s in description["sequences"]}
    if "id" not in sequence:
        sequence = {"id": free_symbol(sequence.get("title"), taken, "sequence"), **sequence}
    elif sequence["id"] in taken:
        raise id_taken("/id", "sequence", sequence["id"])
    check_new_block_ids(sequence["blocks"], block_ids(description), "/blocks")
    index = len(description["sequences"])
    return Edit(
        [{"op": "add", "path": f"/sequences/{index}", "value": sequence}],
        NEW_SEQUENCE,
        summarised(
            {"id": sequence["id"], "title": sequence.get("title")},
            f"Added sequence {name_of(sequence)} with {count_of(sequence['blocks'], 'block')}",
        ),
        f"/sequences/{index}",
        sequence,
    )


def replace_sequence(description: JSON, sequence_id: str, body: JSON) -> Edit:
    """Set a sequence's title, description and visibility (and its blocks, when given).

    Left-out ``blocks`` keep the current ones: blocks have their own
    resources, and a replacement of the sequence's own fields must not drop them.
    """
    index, current = find_sequence(description, sequence_id)
    sequence = checked_object(body, SEQUENCE_MEMBERS, "sequence")
    check_same_id(sequence, sequence_id)
    sequence = {"id": sequence_id, **sequence}
    sequence.setdefault("blocks", current["blocks"])
    return _sequence_change(description, index, current, sequence, UPDATE_SEQUENCE)


def patch_sequence(description: JSON, sequence_id: str, patch: JSON) -> Edit:
    """Apply an RFC 6902 patch to one sequence; a patch of only block moves is ``move_block``.

    Operation indices in conflicts are those of the caller's patch. When no
    operation targets the sequence itself (``""``), the operations are
    recorded as given, re-rooted at the sequence (so a move stays a move);
    otherwise the recorded patch is the difference they made.
    """
    errors = check_patch(patch)
    if errors:
        raise ValidationFailed(errors, "Invalid JSON patch")
    index, current = find_sequence(description, sequence_id)
    patch = owned_copy(patch)
    changed = apply_patch(current, patch)
    if type(changed) is not dict:
        raise ValidationFailed([FieldError("type", "", "a sequence is an object")])
    if changed.get("id") != sequence_id:
        raise ValidationFailed([FieldError("readOnly", "/id", "a sequence's id cannot change")])
    if _is_block_move(patch):
        moves = _describe_moves(current, patch)
        prefix = f"/sequences/{index}"
        return Edit(
            [_rooted(op, prefix) for op in patch],
            MOVE_BLOCK,
            summarised(
                {"sequence_id": sequence_id, "moves": moves}, _moves_summary(current, moves)
            ),
            prefix,
            changed,
        )
    edit = _sequence_change(description, index, current, changed, UPDATE_SEQUENCE)
    if all(op["path"] and op.get("from", "/") for op in patch):
        prefix = f"/sequences/{index}"
        return Edit([_rooted(op, prefix) for op in patch], *_rest(edit))
    return edit


def remove_sequence(description: JSON, sequence_id: str) -> Edit:
    """Remove a sequence; :class:`SequenceInUse` while other blocks lead to it."""
    index, current = find_sequence(description, sequence_id)
    referring = referring_blocks(description, sequence_id)
    if referring:
        raise SequenceInUse(sequence_id, referring)
    return Edit(
        [{"op": "remove", "path": f"/sequences/{index}"}],
        REMOVE_SEQUENCE,
        summarised(
            {"id": sequence_id, "title": current.get("title")},
            f"Removed sequence {name_of(current)} and its {count_of(current['blocks'], 'block')}",
        ),
        "",
        current,
    )


def _sequence_change(
    description: JSON, index: int, current: dict[str, Any], sequence: dict[str, Any], kind: str
) -> Edit:
    if type(sequence.get("blocks")) is list:
        taken = block_ids(description, except_sequence=current["id"])
        check_new_block_ids(sequence["blocks"], taken, "/blocks")
    prefix = f"/sequences/{index}"
    patch = [{**op, "path": prefix + op["path"]} for op in make_patch(current, sequence)]
    changed = changed_members(current, sequence)
    details: dict[str, Any] = {"id": current["id"], "title": sequence.get("title")}
    if "title" in changed:
        details.update(old_title=current.get("title"), new_title=sequence.get("title"))
    details["changed"] = changed
    listed = ", ".join(changed) if changed else "nothing"
    return Edit(
        patch,
        kind,
        summarised(details, f"Changed {listed} of sequence {name_of(current)}"),
        prefix,
        sequence,
    )


def relative_errors(error: ValidationFailed, at: str) -> ValidationFailed:
    """``error`` with the paths under ``at`` re-rooted there (others left as they are)."""
    if not at:
        return error
    errors = [
        FieldError(e.type, e.path[len(at) :], e.message)
        if e.path == at or e.path.startswith(at + "/")
        else e
        for e in error.errors
    ]
    return ValidationFailed(errors, error.message)


# Helpers


def checked_object(body: JSON, members: frozenset[str], kind: str) -> dict[str, Any]:
    if type(body) is not dict:
        raise ValidationFailed([FieldError("type", "", f"a {kind} is an object")])
    unexpected = unexpected_members(body, members)
    if unexpected:
        raise ValidationFailed(unexpected)
    if "id" in body and (type(body["id"]) is not str or not _SYMBOL.fullmatch(body["id"])):
        raise ValidationFailed(
            [FieldError("pattern", "/id", f"{body['id']!r} does not match '{SYMBOL_PATTERN}'")]
        )
    copied: dict[str, Any] = owned_copy(body)
    return copied


def check_same_id(node: dict[str, Any], expected: str) -> None:
    if "id" in node and node["id"] != expected:
        raise ValidationFailed(
            [FieldError("readOnly", "/id", f"the id is {expected!r}, as in the URL")]
        )


def check_new_block_ids(blocks: JSON, taken: set[str], at: str) -> None:
    if type(blocks) is not list:
        return
    for j, block in enumerate(blocks):
        if type(block) is dict and block.get("id") in taken:
            raise id_taken(f"{at}/{j}/id", "block", block["id"])


def id_taken(at: str, kind: str, value: str) -> ValidationFailed:
    return ValidationFailed(
        [FieldError("unique", at, f"{kind} id {value!r} is already used in this dialogue")]
    )


def _is_block_move(patch: list[dict[str, Any]]) -> bool:
    return bool(patch) and all(
        op["op"] == "move"
        and _MOVE_PATH.fullmatch(op["from"]) is not None
        and _MOVE_PATH.fullmatch(op["path"]) is not None
        for op in patch
    )


def _describe_moves(sequence: dict[str, Any], patch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    order = [block["id"] for block in sequence["blocks"]]
    moves = []
    for op in patch:
        source = int(parse_pointer(op["from"])[1])
        target = int(parse_pointer(op["path"])[1])
        moved = order.pop(source)
        order.insert(target, moved)
        moves.append({"id": moved, "from": source + 1, "to": target + 1})
    return moves


def _moves_summary(sequence: dict[str, Any], moves: list[dict[str, Any]]) -> str:
    steps = "; ".join(f"block '{m['id']}' from position {m['from']} to {m['to']}" for m in moves)
    return f"Moved {steps} in sequence {name_of(sequence)}"


def changed_members(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    missing = object()
    return sorted(
        key
        for key in set(old) | set(new)
        if not json_equal(old.get(key, missing), new.get(key, missing))
    )


def _rooted(op: dict[str, Any], prefix: str) -> dict[str, Any]:
    rooted = {**op, "path": prefix + op["path"]}
    if "from" in op:
        rooted["from"] = prefix + op["from"]
    return rooted


def _rest(edit: Edit) -> tuple[str, dict[str, Any], str, dict[str, Any]]:
    return edit.edit_type, edit.details, edit.at, edit.result


def summarised(details: dict[str, Any], summary: str) -> dict[str, Any]:
    return {**details, "summary": summary}


def name_of(node: dict[str, Any]) -> str:
    title = node.get("title")
    if type(title) is str and title and title != node.get("id"):
        return f"'{title}' ({node.get('id')})"
    return f"'{node.get('id')}'"


def count_of(items: object, noun: str) -> str:
    number = len(items) if type(items) is list else 0
    return f"{number} {noun}" + ("" if number == 1 else "s")
