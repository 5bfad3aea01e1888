"""Which of a machine's processes applies the log to their shared read models in the background.

Every process follows the log (its caches must hear of other processes'
writes), but applying it to read models shared by several processes is done
best by one of them: the others would decode the same events only to find
them applied. The leader is whoever holds an exclusive ``flock`` on a file
beside the read models; the kernel releases it when that process ends, even
by SIGKILL, and the next process to ask takes over. Any process still applies
what it needs itself before a read of its own writes (``Projector.ensure``).
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path


class Lease:
    """Held by at most one process at a time; ``path`` None: always held (one process)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._fd: int | None = None
        self._lock = threading.Lock()

    def held(self) -> bool:
        """Whether this process holds the lease, taking it if it is free."""
        if self.path is None or self._fd is not None:
            return True
        with self._lock:
            if self._fd is not None:
                return True
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            self._fd = fd
            return True

    def release(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)  # closing the descriptor releases the lock
                self._fd = None
