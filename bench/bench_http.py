"""HTTP figures (issue 3), each against a bare Starlette baseline measured in the same run.

- ``http.patch_rate``: PATCH of one block of a 1,000-block dialogue through
  ``dialogue-engine serve`` (a SQLite file, every response the whole ~330 KB
  dialogue as the contract says), revisions per second ÷ a bare Starlette
  endpoint that parses the same body and commits one SQLite row (WAL, same
  durability) and answers a small JSON object. Target ≥ 0.5.
- ``http.get_rate``: GET of that dialogue, requests per second ÷ a bare
  Starlette endpoint returning cached bytes of the same size. Target ≥ 0.7.

Both servers are separate uvicorn processes with the same settings (one
worker, access log off, uvicorn's default loop and HTTP implementation), on
127.0.0.1 only. The load generator is this process: keep-alive connections
over asyncio, each phase bounded by a duration and a request count. Phases
alternate baseline/engine and the median of the rounds is reported.

``python -m bench.bench_http baseline --port P --db FILE --size N`` runs the
baseline server (used by :func:`run`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
import orjson

from bench.common import block_text_edit, figure, large_description

HOST = "127.0.0.1"
CONNECTIONS = 16
MAX_REQUESTS = 200_000
START_TIMEOUT = 60.0
ADMIN = {"email": "bench@example.org", "password": "bench-password"}


# The load generator


class _Client(asyncio.Protocol):
    """One keep-alive connection: sends its next request as soon as a response is whole.

    A protocol rather than asyncio streams: the load generator shares the
    machine's cores with the servers it measures, and this costs about a
    third less CPU per request than ``readuntil``/``readexactly`` (~32 µs
    against ~47 µs, measured under the workers benchmark).
    """

    def __init__(
        self, requests: list[bytes], start: int, step: int, deadline: float, counts: Counts
    ) -> None:
        self.requests, self.index, self.step = requests, start, step
        self.deadline, self.counts = deadline, counts
        self.head = bytearray()
        self.body_left: int | None = None
        self.status = 0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self._send()

    def _send(self) -> None:
        counts = self.counts
        if time.perf_counter() >= self.deadline or counts["sent"] >= MAX_REQUESTS:
            self.transport.close()
            return
        counts["sent"] += 1
        self.transport.write(self.requests[self.index % len(self.requests)])
        self.index += self.step

    def data_received(self, data: bytes) -> None:
        if self.body_left is None:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            head, data = bytes(self.head[:end]), bytes(self.head[end + 4 :])
            self.head.clear()
            self.status = int(head[9:12])
            self.body_left = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    self.body_left = int(line[15:])
            self.counts["bytes"] += self.body_left
        # One response at a time on a connection: nothing follows the body.
        self.body_left -= len(data)
        if self.body_left <= 0:
            self.body_left = None
            self.counts["ok" if 200 <= self.status < 300 else "failed"] += 1
            self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.body_left is not None or self.head:
            self.counts["failed"] += 1  # closed with a response under way
        if not self.done.done():
            self.done.set_result(None)


Counts = dict[str, int]


async def _load(
    port: int, requests: list[bytes], seconds: float, connections: int
) -> dict[str, float]:
    counts = {"sent": 0, "ok": 0, "failed": 0, "bytes": 0}
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    deadline = started + seconds
    clients = []
    for i in range(connections):
        _, client = await loop.create_connection(
            lambda i=i: _Client(requests, i, connections, deadline, counts), HOST, port
        )
        clients.append(client)
    await asyncio.gather(*(client.done for client in clients))
    elapsed = time.perf_counter() - started
    return {
        "rps": counts["ok"] / elapsed,
        "ok": counts["ok"],
        "failed": counts["failed"],
        "seconds": round(elapsed, 2),
        "mean_body_bytes": counts["bytes"] // max(1, counts["ok"] + counts["failed"]),
    }


def load(
    server: Server, requests: list[bytes], seconds: float, connections: int = CONNECTIONS
) -> dict[str, float]:
    """Send ``requests`` round-robin over ``connections`` keep-alive connections for ``seconds``.

    Also reports the server process's CPU time per request (user + system),
    which is steadier than throughput on a shared machine.
    """
    cpu_before = _cpu_seconds(server.pid)
    result = asyncio.run(_load(server.port, requests, seconds, connections))
    cpu = _cpu_seconds(server.pid) - cpu_before
    result["cpu_us_per_request"] = round(cpu / max(1, result["ok"]) * 1e6, 1)
    return result


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def http_request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# Servers


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    port: int
    pid: int


@contextmanager
def _process(command: list[str], port: int, env: dict[str, str], log: Path) -> Iterator[Server]:
    with log.open("ab") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env={**os.environ, **env}
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
            try:
                httpx.get(f"http://{HOST}:{port}/healthz", timeout=2.0)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start") from None
                time.sleep(0.1)
        yield Server(port, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(15)


def baseline_app(db: Path, size: int) -> Any:
    """The bare Starlette baseline: a cached body of ``size`` bytes, and a one-row commit."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    cached = orjson.dumps({"padding": "x" * (size - 14)})
    local = threading.local()

    def commit(document: Any) -> None:
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = sqlite3.connect(db, isolation_level=None)
        with connection:
            connection.execute("BEGIN")
            connection.execute("INSERT INTO rows (body) VALUES (?)", (len(document),))

    async def healthz(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    async def get_cached(request: Request) -> Response:
        return Response(cached, media_type="application/json")

    async def patch(request: Request) -> Response:
        document = orjson.loads(await request.body())
        await run_in_threadpool(commit, document)
        return Response(b'{"ok":true}', media_type="application/json")

    setup = sqlite3.connect(db)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, body INTEGER)")
    setup.close()
    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/cached", get_cached),
            Route("/rows", patch, methods=["PATCH"]),
        ]
    )


UVICORN_OPTIONS: dict[str, Any] = {"access_log": False, "log_level": "warning"}


def _serve_baseline(argv: list[str]) -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--size", type=int, required=True)
    args = parser.parse_args(argv)
    uvicorn.run(baseline_app(args.db, args.size), host=HOST, port=args.port, **UVICORN_OPTIONS)


# The benchmark


def _seed(port: int) -> tuple[str, dict[str, str], int]:
    """A project and a 1,000-block dialogue; (dialogue path, auth headers, GET body size)."""
    with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=60.0) as client:
        token = client.post("/auth/tokens", json=ADMIN).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        key = client.post("/user/api-keys", headers=auth).json()["key"]
        headers = {"API-KEY": key}
        project = client.post("/projects/", json={"title": "Bench"}, headers=headers)
        created = client.post(
            f"{project.headers['location']}/dialogues/", json=large_description(), headers=headers
        )
        created.raise_for_status()
        path = created.headers["location"]
        size = len(client.get(path, headers=headers).content)
    return path, headers, size


def _edit(k: int) -> list[dict[str, Any]]:
    """One block's text replaced by a text of the same length, so the dialogue keeps its size."""
    (op,) = block_text_edit(k)
    j = int(op["path"].split("/")[4])
    i = int(op["path"].split("/")[2])
    original = f"Message {j} of sequence {i}. " + "Lorem ipsum " * 20
    marker = f"Edit {k}. "
    return [{**op, "value": marker + original[len(marker) :]}]


def _catch_up(server: Server, path: str, headers: dict[str, str]) -> None:
    """Let the read models apply the PATCH phase now, not during the next phase.

    The projector defers this process's own writes while they keep coming; a
    list request makes it catch up at once.
    """
    dialogues = path.rsplit("/", 1)[0] + "/"
    httpx.get(f"http://{HOST}:{server.port}{dialogues}", headers=headers, timeout=60.0)


def _revision_count(port: int, path: str, headers: dict[str, str]) -> int:
    response = httpx.get(f"http://{HOST}:{port}{path}/revisions/?per_page=1", headers=headers)
    return int(response.headers["x-total-count"])


def run(quick: bool) -> dict[str, dict[str, Any]]:
    seconds = 1.5 if quick else 4.0
    rounds = 3 if quick else 5
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        engine_port, baseline_port = _free_port(), _free_port()
        log = work / "servers.log"
        engine_env = {
            "DIALOGUE_ENGINE_ADMIN_EMAIL": ADMIN["email"],
            "DIALOGUE_ENGINE_ADMIN_PASSWORD": ADMIN["password"],
        }
        engine_command = [
            str(Path(sys.executable).parent / "dialogue-engine"),
            "serve",
            "--host",
            HOST,
            "--port",
            str(engine_port),
            "--store",
            f"sqlite:///{work / 'engine.db'}",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        with _process(engine_command, engine_port, engine_env, log) as engine:
            path, headers, size = _seed(engine_port)
            baseline_command = [
                sys.executable,
                "-m",
                "bench.bench_http",
                "baseline",
                "--port",
                str(baseline_port),
                "--db",
                str(work / "baseline.db"),
                "--size",
                str(size),
            ]
            with _process(baseline_command, baseline_port, {}, log) as baseline:
                return _measure(engine, baseline, path, headers, seconds, rounds)


def _measure(
    engine: Server,
    baseline: Server,
    path: str,
    headers: dict[str, str],
    seconds: float,
    rounds: int,
) -> dict[str, dict[str, Any]]:
    patch_headers = {**headers, "Content-Type": "application/json-patch+json"}
    bodies = [orjson.dumps(_edit(k)) for k in range(1_000, 1_000 + 20_000)]
    engine_patches = [http_request("PATCH", path, patch_headers, b) for b in bodies]
    baseline_patches = [
        http_request("PATCH", "/rows", {"Content-Type": "application/json"}, b) for b in bodies
    ]
    engine_get = [http_request("GET", path, headers)]
    baseline_get = [http_request("GET", "/cached", {})]
    # Warm both servers (caches, connection pools, the threadpool).
    load(engine, engine_get, 0.5)
    load(baseline, baseline_get, 0.5)

    results: dict[str, list[tuple[dict[str, float], dict[str, float]]]] = {"get": [], "patch": []}
    revisions_before = _revision_count(engine.port, path, headers)
    patched = 0
    for round_number in range(rounds):
        offset = round_number * len(bodies) // rounds
        base = load(baseline, baseline_patches[offset:] + baseline_patches[:offset], seconds)
        ours = load(engine, engine_patches[offset:] + engine_patches[:offset], seconds)
        patched += int(ours["ok"])
        results["patch"].append((base, ours))
        _catch_up(engine, path, headers)
        base = load(baseline, baseline_get, seconds)
        ours = load(engine, engine_get, seconds)
        results["get"].append((base, ours))
    recorded = _revision_count(engine.port, path, headers) - revisions_before
    return {
        "http.patch_rate": _figure(
            results["patch"], "≥ 0.5", recorded_revisions=recorded, acknowledged_patches=patched
        ),
        "http.get_rate": _figure(results["get"], "≥ 0.7"),
    }


def _figure(
    pairs: list[tuple[dict[str, float], dict[str, float]]], target: str, **extra: Any
) -> dict[str, Any]:
    ratios = [ours["rps"] / base["rps"] for base, ours in pairs]
    base_rps = statistics.median(base["rps"] for base, _ in pairs)
    ours_rps = statistics.median(ours["rps"] for _, ours in pairs)
    return figure(
        statistics.median(ratios),
        target,
        engine_rps=round(ours_rps, 1),
        baseline_rps=round(base_rps, 1),
        rounds=len(pairs),
        connections=CONNECTIONS,
        engine_failed=sum(int(ours["failed"]) for _, ours in pairs),
        baseline_failed=sum(int(base["failed"]) for base, _ in pairs),
        engine_cpu_us_per_request=statistics.median(o["cpu_us_per_request"] for _, o in pairs),
        baseline_cpu_us_per_request=statistics.median(b["cpu_us_per_request"] for b, _ in pairs),
        engine_body_bytes=pairs[0][1]["mean_body_bytes"],
        baseline_body_bytes=pairs[0][0]["mean_body_bytes"],
        **extra,
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["baseline"]:
        _serve_baseline(sys.argv[2:])
    else:
        for name, value in run(quick="--quick" in sys.argv).items():
            print(name, value)
