"""Several server processes on PostgreSQL (issue 8), against one SQLite process in the same run.

Rates count a revision once it is stored and in every read model (see
:func:`_rate`); the acknowledged rates are reported beside them.

- ``workers.pg_N_vs_sqlite`` (N = 1, 2, 4): revisions per second through
  ``dialogue-engine serve --workers N`` on PostgreSQL ÷ the same load on one
  ``serve`` process on a SQLite file. No target: it shows what PostgreSQL
  costs and what workers buy back.
- ``workers.pg_4_vs_pg_1``: 4 workers ÷ 1 worker, both on PostgreSQL.
  Target ≥ 1.5. The median of each round's ratio: the two are measured back
  to back in every round, so what drifts on the machine from one round to
  the next (its speed moves ±15% here) falls on both sides of a ratio.
- ``workers.projection_lag``: under the 4-worker load, how long after an event
  was recorded another process's read models hold it (p50, p99), measured by
  a separate process following the log as a worker does, in a round of its
  own after the rates. Reported; the ratio is p99 ÷ the follower's polling
  interval.

The load: 64 keep-alive connections, each PATCHing a small dialogue of its
own (writes to different dialogues), for a fixed time. The four servers
(SQLite; 1, 2 and 4 workers on PostgreSQL) run side by side, idle but for
their followers' polls while another is measured, and their rounds
alternate (1 and 4 workers next to each other, in turn first); each figure
is a median of rounds. The workers,
PostgreSQL and the load generator share the machine's cores: each figure
reports how many were busy (``cores_busy``, from ``/proc``), which shows when
more workers have no core left to use.

``python -m bench.bench_workers observe --store URL --views DIR --seconds S --out FILE``
runs the lag observer (used by :func:`run`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import httpx
import orjson
import psycopg

from bench.bench_http import (
    HOST,
    Server,
    _cpu_seconds,
    _free_port,
    _process,
    http_request,
    load,
)
from bench.common import figure

ADMIN = {"email": "bench@example.org", "password": "bench-password"}
PG_SERVER = os.environ.get(
    "DIALOGUE_ENGINE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
DIALOGUES = 64
CONNECTIONS = 64
"""Many clients, as a deployment with several workers has: with few, every
worker's commits carry few revisions, and PostgreSQL's table lock (which keeps
notification ids in commit order) serialises one commit per worker at a time."""
FOLLOW_INTERVAL = 0.1

Configuration = Literal["sqlite", 1, 2, 4]
CONFIGURATIONS: tuple[Configuration, ...] = ("sqlite", 2, 1, 4)
"""One ``serve`` process on a SQLite file; 1, 2 and 4 workers on PostgreSQL."""


def _order(round_: int) -> tuple[Configuration, ...]:
    """The configurations of a round: the last two (1 and 4 workers, back to
    back) swap places every other round."""
    *first, one, four = CONFIGURATIONS
    return CONFIGURATIONS if round_ % 2 == 0 else (*first, four, one)


def _serve(store: str, port: int, workers: int, work: Path) -> Any:
    work.mkdir(parents=True, exist_ok=True)
    command = [
        str(Path(sys.executable).parent / "dialogue-engine"),
        "serve", "--host", HOST, "--port", str(port), "--store", store,
        "--workers", str(workers), "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    env = {
        "DIALOGUE_ENGINE_ADMIN_EMAIL": ADMIN["email"],
        "DIALOGUE_ENGINE_ADMIN_PASSWORD": ADMIN["password"],
        "DIALOGUE_ENGINE_VIEWS": str(work / "views"),
    }
    return _process(command, port, env, work / "servers.log")


def _patches(port: int) -> list[bytes]:
    """One PATCH request per dialogue, round-robin: connection i edits dialogue i."""
    with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=60.0) as client:
        token = client.post("/auth/tokens", json=ADMIN).json()["token"]
        key = client.post("/user/api-keys", headers={"Authorization": f"Bearer {token}"}).json()[
            "key"
        ]
        headers = {"API-KEY": key}
        project = client.post("/projects/", json={"title": "Bench"}, headers=headers)
        paths = []
        for n in range(DIALOGUES):
            body = {"title": f"D{n}", "sequences": []}
            created = client.post(
                f"{project.headers['location']}/dialogues/", json=body, headers=headers
            )
            created.raise_for_status()
            paths.append(created.headers["location"])
    patch_headers = {**headers, "Content-Type": "application/json-patch+json"}
    requests = []
    for k in range(50):
        for path in paths:
            body = orjson.dumps([{"op": "replace", "path": "/title", "value": f"t{k}"}])
            requests.append(http_request("PATCH", path, patch_headers, body))
    return requests


def _round(server: Server, requests: list[bytes], seconds: float, views: Path) -> dict[str, float]:
    """One round: revisions per second acknowledged, and per second stored *and* projected.

    The projected rate counts the time until every read model holds every
    revision of the round (the views file's tracking rows reach the log's
    end): a single process defers projecting its own writes while they keep
    coming and pays after the burst; several processes project each other's
    writes as they come. Counting acknowledgements alone would credit the
    single process with work it has not done yet.
    """
    processes = _process_tree(server.pid) + _postgres_processes() + [os.getpid()]
    cpu_before, started = _cpu(processes), time.perf_counter()
    result = load(server, requests, seconds, CONNECTIONS)
    busy = (_cpu(processes) - cpu_before) / (time.perf_counter() - started)
    drained = _drain_seconds(server, views)
    return {
        "rps": result["ok"] / (result["seconds"] + drained),
        "acknowledged_rps": result["rps"],
        "cores_busy": busy,
        "failed": result["failed"],
    }


def _median(rounds: list[dict[str, float]]) -> dict[str, Any]:
    return {
        "rps": statistics.median(r["rps"] for r in rounds),
        "acknowledged_rps": statistics.median(r["acknowledged_rps"] for r in rounds),
        "cores_busy": round(statistics.median(r["cores_busy"] for r in rounds), 2),
        "failed": int(sum(r["failed"] for r in rounds)),
    }


def _process_tree(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *(p for child in children for p in _process_tree(int(child)))]


def _postgres_processes() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _cpu(pids: list[int]) -> float:
    """CPU seconds used so far by ``pids`` (the server, PostgreSQL, this load generator)."""
    total = 0.0
    for pid in pids:
        try:
            total += _cpu_seconds(pid)
        except OSError:
            continue
    return total


def _drain_seconds(server: Server, views: Path) -> float:
    """Seconds until the read models in ``views`` (a file, or files in a folder) hold the log."""
    started = time.perf_counter()
    end = httpx.get(f"http://{HOST}:{server.port}/healthz", timeout=30).json()["notification_id"]
    files = [views] if views.is_file() else list(views.glob("*.db"))
    deadline = started + 120
    while time.perf_counter() < deadline:
        positions = []
        for file in files:
            with sqlite3.connect(f"file:{file}?mode=ro", uri=True, timeout=5) as db:
                positions += [
                    row[0]
                    for row in db.execute(
                        "SELECT notification_id FROM tracking WHERE application_name != ?",
                        ("__migration__",),
                    )
                ]
        if positions and min(positions) >= end:
            break
        time.sleep(0.01)
    return time.perf_counter() - started


def _pg_store() -> str | None:
    """A new schema on the benchmark's PostgreSQL, migrated (None: unreachable)."""
    from dialogue_engine.eventstore import postgres
    from dialogue_engine.eventstore.settings import parse_store_url

    try:
        with psycopg.connect(PG_SERVER, connect_timeout=3):
            pass
    except psycopg.OperationalError:
        return None
    url = f"{PG_SERVER}?schema=bench_{uuid.uuid4().hex[:10]}"
    postgres.migrate(parse_store_url(url))
    return url


def _drop(url: str) -> None:
    from dialogue_engine.eventstore import postgres
    from dialogue_engine.eventstore.settings import parse_store_url

    postgres.drop_schema(parse_store_url(url))


def run(quick: bool) -> dict[str, dict[str, Any]]:
    seconds = 2.0 if quick else 4.0
    rounds = 1 if quick else 5
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as servers:
        work = Path(folder)
        # Every configuration is served at once and their rounds alternate, so
        # whatever drifts on the machine (a checkpoint, the disk) falls on all.
        setups: dict[Configuration, tuple[Server, list[bytes], Path, str]] = {}
        for name in CONFIGURATIONS:
            folder_of = work / str(name)
            if name == "sqlite":
                store, workers, views = f"sqlite:///{folder_of / 'engine.db'}", 1, None
            else:
                pg_store = _pg_store()
                if pg_store is None:
                    return {
                        "workers.pg_4_vs_pg_1": figure(
                            0.0, "≥ 1.5", skipped=f"{PG_SERVER} unreachable"
                        )
                    }
                servers.callback(_drop, pg_store)
                store, workers, views = pg_store, name, folder_of / "views"
            port = _free_port()
            server = servers.enter_context(_serve(store, port, workers, folder_of))
            setups[name] = (server, _patches(port), views or folder_of / "engine.db", store)
        for server, requests, _, _ in setups.values():
            load(server, requests[:DIALOGUES], 1.0, CONNECTIONS)  # warm: connections, caches
        samples: dict[Configuration, list[dict[str, float]]] = {n: [] for n in CONFIGURATIONS}
        for round_ in range(rounds):
            for name in _order(round_):
                server, requests, views, _ = setups[name]
                samples[name].append(_round(server, requests, seconds, views))
        rates = {name: _median(samples[name]) for name in CONFIGURATIONS}
        sqlite = rates["sqlite"]
        # The lag in a round of its own: the observer is one more process on
        # the same cores, which the rates must not pay for.
        server, requests, _, store = setups[4]
        with _observer(store, work, seconds + 3) as lag_file:
            load(server, requests, seconds, CONNECTIONS)
        lags: list[float] = json.loads(lag_file.read_text())
    figures = {
        f"workers.pg_{n}_vs_sqlite": reported(
            rates[n]["rps"] / sqlite["rps"],
            "none (reported)",
            pg_rps=round(rates[n]["rps"], 1),
            sqlite_rps=round(sqlite["rps"], 1),
            pg_acknowledged_rps=round(rates[n]["acknowledged_rps"], 1),
            sqlite_acknowledged_rps=round(sqlite["acknowledged_rps"], 1),
            pg_cores_busy=rates[n]["cores_busy"],
            sqlite_cores_busy=sqlite["cores_busy"],
            pg_failed=rates[n]["failed"],
            sqlite_failed=sqlite["failed"],
        )
        for n in (1, 2, 4)
    }
    paired = sorted(
        four["rps"] / one["rps"] for one, four in zip(samples[1], samples[4], strict=True)
    )
    figures["workers.pg_4_vs_pg_1"] = figure(
        statistics.median(paired),
        "≥ 1.5",
        round_ratios=[round(r, 3) for r in paired],
        pg_1_rps=round(rates[1]["rps"], 1),
        pg_4_rps=round(rates[4]["rps"], 1),
        acknowledged_ratio=round(rates[4]["acknowledged_rps"] / rates[1]["acknowledged_rps"], 3),
        cores_busy_1=rates[1]["cores_busy"],
        cores_busy_4=rates[4]["cores_busy"],
        cores=os.cpu_count(),
    )
    if lags:
        p50 = statistics.median(lags)
        p99 = statistics.quantiles(lags, n=100)[98] if len(lags) >= 100 else max(lags)
        figures["workers.projection_lag"] = reported(
            p99 / FOLLOW_INTERVAL,
            "none (reported; p99 ÷ the 0.1 s polling interval)",
            p50_ms=round(p50 * 1000, 1),
            p99_ms=round(p99 * 1000, 1),
            events=len(lags),
        )
    return figures


def reported(ratio: float, note: str, **raw: Any) -> dict[str, Any]:
    """A figure without a target: shown, never missed."""
    return {"ratio": round(ratio, 3), "target": note, "met": True, **raw}


class _observer:
    """The lag observer as a subprocess; yields the file its lags will be in."""

    def __init__(self, store: str, work: Path, seconds: float) -> None:
        self.out = work / "lags.json"
        self.command = [
            sys.executable, "-m", "bench.bench_workers", "observe", "--store", store,
            "--views", str(work / "observer"), "--seconds", str(seconds), "--out", str(self.out),
        ]  # fmt: skip

    def __enter__(self) -> Path:
        import subprocess

        self.process = subprocess.Popen(self.command)
        time.sleep(1.5)  # opened and following before the load starts
        return self.out

    def __exit__(self, *exc: object) -> None:
        self.process.wait(120)


def observe(argv: list[str]) -> None:
    """Follow the log like a worker; record, for each event, now minus when it was recorded."""
    from dialogue_engine import DialogueEngine
    from dialogue_engine.projections.base import ViewRecorder

    parser = argparse.ArgumentParser()
    for name in ("--store", "--views", "--out"):
        parser.add_argument(name, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    args = parser.parse_args(argv)
    lags: list[float] = []
    real_record = ViewRecorder.record

    def record(self: ViewRecorder, changes: Any, positions: Any) -> None:
        real_record(self, changes, positions)
        now = time.time()
        for change in changes:
            stamp: datetime = change.event.timestamp
            lags.append(now - stamp.timestamp())

    ViewRecorder.record = record  # type: ignore[method-assign]
    with DialogueEngine.open(args.store, views=args.views) as engine:
        engine.projector.catch_up()
        lags.clear()
        time.sleep(args.seconds)
    Path(args.out).write_text(json.dumps(lags))


if __name__ == "__main__":
    if sys.argv[1:2] == ["observe"]:
        observe(sys.argv[2:])
    else:
        for name, value in run(quick="--quick" in sys.argv).items():
            print(name, value)
