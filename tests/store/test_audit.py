"""The auditor's facade on a real store (SQLite and PostgreSQL): verify, diff, blame, as-of,
replay, export, feed."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest

from dialogue_engine import DialogueEngine, NotFound, ValidationFailed
from dialogue_engine.audit import ChainBroken
from dialogue_engine.domain.patching import apply_patch
from dialogue_engine.domain.permissions import Actor, Grant
from dialogue_engine.eventstore.application import SNAPSHOT_INTERVAL
from dialogue_engine.eventstore.transfer import ImportRefused

from .backends import Backend, sqlite_only


def survey() -> dict[str, Any]:
    return {
        "title": "Survey",
        "sequences": [
            {
                "id": "start",
                "title": "Start",
                "blocks": [
                    {"id": "hello", "type": "message", "properties": {"text": "Hi"}},
                    {"id": "bye", "type": "message", "properties": {"text": "Bye"}},
                ],
            }
        ],
    }


def text_of(block: int, value: str) -> list[dict[str, Any]]:
    return [
        {"op": "replace", "path": f"/sequences/0/blocks/{block}/properties/text", "value": value}
    ]


def retitle(title: str) -> list[dict[str, Any]]:
    return [{"op": "replace", "path": "/title", "value": title}]


def db_path(store_url: str) -> str:
    return store_url.removeprefix("sqlite:///")


@pytest.fixture
def history(store_url: str) -> tuple[DialogueEngine, str, str]:
    """A dialogue with 4 revisions by two users and a release, on a SQLite file."""
    engine = DialogueEngine.open(store_url)
    project = engine.create_project("P")
    dialogue = engine.create_dialogue(project.id, survey(), created=1_000)
    ann, bob = Actor.system("ann"), Actor.system("bob")
    engine.edit_dialogue(project.id, dialogue.id, text_of(0, "Hello"), actor=ann, created=2_000)
    engine.edit_dialogue(project.id, dialogue.id, retitle("Survey 2"), actor=bob, created=3_000)
    engine.edit_dialogue(project.id, dialogue.id, text_of(1, "Ciao"), actor=bob, created=4_000)
    engine.create_release(project.id, dialogue.id, dialogue.revision_id)
    yield engine, project.id, dialogue.id
    engine.close()


def numbered(engine: DialogueEngine, project_id: str, dialogue_id: str) -> list[str]:
    page = engine.list_revisions(project_id, dialogue_id, ordering=["number"], per_page=100)
    return [r.id for r in page.items]


def test_blame_names_who_last_changed_the_title_each_sequence_and_each_block(
    history: tuple[DialogueEngine, str, str],
) -> None:
    engine, project_id, dialogue_id = history
    blame = engine.audit.blame(project_id, dialogue_id)
    assert blame.revision_number == 4 and blame.title == "Survey 2"
    assert (blame.title_changed.number, blame.title_changed.user_id) == (3, "bob")
    assert blame.title_changed.created == 3_000
    (start,) = blame.sequences
    assert (start.changed.number, start.added.number) == (4, 1)
    assert [(b.id, b.changed.number, b.changed.user_id) for b in start.blocks] == [
        ("hello", 2, "ann"),
        ("bye", 4, "bob"),
    ]


def test_blame_is_extended_by_later_revisions(history: tuple[DialogueEngine, str, str]) -> None:
    engine, project_id, dialogue_id = history
    engine.audit.blame(project_id, dialogue_id)
    engine.edit_dialogue(project_id, dialogue_id, text_of(0, "Hey"), actor=Actor.system("cy"))
    blame = engine.audit.blame(project_id, dialogue_id)
    assert blame.revision_number == 5
    assert blame.sequences[0].blocks[0].changed.user_id == "cy"
    assert blame.sequences[0].blocks[1].changed.number == 4


def test_block_history_lists_every_revision_that_touched_it_with_its_value(
    history: tuple[DialogueEngine, str, str],
) -> None:
    engine, project_id, dialogue_id = history
    page = engine.audit.block_history(project_id, dialogue_id, "start", "hello")
    assert page.total == 2
    assert [(e.revision.number, e.change, e.block["properties"]["text"]) for e in page.items] == [
        (1, "added", "Hi"),
        (2, "changed", "Hello"),
    ]
    engine.edit_dialogue(
        project_id, dialogue_id, [{"op": "remove", "path": "/sequences/0/blocks/0"}]
    )
    after = engine.audit.block_history(
        project_id, dialogue_id, "start", "hello", per_page=1, page=3
    )
    assert after.total == 3
    assert [(e.revision.number, e.change, e.block) for e in after.items] == [(5, "removed", None)]
    with pytest.raises(NotFound):
        engine.audit.block_history(project_id, dialogue_id, "start", "never")


def test_diff_is_the_patch_from_one_revision_to_another(
    history: tuple[DialogueEngine, str, str],
) -> None:
    engine, project_id, dialogue_id = history
    ids = numbered(engine, project_id, dialogue_id)
    diff = engine.audit.diff(project_id, dialogue_id, ids[0], ids[2])
    assert (diff.from_revision.number, diff.to_revision.number) == (1, 3)
    assert sorted(diff.patch, key=lambda op: op["path"]) == [
        {"op": "replace", "path": "/sequences/0/blocks/0/properties/text", "value": "Hello"},
        {"op": "replace", "path": "/title", "value": "Survey 2"},
    ]
    back = engine.audit.diff(project_id, dialogue_id, ids[3], ids[0])
    current = engine.get_dialogue(project_id, dialogue_id).description
    assert (
        apply_patch(current, back.patch)
        == engine.get_revision_dialogue(project_id, dialogue_id, ids[0]).description
    )
    assert engine.audit.diff(project_id, dialogue_id, ids[3]).patch == []
    with pytest.raises(NotFound):
        engine.audit.diff(project_id, dialogue_id, ids[0], "no-such-revision")


def test_as_of_is_the_last_revision_recorded_by_then(
    history: tuple[DialogueEngine, str, str],
) -> None:
    engine, project_id, dialogue_id = history
    as_of = engine.audit.dialogue_as_of
    assert as_of(project_id, dialogue_id, 1_000).revision_number == 1
    assert as_of(project_id, dialogue_id, 2_999).revision_number == 2
    assert as_of(project_id, dialogue_id, 3_000).title == "Survey 2"
    assert as_of(project_id, dialogue_id, 10**12).revision_number == 4
    with pytest.raises(NotFound):
        as_of(project_id, dialogue_id, 999)
    with pytest.raises(ValidationFailed):
        as_of(project_id, dialogue_id, -1)


def test_a_backdated_revision_counts_from_the_latest_time_before_it(
    history: tuple[DialogueEngine, str, str],
) -> None:
    engine, project_id, dialogue_id = history
    engine.edit_dialogue(project_id, dialogue_id, retitle("Backdated"), created=1_500)
    # Revision 5 claims 1,500 but follows revision 4 (4,000): it never shows
    # at 2,000 with revision 3's and 4's changes under it.
    assert engine.audit.dialogue_as_of(project_id, dialogue_id, 2_000).revision_number == 2
    assert engine.audit.dialogue_as_of(project_id, dialogue_id, 4_000).revision_number == 5


def test_replay_rebuilds_any_revision_from_the_events_alone(store_url: str) -> None:
    with DialogueEngine.open(store_url) as engine:
        project = engine.create_project("P")
        dialogue = engine.create_dialogue(project.id, survey())
        for n in range(SNAPSHOT_INTERVAL + 5):
            engine.edit_dialogue(project.id, dialogue.id, text_of(n % 2, f"text {n}"))
        ids = numbered(engine, project.id, dialogue.id)
        seen: list[tuple[int, int]] = []
        replayed = engine.audit.replay(
            dialogue.id, to=53, progress=lambda d, t: seen.append((d, t))
        )
        assert replayed.revision_number == 53 and replayed.revision_id == ids[52]
        expected = engine.get_revision_dialogue(project.id, dialogue.id, ids[52]).description
        assert replayed.description == expected
        assert seen[-1] == (53, 53)
        assert engine.audit.replay(dialogue.id).revision_number == SNAPSHOT_INTERVAL + 6
        with pytest.raises(NotFound):
            engine.audit.replay(dialogue.id, to=SNAPSHOT_INTERVAL + 7)
        outsider = Actor("outsider", (Grant("dialogue:read", project.id, "another"),))
        with pytest.raises(NotFound):
            engine.audit.replay(dialogue.id, actor=outsider)


def tamper(store_url: str, needle: bytes, replacement: bytes) -> None:
    """Change bytes of one stored event in the database file itself (not through SQL)."""
    path = Path(db_path(store_url))
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = path.read_bytes()
    assert data.count(needle) == 1, "the marker must be stored exactly once"
    path.write_bytes(data.replace(needle, replacement))


def test_a_changed_byte_in_the_file_is_the_first_broken_link(
    store_url: str, backend: Backend
) -> None:
    sqlite_only(backend, "changes a byte of the database file itself")
    with DialogueEngine.open(store_url) as engine:
        project = engine.create_project("P")
        dialogue = engine.create_dialogue(project.id, survey())
        engine.edit_dialogue(project.id, dialogue.id, retitle("a"), details={"note": "mark-1234"})
        engine.edit_dialogue(project.id, dialogue.id, retitle("b"))
        engine.create_release(project.id, dialogue.id, dialogue.revision_id)
        intact = engine.audit.verify()
        assert intact.intact and intact.events == 6 and intact.aggregates == 3
        assert engine.audit.verify_dialogue(project.id, dialogue.id).intact
    tamper(store_url, b"mark-1234", b"mark-1235")
    with DialogueEngine.open(store_url) as engine:
        seen: list[int] = []
        check = engine.audit.verify(progress=lambda done, total: seen.append(done))
        assert check.broken is not None and not check.intact
        assert (check.broken.aggregate_id, check.broken.version) == (dialogue.id, 2)
        assert check.topic == "dialogue_engine:Dialogue.Edited"
        assert check.broken.found != check.broken.expected
        one = engine.audit.verify_dialogue(project.id, dialogue.id)
        assert not one.intact and one.dialogue.broken is not None
        assert one.dialogue.broken.version == 2
        assert one.releases is not None and one.releases.intact
        with pytest.raises(ChainBroken):
            engine.audit.replay(dialogue.id)


def test_a_deleted_newest_event_shows_as_a_gap_in_the_log(store_url: str, backend: Backend) -> None:
    sqlite_only(backend, "PostgreSQL's sequences skip ids on rollback: a gap proves nothing there")
    with DialogueEngine.open(store_url) as engine:
        project = engine.create_project("P")
        dialogue = engine.create_dialogue(project.id, survey())
        engine.edit_dialogue(project.id, dialogue.id, retitle("a"))
        engine.create_project("Q")
    backend.execute(
        "DELETE FROM {events} WHERE originator_id = ? AND originator_version = 2",
        (backend.aggregate_id(dialogue.id),),
    )
    with DialogueEngine.open(store_url) as engine:
        check = engine.audit.verify()
        assert check.broken is None and check.gap == (3, 3) and not check.intact


def test_a_snapshot_that_disagrees_with_the_events_is_reported(
    store_url: str, backend: Backend
) -> None:
    with DialogueEngine.open(store_url) as engine:
        project = engine.create_project("P")
        dialogue = engine.create_dialogue(project.id, survey())
        for n in range(SNAPSHOT_INTERVAL):
            engine.edit_dialogue(project.id, dialogue.id, retitle(f"title {n}"))
    ((state,),) = backend.execute("SELECT state FROM {snapshots}")
    forged = state.replace(b'"title":"title 48"', b'"title":"forged"')
    assert forged != state
    backend.execute("UPDATE {snapshots} SET state = ?", (forged,))
    with DialogueEngine.open(store_url) as engine:
        check = engine.audit.verify_dialogue(project.id, dialogue.id)
        assert check.dialogue.broken is None
        assert check.dialogue.snapshots == 1
        assert check.dialogue.bad_snapshots == (SNAPSHOT_INTERVAL,)
        assert not check.intact


def test_export_then_import_reproduces_descriptions_numbers_and_hashes(
    store_url: str, other_store_url: str, tmp_path: Path
) -> None:
    export = tmp_path / "export.jsonl"
    with DialogueEngine.open(store_url) as engine:
        project = engine.create_project("P")
        dialogue = engine.create_dialogue(project.id, survey())
        for n in range(SNAPSHOT_INTERVAL + 3):
            engine.edit_dialogue(project.id, dialogue.id, text_of(n % 2, f"v{n}"))
        engine.create_release(project.id, dialogue.id, dialogue.revision_id)
        other = engine.create_project("Other")
        engine.create_dialogue(other.id, survey())
        with export.open("wb") as out:
            summary = engine.audit.export(out)
        revisions = numbered(engine, project.id, dialogue.id)
        description = engine.get_dialogue(project.id, dialogue.id).description
        release = engine.get_release(project.id, dialogue.id, "latest")
    assert summary.events == summary.last_notification_id
    lines = export.read_bytes().splitlines()
    assert orjson.loads(lines[0])["format"] == "dialogue-engine-export"
    assert orjson.loads(lines[-1])["end"]["events"] == len(lines) - 2
    assert all("hash" in orjson.loads(line)["state"] for line in lines[1:-1])

    with DialogueEngine.open(other_store_url) as engine:
        result = engine.audit.import_file(export)
        assert result.events == summary.events and result.snapshots == 1
        assert engine.get_dialogue(project.id, dialogue.id).description == description
        assert numbered(engine, project.id, dialogue.id) == revisions
        assert engine.get_release(project.id, dialogue.id, "latest") == release
        assert engine.list_dialogues(project.id).total == 1
        assert engine.audit.verify().intact
    query = "SELECT originator_id, originator_version, topic, state FROM {events} ORDER BY {order}"
    assert Backend(store_url).execute(query) == Backend(other_store_url).execute(query)


def test_a_project_export_holds_that_project_whole(
    store_url: str, other_store_url: str, tmp_path: Path
) -> None:
    export = tmp_path / "project.jsonl"
    with DialogueEngine.open(store_url) as engine:
        project = engine.create_project("P")
        other = engine.create_project("Other")
        dialogue = engine.create_dialogue(project.id, survey())
        engine.create_dialogue(other.id, survey())
        engine.edit_dialogue(project.id, dialogue.id, retitle("T"))
        engine.create_release(project.id, dialogue.id, dialogue.revision_id)
        with export.open("wb") as out:
            summary = engine.audit.export(out, project_id=project.id)
    assert (summary.events, summary.aggregates) == (5, 3)
    with DialogueEngine.open(other_store_url) as engine:
        engine.audit.import_file(export)
        assert engine.get_dialogue(project.id, dialogue.id).title == "T"
        with pytest.raises(NotFound):
            engine.get_project(other.id)


def exported(store_url: str, tmp_path: Path) -> Path:
    export = tmp_path / "export.jsonl"
    with DialogueEngine.open(store_url) as engine:
        project = engine.create_project("P")
        dialogue = engine.create_dialogue(project.id, survey())
        engine.edit_dialogue(project.id, dialogue.id, retitle("Original"))
        with export.open("wb") as out:
            engine.audit.export(out)
    return export


@pytest.mark.parametrize(
    "damage",
    [
        lambda lines: [*lines[:3], lines[3].replace(b"Original", b"Forged"), *lines[4:]],
        lambda lines: [*lines[:-2], lines[-1]],
        lambda lines: lines[:-1],
        lambda lines: [lines[0], lines[2], lines[1], *lines[3:]],
        lambda lines: [
            *lines[:2],
            lines[2].replace(b"Dialogue.Created", b"Nowhere.Created"),
            *lines[3:],
        ],
        lambda lines: [lines[1], *lines[1:]],
    ],
    ids=["changed", "dropped", "truncated", "reordered", "unknown-topic", "no-header"],
)
def test_import_refuses_a_damaged_file_and_writes_nothing(
    store_url: str, other_store_url: str, tmp_path: Path, damage: Any
) -> None:
    export = exported(store_url, tmp_path)
    lines = export.read_bytes().splitlines()
    export.write_bytes(b"\n".join(damage(lines)) + b"\n")
    with DialogueEngine.open(other_store_url) as engine:
        with pytest.raises(ImportRefused):
            engine.audit.import_file(export)
        assert engine.store.max_notification_id() == 0


def test_import_refuses_a_store_that_is_not_empty(store_url: str, tmp_path: Path) -> None:
    export = exported(store_url, tmp_path)
    with DialogueEngine.open(store_url) as engine:
        before = engine.store.max_notification_id()
        with pytest.raises(ImportRefused):
            engine.audit.import_file(export)
        assert engine.store.max_notification_id() == before


def test_the_feed_shows_what_the_actor_may_read_once_each(store_url: str) -> None:
    with DialogueEngine.open(store_url) as engine:
        project = engine.create_project("P")
        seen_one = engine.create_dialogue(project.id, survey())
        hidden = engine.create_dialogue(project.id, survey())
        engine.edit_dialogue(project.id, hidden.id, retitle("hidden"))
        engine.edit_dialogue(project.id, seen_one.id, retitle("seen"))
        engine.create_release(project.id, seen_one.id, seen_one.revision_id)
        reader = Actor("reader", (Grant("dialogue:read", project.id, seen_one.id),))
        items = []
        position = 0
        for _ in range(10):
            page = engine.audit.feed(position, actor=reader, limit=2)
            items += page.items
            if page.position == position:
                break
            position = page.position
        assert [(i.kind, i.dialogue_id) for i in items] == [
            ("revision", seen_one.id),
            ("revision", seen_one.id),
            ("release", seen_one.id),
        ]
        assert [i.revision.number for i in items if i.revision] == [1, 2]
        assert items[2].release is not None and items[2].release.revision_number == 1
        assert len({i.id for i in items}) == 3
        assert engine.audit.feed(position, actor=reader).items == []
        everything = engine.audit.feed(0).items
        assert len(everything) == 5
