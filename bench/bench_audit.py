"""Auditor figures (issue 9), against a baseline measured in the same run on the same file.

- ``audit.verify_vs_log_read``: ``dialogue-engine verify`` (every hash chain
  recomputed, ``engine.audit.verify``) in revisions per second ÷ reading the
  raw notification log (the recorder's rows, nothing decoded) in rows per
  second. Target ≥ 0.3. Beside it: the export rate (``engine.audit.export``
  to a JSON Lines file) and the import rate (``transfer.import_events`` into
  an empty store: the file checked whole, written in one transaction, and
  snapshots taken; rebuilding read models, which the CLI also does, is not
  included), both in events per second.

The full run writes 1,000,000 revisions (10 dialogues x 100,000) through the
aggregates with bulk saves (1,000 revisions per ``store.write``) into a
temporary SQLite file; the quick run writes 20,000. Each rate is the best
of two passes, alternating baseline and measured, so both see a warm page
cache.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import UUID

from bench.common import figure
from dialogue_engine import DialogueEngine
from dialogue_engine.domain.dialogue import Dialogue
from dialogue_engine.eventstore import transfer
from dialogue_engine.eventstore.application import UnitOfWork

PER_WRITE = 1000
DIALOGUES = 10


def generate(url: str, revisions: int) -> int:
    """``revisions`` revisions over :data:`DIALOGUES` dialogues; the events in the log."""
    with DialogueEngine.open(url, follow=False) as engine:
        project = engine.create_project("Audit bench")
        description = {
            "title": "Bench",
            "sequences": [
                {
                    "id": "start",
                    "title": "Start",
                    "blocks": [
                        {"id": f"b{i}", "type": "message", "properties": {"text": "Hi"}}
                        for i in range(5)
                    ],
                }
            ],
        }
        ids = [UUID(engine.create_dialogue(project.id, description).id) for _ in range(DIALOGUES)]
        per_dialogue = revisions // DIALOGUES
        for dialogue_id in ids:
            done = 1
            while done < per_dialogue:
                count = min(PER_WRITE, per_dialogue - done)

                def command(
                    unit: UnitOfWork, start: int = done, count: int = count, at: UUID = dialogue_id
                ) -> None:
                    dialogue = unit.get(at, Dialogue)
                    for k in range(start, start + count):
                        path = f"/sequences/0/blocks/{k % 5}/properties/text"
                        dialogue.edit(
                            [{"op": "replace", "path": path, "value": f"text {k}"}],
                            registry=engine.block_types,
                            user_id="bench",
                            created=k,
                        )

                engine.store.write(command)
                done += count
        return engine.store.max_notification_id()


def read_rate(engine: DialogueEngine) -> float:
    """Rows per second reading the whole log through the recorder, undecoded."""
    recorder = engine.store.recorder
    started = time.perf_counter()
    rows = position = 0
    while True:
        batch = recorder.select_notifications(position, 1000, inclusive_of_start=False)
        if not batch:
            break
        rows += len(batch)
        position = batch[-1].id
    return rows / (time.perf_counter() - started)


def verify_rate(engine: DialogueEngine) -> float:
    started = time.perf_counter()
    check = engine.audit.verify()
    seconds = time.perf_counter() - started
    assert check.intact, check
    return check.events / seconds


def run(quick: bool) -> dict[str, dict[str, Any]]:
    revisions = 20_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "source.db"
        started = time.perf_counter()
        events = generate(f"sqlite:///{source}", revisions)
        generated = time.perf_counter() - started
        with DialogueEngine.open(f"sqlite:///{source}", follow=False) as engine:
            reads, verifies = [], []
            for _ in range(2):
                reads.append(read_rate(engine))
                verifies.append(verify_rate(engine))
            export_file = Path(folder) / "export.jsonl"
            started = time.perf_counter()
            with export_file.open("wb") as out:
                exported = engine.audit.export(out)
            export_rate = exported.events / (time.perf_counter() - started)
        target = Path(folder) / "imported.db"
        with DialogueEngine.open(f"sqlite:///{target}", follow=False) as engine:
            started = time.perf_counter()
            imported = transfer.import_events(engine.store, export_file)
            import_rate = imported.events / (time.perf_counter() - started)
    verify, raw = max(verifies), max(reads)
    return {
        "audit.verify_vs_log_read": figure(
            verify / raw,
            "≥ 0.3",
            revisions=revisions,
            events=events,
            variant="quick (20,000 revisions)" if quick else "full (1,000,000 revisions)",
            verify_revisions_per_s=round(verify),
            log_read_rows_per_s=round(raw),
            export_events_per_s=round(export_rate),
            import_events_per_s=round(import_rate),
            import_snapshots=imported.snapshots,
            generate_seconds=round(generated, 1),
        )
    }
