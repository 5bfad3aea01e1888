"""Timing helpers and the test document shared by the benchmarks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def rate(operation: Callable[[int], object], *, seconds: float, minimum: int = 20) -> float:
    """Operations per second: call ``operation(i)`` for about ``seconds``."""
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while count < minimum or time.perf_counter() < deadline:
        operation(count)
        count += 1
    return count / (time.perf_counter() - started)


def median_seconds(operation: Callable[[int], object], *, repeat: int) -> float:
    """Median duration of one call over ``repeat`` calls."""
    durations = []
    for i in range(repeat):
        started = time.perf_counter()
        operation(i)
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


def figure(ratio: float, target: str, **raw: Any) -> dict[str, Any]:
    """One result entry: the ratio, its target (``≥ x`` or ``≤ x``) and whether it is met."""
    bound = float(target.split()[-1])
    met = ratio >= bound if target.startswith("≥") else ratio <= bound
    return {"ratio": round(ratio, 3), "target": target, "met": met, **raw}


def large_description(sequences: int = 50, blocks: int = 20) -> dict[str, Any]:
    """The measurements' test document: 50 sequences x 20 blocks (~330 KB of JSON)."""
    ids = [f"seq-{i}" for i in range(sequences)]
    result = []
    for i, sequence_id in enumerate(ids):
        items: list[dict[str, Any]] = []
        for j in range(blocks):
            block_id = f"s{i}-b{j}"
            if j % 5 == 4:
                items.append(
                    {
                        "id": block_id,
                        "type": "question",
                        "title": f"Question {j}",
                        "properties": {
                            "text": "How would you rate the service you received today? " * 3,
                            "choices": [
                                {
                                    "value": str(v),
                                    "label": f"Choice {v}",
                                    "next": ids[(i + v) % sequences],
                                }
                                for v in range(1, 4)
                            ],
                        },
                    }
                )
            else:
                items.append(
                    {
                        "id": block_id,
                        "type": "message",
                        "title": f"Message {j}",
                        "properties": {
                            "text": f"Message {j} of sequence {i}. " + "Lorem ipsum " * 20
                        },
                    }
                )
        result.append({"id": sequence_id, "title": f"Sequence {i}", "blocks": items})
    return {"title": "Large dialogue", "sequences": result}


def block_text_edit(k: int, sequences: int = 50, blocks: int = 20) -> list[dict[str, Any]]:
    """A one-op patch changing the text of one message block (never a question)."""
    i = k % sequences
    j = (k // sequences) % blocks
    if j % 5 == 4:
        j -= 1
    return [
        {
            "op": "replace",
            "path": f"/sequences/{i}/blocks/{j}/properties/text",
            "value": f"Edited text number {k}",
        }
    ]
