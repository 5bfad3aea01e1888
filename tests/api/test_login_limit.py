"""Failed sign-ins per email are limited: 429 after a configurable number within a window."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from dialogue_engine import DialogueEngine
from dialogue_engine.envsettings import SettingError
from dialogue_engine.throttle import Throttle, TooManyAttempts

from .helpers import assert_error, caller

LIMIT = 3


@pytest.fixture
def clock(engine: DialogueEngine) -> list[int]:
    """The accounts' clock, moved by the test: ``now[0]`` ms."""
    now = [1_000_000]
    engine.accounts.clock = lambda: now[0]
    engine.accounts.login_throttle = Throttle(LIMIT, 60_000, clock=lambda: now[0])
    return now


def attempt(client: TestClient, email: str, password: str) -> int:
    return client.post("/auth/tokens", json={"email": email, "password": password}).status_code


def test_after_the_limit_even_the_right_password_is_429_until_the_window_passes(
    client: TestClient, engine: DialogueEngine, clock: list[int]
) -> None:
    joan = caller(engine)
    assert [attempt(client, joan.email, "wrong-one") for _ in range(LIMIT)] == [401] * LIMIT
    limited = client.post("/auth/tokens", json={"email": joan.email, "password": "password-1"})
    body = assert_error(limited, 429, "rate_limited")
    assert limited.headers["retry-after"] == "60" == str(body["details"]["retry_after"])
    assert attempt(client, joan.email.upper(), "password-1") == 429, "one counter per account"
    clock[0] += 60_001
    assert attempt(client, joan.email, "password-1") == 201


def test_unknown_emails_are_limited_alike(
    client: TestClient, engine: DialogueEngine, clock: list[int]
) -> None:
    answers = [attempt(client, "nobody@example.org", "x") for _ in range(LIMIT + 1)]
    assert answers == [401] * LIMIT + [429]


def test_one_email_being_limited_leaves_others_alone(
    client: TestClient, engine: DialogueEngine, clock: list[int]
) -> None:
    joan, sam = caller(engine), caller(engine)
    for _ in range(LIMIT):
        attempt(client, joan.email, "wrong-one")
    assert attempt(client, sam.email, "password-1") == 201


def test_a_success_clears_the_count(
    client: TestClient, engine: DialogueEngine, clock: list[int]
) -> None:
    joan = caller(engine)
    for _ in range(LIMIT - 1):
        attempt(client, joan.email, "wrong-one")
    assert attempt(client, joan.email, "password-1") == 201
    assert [attempt(client, joan.email, "wrong-one") for _ in range(LIMIT)] == [401] * LIMIT


def test_wrong_old_passwords_count_as_failed_sign_ins(
    client: TestClient, engine: DialogueEngine, clock: list[int]
) -> None:
    joan = caller(engine)
    body = {"old_password": "wrong-one", "new_password": "password-2"}
    for _ in range(LIMIT):
        response = client.post("/user/password-changes/", json=body, headers=joan.headers)
        assert response.status_code == 422
    response = client.post("/user/password-changes/", json=body, headers=joan.headers)
    assert_error(response, 429, "rate_limited")
    assert attempt(client, joan.email, "password-1") == 429


def test_the_limit_and_window_come_from_the_environment() -> None:
    env = {"DIALOGUE_ENGINE_LOGIN_ATTEMPTS": "2", "DIALOGUE_ENGINE_LOGIN_WINDOW": "30"}
    throttle = Throttle.for_logins(env, clock=lambda: 0)
    assert (throttle.limit, throttle.window_ms) == (2, 30_000)
    defaults = Throttle.for_logins({}, clock=lambda: 0)
    assert (defaults.limit, defaults.window_ms) == (5, 900_000)
    for bad in ("0", "many"):
        with pytest.raises(SettingError):
            Throttle.for_logins({"DIALOGUE_ENGINE_LOGIN_ATTEMPTS": bad})


def test_the_throttle_forgets_the_least_recently_failed_keys_beyond_its_bound() -> None:
    throttle = Throttle(1, 1_000, clock=lambda: 0, max_keys=2)
    for key in ("a", "b", "c"):
        throttle.record(key)
    assert throttle.allows("a")
    with pytest.raises(TooManyAttempts):
        throttle.check("c")
