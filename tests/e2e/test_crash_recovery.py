"""SIGKILL during a sustained write load on SQLite: nothing acknowledged is lost.

Client threads PATCH single edits and POST bulks of three revisions to a few
dialogues of a real server; the server is killed with SIGKILL mid-load (twice)
and restarted. Then every acknowledged revision is there with its number, no
bulk is half applied, numbers have no gaps, each description equals a replay
of its log, and the read models the restarted server caught up equal a
rebuild from zero.
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
import pytest

from dialogue_engine import DialogueEngine

from .server import server_process

pytestmark = pytest.mark.e2e

ADMIN = {
    "DIALOGUE_ENGINE_ADMIN_EMAIL": "admin@example.org",
    "DIALOGUE_ENGINE_ADMIN_PASSWORD": "correct horse battery",
}
PATCH = {"Content-Type": "application/json-patch+json"}
THREADS = 4
DIALOGUES = 3
BULK = 3
ROUNDS = 2
LOAD_SECONDS = 2.0
MAX_REQUESTS_PER_THREAD = 2_000
EVENT_TABLES = {"stored_events", "stored_snapshots", "sqlite_sequence"}
SURROGATE_KEYS = {"seq_key"}


@dataclass
class Acknowledged:
    """What the server answered 2xx to: (dialogue url, revision id, number or None, patch)."""

    revisions: list[tuple[str, str, int | None, Patch]] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def sign_in(client: httpx.Client) -> dict[str, str]:
    body = {"email": ADMIN["DIALOGUE_ENGINE_ADMIN_EMAIL"]}
    body["password"] = ADMIN["DIALOGUE_ENGINE_ADMIN_PASSWORD"]
    response = client.post("/auth/tokens", json=body)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


Patch = list[dict[str, Any]]


def retitle(title: str) -> Patch:
    return [{"op": "replace", "path": "/title", "value": title}]


def new_sequence(marker: str) -> Patch:
    block = {"id": f"{marker}-b", "type": "message", "properties": {"text": marker}}
    sequence = {"id": marker, "title": marker, "blocks": [block]}
    return [{"op": "add", "path": "/sequences/-", "value": sequence}]


def write_until_the_server_dies(
    base_url: str, auth: dict[str, str], urls: list[str], number: int, seen: Acknowledged
) -> None:
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        for k in range(MAX_REQUESTS_PER_THREAD):
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
                return  # the server was killed: this request's fate is unknown
            with seen.lock:
                seen.revisions.extend(acknowledged)
                if not ok:
                    seen.unexpected.append(f"{response.status_code} {response.text[:200]}")


def load_then_kill(
    base_url: str, auth: dict[str, str], urls: list[str], process: Any
) -> Acknowledged:
    seen = Acknowledged()
    threads = [
        threading.Thread(target=write_until_the_server_dies, args=(base_url, auth, urls, n, seen))
        for n in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    time.sleep(LOAD_SECONDS)
    process.kill()
    process.wait(10)
    for thread in threads:
        thread.join(30)
        assert not thread.is_alive()
    return seen


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


def test_sigkill_during_writes_loses_no_acknowledged_revision(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = f"sqlite:///{path}"
    log = tmp_path / "server.log"
    acknowledged: list[tuple[str, str, int | None, Patch]] = []
    with server_process(store, log, ADMIN) as (process, client):
        auth = sign_in(client)
        project = client.post("/projects/", json={"title": "Crash"}, headers=auth)
        assert project.status_code == 201, project.text
        urls = []
        for n in range(DIALOGUES):
            body = {"title": f"D{n}", "sequences": []}
            created = client.post(
                f"{project.headers['location']}/dialogues/", json=body, headers=auth
            )
            assert created.status_code == 201, created.text
            urls.append(created.headers["location"])
        seen = load_then_kill(str(client.base_url), auth, urls, process)
    acknowledged += seen.revisions
    assert seen.unexpected == []
    for _ in range(ROUNDS - 1):
        with server_process(store, log, ADMIN) as (process, client):
            seen = load_then_kill(str(client.base_url), sign_in(client), urls, process)
        acknowledged += seen.revisions
        assert seen.unexpected == []
    assert len(acknowledged) > 50, "the load was too light to mean anything"

    with server_process(store, log, ADMIN) as (_, client):
        auth = sign_in(client)
        logs = {url: all_revisions(client, auth, url) for url in urls}
        shown = {url: client.get(url, headers=auth).json() for url in urls}
        listed = client.get(f"{project.headers['location']}/dialogues/", headers=auth).json()

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

    with DialogueEngine.open(store, follow=False) as engine:
        for url in urls:
            dialogue_id = url.rsplit("/", 1)[1]
            replayed = engine.audit.replay(dialogue_id)
            description = {k: shown[url][k] for k in replayed.description}
            assert description == replayed.description
        caught_up = view_tables(path)
        engine.rebuild()
        assert view_tables(path) == caught_up
