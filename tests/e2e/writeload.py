"""A write load on a real server and the checks that nothing acknowledged was lost.

Client threads PATCH single edits (a new title, or a new sequence) and POST
bulks of three revisions to a few dialogues, remembering every revision the
server acknowledged (2xx) and every other answer. The checks then read the
history back over HTTP and from the store itself.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from dialogue_engine import DialogueEngine

ADMIN = {
    "DIALOGUE_ENGINE_ADMIN_EMAIL": "admin@example.org",
    "DIALOGUE_ENGINE_ADMIN_PASSWORD": "correct horse battery",
}
PATCH = {"Content-Type": "application/json-patch+json"}
BULK = 3
MAX_REQUESTS_PER_THREAD = 2_000
EVENT_TABLES = {"stored_events", "stored_snapshots", "sqlite_sequence"}
SURROGATE_KEYS = {"seq_key"}

Patch = list[dict[str, Any]]


@dataclass
class Answers:
    """What the writers were answered."""

    acknowledged: list[tuple[str, str, int | None, Patch]] = field(default_factory=list)
    """(dialogue url, revision id, number when the answer shows it, patch) of each 2xx."""
    refused: list[tuple[int, Any]] = field(default_factory=list)
    """(status, JSON body) of every other answer."""
    lock: threading.Lock = field(default_factory=threading.Lock)


def sign_in(client: httpx.Client) -> dict[str, str]:
    body = {"email": ADMIN["DIALOGUE_ENGINE_ADMIN_EMAIL"]}
    body["password"] = ADMIN["DIALOGUE_ENGINE_ADMIN_PASSWORD"]
    response = client.post("/auth/tokens", json=body)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def make_dialogues(client: httpx.Client, auth: dict[str, str], count: int) -> tuple[str, list[str]]:
    """A project and ``count`` dialogues in it: (project url, dialogue urls)."""
    project = client.post("/projects/", json={"title": "Load"}, headers=auth)
    assert project.status_code == 201, project.text
    project_url = project.headers["location"]
    urls = []
    for n in range(count):
        body = {"title": f"D{n}", "sequences": []}
        created = client.post(f"{project_url}/dialogues/", json=body, headers=auth)
        assert created.status_code == 201, created.text
        urls.append(created.headers["location"])
    return project_url, urls


def retitle(title: str) -> Patch:
    return [{"op": "replace", "path": "/title", "value": title}]


def new_sequence(marker: str) -> Patch:
    block = {"id": f"{marker}-b", "type": "message", "properties": {"text": marker}}
    sequence = {"id": marker, "title": marker, "blocks": [block]}
    return [{"op": "add", "path": "/sequences/-", "value": sequence}]


def write(
    base_url: str,
    auth: dict[str, str],
    urls: list[str],
    number: int,
    answers: Answers,
    stop: threading.Event,
) -> None:
    """Write until ``stop`` is set or the server is gone (then a request's fate is unknown)."""
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        for k in range(MAX_REQUESTS_PER_THREAD):
            if stop.is_set():
                return
            url = urls[(number + k) % len(urls)]
            marker = f"r{time.monotonic_ns()}-t{number}-{k}"  # unique across restarts
            try:
                if k % 2:
                    bulk = [
                        {
                            "type": "edit",
                            "details": {"bulk": marker, "part": part},
                            "properties": {
                                "edit_type": "rename",
                                "patch": retitle(f"{marker}.{part}"),
                            },
                        }
                        for part in range(BULK)
                    ]
                    response = client.post(f"{url}/revisions/", json=bulk, headers=auth)
                    ok = response.status_code == 201
                    acknowledged = [
                        (
                            url,
                            r["id"],
                            r["number"],
                            bulk[r["details"]["part"]]["properties"]["patch"],
                        )
                        for r in (response.json() if ok else [])
                    ]
                else:
                    patch = new_sequence(marker) if k % 4 == 2 else retitle(marker)
                    body = orjson.dumps(patch)
                    response = client.patch(url, content=body, headers={**auth, **PATCH})
                    ok = response.status_code == 200
                    acknowledged = (
                        [(url, response.json()["revision_id"], None, patch)] if ok else []
                    )
            except httpx.TransportError:
                return
            with answers.lock:
                answers.acknowledged.extend(acknowledged)
                if not ok:
                    answers.refused.append((response.status_code, response.json()))


def start_writers(
    base_url: str, auth: dict[str, str], urls: list[str], threads: int
) -> tuple[Answers, threading.Event, list[threading.Thread]]:
    answers, stop = Answers(), threading.Event()
    writers = [
        threading.Thread(target=write, args=(base_url, auth, urls, n, answers, stop))
        for n in range(threads)
    ]
    for writer in writers:
        writer.start()
    return answers, stop, writers


def join(writers: list[threading.Thread]) -> None:
    for writer in writers:
        writer.join(60)
        assert not writer.is_alive(), "a writer is stuck"


def all_revisions(client: httpx.Client, auth: dict[str, str], url: str) -> list[dict[str, Any]]:
    revisions: list[dict[str, Any]] = []
    for page in range(1, 10_000):
        query = f"?ordering=number&per_page=100&page={page}"
        response = client.get(f"{url}/revisions/{query}", headers=auth)
        assert response.status_code == 200, response.text
        if not response.json():
            return revisions
        revisions.extend(response.json())
    raise AssertionError("too many pages")


def check_history(
    client: httpx.Client,
    auth: dict[str, str],
    project_url: str,
    urls: list[str],
    acknowledged: list[tuple[str, str, int | None, Patch]],
) -> dict[str, Any]:
    """Every acknowledged revision is there with its number and patch, numbers have no
    gaps, no bulk is half applied, lists agree; the dialogues as the server shows them."""
    logs = {url: all_revisions(client, auth, url) for url in urls}
    shown = {url: client.get(url, headers=auth).json() for url in urls}
    listed = client.get(f"{project_url}/dialogues/", headers=auth).json()
    for url, revisions in logs.items():
        assert [r["number"] for r in revisions] == list(range(1, len(revisions) + 1))
        bulks: dict[str, list[int]] = {}
        for revision in revisions:
            if "bulk" in revision["details"]:
                bulks.setdefault(revision["details"]["bulk"], []).append(revision["number"])
        for marker, numbers in bulks.items():
            assert len(numbers) == BULK, f"bulk {marker} half applied: {numbers}"
            assert numbers == list(range(numbers[0], numbers[0] + BULK))
        assert shown[url]["revision_id"] == revisions[-1]["id"]
    by_id = {r["id"]: (url, r) for url, revisions in logs.items() for r in revisions}
    for url, revision_id, number, patch in acknowledged:
        assert revision_id in by_id, f"acknowledged revision {revision_id} ({patch}) lost"
        found_url, found = by_id[revision_id]
        assert found_url == url
        assert found["properties"]["patch"] == patch
        if number is not None:
            assert found["number"] == number
    assert {d["url"]: d["revision_id"] for d in listed} == {
        url: shown[url]["revision_id"] for url in urls
    }
    return shown


def check_store(path: Path, shown: dict[str, Any]) -> None:
    """With the server stopped: each dialogue as shown equals a replay of its log, and the
    read models the server left equal a rebuild from zero."""
    with DialogueEngine.open(f"sqlite:///{path}", follow=False) as engine:
        for url, dialogue in shown.items():
            replayed = engine.audit.replay(url.rsplit("/", 1)[1])
            assert {k: dialogue[k] for k in replayed.description} == replayed.description
        caught_up = view_tables(path)
        engine.rebuild()
        assert view_tables(path) == caught_up


def view_tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model table's rows (and the tracking positions), sorted.

    Surrogate keys are left out: they number rows in the order a batch inserted
    them, and a rebuild batches the log differently than the live follower did.
    """
    with sqlite3.connect(path) as db:
        names = [
            row[0]
            for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if row[0] not in EVENT_TABLES
        ]
        tables = {}
        for name in names:
            columns = [
                f'"{column[1]}"'
                for column in db.execute(f'PRAGMA table_info("{name}")')
                if column[1] not in SURROGATE_KEYS
            ]
            rows = db.execute(f'SELECT {", ".join(columns)} FROM "{name}"')
            tables[name] = sorted(rows, key=repr)
        return tables
