"""Security headers on every answer; HSTS and CORS only when configured."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from dialogue_engine import DialogueEngine
from dialogue_engine.api.app import create_app
from dialogue_engine.api.settings import HttpSettings, Limits
from dialogue_engine.envsettings import SettingError

from .helpers import Caller, new_dialogue, new_project

JSON_CSP = "default-src 'none'; frame-ancestors 'none'"
ORIGIN = "https://authoring.example.org"


def assert_secured(response: Any, csp: str = JSON_CSP) -> None:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    assert headers["content-security-policy"] == csp
    assert headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in headers
    assert not [name for name in headers if name.startswith("access-control-")]
    assert len(headers.get_list("content-security-policy")) == 1


def test_every_kind_of_answer_carries_the_security_headers(
    client: TestClient, engine: DialogueEngine, admin: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    project_id = new_project(client, admin)
    created = client.post("/auth/tokens", json={"email": admin.email, "password": "password-1"})
    assert created.status_code == 201
    answers = [
        created,
        client.get("/healthz"),
        client.get("/openapi.json"),
        client.get(f"/projects/{project_id}", headers=admin.headers),
        client.get("/nowhere"),
        client.delete("/healthz"),
        client.get("/projects/"),
        client.post("/projects/", content=b"{", headers=admin.headers),
        client.get("/events?timeout=0", headers=admin.headers),
    ]
    monkeypatch.setattr(engine, "list_projects", _broken)
    answers.append(client.get("/projects/", headers=admin.headers))
    statuses = [r.status_code for r in answers]
    assert statuses == [201, 200, 200, 200, 404, 405, 401, 400, 200, 500]
    for response in answers:
        assert_secured(response)


def _broken(**_: object) -> None:
    raise RuntimeError("boom")


def test_the_history_page_keeps_its_own_policy_and_gets_the_rest(
    client: TestClient, admin: Caller
) -> None:
    dialogue = new_dialogue(client, admin, new_project(client, admin))
    page = client.get(f"{dialogue['url']}/history", headers=admin.headers)
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert policy.startswith("default-src 'none'; style-src 'sha256-")
    assert_secured(page, csp=policy)
    redirect = client.get(
        f"{dialogue['url']}/history?access_token=x", headers=admin.headers, follow_redirects=False
    )
    assert redirect.status_code == 303
    assert_secured(redirect, csp=policy)


def _client(engine: DialogueEngine, settings: HttpSettings) -> TestClient:
    return TestClient(create_app(engine, settings=settings), raise_server_exceptions=False)


@pytest.fixture
def cors_client(engine: DialogueEngine) -> Iterator[TestClient]:
    settings = HttpSettings(cors_origins=(ORIGIN,), hsts_max_age=31_536_000)
    with _client(engine, settings) as test_client:
        yield test_client


def test_strict_transport_security_only_when_configured(
    client: TestClient, cors_client: TestClient
) -> None:
    assert "strict-transport-security" not in client.get("/healthz").headers
    for response in (cors_client.get("/healthz"), cors_client.get("/nowhere")):
        assert response.headers["strict-transport-security"] == "max-age=31536000"


def test_cors_is_off_by_default(client: TestClient, admin: Caller) -> None:
    preflight = client.options(
        "/projects/",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 405
    simple = client.get("/projects/", headers={"Origin": ORIGIN, **admin.headers})
    assert simple.status_code == 200
    for response in (preflight, simple):
        assert not [name for name in response.headers if name.startswith("access-control-")]


def test_cors_preflight_and_requests_work_for_configured_origins(
    cors_client: TestClient, admin: Caller
) -> None:
    preflight = cors_client.options(
        "/projects/",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, if-match",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in preflight.headers["access-control-allow-methods"]
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "if-match", "api-key"} <= set(allowed.split(", "))
    assert "access-control-allow-credentials" not in preflight.headers
    assert preflight.headers["x-content-type-options"] == "nosniff"

    simple = cors_client.get("/projects/", headers={"Origin": ORIGIN, **admin.headers})
    assert simple.headers["access-control-allow-origin"] == ORIGIN
    assert "etag" in simple.headers["access-control-expose-headers"].lower()

    stranger = cors_client.options(
        "/projects/",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert stranger.status_code == 400
    assert "access-control-allow-origin" not in stranger.headers
    other = cors_client.get("/projects/", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_settings_come_from_the_environment_with_defaults() -> None:
    assert HttpSettings.from_environment({}) == HttpSettings()
    settings = HttpSettings.from_environment(
        {
            "DIALOGUE_ENGINE_MAX_BODY_BYTES": "2048",
            "DIALOGUE_ENGINE_MAX_JSON_DEPTH": "8",
            "DIALOGUE_ENGINE_MAX_PATCH_OPERATIONS": "3",
            "DIALOGUE_ENGINE_MAX_STRING_LENGTH": "50",
            "DIALOGUE_ENGINE_MAX_JSON_ITEMS": "20",
            "DIALOGUE_ENGINE_CORS_ORIGINS": f" {ORIGIN}, http://localhost:3000 ,",
            "DIALOGUE_ENGINE_HSTS_MAX_AGE": "600",
        }
    )
    assert settings == HttpSettings(
        limits=Limits(2048, 8, 3, 50, 20),
        cors_origins=(ORIGIN, "http://localhost:3000"),
        hsts_max_age=600,
    )
    for name, value in (
        ("DIALOGUE_ENGINE_MAX_BODY_BYTES", "1MB"),
        ("DIALOGUE_ENGINE_MAX_JSON_DEPTH", "0"),
        ("DIALOGUE_ENGINE_HSTS_MAX_AGE", "-1"),
    ):
        with pytest.raises(SettingError):
            HttpSettings.from_environment({name: value})
