"""The pooled-connection check: only connections left unused a while cost a round trip."""

from __future__ import annotations

from typing import Any

import pytest
from psycopg_pool import ConnectionPool

from dialogue_engine.eventstore.postgres import CheckAfterIdle


class Connection:
    """Stands for a psycopg connection: the check only keys on it and passes it on."""


def test_a_connection_is_checked_when_new_or_idle_for_a_second_and_not_in_steady_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked: list[Any] = []
    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(checked.append))
    now = [100.0]
    check = CheckAfterIdle(idle=1.0, clock=lambda: now[0])
    busy, idle = Connection(), Connection()

    check(busy)  # type: ignore[arg-type]
    check(idle)  # type: ignore[arg-type]
    assert checked == [busy, idle]  # never seen: checked

    for _ in range(5):
        now[0] += 0.3
        check(busy)  # type: ignore[arg-type]
    assert checked == [busy, idle]  # handed out again within the second: not checked

    check(idle)  # type: ignore[arg-type]
    assert checked == [busy, idle, idle]  # 1.5 s unused: checked


def test_a_failed_check_is_raised_to_the_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool discards a connection whose check raises and hands out another."""

    def dead(conn: Any) -> None:
        raise OSError("server closed the connection")

    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(dead))
    with pytest.raises(OSError):
        CheckAfterIdle()(Connection())  # type: ignore[arg-type]
