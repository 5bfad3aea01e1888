"""Limits on repeated failures: failed sign-ins per email, reset mails per email.

Counted in a sliding window, not stored as events: failed attempts are not
facts about the account, and recording them would let anyone write to the log
at will. This class counts in memory, per process: on SQLite with several
worker processes the effective limit is the configured one times the number
of workers (documented in the README). On PostgreSQL the engine counts in the
database instead (:class:`dialogue_engine.eventstore.postgres.SharedThrottle`),
one limit across every process and machine.

The number of keys followed is bounded (least recently used forgotten first),
so a flood of distinct emails cannot exhaust memory.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping

from .domain.aggregates import now_ms
from .domain.errors import DomainError
from .envsettings import env_int

LOGIN_ATTEMPTS_VAR = "DIALOGUE_ENGINE_LOGIN_ATTEMPTS"
LOGIN_WINDOW_VAR = "DIALOGUE_ENGINE_LOGIN_WINDOW"
DEFAULT_LOGIN_ATTEMPTS = 5
DEFAULT_LOGIN_WINDOW_S = 15 * 60
MAX_KEYS = 100_000


class TooManyAttempts(DomainError):
    """Too many failures for this key lately; ``retry_after`` is in whole seconds."""

    type = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many failed attempts; try again later", {"retry_after": retry_after})
        self.retry_after = retry_after


class Throttle:
    """At most ``limit`` recorded events (failures, mails) per key within ``window_ms``;
    then :meth:`check` refuses until the oldest leaves the window. Thread-safe."""

    def __init__(
        self,
        limit: int,
        window_ms: int,
        *,
        clock: Callable[[], int] = now_ms,
        max_keys: int = MAX_KEYS,
    ) -> None:
        if limit < 1 or window_ms < 1:
            raise ValueError("a throttle allows at least one failure in a positive window")
        self.limit = limit
        self.window_ms = window_ms
        self.clock = clock
        self.max_keys = max_keys
        self._failures: OrderedDict[str, deque[int]] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def for_logins(
        cls, environ: Mapping[str, str] | None = None, *, clock: Callable[[], int] = now_ms
    ) -> Throttle:
        """From ``$DIALOGUE_ENGINE_LOGIN_ATTEMPTS`` (default 5) failures within
        ``$DIALOGUE_ENGINE_LOGIN_WINDOW`` seconds (default 900)."""
        env = os.environ if environ is None else environ
        attempts = env_int(env, LOGIN_ATTEMPTS_VAR, DEFAULT_LOGIN_ATTEMPTS)
        window = env_int(env, LOGIN_WINDOW_VAR, DEFAULT_LOGIN_WINDOW_S)
        return cls(attempts, window * 1000, clock=clock)

    def check(self, key: str) -> None:
        """Raise :class:`TooManyAttempts` if ``key`` used up its failures in the window."""
        with self._lock:
            recent = self._recent(key)
            if recent is not None and len(recent) >= self.limit:
                wait_ms = recent[0] + self.window_ms - self.clock()
                raise TooManyAttempts(max(1, -(-wait_ms // 1000)))

    def allows(self, key: str) -> bool:
        try:
            self.check(key)
        except TooManyAttempts:
            return False
        return True

    def record(self, key: str) -> None:
        with self._lock:
            recent = self._recent(key)
            if recent is None:
                recent = self._failures[key] = deque(maxlen=self.limit)
                while len(self._failures) > self.max_keys:
                    self._failures.popitem(last=False)
            recent.append(self.clock())

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _recent(self, key: str) -> deque[int] | None:
        """The key's failures still inside the window (expired ones dropped); LRU-touched."""
        recent = self._failures.get(key)
        if recent is None:
            return None
        start = self.clock() - self.window_ms
        while recent and recent[0] <= start:
            recent.popleft()
        if not recent:
            del self._failures[key]
            return None
        self._failures.move_to_end(key)
        return recent
