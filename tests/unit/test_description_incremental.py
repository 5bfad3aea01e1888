"""Incremental validation (by object identity) finds exactly what a full validation finds.

Random chains of edits start from a valid description; each edit is applied copy-on-write,
so the new description shares untouched subtrees with the old one, as in the engine. Edits
that leave the description valid become the next ``previous``.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dialogue_engine.domain.blocktypes import BlockTypeRegistry
from dialogue_engine.domain.description import check_description
from dialogue_engine.domain.errors import PatchConflict
from dialogue_engine.domain.patching import apply_patch

from .factories import error_keys, valid_description

REGISTRY = BlockTypeRegistry()
IDS = st.sampled_from(["start", "more", "extra", "hello", "bye", "ask", "Bad", ""])
NEXTS = st.sampled_from(["start", "more", "extra", "gone"])


@st.composite
def blocks(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["message", "question", "route", "end", "video", "not-a-block"]))
    if kind == "not-a-block":
        return draw(st.sampled_from([None, 5, "block", []]))
    block: dict[str, Any] = {"id": draw(IDS), "type": kind}
    if kind == "message":
        block["properties"] = {"text": draw(st.sampled_from(["Hi", ""]))}
    elif kind == "question":
        choice = {"value": "1", "label": "One", "next": draw(NEXTS)}
        block["properties"] = {"text": "Q", "choices": [choice]}
    elif kind == "route":
        rule = {"variable": "x", "operator": "equals", "value": 1, "next": draw(NEXTS)}
        block["properties"] = {"rules": [rule], "next": draw(NEXTS)}
    return block


@st.composite
def sequences(draw: st.DrawFn) -> Any:
    return {
        "id": draw(IDS),
        "title": draw(st.sampled_from(["S", 5])),
        "blocks": draw(st.lists(blocks(), max_size=2)),
    }


@st.composite
def edits(draw: st.DrawFn, description: dict[str, Any]) -> list[dict[str, Any]]:
    """One to three ops aimed at the description's current shape."""
    ops: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 3))):
        seqs = description["sequences"]
        i = draw(st.integers(0, max(len(seqs) - 1, 0)))
        at = f"/sequences/{i}"
        n_blocks = len(seqs[i]["blocks"]) if seqs else 0
        j = draw(st.integers(0, max(n_blocks - 1, 0)))
        k = draw(st.integers(0, max(len(seqs) - 1, 0)))
        choice = draw(st.integers(0, 13))
        if choice == 0:
            op = {"op": "add", "path": f"{at}/blocks/{j}", "value": draw(blocks())}
        elif choice == 1:
            op = {"op": "replace", "path": f"{at}/blocks/{j}", "value": draw(blocks())}
        elif choice == 2:
            op = {"op": "remove", "path": f"{at}/blocks/{j}"}
        elif choice == 3:
            op = {"op": "add", "path": "/sequences/-", "value": draw(sequences())}
        elif choice == 4:
            op = {"op": "remove", "path": at}
        elif choice == 5:
            op = {"op": "replace", "path": f"{at}/id", "value": draw(IDS)}
        elif choice == 6:
            op = {"op": "replace", "path": f"{at}/blocks/{j}/id", "value": draw(IDS)}
        elif choice == 7:
            op = {"op": "move", "from": f"{at}/blocks/{j}", "path": f"/sequences/{k}/blocks/0"}
        elif choice == 8:
            op = {"op": "copy", "from": f"{at}/blocks/{j}", "path": f"/sequences/{k}/blocks/-"}
        elif choice == 9:
            op = {"op": "move", "from": at, "path": f"/sequences/{k}"}
        elif choice == 10:
            op = {"op": "copy", "from": at, "path": "/sequences/-"}
        elif choice == 11:
            op = {"op": "replace", "path": f"{at}/blocks", "value": draw(st.lists(blocks()))}
        elif choice == 12:
            value = draw(st.sampled_from(["New title", "", None]))
            op = {
                "op": "replace",
                "path": draw(st.sampled_from(["/title", f"{at}/title"])),
                "value": value,
            }
        else:
            op = {
                "op": "replace",
                "path": "/is_archived",
                "value": draw(st.sampled_from([True, 1])),
            }
        ops.append(op)
    return ops


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_incremental_validation_matches_full_validation(data: st.DataObject) -> None:
    previous = valid_description()
    assert check_description(previous, REGISTRY) == []
    for _ in range(data.draw(st.integers(1, 6), label="steps")):
        patch = data.draw(edits(previous), label="patch")
        try:
            described = apply_patch(previous, patch)
        except PatchConflict:
            continue
        full = check_description(described, REGISTRY)
        incremental = check_description(described, REGISTRY, previous)
        assert error_keys(incremental) == error_keys(full)
        if not full:
            previous = described
