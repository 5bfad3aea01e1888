"""Reading ``DIALOGUE_ENGINE_*`` environment variables: typed, with defaults, checked once.

A malformed value is a :class:`SettingError` (``configuration_error``) when
the engine opens, so the CLI reports it as JSON and exits 1 instead of a
traceback, and a server never starts half-configured.
"""

from __future__ import annotations

from collections.abc import Mapping

from .domain.errors import DomainError


class SettingError(DomainError):
    type = "configuration_error"

    def __init__(self, name: str, value: str, reason: str) -> None:
        super().__init__(f"{name}={value!r}: {reason}", {"name": name, "value": value})


def env_int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 1) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingError(name, raw, "not an integer") from None
    if value < minimum:
        raise SettingError(name, raw, f"must be at least {minimum}")
    return value


def env_choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in choices:
        raise SettingError(name, raw, f"must be one of {', '.join(choices)}")
    return raw
