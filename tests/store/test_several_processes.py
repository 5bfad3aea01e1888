"""Several processes on one store: migration, shared read models, fresh state for commands.

Each "process" here is an engine of its own on the same store, as a server
worker would open it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from dialogue_engine import DialogueEngine, StaleRevision
from dialogue_engine.domain.user import AuthenticationFailed
from dialogue_engine.eventstore import postgres
from dialogue_engine.eventstore.postgres import LogListener, StoreNotMigrated
from dialogue_engine.eventstore.settings import StoreURLError, parse_store_url, redact
from dialogue_engine.projections.summaries import DialogueSummaries
from dialogue_engine.throttle import TooManyAttempts

from ..pg import fresh_store
from .backends import Backend


def retitle(title: str) -> list[dict[str, Any]]:
    return [{"op": "replace", "path": "/title", "value": title}]


def test_postgres_urls_carry_the_connection_and_its_settings() -> None:
    settings = parse_store_url(
        "postgresql://app:s%40cret@db.example:6543/engine?schema=tenant_1&pool_size=3&lock_timeout=2"
    )
    env = settings.env
    assert settings.is_postgres and not settings.is_memory
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"]) == (
        "db.example",
        "6543",
        "engine",
    )
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == ("app", "s@cret")
    assert (env["POSTGRES_SCHEMA"], env["POSTGRES_POOL_SIZE"]) == ("tenant_1", "3")
    assert env["POSTGRES_LOCK_TIMEOUT"] == "2" and settings.lock_timeout == 2
    # Defaults for what the URL leaves out.
    assert env["POSTGRES_CONNECT_TIMEOUT"] == "3"
    assert env["POSTGRES_MAX_OVERFLOW"] == "12"
    assert parse_store_url("postgres://h/db").env["POSTGRES_PORT"] == "5432"


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("postgresql://u:hunter2@h/db?pool=3", "unknown setting 'pool'"),
        ("postgresql://u:hunter2@h/", "name one database"),
        ("postgresql://u:hunter2@h/db?pool_size=0", "pool_size"),
        ("postgresql://u:hunter2@h/db?lock_timeout=soon", "lock_timeout"),
        ("postgresql://u:hunter2@h/db?schema=a;drop", "schema"),
        ("postgresql://u:hunter2@h:port/db", "port"),
    ],
)
def test_a_bad_postgres_url_is_refused_without_showing_its_password(
    url: str, complaint: str
) -> None:
    with pytest.raises(StoreURLError) as refused:
        parse_store_url(url)
    assert complaint in refused.value.message
    assert "hunter2" not in refused.value.message and "hunter2" not in str(refused.value.details)


def test_redact_hides_only_the_password() -> None:
    assert redact("postgresql://u:pw@h:1/db?schema=s") == "postgresql://u:***@h:1/db?schema=s"
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"


def test_a_server_on_an_unmigrated_database_is_told_to_migrate(tmp_path: Path) -> None:
    with fresh_store(migrate=False) as url:
        with pytest.raises(StoreNotMigrated) as refused:
            DialogueEngine.open(url, views=tmp_path)
        assert "dialogue-engine migrate" in refused.value.message
        settings = parse_store_url(url)
        assert postgres.migrate(settings) is True
        with DialogueEngine.open(url, views=tmp_path) as engine:
            assert engine.store.max_notification_id() == 0


def test_migrations_started_together_create_the_tables_once(tmp_path: Path) -> None:
    with fresh_store(migrate=False) as url:
        settings = parse_store_url(url)
        outcomes: list[Any] = []

        def migrate() -> None:
            try:
                outcomes.append(postgres.migrate(settings))
            except Exception as e:  # surfaced below
                outcomes.append(e)

        threads = [threading.Thread(target=migrate) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(outcomes, key=str) == [False, False, False, True]
        assert postgres.tables_exist(settings)


def test_a_command_honours_an_expected_revision_written_through_another_process(
    store_url: str,
) -> None:
    with (
        DialogueEngine.open(store_url, shared=True, follow=False) as first,
        DialogueEngine.open(store_url, shared=True, follow=False) as second,
    ):
        project = first.create_project("P")
        dialogue = first.create_dialogue(project.id, {"title": "T", "sequences": []})
        second.get_dialogue(project.id, dialogue.id)  # now cached in the second process
        edited = first.edit_dialogue(project.id, dialogue.id, retitle("by first"))

        # The client saw the first process's answer and writes through the second.
        result = second.edit_dialogue(
            project.id, dialogue.id, retitle("then second"), expected_revision=edited.revision_id
        )
        assert result.revision_number == 3
        with pytest.raises(StaleRevision):
            second.edit_dialogue(
                project.id, dialogue.id, retitle("stale"), expected_revision=edited.revision_id
            )


def test_processes_sharing_read_models_never_apply_a_change_twice(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied: list[int] = []
    real_apply = DialogueSummaries.apply

    def counting(self: DialogueSummaries, cursor: Any, changes: Any) -> None:
        applied.extend(change.notification_id for change in changes)
        real_apply(self, cursor, changes)

    views = tmp_path / "shared-views"
    with (
        DialogueEngine.open(store_url, follow=False, views=views) as first,
        DialogueEngine.open(store_url, follow=False, views=views) as second,
    ):
        monkeypatch.setattr(DialogueSummaries, "apply", counting)
        project = first.create_project("P")
        dialogues = [
            first.create_dialogue(project.id, {"title": f"D{n}", "sequences": []}) for n in range(3)
        ]
        for n in range(30):
            dialogue = dialogues[n % 3]
            first.edit_dialogue(project.id, dialogue.id, retitle(f"t{n}"))
        # Both know the views only as they were when they opened; both catch
        # up at once, from their own threads.
        failures: list[BaseException] = []

        def catch_up(engine: DialogueEngine) -> None:
            try:
                engine.projector.catch_up()
            except BaseException as e:  # surfaced below
                failures.append(e)

        threads = [threading.Thread(target=catch_up, args=(e,)) for e in (first, second, first)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        second.projector.catch_up()
        assert failures == []
        assert sorted(applied) == sorted(set(applied))
        assert set(applied) == set(range(1, first.store.max_notification_id() + 1))
        listed = second.list_dialogues(project.id)
        assert {d.title for d in listed.items} == {"t27", "t28", "t29"}


def test_read_models_ahead_of_a_restored_store_are_rebuilt(tmp_path: Path) -> None:
    views = tmp_path / "views"
    with fresh_store() as url:
        with DialogueEngine.open(url, views=views) as engine:
            project = engine.create_project("P")
            dialogue = engine.create_dialogue(project.id, {"title": "T", "sequences": []})
            engine.edit_dialogue(project.id, dialogue.id, retitle("newer"))
            assert engine.list_dialogues(project.id).items[0].title == "newer"
        # Restore "an older backup": the log loses its newest event.
        backend = Backend(url)
        backend.execute("DELETE FROM {events} WHERE originator_version = 2")
        with DialogueEngine.open(url, views=views) as engine:
            assert engine.list_dialogues(project.id).items[0].title == "T"


def test_failed_sign_ins_count_against_one_limit_across_processes(tmp_path: Path) -> None:
    with (
        fresh_store() as url,
        DialogueEngine.open(url, views=tmp_path, follow=False) as first,
        DialogueEngine.open(url, views=tmp_path, follow=False) as second,
    ):
        first.accounts.register("ada@example.org", "correct horse battery")
        limit = first.accounts.login_throttle.limit
        for attempt in range(limit):
            engine = (first, second)[attempt % 2]
            with pytest.raises(AuthenticationFailed):
                engine.accounts.sign_in("ada@example.org", "wrong")
        for engine in (first, second):  # even the right password waits out the window
            with pytest.raises(TooManyAttempts):
                engine.accounts.sign_in("ada@example.org", "correct horse battery")
        first.accounts.login_throttle.clear("ada@example.org")
        assert second.accounts.sign_in("ada@example.org", "correct horse battery").secret


def test_a_follower_hears_of_another_process_write_without_waiting_for_its_poll(
    tmp_path: Path,
) -> None:
    with (
        fresh_store() as url,
        DialogueEngine.open(url, views=tmp_path / "a", follow=False) as follower,
        DialogueEngine.open(url, views=tmp_path / "b", follow=False) as writer,
    ):
        follower.projector.start(poll_interval=60)  # no poll within this test
        channel = follower.store.recorder.channel_name  # type: ignore[attr-defined]
        listener = LogListener(parse_store_url(url), channel, follower.projector.poke)
        try:
            time.sleep(0.5)  # listening
            writer.create_project("P")
            written = writer.store.max_notification_id()
            deadline = time.monotonic() + 5
            while follower.projector.position < written and time.monotonic() < deadline:
                time.sleep(0.01)
            assert follower.projector.position >= written
        finally:
            listener.stop()
            follower.projector.stop()


def test_only_the_lease_holder_applies_the_log_in_the_background(
    store_url: str, tmp_path: Path
) -> None:
    views = tmp_path / "views"
    with (
        DialogueEngine.open(store_url, views=views) as leader,
        DialogueEngine.open(store_url, views=views) as other,
        DialogueEngine.open(store_url, views=tmp_path / "writer", follow=False) as writer,
    ):
        recorded: dict[str, int] = {"leader": 0, "other": 0}
        for name, engine in (("leader", leader), ("other", other)):
            real = engine.projector.recorder.record

            def counting(changes: Any, positions: Any, name: str = name, real: Any = real) -> None:
                recorded[name] += 1
                real(changes, positions)

            engine.projector.recorder.record = counting  # type: ignore[method-assign]
        time.sleep(0.3)  # both followers running; the first to ask holds the lease
        assert leader.projector.lease.held() != other.projector.lease.held()
        project = writer.create_project("P")
        written = writer.store.max_notification_id()
        holder = leader if leader.projector.lease.held() else other
        deadline = time.monotonic() + 5
        while holder.projector.position < written and time.monotonic() < deadline:
            time.sleep(0.02)
        assert holder.projector.position >= written
        held = "leader" if holder is leader else "other"
        assert recorded[held] >= 1 and recorded[({"leader", "other"} - {held}).pop()] == 0
        # The other still lists what the holder applied (and its cache heard of it).
        assert [p.title for p in (other if holder is leader else leader).list_projects().items] == [
            project.title
        ]


def listening_backends(url: str, channel: str) -> int:
    """How many database sessions listen on ``channel``."""
    with postgres.connection(parse_store_url(url)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query = %s", (f'LISTEN "{channel}"',)
        ).fetchone()
    assert row is not None
    return int(str(row[0]))


def test_only_a_process_that_wants_notifications_listens_for_them(tmp_path: Path) -> None:
    with (
        fresh_store() as url,
        DialogueEngine.open(url, views=tmp_path, follow=False) as engine,
    ):
        channel = engine.store.recorder.channel_name  # type: ignore[attr-defined]
        wanted = threading.Event()
        woken = threading.Event()
        listener = LogListener(parse_store_url(url), channel, woken.set, wanted=wanted.is_set)
        try:
            time.sleep(2 * LogListener.TIMEOUT)
            assert listening_backends(url, channel) == 0
            engine.create_project("unheard")
            assert not woken.wait(2 * LogListener.TIMEOUT)

            wanted.set()
            deadline = time.monotonic() + 5
            while listening_backends(url, channel) == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert listening_backends(url, channel) == 1
            engine.create_project("heard")
            assert woken.wait(5)
        finally:
            listener.stop()


def test_migrate_gives_a_store_of_an_earlier_version_its_insert_function(
    tmp_path: Path,
) -> None:
    with fresh_store() as url:
        settings = parse_store_url(url)
        # A store migrated before events were inserted by a function of ours.
        with postgres.connection(settings) as conn:
            function = postgres.table(settings, postgres.INSERT_FUNCTION).as_string(conn)
            conn.execute(f"DROP FUNCTION {function}")
        assert not postgres.tables_exist(settings)
        with pytest.raises(StoreNotMigrated):
            DialogueEngine.open(url, views=tmp_path)
        assert postgres.migrate(settings) is True
        with DialogueEngine.open(url, views=tmp_path) as engine:
            engine.create_project("P")
            assert engine.store.max_notification_id() == 1


def test_inserts_wait_for_the_events_table_lock_and_notify(tmp_path: Path) -> None:
    """What keeps notification ids visible in commit order: no insert while the lock is held."""
    with (
        fresh_store() as url,
        DialogueEngine.open(url, views=tmp_path, follow=False) as engine,
        postgres.connection(parse_store_url(url)) as holder,
        postgres.connection(parse_store_url(url)) as listening,
    ):
        channel = engine.store.recorder.channel_name  # type: ignore[attr-defined]
        listening.execute(f'LISTEN "{channel}"')
        done = threading.Event()
        with holder.transaction():
            events = postgres.events_table(parse_store_url(url)).as_string(holder)
            holder.execute(f"LOCK TABLE {events} IN EXCLUSIVE MODE")
            thread = threading.Thread(target=lambda: (engine.create_project("P"), done.set()))
            thread.start()
            assert not done.wait(0.5)  # waiting for the lock
        thread.join(10)
        assert done.is_set() and engine.store.max_notification_id() == 1
        assert [n.channel for n in listening.notifies(timeout=5, stop_after=1)] == [channel]


def test_a_pooled_connection_is_checked_only_after_sitting_idle(tmp_path: Path) -> None:
    """The library's pool would check every connection before each use (a round trip)."""
    with (
        fresh_store() as url,
        DialogueEngine.open(url, views=tmp_path, follow=False) as engine,
    ):
        pool = engine.store.recorder.datastore.pool  # type: ignore[attr-defined]
        assert isinstance(pool._check, postgres.CheckAfterIdle)
        engine.create_project("P")  # and the pool works with it
    with (
        fresh_store() as url,
        DialogueEngine.open(f"{url}&pre_ping=n", views=tmp_path, follow=False) as engine,
    ):
        assert engine.store.recorder.datastore.pool._check is None  # type: ignore[attr-defined]


def test_each_schema_notifies_on_a_channel_of_its_own(tmp_path: Path) -> None:
    """Channels are database-wide: with one name for all, a commit to any store woke
    the followers of every other store in the database."""
    with (
        fresh_store() as first_url,
        fresh_store() as second_url,
        DialogueEngine.open(first_url, views=tmp_path / "1", follow=False) as first,
        DialogueEngine.open(second_url, views=tmp_path / "2", follow=False) as second,
    ):
        channel = first.store.recorder.channel_name  # type: ignore[attr-defined]
        assert channel != second.store.recorder.channel_name  # type: ignore[attr-defined]
        woken = threading.Event()
        listener = LogListener(parse_store_url(first_url), channel, woken.set)
        try:
            deadline = time.monotonic() + 5
            while listening_backends(first_url, channel) == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            second.create_project("elsewhere")
            assert not woken.wait(2 * LogListener.TIMEOUT)
            first.create_project("here")
            assert woken.wait(5)
        finally:
            listener.stop()


def test_a_channel_name_fits_postgres_identifiers_whatever_the_schema() -> None:
    assert postgres.channel_name("tenant_1") == f"tenant_1.{postgres.EVENTS_TABLE}"
    long_names = [f"{'s' * 60}_{n}" for n in range(2)]
    channels = [postgres.channel_name(name) for name in long_names]
    assert all(len(channel.encode()) <= 63 for channel in channels)
    assert channels[0] != channels[1]  # PostgreSQL would cut both to the same 63 bytes


def test_notifications_that_arrive_while_the_listener_pauses_wake_it_once(
    tmp_path: Path,
) -> None:
    """A follower catches up at most every ``pause`` seconds: a commit per wake-up
    would wake its thread hundreds of times a second under load for nothing."""
    with (
        fresh_store() as url,
        DialogueEngine.open(url, views=tmp_path, follow=False) as engine,
    ):
        channel = engine.store.recorder.channel_name  # type: ignore[attr-defined]
        wakes: list[float] = []
        woken = threading.Event()

        def wake() -> None:
            wakes.append(time.monotonic())
            woken.set()

        pause = 2.0
        listener = LogListener(parse_store_url(url), channel, wake, pause=pause)
        try:
            deadline = time.monotonic() + 5
            while listening_backends(url, channel) == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            engine.create_project("first")
            assert woken.wait(5)
            for n in range(5):  # five commits, five notifications, during the pause
                engine.create_project(f"P{n}")
            assert len(wakes) == 1
            deadline = time.monotonic() + 10
            while len(wakes) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(wakes) == 2 and wakes[1] - wakes[0] >= pause
            # Past the second pause: had any of the five been left for later,
            # it would have woken the listener by now.
            time.sleep(pause + 2 * LogListener.TIMEOUT)
            assert len(wakes) == 2
        finally:
            listener.stop()
