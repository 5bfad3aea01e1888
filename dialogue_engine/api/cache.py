"""A small LRU of response bodies, keyed by everything that determines them.

A dialogue body is its description at one revision plus the caller's flags;
all of it is in the key, so an entry never goes stale. Reusing the bytes
saves building a ~350 KB body per request (allocation, page faults, copy).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable


class BodyCache:
    def __init__(self, capacity: int = 64) -> None:
        self.capacity = capacity
        self._bodies: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], bytes]) -> bytes:
        with self._lock:
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
                return body
        body = make()
        with self._lock:
            self._bodies[key] = body
            while len(self._bodies) > self.capacity:
                self._bodies.popitem(last=False)
        return body
