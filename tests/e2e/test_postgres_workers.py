"""Several server processes on one PostgreSQL store, under concurrent writes and SIGKILL.

Each test runs ``dialogue-engine serve --workers 4`` on a throw-away schema
and checks the outcome against the event log itself, read through a separate
engine (its own read models), as an auditor would.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import orjson
import pytest

from dialogue_engine import DialogueEngine
from dialogue_engine.domain.dialogue import revision_id
from dialogue_engine.eventstore.settings import VIEWS_ENV_VAR

from ..faultproxy import FaultProxy
from ..pg import fresh_store
from .server import EXECUTABLE, _wait_until_healthy, free_port
from .writeload import ADMIN, PATCH, make_dialogues, sign_in

pytestmark = pytest.mark.e2e

WORKERS = 4


@pytest.fixture
def store_url(tmp_path: Path) -> Iterator[str]:
    with fresh_store() as url:
        yield url


@contextmanager
def serving(
    store_url: str, tmp_path: Path, name: str, workers: int = WORKERS
) -> Iterator[tuple[subprocess.Popen[bytes], httpx.Client]]:
    """``serve --workers N`` in its own process group (so SIGKILL reaches every worker)."""
    port = free_port()
    log = tmp_path / f"{name}.log"
    environment = {**os.environ, **ADMIN, VIEWS_ENV_VAR: str(tmp_path / f"views-{name}")}
    environment.pop("DIALOGUE_ENGINE_STORE", None)
    command = [
        str(EXECUTABLE), "serve", "--host", "127.0.0.1", "--port", str(port),
        "--store", store_url, "--workers", str(workers), "--no-access-log",
    ]  # fmt: skip
    with log.open("ab") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=environment,
            start_new_session=True,
        )  # fmt: skip
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30.0) as client:
            _wait_until_healthy(client, process, log)
            yield process, client
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


def edited_values(engine: DialogueEngine, dialogue_id: str) -> list[Any]:
    """The value each edit of the dialogue's log set, in log order."""
    events = engine.store.events_of(UUID(dialogue_id))
    assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
    values = []
    for event in events[1:]:
        for op in getattr(event, "patch", None) or []:
            values.append(op.get("value"))
    return values


def audited(store_url: str, tmp_path: Path) -> DialogueEngine:
    """An engine of its own on the store, with read models of its own."""
    return DialogueEngine.open(store_url, follow=False, views=tmp_path / "auditor")


def test_concurrent_patches_through_four_workers_lose_nothing(
    store_url: str, tmp_path: Path
) -> None:
    with serving(store_url, tmp_path, "load") as (_, client):
        auth = sign_in(client)
        _, urls = make_dialogues(client, auth, 5)
        hot, own = urls[0], urls[1:]
        acknowledged: dict[str, list[tuple[str, str]]] = {url: [] for url in urls}
        statuses: list[int] = []
        lock = threading.Lock()

        def writer(number: int) -> None:
            with httpx.Client(base_url=client.base_url, timeout=30.0) as mine:
                for k in range(30):
                    url = hot if k % 2 == 0 else own[number % len(own)]
                    marker = f"w{number}-{k}"
                    headers = {**auth, **PATCH}
                    if k % 6 == 0:  # a precondition read a moment ago: may turn stale
                        headers["If-Match"] = mine.get(url, headers=auth).headers["etag"]
                    patch = [{"op": "replace", "path": "/title", "value": marker}]
                    response = mine.patch(url, content=orjson.dumps(patch), headers=headers)
                    with lock:
                        statuses.append(response.status_code)
                        if response.status_code == 200:
                            acknowledged[url].append((marker, response.json()["revision_id"]))

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        # Another worker's writes reach this one's cache within its polling
        # interval (0.1 s): give every worker a moment, then ask each of them.
        time.sleep(1.0)
        served: dict[str, list[dict[str, Any]]] = {url: [] for url in urls}
        for _ in range(3 * WORKERS):
            with httpx.Client(base_url=client.base_url, timeout=30.0) as fresh_connection:
                for url in urls:
                    served[url].append(fresh_connection.get(url, headers=auth).json())

    assert set(statuses) <= {200, 409, 412}, sorted(set(statuses))
    assert statuses.count(200) >= len(statuses) // 2
    with audited(store_url, tmp_path) as engine:
        for url, acks in acknowledged.items():
            dialogue_id = url.rstrip("/").rsplit("/", 1)[1]
            project_id = url.split("/projects/")[1].split("/")[0]
            values = edited_values(engine, dialogue_id)
            # Every acknowledged revision is in the log exactly once, and
            # nothing that was not acknowledged is.
            assert sorted(values) == sorted(marker for marker, _ in acks)
            numbers = len(values) + 1
            log_ids = {revision_id(UUID(dialogue_id), n) for n in range(1, numbers + 1)}
            assert {rid for _, rid in acks} <= log_ids
            assert len({rid for _, rid in acks}) == len(acks)
            replayed = engine.audit.replay(dialogue_id)
            assert replayed.revision_number == numbers
            current = engine.get_dialogue(project_id, dialogue_id)
            assert current.description == replayed.description
            assert {answer["revision_id"] for answer in served[url]} == {current.revision_id}
            assert {answer["title"] for answer in served[url]} == {current.title}
        assert engine.audit.verify().intact


def test_a_bulk_post_is_all_or_nothing_when_every_worker_is_killed(
    store_url: str, tmp_path: Path
) -> None:
    bulk_size = 25
    acknowledged: set[str] = set()
    with serving(store_url, tmp_path, "bulk") as (process, client):
        auth = sign_in(client)
        _, urls = make_dialogues(client, auth, 4)
        stop = threading.Event()

        def poster(number: int) -> None:
            url = urls[number % len(urls)]
            with httpx.Client(base_url=client.base_url, timeout=30.0) as mine:
                for k in range(1000):
                    if stop.is_set():
                        return
                    marker = f"p{number}-{k}"
                    bulk = [
                        {
                            "type": "edit",
                            "properties": {
                                "edit_type": "retitle",
                                "patch": [
                                    {"op": "replace", "path": "/title", "value": f"{marker}/{i}"}
                                ],
                            },
                        }
                        for i in range(bulk_size)
                    ]
                    try:
                        response = mine.post(f"{url}/revisions/", json=bulk, headers=auth)
                    except httpx.TransportError:
                        return
                    if response.status_code == 201:
                        acknowledged.add(marker)

        threads = [threading.Thread(target=poster, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(random.uniform(1.5, 3.0))
        os.killpg(process.pid, signal.SIGKILL)  # the supervisor and every worker at once
        process.wait(10)
        stop.set()
        for thread in threads:
            thread.join(60)
    assert acknowledged, "no bulk finished before the kill: the test proves nothing"

    with audited(store_url, tmp_path) as engine:
        stored: set[str] = set()
        for url in urls:
            values = edited_values(engine, url.rstrip("/").rsplit("/", 1)[1])
            bulks: dict[str, list[int]] = {}
            for value in values:
                marker, index = value.rsplit("/", 1)
                bulks.setdefault(marker, []).append(int(index))
            for marker, indexes in bulks.items():
                assert indexes == list(range(bulk_size)), f"bulk {marker} is half applied"
            stored |= set(bulks)
        assert acknowledged <= stored
        assert engine.audit.verify().intact


def test_a_projection_killed_while_catching_up_resumes_to_a_rebuild_from_zero(
    store_url: str, tmp_path: Path
) -> None:
    with DialogueEngine.open(store_url, views=tmp_path / "writer", follow=False) as engine:
        project = engine.create_project("P")
        for n in range(30):
            sequence = {"id": "s", "title": "S", "blocks": []}
            dialogue = engine.create_dialogue(
                project.id, {"title": f"D{n}", "sequences": [sequence]}
            )
            for k in range(4):
                engine.add_revisions(
                    project.id, dialogue.id, [retitle(f"D{n}-{k}-{i}") for i in range(200)]
                )
                engine.sequences.patch(
                    project.id,
                    dialogue.id,
                    "s",
                    [{"op": "replace", "path": "/title", "value": f"S{k}"}],
                )
        last = engine.store.max_notification_id()

    views = tmp_path / "views"
    environment = {**os.environ, VIEWS_ENV_VAR: str(views)}
    environment.pop("DIALOGUE_ENGINE_STORE", None)
    command = [str(EXECUTABLE), "project", "--store", store_url]
    killed_at = []
    for _ in range(3):
        process = subprocess.Popen(command, env=environment, stderr=subprocess.DEVNULL)
        start = projected(views)
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            position = projected(views)
            if position > start:  # mid-way: at least one batch applied since the start
                process.send_signal(signal.SIGKILL)
                killed_at.append(position)
                break
            time.sleep(0.005)
        process.wait(30)
    resumed = subprocess.run(command, env=environment, capture_output=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr.decode()
    assert killed_at and killed_at[0] < last, f"never killed mid-way: {killed_at} of {last}"

    with DialogueEngine.open(store_url, views=views, follow=False) as caught_up:
        assert caught_up.projector.position == last
        resumed_rows = view_rows(caught_up)
    with DialogueEngine.open(store_url, views=tmp_path / "fresh", follow=False) as fresh:
        fresh.rebuild()
        assert view_rows(fresh) == resumed_rows


def retitle(title: str) -> dict[str, Any]:
    patch = [{"op": "replace", "path": "/title", "value": title}]
    return {"type": "edit", "properties": {"edit_type": "retitle", "patch": patch}}


def projected(views: Path) -> int:
    """The lowest position of the read models in the folder ``views`` (0: none yet)."""
    files = list(views.glob("*.db"))
    if not files:
        return 0
    try:
        with sqlite3.connect(f"file:{files[0]}?mode=ro", uri=True, timeout=1) as connection:
            rows = connection.execute(
                "SELECT notification_id FROM tracking WHERE application_name != ?",
                ("__migration__",),  # the library's own marker row
            ).fetchall()
    except sqlite3.OperationalError:  # not created yet
        return 0
    return min((row[0] for row in rows), default=0)


def view_rows(engine: DialogueEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every read model table, sorted (the tracking table aside)."""
    datastore = engine._views.datastore
    with datastore.transaction(commit=False) as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'tracking'")
        tables = [row[0] for row in cursor.fetchall()]
        rows = {}
        for table in tables:
            cursor.execute(f"SELECT * FROM {table}")  # names from sqlite_master
            rows[table] = sorted(tuple(row) for row in cursor.fetchall())
    return rows


def through(proxy: FaultProxy, store_url: str) -> str:
    """``store_url`` with its server replaced by the proxy's address."""
    rest = store_url.split("@", 1)[1].split("/", 1)[1]
    user = store_url.split("://", 1)[1].split("@", 1)[0]
    return f"postgresql://{user}@127.0.0.1:{proxy.port}/{rest}"


def test_a_database_outage_answers_503_and_service_resumes_by_itself(
    store_url: str, tmp_path: Path
) -> None:
    server = store_url.split("@", 1)[1].split("/", 1)[0]
    host, port = server.rsplit(":", 1)
    with (
        FaultProxy((host, int(port))) as proxy,
        serving(through(proxy, store_url), tmp_path, "outage", workers=2) as (_, client),
    ):
        auth = sign_in(client)
        _, urls = make_dialogues(client, auth, 4)
        outcomes: list[tuple[float, int, Any]] = []
        stop = threading.Event()

        def writer(number: int) -> None:
            url = urls[number % len(urls)]
            with httpx.Client(base_url=client.base_url, timeout=60.0) as mine:
                for k in range(10_000):
                    if stop.is_set():
                        return
                    marker = f"w{number}-{k}"
                    patch = [{"op": "replace", "path": "/title", "value": marker}]
                    response = mine.patch(
                        url, content=orjson.dumps(patch), headers={**auth, **PATCH}
                    )
                    body = response.json() if response.content else None
                    outcomes.append((time.monotonic(), response.status_code, (marker, body)))
                    if response.status_code != 200:
                        time.sleep(0.05)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        proxy.cut()
        cut_at = time.monotonic()
        time.sleep(4.0)
        proxy.restore()
        restored_at = time.monotonic()
        resumed_at = None
        while time.monotonic() < restored_at + 30:
            late = [t for t, status, _ in outcomes if status == 200 and t > restored_at]
            if len(late) >= 20:
                resumed_at = late[0]
                break
            time.sleep(0.1)
        stop.set()
        for thread in threads:
            thread.join(60)

    statuses = {status for _, status, _ in outcomes}
    assert statuses <= {200, 503}, statuses
    refused = [body for _, status, (_, body) in outcomes if status == 503]
    assert refused, "no request met the outage: the test proves nothing"
    assert all(body["type"] == "service_unavailable" for body in refused)
    assert all(t > cut_at for t, status, _ in outcomes if status == 503)
    assert resumed_at is not None, "service did not resume within 30 s of the database's return"

    acknowledged = [marker for _, status, (marker, _) in outcomes if status == 200]
    with audited(store_url, tmp_path) as engine:
        stored: list[Any] = []
        for url in urls:
            stored += edited_values(engine, url.rstrip("/").rsplit("/", 1)[1])
        # Nothing acknowledged is lost, nothing is recorded twice; a write whose
        # answer the outage swallowed (a 503 after its commit) may be there once.
        assert set(acknowledged) <= set(stored)
        assert len(stored) == len(set(stored))
        assert engine.audit.verify().intact


def test_serve_refuses_an_unmigrated_database_until_migrate_has_run(tmp_path: Path) -> None:
    environment = {**os.environ, VIEWS_ENV_VAR: str(tmp_path / "views")}
    environment.pop("DIALOGUE_ENGINE_STORE", None)
    with fresh_store(migrate=False) as url:
        port = str(free_port())
        refused = subprocess.run(
            [str(EXECUTABLE), "serve", "--port", port, "--store", url],
            env=environment, capture_output=True, timeout=60,
        )  # fmt: skip
        assert refused.returncode == 1
        assert orjson.loads(refused.stderr.splitlines()[-1])["type"] == "store_not_migrated"
        migrate = [str(EXECUTABLE), "migrate", "--store", url]
        first = subprocess.run(migrate, env=environment, capture_output=True, timeout=60)
        again = subprocess.run(migrate, env=environment, capture_output=True, timeout=60)
        assert first.returncode == again.returncode == 0
        assert b"created" in first.stdout and b"exist already" in again.stdout


def sockets_per_process(pids: list[int], port: int) -> dict[int, tuple[int, int]]:
    """For each process: (listening sockets on ``port``, connections accepted on it)."""
    states: dict[str, str] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                states[fields[9]] = fields[3]  # inode: state (0A listening, 01 established)
    found = {}
    for pid in pids:
        counts = {"0A": 0, "01": 0}
        with contextlib.suppress(OSError):  # a process that ended meanwhile
            for fd in list(Path(f"/proc/{pid}/fd").iterdir()):
                with contextlib.suppress(OSError):  # a file closed meanwhile
                    target = os.readlink(fd)
                    if target.startswith("socket:[") and states.get(target[8:-1]) in counts:
                        counts[states[target[8:-1]]] += 1
        found[pid] = (counts["0A"], counts["01"])
    return found


def descendants(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:  # ended meanwhile
        return []
    return [p for child in children for p in (int(child), *descendants(int(child)))]


def test_connections_opened_together_are_spread_over_every_worker(
    store_url: str, tmp_path: Path
) -> None:
    """A pool of connections opened at once (a load balancer's, a benchmark's) must not
    all land on the first worker to wake, as they do on one shared listening socket."""
    with serving(store_url, tmp_path, "spread") as (process, client):
        port = int(str(client.base_url.port))
        # The server answers once one worker is up; the others may still be starting.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            sockets = sockets_per_process(descendants(process.pid), port)
            if sum(1 for listening, _ in sockets.values() if listening) == WORKERS:
                break
            time.sleep(0.1)
        connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(64)]
        try:
            for connection in connections:  # each answered: accepted by some worker
                connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                assert connection.recv(12).startswith(b"HTTP/1.1 200")
            sockets = sockets_per_process(descendants(process.pid), port)
        finally:
            for connection in connections:
                connection.close()
    workers = {pid: accepted for pid, (listening, accepted) in sockets.items() if listening}
    assert len(workers) == WORKERS  # each worker listens on a socket of its own
    assert sum(workers.values()) >= 64
    assert all(accepted > 0 for accepted in workers.values()), workers
