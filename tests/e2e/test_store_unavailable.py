"""A SQLite store that refuses writes mid-load: 503 in the envelope, nothing half
written, service back by itself once the store returns.

How the store is made unavailable: the tests run as root, and root ignores
file permissions, so a read-only ``chmod`` would change nothing. Instead
another connection takes SQLite's write lock (``BEGIN EXCLUSIVE``) and holds
it, which is what a stuck process, a backup or a long migration does: every
write then waits the store's ``lock_timeout`` (here 1 s) and gives up. In WAL
mode readers are not blocked by a writer, so reads go on being answered.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from .server import server_process
from .writeload import (
    ADMIN,
    check_history,
    check_store,
    join,
    make_dialogues,
    sign_in,
    start_writers,
)

pytestmark = pytest.mark.e2e

THREADS = 3
LOCK_TIMEOUT = 1
LOCKED_SECONDS = 4.0


def read_old_revisions(
    base_url: str, auth: dict[str, str], urls: list[str], stop: threading.Event, seen: list[Any]
) -> None:
    """Reads that need the database: revision lists and early revisions (not cached)."""
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        for k in range(10_000):
            if stop.is_set():
                return
            url = urls[k % len(urls)]
            listed = client.get(f"{url}/revisions/?ordering=number&per_page=5", headers=auth)
            seen.append((listed.status_code, listed.json()))
            if listed.status_code == 200:
                early = listed.json()[k % len(listed.json())]["url"]
                answer = client.get(f"{early}/dialogue", headers=auth)
                seen.append((answer.status_code, answer.json()))


def test_writes_answer_503_while_the_store_is_locked_and_resume_after(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = f"sqlite:///{path}?lock_timeout={LOCK_TIMEOUT}"
    with server_process(store, tmp_path / "server.log", ADMIN) as (_, client):
        auth = sign_in(client)
        project_url, urls = make_dialogues(client, auth, 3)
        base_url = str(client.base_url)
        answers, stop, writers = start_writers(base_url, auth, urls, THREADS)
        reads: list[Any] = []
        reader = threading.Thread(
            target=read_old_revisions, args=(base_url, auth, urls, stop, reads)
        )
        reader.start()
        time.sleep(1.0)

        locker = sqlite3.connect(path, timeout=30, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        acknowledged_before = len(answers.acknowledged)
        time.sleep(LOCKED_SECONDS)
        refused_while_locked = len(answers.refused)
        locker.execute("ROLLBACK")
        locker.close()
        acknowledged_at_release = len(answers.acknowledged)

        time.sleep(2.0)
        stop.set()
        join(writers)
        reader.join(60)
        assert not reader.is_alive()
        assert len(answers.acknowledged) > acknowledged_at_release, "writes did not resume"
        assert refused_while_locked > 0, "the lock refused no write"
        # A write that got the lock just before it was taken may finish; hardly any more.
        assert acknowledged_at_release - acknowledged_before <= THREADS * 3
        for status, body in answers.refused:
            assert status == 503, body
            assert body["type"] == "service_unavailable"
            assert set(body) == {"type", "message", "details"}
        for status, body in reads:
            assert status in (200, 503), body
            if status == 503:
                assert body["type"] == "service_unavailable"
        assert any(status == 200 for status, _ in reads)
        shown = check_history(client, auth, project_url, urls, answers.acknowledged)
    check_store(path, shown)
