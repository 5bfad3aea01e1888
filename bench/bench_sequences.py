"""Sequence figures (issue 6), each against a baseline measured in the same run on the same file.

- ``sequences.filtered_vs_unfiltered_page``: one page of source 001's search
  filtered by status, display status and a created_at range, ordered by
  ``created_at`` (ascending, page 2) ÷ the unfiltered first page (default
  ``-created_at``), both through ``engine.sequences.search`` as an admin, count
  included. Target ≤ 3: every filter leads an index that ends in the ordering.
  Beside it, unmeasured against a target: a ``title`` contains-filter page,
  which no index can serve (a scan of the folded titles), and the filtered
  page for a caller who reads one project and one dialogue of another.
- ``sequences.catch_up_vs_log_read``: the sequence projection rebuilding from
  zero (its tables dropped, the whole log applied in batches by a projector
  that runs this view alone) in notifications per second ÷ reading the same
  notification log and decoding every event, in events per second. The issue
  sets no target. Here each revision carries 20 sequences, and the view writes
  a row per sequence into a table with seven indexes (the search needs them),
  while the baseline only decodes: measured ~0.025-0.07 on a shared 2-core
  machine, so ≥ 0.02 is a regression floor, not an aspiration. Revisions and
  sequence rows per second are reported beside it (the full store rebuilds in
  seconds).

The store: 5,000 dialogues of 20 sequences (100,000 sequences; the quick run:
500 dialogues, 10,000 sequences) created through the facade by 8 threads
(group commit shares the fsyncs) into a temporary SQLite file, with created
times spread over a year; a third of the dialogues released, and of those
half given a new sequence, released again and then re-released at revision 1,
so all three statuses occur.
"""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.common import figure, median_seconds
from dialogue_engine import Actor, DialogueEngine, Grant
from dialogue_engine.domain.dialogue import Dialogue
from dialogue_engine.domain.sequence_search import iso_from_ms
from dialogue_engine.eventstore.sqlite import view_datastore
from dialogue_engine.projections.base import ViewRecorder
from dialogue_engine.projections.projector import Projector
from dialogue_engine.projections.sequences import SequenceView

SEQUENCES = 20
PROJECTS = 10
THREADS = 8
REVISION_EVENTS = (Dialogue.Created, Dialogue.Edited, Dialogue.Reverted)
"""The events that record a revision (counted for the catch-up figure)."""
BASE_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
YEAR_MS = 365 * 86_400_000


def description(n: int) -> dict[str, Any]:
    sequences = []
    for k in range(SEQUENCES):
        sequences.append(
            {
                "id": f"s{k}",
                "title": f"Week {k} {('reminders', 'check-in', 'survey', 'welcome')[k % 4]}",
                "description": f"Dialogue {n}, step {k}",
                "visibility": "public" if k % 2 else "private",
                "blocks": [
                    {
                        "id": f"s{k}-hello",
                        "type": "message",
                        "title": "Hello",
                        "properties": {"text": "Hello again"},
                    },
                    {
                        "id": f"s{k}-mail",
                        "type": "email",
                        "properties": {
                            "subject": "Your week",
                            "body": "See you soon",
                            "send_at": "2024-05-01T09:00:00+02:00",
                        },
                    },
                ],
            }
        )
    return {"title": f"Dialogue {n}", "sequences": sequences}


def generate(url: str, dialogues: int) -> None:
    with DialogueEngine.open(url, follow=False) as engine:
        projects = [engine.create_project(f"Bench {p}").id for p in range(PROJECTS)]
        step = YEAR_MS // dialogues

        def create(n: int) -> tuple[str, str, str]:
            project = projects[n % PROJECTS]
            record = engine.create_dialogue(project, description(n), created=BASE_MS + n * step)
            return project, record.id, record.revision_id

        with ThreadPoolExecutor(THREADS) as pool:
            created = list(pool.map(create, range(dialogues)))

        def release(n: int) -> None:
            project, dialogue_id, first = created[n]
            engine.create_release(project, dialogue_id, first)
            if n % 2:
                return
            extra = {"id": "extra", "title": "Extra week", "blocks": []}
            latest = engine.edit_dialogue(
                project,
                dialogue_id,
                [{"op": "add", "path": "/sequences/-", "value": extra}],
                created=BASE_MS + n * step + 60_000,
            )
            engine.create_release(project, dialogue_id, latest.revision_id)
            engine.create_release(project, dialogue_id, first)

        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(release, range(0, dialogues, 3)))


def log_read(engine: DialogueEngine) -> tuple[float, int, int]:
    """(seconds to read and decode the whole log, notifications, dialogue revisions)."""
    store = engine.store
    started = time.perf_counter()
    position = count = revisions = 0
    while batch := store.notifications(position, 500):
        for notification in batch:
            event = store.mapper.to_domain_event(notification)
            revisions += isinstance(event, REVISION_EVENTS)
        count += len(batch)
        position = batch[-1].id
    return time.perf_counter() - started, count, revisions


def catch_up(engine: DialogueEngine, db_name: str) -> float:
    """Seconds for the sequence view alone to rebuild from zero."""
    datastore = view_datastore(db_name, 5)
    try:
        projector = Projector(engine.store, ViewRecorder(datastore, [SequenceView()]))
        started = time.perf_counter()
        projector.rebuild()
        return time.perf_counter() - started
    finally:
        datastore.close()


def run(quick: bool = False) -> dict[str, dict[str, Any]]:
    dialogues = 500 if quick else 5_000
    repeat = 30 if quick else 60
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "sequences.db"
        url = f"sqlite:///{db}"
        store = f"{dialogues} dialogues x {SEQUENCES} sequences" + (
            " (quick: a smaller store than the full run's 5000 x 20)" if quick else ""
        )
        print(f"sequences: generating {store}", flush=True)
        started = time.perf_counter()
        generate(url, dialogues)
        generated = time.perf_counter() - started
        with DialogueEngine.open(url, follow=False) as engine:
            reads, catch_ups = [], []
            for _ in range(2):  # alternate, best of two: both see a warm page cache
                seconds, notifications, revisions = log_read(engine)
                reads.append(seconds)
                catch_ups.append(catch_up(engine, str(db)))
            read_rate = notifications / min(reads)
            catch_up_rate = notifications / min(catch_ups)
            results["sequences.catch_up_vs_log_read"] = figure(
                catch_up_rate / read_rate,
                "≥ 0.02",
                catch_up_notifications_per_second=round(catch_up_rate),
                catch_up_revisions_per_second=round(revisions / min(catch_ups)),
                catch_up_sequence_rows_per_second=round(dialogues * SEQUENCES / min(catch_ups)),
                rebuild_seconds=round(min(catch_ups), 2),
                log_read_events_per_second=round(read_rate),
                notifications=notifications,
                revisions=revisions,
                sequences=dialogues * SEQUENCES,
                dialogues=dialogues,
                store=store,
                generate_seconds=round(generated, 1),
            )
        # A fresh engine: its projector reads the view positions the rebuild left.
        with DialogueEngine.open(url, follow=False) as engine:
            search = engine.sequences.search
            middle = BASE_MS + YEAR_MS // 4
            filtered = {
                "status": "1",
                "display_status": "1",
                "created_at.gte": iso_from_ms(middle),
                "created_at.lt": iso_from_ms(middle + YEAR_MS // 2),
                "ordering": "created_at",
                "page": "2",
            }
            total = search({}).total  # catches every view up before timing
            matched = search(filtered).total
            assert total >= dialogues * SEQUENCES and 0 < matched < total
            unfiltered_s = median_seconds(lambda _: search({}), repeat=repeat)
            filtered_s = median_seconds(lambda _: search(filtered), repeat=repeat)
            title_s = median_seconds(lambda _: search({"title": "CHECK-IN"}), repeat=repeat // 3)
            first = search({}).items[0]
            other = search({"ordering": "created_at"}).items[0]
            reader = Actor(
                "reader",
                (
                    Grant("project:dialogues:read", first.project_id),
                    Grant("dialogue:read", other.project_id, other.dialogue_id),
                ),
            )
            scoped_s = median_seconds(lambda _: search(filtered, actor=reader), repeat=repeat)
            results["sequences.filtered_vs_unfiltered_page"] = figure(
                filtered_s / unfiltered_s,
                "≤ 3",
                seconds_unfiltered_first_page=round(unfiltered_s, 6),
                seconds_filtered_ordered_page=round(filtered_s, 6),
                seconds_title_contains_page=round(title_s, 6),
                title_contains_vs_unfiltered=round(title_s / unfiltered_s, 2),
                seconds_filtered_page_one_project_and_a_dialogue=round(scoped_s, 6),
                matched=matched,
                sequences=total,
                store=results["sequences.catch_up_vs_log_read"]["store"],
                repeat=repeat,
            )
    return results
