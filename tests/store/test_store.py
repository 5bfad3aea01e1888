"""The engine on a real store, SQLite and PostgreSQL: durability, snapshots, concurrency,
encoding, the hash chain."""

from __future__ import annotations

import threading
import time
from typing import Any
from uuid import UUID

import orjson
import pytest
from eventsourcing.persistence import PersistenceError

from dialogue_engine import DialogueEngine, StaleRevision
from dialogue_engine.domain.dialogue import Dialogue
from dialogue_engine.eventstore.application import SNAPSHOT_INTERVAL, StoreUnavailable
from dialogue_engine.eventstore.settings import StoreURLError, parse_store_url

from .backends import Backend


def retitle(title: str) -> list[dict[str, Any]]:
    return [{"op": "replace", "path": "/title", "value": title}]


def survey() -> dict[str, Any]:
    return {
        "title": "Survey",
        "sequences": [
            {
                "id": "start",
                "title": "Start",
                "blocks": [{"id": "hello", "type": "message", "properties": {"text": "Hi"}}],
            }
        ],
    }


def test_everything_survives_closing_and_reopening_the_store(store_url: str) -> None:
    with DialogueEngine.open(store_url) as engine:
        project = engine.create_project("Maternal Health ZA")
        dialogue = engine.create_dialogue(project.id, survey())
        edited = engine.edit_dialogue(project.id, dialogue.id, retitle("Survey v2"))
        release = engine.create_release(project.id, dialogue.id, edited.revision_id)
        reverted = engine.revert_dialogue(project.id, dialogue.id, dialogue.revision_id)
        revisions = engine.list_revisions(project.id, dialogue.id)
        summaries = engine.list_dialogues(project.id)

    with DialogueEngine.open(store_url) as engine:
        again = engine.get_dialogue(project.id, dialogue.id)
        assert again.description == reverted.description
        assert again.revision_id == reverted.revision_id
        assert (again.is_published, again.has_changes) == (True, True)
        assert engine.list_revisions(project.id, dialogue.id) == revisions
        assert engine.get_release(project.id, dialogue.id, "latest") == release
        assert (
            engine.get_release_dialogue(project.id, dialogue.id).description == edited.description
        )
        assert engine.list_dialogues(project.id) == summaries
        assert engine.list_projects().items == [project]


def test_read_models_resume_from_their_tracking_after_a_restart(store_url: str) -> None:
    with DialogueEngine.open(store_url, follow=False) as engine:
        project = engine.create_project("P")
        engine.create_dialogue(project.id, survey())
        assert engine.list_dialogues(project.id).total == 1
        engine.create_dialogue(project.id, {"title": "Second", "sequences": []})

    with DialogueEngine.open(store_url, follow=False) as engine:
        position = engine.projector.position
        titles = [d.title for d in engine.list_dialogues(project.id).items]
        assert titles == ["Survey", "Second"]
        assert engine.projector.position > position


def test_any_revision_is_rebuilt_from_a_snapshot_and_at_most_an_interval_of_patches(
    store_url: str,
) -> None:
    with DialogueEngine.open(store_url) as engine:
        project = engine.create_project("P")
        dialogue = engine.create_dialogue(project.id, survey())
        total = 3 * SNAPSHOT_INTERVAL + 7
        for number in range(2, total + 1):
            engine.edit_dialogue(project.id, dialogue.id, retitle(f"title {number}"))
        snapshots_store = engine.store.snapshots
        assert snapshots_store is not None
        for number in (1, SNAPSHOT_INTERVAL - 1, SNAPSHOT_INTERVAL, total - 1, total):
            snapshots = list(snapshots_store.get(UUID(dialogue.id), lte=number, desc=True, limit=1))
            replayed_from = snapshots[0].originator_version if snapshots else 0
            assert number - replayed_from < SNAPSHOT_INTERVAL
        revisions = engine.list_revisions(
            project.id, dialogue.id, ordering=["number"], per_page=100
        )
        middle = revisions.items[SNAPSHOT_INTERVAL + 3]
        as_of = engine.get_revision_dialogue(project.id, dialogue.id, middle.id)
        assert as_of.title == f"title {SNAPSHOT_INTERVAL + 4}"


def test_a_second_process_with_a_stale_expected_revision_gets_a_precondition_error(
    store_url: str,
) -> None:
    with DialogueEngine.open(store_url) as first, DialogueEngine.open(store_url) as second:
        project = first.create_project("P")
        dialogue = first.create_dialogue(project.id, survey())
        seen_by_second = second.get_dialogue(project.id, dialogue.id)

        first.edit_dialogue(project.id, dialogue.id, retitle("by first"))

        with pytest.raises(StaleRevision):
            second.edit_dialogue(
                project.id,
                dialogue.id,
                retitle("by second"),
                expected_revision=seen_by_second.revision_id,
            )
        # Without a precondition the second writer's stale cache is refreshed
        # and its patch applies on top: no lost update, no gap in numbers.
        result = second.edit_dialogue(
            project.id, dialogue.id, [{"op": "replace", "path": "/sequences/0/title", "value": "S"}]
        )
        assert result.revision_number == 3
        assert result.title == "by first"
        first.projector.catch_up()  # what its follower does within one poll interval
        numbers = [r.number for r in first.list_revisions(project.id, dialogue.id).items]
        assert numbers == [3, 2, 1]


def test_concurrent_writers_in_one_process_never_lose_an_update(store_url: str) -> None:
    with DialogueEngine.open(store_url) as engine:
        project = engine.create_project("P")
        dialogue = engine.create_dialogue(project.id, {"title": "T", "sequences": []})
        errors: list[BaseException] = []

        def add_sequences(worker: int) -> None:
            try:
                for n in range(10):
                    value = {"id": f"w{worker}-{n}", "title": "x", "blocks": []}
                    engine.edit_dialogue(
                        project.id,
                        dialogue.id,
                        [{"op": "add", "path": "/sequences/-", "value": value}],
                    )
            except BaseException as e:  # surfaced below
                errors.append(e)

        threads = [threading.Thread(target=add_sequences, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        final = engine.get_dialogue(project.id, dialogue.id)
        assert final.revision_number == 41
        assert sorted(s["id"] for s in final.description["sequences"]) == sorted(
            f"w{w}-{n}" for w in range(4) for n in range(10)
        )


def test_stored_events_carry_stable_topics_and_canonical_json(
    store_url: str, backend: Backend
) -> None:
    with DialogueEngine.open(store_url) as engine:
        project = engine.create_project("P")
        dialogue = engine.create_dialogue(project.id, survey())
        engine.edit_dialogue(project.id, dialogue.id, retitle("Z"))
        engine.create_release(project.id, dialogue.id, dialogue.revision_id)

    rows = backend.execute("SELECT topic, state FROM {events} ORDER BY {order}")
    assert [topic for topic, _ in rows] == [
        "dialogue_engine:Project.Created",
        "dialogue_engine:Dialogue.Created",
        "dialogue_engine:Dialogue.Edited",
        "dialogue_engine:ReleaseLog.Created",
        "dialogue_engine:ReleaseLog.Released",
    ]
    for _, state in rows:
        decoded = orjson.loads(state)
        assert state == orjson.dumps(decoded, option=orjson.OPT_SORT_KEYS)


def test_store_urls_are_parsed_or_rejected_with_an_engine_error(tmp_path: Any) -> None:
    assert parse_store_url(f"sqlite:///{tmp_path}/a/b.db").path == tmp_path / "a" / "b.db"
    assert parse_store_url("memory://").is_memory
    with pytest.raises(StoreURLError):
        parse_store_url("mysql://localhost/db")
    with pytest.raises(StoreURLError):
        parse_store_url("sqlite://host/file.db")


def test_every_stored_event_is_chained_and_a_changed_byte_is_found(
    store_url: str, backend: Backend
) -> None:
    with DialogueEngine.open(store_url) as engine:
        project = engine.create_project("P")
        dialogue = engine.create_dialogue(project.id, survey())
        for title in ("a", "b", "c"):
            engine.edit_dialogue(project.id, dialogue.id, retitle(title))
        engine.create_release(project.id, dialogue.id, dialogue.revision_id)
        assert engine.store.verify_chain() is None

    rows = backend.execute(
        "SELECT originator_id, originator_version, state FROM {events} "
        "WHERE topic = 'dialogue_engine:Dialogue.Edited' ORDER BY originator_version"
    )
    hashes = [orjson.loads(state)["hash"] for _, _, state in rows]
    assert len(set(hashes)) == 3 and all(len(h) == 64 for h in hashes)
    originator_id, version, state = rows[1]
    tampered = state.replace(b'"value":"b"', b'"value":"B"')
    assert tampered != state
    backend.execute(
        "UPDATE {events} SET state = ? WHERE originator_id = ? AND originator_version = ?",
        (tampered, originator_id, version),
    )

    with DialogueEngine.open(store_url) as engine:
        broken = engine.store.verify_chain()
        assert broken is not None
        assert (broken.aggregate_id, broken.version) == (dialogue.id, 3)
        assert broken.found == hashes[1] and broken.expected != hashes[1]


def test_the_chain_continues_across_snapshots_and_restarts(store_url: str) -> None:
    with DialogueEngine.open(store_url) as engine:
        project = engine.create_project("P")
        dialogue = engine.create_dialogue(project.id, survey())
        for n in range(60):
            engine.edit_dialogue(project.id, dialogue.id, retitle(f"t{n}"))
    with DialogueEngine.open(store_url) as engine:
        engine.edit_dialogue(project.id, dialogue.id, retitle("after restart"))
        assert engine.store.verify_chain() is None


def test_a_group_of_commands_commits_once_and_a_failing_command_fails_alone(
    store_url: str,
) -> None:
    from dialogue_engine.domain.errors import DomainError
    from dialogue_engine.eventstore.application import _Ticket

    with DialogueEngine.open(store_url) as engine:
        project = engine.create_project("P")
        first = engine.create_dialogue(project.id, survey())
        second = engine.create_dialogue(project.id, survey())
        store = engine.store
        transactions: list[int] = []
        original = store._record

        def counting(processing: Any) -> Any:
            transactions.append(len(processing.events))
            return original(processing)

        store._record = counting  # type: ignore[method-assign]

        def edit(dialogue_id: str, patch: list[dict[str, Any]]) -> Any:
            def command(unit: Any) -> Any:
                dialogue = unit.get(UUID(dialogue_id), Dialogue)
                dialogue.edit(patch, registry=engine.block_types, user_id="u")
                return dialogue.version

            return command

        tickets = [
            _Ticket(edit(first.id, retitle("one"))),
            _Ticket(edit(first.id, [{"op": "remove", "path": "/nope"}])),
            _Ticket(edit(first.id, retitle("two"))),
            _Ticket(edit(second.id, retitle("three"))),
        ]
        with store._write_lock:
            store._run_group(tickets)

        assert transactions == [3]
        assert [t.result for t in tickets] == [2, None, 3, 2]
        assert isinstance(tickets[1].error, DomainError)
        assert engine.get_dialogue(project.id, first.id).title == "two"
        assert engine.get_dialogue(project.id, second.id).title == "three"
        assert store.verify_chain() is None


def test_writes_from_many_threads_are_all_recorded_in_order(store_url: str) -> None:
    with DialogueEngine.open(store_url) as engine:
        project = engine.create_project("P")
        dialogues = [engine.create_dialogue(project.id, survey()).id for _ in range(3)]
        failures: list[BaseException] = []
        refused: list[int] = []

        def worker(number: int) -> None:
            try:
                for k in range(15):
                    dialogue = dialogues[(number + k) % 3]
                    if k % 5 == 4:
                        try:
                            engine.edit_dialogue(
                                project.id, dialogue, [{"op": "remove", "path": "/x"}]
                            )
                        except Exception:
                            refused.append(k)
                        continue
                    engine.edit_dialogue(project.id, dialogue, retitle(f"w{number}-{k}"))
            except BaseException as e:  # surfaced below
                failures.append(e)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert failures == []
        assert len(refused) == 6 * 3
        total = sum(engine.get_dialogue(project.id, d).revision_number for d in dialogues)
        assert total == 3 + 6 * 12
        for dialogue in dialogues:
            numbers = [
                r.number for r in engine.list_revisions(project.id, dialogue, per_page=100).items
            ]
            assert numbers == list(range(len(numbers), 0, -1))
        assert engine.store.verify_chain() is None


def test_the_projector_folds_a_writers_events_without_loading_from_the_store(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its own writes, applied in several catch-ups, each after the process wrote again.

    The store's cache then holds a later version than the one being applied,
    so the event is folded onto the aggregate the projector applied last,
    never reloaded (a snapshot and events read per catch-up, per dialogue).
    """
    with DialogueEngine.open(store_url, follow=False) as engine:
        project = engine.create_project("P")
        dialogue = engine.create_dialogue(project.id, survey())
        engine.projector.catch_up()
        loads: list[Any] = []
        real_load = engine.store._load

        def counting(aggregate_id: Any, version: int | None = None) -> Any:
            loads.append((aggregate_id, version))
            return real_load(aggregate_id, version)

        monkeypatch.setattr(engine.store, "_load", counting)
        for round_ in range(3):
            for k in range(2):  # the cache moves past the first of these before they are applied
                engine.edit_dialogue(project.id, dialogue.id, retitle(f"{round_}.{k}"))
            engine.projector.catch_up()
        assert loads == []
        assert engine.list_dialogues(project.id).items[0].title == "2.1"


def test_a_catch_up_reads_the_log_once_when_it_ends_within_a_batch(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A follower under load catches up many times a second: a short batch was the
    log's end, and asking again for nothing would double its queries. A log
    longer than a batch is still read to its end."""
    with DialogueEngine.open(store_url, follow=False) as engine:
        project = engine.create_project("P")
        engine.projector.catch_up()
        reads: list[int] = []
        real_notifications = engine.store.notifications

        def counting(after: int, limit: int) -> Any:
            found = real_notifications(after, limit)
            reads.append(len(found))
            return found

        monkeypatch.setattr(engine.store, "notifications", counting)
        engine.create_dialogue(project.id, survey())
        engine.projector.catch_up()
        assert reads == [1]
        monkeypatch.setattr(engine.projector, "BATCH_SIZE", 2)
        reads.clear()
        for n in range(3):
            engine.create_dialogue(project.id, {"title": f"D{n}", "sequences": []})
        assert engine.projector.catch_up() == engine.store.max_notification_id()
        assert reads == [2, 1]
        assert len(engine.list_dialogues(project.id).items) == 4


def test_callers_waiting_for_a_group_commit_are_all_answered_when_a_group_fails(
    store_url: str,
) -> None:
    """The lead passes from group to group: a failed save (the database away)
    answers its group and the next caller waiting leads, so no caller hangs."""
    with DialogueEngine.open(store_url, follow=False) as engine:
        project = engine.create_project("P")
        dialogue = engine.create_dialogue(project.id, survey())
        store = engine.store
        original = store._record
        saves: list[int] = []
        release = threading.Event()

        def slow_then_failing(processing: Any) -> Any:
            saves.append(len(processing.events))
            if len(saves) == 1:
                release.wait(10)  # the others queue up behind this group
                raise PersistenceError("the database went away")
            return original(processing)

        store._record = slow_then_failing  # type: ignore[method-assign]
        outcomes: list[str] = []

        def write(number: int) -> None:
            try:
                engine.edit_dialogue(project.id, dialogue.id, retitle(f"t{number}"))
                outcomes.append("saved")
            except StoreUnavailable:
                outcomes.append("unavailable")

        threads = [threading.Thread(target=write, args=(n,)) for n in range(12)]
        threads[0].start()
        while not saves:
            time.sleep(0.001)
        for thread in threads[1:]:
            thread.start()
        time.sleep(0.2)
        release.set()
        for thread in threads:
            thread.join(20)
        assert not any(thread.is_alive() for thread in threads)
        assert outcomes.count("unavailable") == 1 and outcomes.count("saved") == 11
        assert len(saves) < 12  # the eleven waiting were saved in groups
        assert engine.get_dialogue(project.id, dialogue.id).revision_number == 12
