"""Dialogue response bytes: the incremental encoder equals the canonical encoding."""

from __future__ import annotations

import random

from dialogue_engine.domain.jsonvalue import canonical_bytes
from dialogue_engine.domain.patching import apply_patch
from dialogue_engine.encoding import DescriptionEncoder

from .helpers import description


def test_encoder_matches_canonical_bytes_across_copy_on_write_edits() -> None:
    encoder = DescriptionEncoder(capacity=8)
    current = {**description(sequences=12), "is_archived": False}
    rng = random.Random(7)
    for step in range(200):
        i = rng.randrange(len(current["sequences"]))
        ops = [
            {"op": "replace", "path": f"/sequences/{i}/title", "value": f"T{step} é \u2028"},
            {"op": "replace", "path": "/is_archived", "value": step % 3 == 0},
        ]
        if step % 17 == 0:
            ops.append({"op": "move", "from": "/sequences/0", "path": "/sequences/-"})
        current = apply_patch(current, ops)
        assert encoder.encode(current) == canonical_bytes(current)


def test_encoder_reuses_unchanged_sequences() -> None:
    encoder = DescriptionEncoder()
    first = {**description(sequences=5), "is_archived": False}
    encoder.encode(first)
    second = apply_patch(first, [{"op": "replace", "path": "/sequences/2/title", "value": "X"}])
    assert encoder.encode(second) == canonical_bytes(second)
    assert len(encoder._memo) == 6  # five sequences, then only the changed one again


def test_unusual_descriptions_fall_back_to_the_canonical_encoding() -> None:
    encoder = DescriptionEncoder()
    for value in ({"title": "x"}, {"b": 1, "a": [1.5, None]}, [1, 2], "text", None):
        assert encoder.encode(value) == canonical_bytes(value)
