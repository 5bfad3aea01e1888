"""Core figures (issue 2), each against a baseline measured in the same run.

- ``core.edit_rate``: edits per second through the facade on a 1,000-block
  dialogue (one block's text per edit, SQLite file, projector following) ÷ raw
  eventsourcing saves of one small event per transaction on the same kind of
  file. Target ≥ 0.5.
- ``core.read_current_10000_vs_10``: reading the current description (cold: the
  engine's caches dropped before each read, so the store is really read) with
  10,000 revisions ÷ with 10 revisions. Target ≤ 1.5.
- ``core.read_as_of_random_vs_current``: the description as of a random
  revision of that 10,000-revision history ÷ reading the current one as a
  library user does (warm cache, a fresh ``dict`` each time). Target ≤ 5.
"""

from __future__ import annotations

import random
import statistics
import tempfile
from pathlib import Path
from typing import Any

from eventsourcing.application import Application, LRUCache
from eventsourcing.domain import Aggregate, event

from bench.common import block_text_edit, figure, large_description, median_seconds, rate
from dialogue_engine import DialogueEngine


class Counter(Aggregate):
    @event("Incremented")
    def increment(self, amount: int) -> None:
        self.total = getattr(self, "total", 0) + amount


def raw_save_rate(folder: Path, seconds: float) -> float:
    folder.mkdir(parents=True, exist_ok=True)
    app: Application[Any] = Application(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(folder / "raw.db"),
        }
    )
    counter = Counter()
    app.save(counter)

    def save(_: int) -> None:
        counter.increment(amount=1)
        app.save(counter)

    try:
        return rate(save, seconds=seconds)
    finally:
        app.close()


def edit_rate(folder: Path, seconds: float, name: str) -> float:
    engine = DialogueEngine.open(f"sqlite:///{folder / name}")
    try:
        project = engine.create_project("Bench")
        dialogue = engine.create_dialogue(project.id, large_description())
        return rate(
            lambda k: engine.edit_dialogue(project.id, dialogue.id, block_text_edit(k)),
            seconds=seconds,
        )
    finally:
        engine.close()


def build_history(engine: DialogueEngine, revisions: int) -> tuple[str, str]:
    project = engine.create_project(f"History {revisions}")
    dialogue = engine.create_dialogue(project.id, large_description())
    for k in range(revisions - 1):
        engine.edit_dialogue(project.id, dialogue.id, block_text_edit(k))
    return project.id, dialogue.id


def drop_caches(engine: DialogueEngine) -> None:
    store = engine.store
    store._committed = LRUCache(maxsize=500)
    store._historical = LRUCache(maxsize=256)
    engine._documents = LRUCache(maxsize=256)


def run(quick: bool = False) -> dict[str, dict[str, Any]]:
    seconds = 1.0 if quick else 2.0
    rounds = 3 if quick else 5
    long_history = 2_000 if quick else 10_000
    reads = 30 if quick else 100
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # The disk's fsync latency drifts: interleave the two and take medians.
        raws, edits = [], []
        for round_number in range(rounds):
            raws.append(raw_save_rate(folder / f"raw-{round_number}", seconds))
            edits.append(edit_rate(folder, seconds, f"edits-{round_number}.db"))
        raw, edit = statistics.median(raws), statistics.median(edits)
        results["core.edit_rate"] = figure(
            edit / raw,
            "≥ 0.5",
            edits_per_second=round(edit),
            raw_saves_per_second=round(raw),
            rounds=rounds,
            document_blocks=1000,
        )

        engine = DialogueEngine.open(f"sqlite:///{folder / 'history.db'}")
        short = build_history(engine, 10)
        long = build_history(engine, long_history)
        # Measure reads in a steady state, not beside the follower's backlog.
        engine.projector.catch_up()

        def cold_read(ids: tuple[str, str]) -> Any:
            def read(_: int) -> None:
                drop_caches(engine)
                assert engine.get_dialogue(*ids).description

            return read

        cold_short = median_seconds(cold_read(short), repeat=reads)
        cold_long = median_seconds(cold_read(long), repeat=reads)
        results[f"core.read_current_{long_history}_vs_10"] = figure(
            cold_long / cold_short,
            "≤ 1.5",
            seconds_with_10=cold_short,
            seconds_with_long_history=cold_long,
            revisions=long_history,
        )

        revision_ids = [
            r.id
            for page in range(1, long_history // 100 + 1)
            for r in engine.list_revisions(
                *long, ordering=["number"], page=page, per_page=100
            ).items
        ]
        chooser = random.Random(7)

        def as_of_random(_: int) -> None:
            assert engine.get_revision_dialogue(*long, chooser.choice(revision_ids)).description

        def current(_: int) -> None:
            assert engine.get_dialogue(*long).description

        warm_current = median_seconds(current, repeat=reads)
        random_as_of = median_seconds(as_of_random, repeat=reads)
        results["core.read_as_of_random_vs_current"] = figure(
            random_as_of / warm_current,
            "≤ 5",
            seconds_as_of_random=random_as_of,
            seconds_current=warm_current,
            revisions=long_history,
        )
        engine.close()
    return results
