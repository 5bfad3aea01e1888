"""Renders template versions in worker processes, each render bounded in time and memory.

A thread can't be stopped, so a template that loops for hours would hold a
server thread for hours. Rendering therefore happens in a few long-lived
worker processes (:mod:`.worker`): a render that misses its deadline has its
worker killed (the next render starts a fresh one), and a worker's address
space is limited, so a template can neither hang nor exhaust the server.
Workers start on the first render (~0.1 s) and are reused after.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from typing import IO, Any

import orjson

from . import READY
from .sandbox import RenderFailure

DEFAULT_TIMEOUT = 2.0
DEFAULT_MEMORY = 512 * 1024 * 1024
DEFAULT_WORKERS = 2
START_TIMEOUT = 30.0
"""Seconds a new worker may take to import and say it is ready (a loaded machine is slow)."""


class _Worker:
    def __init__(self, memory_limit: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dialogue_engine.rendering.worker", str(memory_limit)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin: IO[bytes] = self.process.stdin
        self.stdout: IO[bytes] = self.process.stdout
        ready, _, _ = select.select([self.stdout], [], [], START_TIMEOUT)
        if not ready or self.stdout.readline() != READY:
            self.stop()
            raise RenderFailure("crashed", "", "the rendering worker did not start")

    def ask(self, request: bytes, deadline: float) -> Any:
        """Send one request line and read its answer; None if the worker died or timed out."""
        try:
            self.stdin.write(request)
            self.stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "timeout"
        ready, _, _ = select.select([self.stdout], [], [], remaining)
        if not ready:
            return "timeout"
        line = self.stdout.readline()
        if not line:
            return None
        return orjson.loads(line)

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(Exception):
            self.process.wait(timeout=5)
        for stream in (self.stdin, self.stdout):
            with contextlib.suppress(OSError):
                stream.close()


class Renderer:
    """Renders version content with data; at most ``workers`` renders run at once."""

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        memory_limit: int = DEFAULT_MEMORY,
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        self.timeout = timeout
        self.memory_limit = memory_limit
        self._slots = threading.BoundedSemaphore(workers)
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False

    def render(self, content: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
        """The rendered fields; :class:`RenderFailure` for any template error, a render
        past its deadline (``timeout``) or a worker that died (``crashed``)."""
        request = orjson.dumps({"content": content, "data": data}) + b"\n"
        with self._slots:
            worker, reused = self._take()
            answer = worker.ask(request, time.monotonic() + self.timeout)
            if answer is None and reused:  # it died while idle: once more on a fresh one
                worker.stop()
                worker, reused = _Worker(self.memory_limit), False
                answer = worker.ask(request, time.monotonic() + self.timeout)
            if answer is None or answer == "timeout":
                worker.stop()
                if answer == "timeout":
                    raise RenderFailure(
                        "timeout", "", f"rendering took longer than {self.timeout:g} s"
                    )
                raise RenderFailure("crashed", "", "rendering failed (out of memory?)")
            if answer.get("exiting"):
                worker.stop()
            else:
                self._give_back(worker)
        if "failure" in answer:
            failure = answer["failure"]
            raise RenderFailure(failure["kind"], failure["field"], failure["message"])
        rendered: dict[str, Any] = answer["rendered"]
        return rendered

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()

    def _take(self) -> tuple[_Worker, bool]:
        """An idle worker (reused: True) or a new one."""
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.process.poll() is None:
                    return worker, True
                worker.stop()
        return _Worker(self.memory_limit), False

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            if not self._closed and worker.process.poll() is None:
                self._idle.append(worker)
                return
        worker.stop()
