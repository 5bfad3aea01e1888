"""Start and stop a real ``dialogue-engine serve`` process on 127.0.0.1 for tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

EXECUTABLE = Path(sys.executable).parent / "dialogue-engine"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_server(
    store_url: str, log: Path, env: dict[str, str], **options: Any
) -> Iterator[httpx.Client]:
    """A server on a free port; yields a client for it; always stops the process."""
    with server_process(store_url, log, env, **options) as (_, client):
        yield client


@contextmanager
def server_process(
    store_url: str,
    log: Path,
    env: dict[str, str],
    *,
    launcher: Sequence[str] = (str(EXECUTABLE),),
    access_log: bool = False,
) -> Iterator[tuple[subprocess.Popen[bytes], httpx.Client]]:
    """Like :func:`running_server`, also yielding the process (to kill it, or read its memory).

    ``launcher`` runs the CLI (e.g. a Python snippet that configures logging first).
    """
    port = free_port()
    command = [
        *launcher,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--store",
        store_url,
        *([] if access_log else ["--no-access-log"]),
    ]
    environment = {**os.environ, **env}
    environment.pop("DIALOGUE_ENGINE_STORE", None)
    with log.open("ab") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=environment
        )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10.0) as client:
            _wait_until_healthy(client, process, log)
            yield process, client
    finally:
        _stop(process)


def _wait_until_healthy(client: httpx.Client, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited early:\n{log.read_text()}")
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"server did not become healthy:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)
