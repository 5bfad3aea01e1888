"""``dialogue-engine verify | export | import | replay`` on real SQLite files."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest

from dialogue_engine import DialogueEngine
from dialogue_engine.audit_cli import TAMPERED
from dialogue_engine.cli import main


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


def retitle(title: str) -> list[dict[str, Any]]:
    return [{"op": "replace", "path": "/title", "value": title}]


def seeded(store_url: str) -> tuple[str, str]:
    with DialogueEngine.open(store_url) as engine:
        project = engine.create_project("P")
        dialogue = engine.create_dialogue(project.id, survey())
        engine.edit_dialogue(project.id, dialogue.id, retitle("Second"), details={"n": "mark-4711"})
        engine.edit_dialogue(project.id, dialogue.id, retitle("Third"))
        engine.create_release(project.id, dialogue.id, dialogue.revision_id)
    return project.id, dialogue.id


def change_one_byte(db_file: Path, needle: bytes) -> None:
    """Flip one byte of one stored event in the database file, as anyone with the file could."""
    with sqlite3.connect(db_file) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db_file.read_bytes())
    at = data.find(needle)
    assert at >= 0 and data.count(needle) == 1
    data[at + len(needle) - 1] ^= 0x01
    db_file.write_bytes(bytes(data))


def test_verify_reports_intact_chains(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    seeded(store_url)
    assert main(["verify", "--store", store_url]) == 0
    captured = capsys.readouterr()
    assert "checked 6 events of 3 aggregates" in captured.out
    assert "every hash chain is intact" in captured.out
    assert "verifying [" in captured.err


def test_verify_reports_the_first_broken_link_after_a_byte_changed_in_the_file(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, dialogue_id = seeded(store_url)
    change_one_byte(tmp_path / "store.db", b"mark-4711")
    assert main(["verify", "--store", store_url]) == TAMPERED
    out = capsys.readouterr().out
    assert f"BROKEN LINK: Dialogue {dialogue_id}, revision 2" in out
    assert "dialogue_engine:Dialogue.Edited" in out
    expected = out.split("expected hash: ")[1].split()[0]
    found = out.split("found hash:    ")[1].split()[0]
    assert len(expected) == len(found) == 64 and expected != found
    assert "intact" not in out
    # Replay refuses to build on the altered event; earlier revisions still replay.
    assert main(["replay", "--dialogue", dialogue_id, "--store", store_url]) == 1
    assert json.loads(capsys.readouterr().err.splitlines()[-1])["type"] == "chain_broken"
    assert main(["replay", "--dialogue", dialogue_id, "--to", "1", "--store", store_url]) == 0


def test_export_import_round_trip_reproduces_the_store(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project_id, dialogue_id = seeded(store_url)
    out = tmp_path / "log.jsonl"
    assert main(["export", "--out", str(out), "--store", store_url]) == 0
    assert "exported 6 events of 3 aggregates (the whole store)" in capsys.readouterr().out
    assert not (tmp_path / "log.jsonl.partial").exists()

    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    assert main(["import", str(out), "--store", copy]) == 0
    captured = capsys.readouterr()
    assert "imported 6 events of 3 aggregates" in captured.out
    assert "every hash chain verified" in captured.out
    assert "verifying [" in captured.err and "writing [" in captured.err
    with DialogueEngine.open(store_url) as a, DialogueEngine.open(copy) as b:
        assert a.get_dialogue(project_id, dialogue_id) == b.get_dialogue(project_id, dialogue_id)
        assert a.list_dialogues(project_id).items == b.list_dialogues(project_id).items
    assert main(["verify", "--store", copy]) == 0

    # Importing again into the now non-empty copy is refused.
    capsys.readouterr()
    assert main(["import", str(out), "--store", copy]) == 1
    assert json.loads(capsys.readouterr().err)["type"] == "import_refused"


def test_import_refuses_a_file_whose_chain_does_not_verify(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeded(store_url)
    out = tmp_path / "log.jsonl"
    assert main(["export", "--out", str(out), "--store", store_url]) == 0
    out.write_bytes(out.read_bytes().replace(b'"value":"Third"', b'"value":"Thrid"'))
    target = tmp_path / "target.db"
    assert main(["import", str(out), "--store", f"sqlite:///{target}"]) == 1
    error = json.loads(capsys.readouterr().err.splitlines()[-1])
    assert error["type"] == "import_refused"
    assert error["details"]["version"] == 3
    with sqlite3.connect(target) as connection:
        assert connection.execute("SELECT COUNT(*) FROM stored_events").fetchone() == (0,)


def test_replay_prints_the_description_as_of_a_revision(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _, dialogue_id = seeded(store_url)
    assert main(["replay", "--dialogue", dialogue_id, "--to", "2", "--store", store_url]) == 0
    captured = capsys.readouterr()
    description = orjson.loads(captured.out)
    assert description["title"] == "Second"
    assert description["sequences"][0]["blocks"][0]["id"] == "hello"
    assert "replayed revisions 1..2" in captured.err
    assert main(["replay", "--dialogue", dialogue_id, "--store", store_url]) == 0
    assert orjson.loads(capsys.readouterr().out)["title"] == "Third"
    assert main(["replay", "--dialogue", dialogue_id, "--to", "9", "--store", store_url]) == 1
    assert json.loads(capsys.readouterr().err.splitlines()[-1])["type"] == "not_found"
