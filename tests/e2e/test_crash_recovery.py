"""SIGKILL during a sustained write load on SQLite: nothing acknowledged is lost.

Client threads PATCH single edits and POST bulks of three revisions to a few
dialogues of a real server; the server is killed with SIGKILL mid-load (twice)
and restarted. Then every acknowledged revision is there with its number, no
bulk is half applied, numbers have no gaps, each description equals a replay
of its log, and the read models the restarted server caught up equal a
rebuild from zero (see :mod:`.writeload`).
"""

from __future__ import annotations

import time
from pathlib import Path

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

THREADS = 4
DIALOGUES = 3
ROUNDS = 2
LOAD_SECONDS = 2.0


def test_sigkill_during_writes_loses_no_acknowledged_revision(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = f"sqlite:///{path}"
    log = tmp_path / "server.log"
    acknowledged = []
    with server_process(store, log, ADMIN) as (_, client):
        auth = sign_in(client)
        project_url, urls = make_dialogues(client, auth, DIALOGUES)
    for _ in range(ROUNDS):
        with server_process(store, log, ADMIN) as (process, client):
            answers, _, writers = start_writers(
                str(client.base_url), sign_in(client), urls, THREADS
            )
            time.sleep(LOAD_SECONDS)
            process.kill()  # SIGKILL, mid-load: the writers see their connections drop
            process.wait(10)
            join(writers)
        assert answers.refused == []
        acknowledged += answers.acknowledged
    assert len(acknowledged) > 50, "the load was too light to mean anything"

    with server_process(store, log, ADMIN) as (_, client):
        shown = check_history(client, sign_in(client), project_url, urls, acknowledged)
    check_store(path, shown)
