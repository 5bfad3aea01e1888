"""A small pool of threads for the blocking handlers.

``loop.run_in_executor`` goes through ``concurrent.futures`` futures chained to
asyncio futures; with 16 requests in flight that costs ~16 µs a call, and
Starlette's anyio threads ~50 µs. This pool hands a job over a
``SimpleQueue`` and settles an asyncio future with ``call_soon_threadsafe``:
~6 µs. Handlers still run off the event loop, so a slow SQLite read, an fsync
or a password hash never stalls other connections.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

R = TypeVar("R")

_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]


class WorkerPool:
    def __init__(self, size: int, name: str = "worker") -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True)
            for i in range(size)
        ]
        for thread in self._threads:
            thread.start()

    def run(self, function: Callable[..., R], *args: Any) -> asyncio.Future[R]:
        """``function(*args)`` on a pool thread, as a future of the running loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._jobs.put((loop, future, function, args))
        return future

    def shutdown(self, timeout: float = 30.0) -> None:
        """Let running jobs finish; queued ones still run first (jobs are FIFO)."""
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join(timeout)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            loop, future, function, args = job
            try:
                result = function(*args)
            except BaseException as error:
                loop.call_soon_threadsafe(_settle, future, None, error)
            else:
                loop.call_soon_threadsafe(_settle, future, result, None)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
