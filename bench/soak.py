"""``python -m bench.soak [--seconds 180] [--threads 4]``: a bounded soak of a real server.

Starts ``dialogue-engine serve`` on a temporary SQLite file on 127.0.0.1 and
runs mixed reads and writes from several client threads for a fixed time:
reading dialogues, revision lists, dialogue lists and sequence search;
PATCHing titles and block texts; POSTing bulks of revisions. It reports the
request count, every answer that was not a success, latency percentiles after
warm-up, and the server's memory: ``VmRSS`` from ``/proc/PID/status`` at the
end of warm-up and its peak after it. Warm-up first fills the engine's
bounded caches (:func:`_fill_caches`), then lasts the run's first 20%.

``make soak`` runs it for three minutes; ``tests/e2e/test_soak.py`` runs it
for ~40 s in CI and asserts no error answer and RSS growth under 10%.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.bench_http import HOST, _free_port, _process

EXECUTABLE = Path(sys.executable).parent / "dialogue-engine"
ADMIN = {
    "DIALOGUE_ENGINE_ADMIN_EMAIL": "soak@example.org",
    "DIALOGUE_ENGINE_ADMIN_PASSWORD": "soak-password-1",
}
PATCH = {"Content-Type": "application/json-patch+json"}
DIALOGUES = 4
SEQUENCES = 5
BLOCKS = 10
WARMUP_FRACTION = 0.2
FILL_REVISIONS = 70_000
FILL_BULK = 100
MAX_REQUESTS_PER_THREAD = 1_000_000
RSS_SAMPLE_SECONDS = 0.5


@dataclass
class SoakResult:
    seconds: float
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    """Seconds per request, after warm-up."""
    rss_warm_kib: int = 0
    rss_peak_kib: int = 0
    """The largest VmRSS sampled after warm-up."""

    @property
    def rss_growth(self) -> float:
        return (self.rss_peak_kib - self.rss_warm_kib) / self.rss_warm_kib

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    def report(self) -> str:
        return (
            f"soak {self.seconds:.0f} s: {self.requests} requests "
            f"({self.requests / self.seconds:.0f}/s), {len(self.errors)} errors; "
            f"latency after warm-up p50 {self.percentile_ms(0.5):.1f} ms, "
            f"p99 {self.percentile_ms(0.99):.1f} ms, max {self.percentile_ms(1.0):.1f} ms; "
            f"server VmRSS {self.rss_warm_kib} KiB after warm-up, peak {self.rss_peak_kib} KiB "
            f"({self.rss_growth:+.1%})"
        )


def vm_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def _description(n: int) -> dict[str, Any]:
    return {
        "title": f"Soak {n}",
        "sequences": [
            {
                "id": f"s{s}",
                "title": f"Sequence {s}",
                "blocks": [
                    {"id": f"s{s}-b{b}", "type": "message", "properties": {"text": f"Hi {b}"}}
                    for b in range(BLOCKS)
                ],
            }
            for s in range(SEQUENCES)
        ],
    }


def _seed(client: httpx.Client) -> tuple[dict[str, str], str, list[str]]:
    body = {"email": ADMIN["DIALOGUE_ENGINE_ADMIN_EMAIL"]}
    body["password"] = ADMIN["DIALOGUE_ENGINE_ADMIN_PASSWORD"]
    auth = {"Authorization": f"Bearer {client.post('/auth/tokens', json=body).json()['token']}"}
    project = client.post("/projects/", json={"title": "Soak"}, headers=auth)
    project.raise_for_status()
    project_url = project.headers["location"]
    urls = []
    for n in range(DIALOGUES):
        created = client.post(f"{project_url}/dialogues/", json=_description(n), headers=auth)
        created.raise_for_status()
        urls.append(created.headers["location"])
        release = {"revision_id": created.json()["revision_id"]}
        client.post(f"{urls[-1]}/releases/", json=release, headers=auth).raise_for_status()
    return auth, project_url, urls


def _fill_caches(client: httpx.Client, auth: dict[str, str], urls: list[str]) -> None:
    """Write past the engine's largest bounded cache before measuring memory.

    Revision ids are memoised for the last 65,536 revisions
    (``domain/dialogue.py`` ``revision_id``, ~17 MB when full): until that many
    exist, a server's memory grows with every write by design. Bulks of
    :data:`FILL_BULK` edits reach that state in a few hundred requests.
    """
    title = [{"op": "replace", "path": "/title", "value": ""}]
    for n in range(FILL_REVISIONS // FILL_BULK + 1):
        bulk = [
            {"type": "edit", "properties": {"edit_type": "fill", "patch": title}}
            for _ in range(FILL_BULK)
        ]
        for part, revision in enumerate(bulk):
            revision["properties"]["patch"] = [{**title[0], "value": f"Fill {n}-{part}"}]
        url = urls[n % len(urls)]
        client.post(f"{url}/revisions/", json=bulk, headers=auth).raise_for_status()


def _request(
    client: httpx.Client, auth: dict[str, str], project_url: str, url: str, k: int
) -> httpx.Response:
    """The k-th request of a thread: six reads for every four writes."""
    kind = k % 10
    if kind <= 2:
        return client.get(url, headers=auth)
    if kind == 3:
        return client.get(f"{url}/revisions/?per_page=20", headers=auth)
    if kind == 4:
        return client.get(f"{project_url}/dialogues/", headers=auth)
    if kind == 5:
        return client.get("/sequences/search/?status=Published", headers=auth)
    if kind in (6, 7):
        value = f"Title {k % 7}" if kind == 6 else f"Text {k % 5}"
        path = "/title" if kind == 6 else f"/sequences/{k % SEQUENCES}/blocks/0/properties/text"
        patch = orjson.dumps([{"op": "replace", "path": path, "value": value}])
        return client.patch(url, content=patch, headers={**auth, **PATCH})
    bulk = [
        {
            "type": "edit",
            "properties": {
                "edit_type": "soak",
                "patch": [{"op": "replace", "path": "/title", "value": f"Bulk {k}-{part}"}],
            },
        }
        for part in range(2)
    ]
    return client.post(f"{url}/revisions/", json=bulk, headers=auth)


def _client_thread(
    base_url: str,
    seeded: tuple[dict[str, str], str, list[str]],
    number: int,
    deadline: float,
    warm_at: float,
    result: SoakResult,
    lock: threading.Lock,
) -> None:
    auth, project_url, urls = seeded
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        for k in range(MAX_REQUESTS_PER_THREAD):
            started = time.monotonic()
            if started >= deadline:
                return
            url = urls[(number + k) % len(urls)]
            try:
                response = _request(client, auth, project_url, url, k)
                failure = None if response.is_success else f"{response.status_code} {response.text}"
            except httpx.HTTPError as e:
                failure = f"{type(e).__name__}: {e}"
            elapsed = time.monotonic() - started
            with lock:
                result.requests += 1
                if failure is not None:
                    result.errors.append(failure[:300])
                if started >= warm_at:
                    result.latencies.append(elapsed)


def _watch_memory(
    pid: int, warm_at: float, deadline: float, result: SoakResult, stop: threading.Event
) -> None:
    while not stop.wait(RSS_SAMPLE_SECONDS):
        now = time.monotonic()
        if now >= deadline:
            return
        if now < warm_at:
            continue
        rss = vm_rss_kib(pid)
        if result.rss_warm_kib == 0:
            result.rss_warm_kib = rss
        result.rss_peak_kib = max(result.rss_peak_kib, rss)


def soak(seconds: float, threads: int = 4) -> SoakResult:
    """Run the soak against a fresh server; the result (see :class:`SoakResult`)."""
    with tempfile.TemporaryDirectory(prefix="dialogue-engine-soak-") as folder:
        port = _free_port()
        command = [
            str(EXECUTABLE), "serve", "--host", HOST, "--port", str(port),
            "--store", f"sqlite:///{Path(folder) / 'soak.db'}", "--no-access-log",
        ]  # fmt: skip
        env = {**ADMIN, "DIALOGUE_ENGINE_STORE": ""}
        with _process(command, port, env, Path(folder) / "server.log") as server:
            base_url = f"http://{HOST}:{port}"
            with httpx.Client(base_url=base_url, timeout=30.0) as client:
                seeded = _seed(client)
                _fill_caches(client, seeded[0], seeded[2])
            result = SoakResult(seconds)
            lock, stop = threading.Lock(), threading.Event()
            started = time.monotonic()
            deadline = started + seconds
            warm_at = started + seconds * WARMUP_FRACTION
            watcher = threading.Thread(
                target=_watch_memory, args=(server.pid, warm_at, deadline, result, stop)
            )
            clients = [
                threading.Thread(
                    target=_client_thread,
                    args=(base_url, seeded, n, deadline, warm_at, result, lock),
                )
                for n in range(threads)
            ]
            for thread in (watcher, *clients):
                thread.start()
            for thread in clients:
                thread.join(seconds + 60)
            stop.set()
            watcher.join(10)
            result.seconds = time.monotonic() - started
            return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="how long (default 180)")
    parser.add_argument("--threads", type=int, default=4, help="client threads (default 4)")
    args = parser.parse_args()
    result = soak(args.seconds, args.threads)
    print(result.report())
    for error in result.errors[:10]:
        print("error:", error)
    healthy = not result.errors and result.rss_growth < 0.10
    print("ok" if healthy else "FAILED: errors or RSS growth of 10% or more")
    return 0 if healthy else 1


if __name__ == "__main__":
    os.environ.pop("DIALOGUE_ENGINE_STORE", None)
    sys.exit(main())
