"""What the HTTP layer is configured with: input limits, CORS and HSTS.

Read once from ``DIALOGUE_ENGINE_*`` environment variables by
:meth:`HttpSettings.from_environment` (a malformed value is a
``configuration_error`` before the server starts), or given to
``create_app(engine, settings=...)`` by a library user.

The limits are transport limits, checked before the engine sees a request:
they bound what one request can cost (memory, parse and validation time).
The engine's own rules (a title's 1,000 characters, a template's three tags…)
stay in the domain and are finer.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..envsettings import env_int

MAX_BODY_BYTES = 4 * 1024 * 1024
"""4 MiB: a 1,000-block dialogue is ~350 KB of JSON, so ten times that fits."""
MAX_JSON_DEPTH = 64
"""A description is about six levels deep before block properties begin."""
MAX_PATCH_OPERATIONS = 1_000
MAX_STRING_LENGTH = 100_000
"""Characters in one string (or object key): mail clients clip HTML messages past ~100 KB."""
EVENTS_MAX_SECONDS = 300
MAX_JSON_ITEMS = 10_000
"""Items of one array, or members of one object (50 sequences of 20 blocks is 1,000 blocks)."""


@dataclass(frozen=True)
class Limits:
    """Bounds on one request body; see the module constants for the defaults' reasons."""

    max_body_bytes: int = MAX_BODY_BYTES
    max_json_depth: int = MAX_JSON_DEPTH
    max_patch_operations: int = MAX_PATCH_OPERATIONS
    max_string_length: int = MAX_STRING_LENGTH
    max_json_items: int = MAX_JSON_ITEMS


@dataclass(frozen=True)
class HttpSettings:
    limits: Limits = field(default_factory=Limits)
    cors_origins: tuple[str, ...] = ()
    """Origins allowed to call the API from a browser; none (CORS off) by default."""
    hsts_max_age: int = 0
    """``Strict-Transport-Security: max-age=N`` when above 0 (only behind HTTPS)."""
    events_max_seconds: int = EVENTS_MAX_SECONDS
    """The longest a ``GET /events`` stream lasts, whatever its ``?timeout=`` asks
    (clients reconnect with ``Last-Event-ID``): bounds how long one client holds a
    stream, and how long a revoked token keeps one open."""

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> HttpSettings:
        env = os.environ if env is None else env
        limits = Limits(
            max_body_bytes=env_int(env, "DIALOGUE_ENGINE_MAX_BODY_BYTES", MAX_BODY_BYTES),
            max_json_depth=env_int(env, "DIALOGUE_ENGINE_MAX_JSON_DEPTH", MAX_JSON_DEPTH),
            max_patch_operations=env_int(
                env, "DIALOGUE_ENGINE_MAX_PATCH_OPERATIONS", MAX_PATCH_OPERATIONS
            ),
            max_string_length=env_int(env, "DIALOGUE_ENGINE_MAX_STRING_LENGTH", MAX_STRING_LENGTH),
            max_json_items=env_int(env, "DIALOGUE_ENGINE_MAX_JSON_ITEMS", MAX_JSON_ITEMS),
        )
        origins = env.get("DIALOGUE_ENGINE_CORS_ORIGINS", "")
        return cls(
            limits=limits,
            cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
            hsts_max_age=env_int(env, "DIALOGUE_ENGINE_HSTS_MAX_AGE", 0, minimum=0),
            events_max_seconds=env_int(
                env, "DIALOGUE_ENGINE_EVENTS_MAX_SECONDS", EVENTS_MAX_SECONDS, minimum=0
            ),
        )
