"""Every error answers in the {type, message, details} envelope, never HTML or a traceback."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from dialogue_engine import DialogueEngine, StoreUnavailable

from .helpers import Caller, assert_error, new_project


def test_unknown_path_is_404_in_the_envelope(client: TestClient, admin: Caller) -> None:
    body = assert_error(client.get("/nowhere", headers=admin.headers), 404, "not_found")
    assert body["details"] == {"path": "/nowhere"}


def test_unknown_path_is_404_even_without_credentials(client: TestClient) -> None:
    assert_error(client.post("/nowhere/at/all"), 404, "not_found")


def test_unknown_method_is_405_listing_the_allowed_ones(client: TestClient, admin: Caller) -> None:
    project_id = new_project(client, admin)
    response = client.delete(f"/projects/{project_id}", headers=admin.headers)
    body = assert_error(response, 405, "method_not_allowed")
    assert set(body["details"]["allowed"]) == {"GET", "HEAD", "PUT", "PATCH"}
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "PUT", "PATCH"}


def test_unexpected_errors_are_500_without_details(
    client: TestClient, engine: DialogueEngine, admin: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_: object) -> None:
        raise RuntimeError("secret internals at /srv/app.py line 3")

    monkeypatch.setattr(engine, "list_projects", broken)
    response = client.get("/projects/", headers=admin.headers)
    body = assert_error(response, 500, "internal_error")
    assert body == {"type": "internal_error", "message": "Internal server error", "details": {}}
    assert b"secret" not in response.content and b"Traceback" not in response.content


def test_an_unreachable_store_is_503(
    client: TestClient, engine: DialogueEngine, admin: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(**_: object) -> None:
        raise StoreUnavailable("disk I/O error")

    monkeypatch.setattr(engine, "list_projects", unavailable)
    assert_error(client.get("/projects/", headers=admin.headers), 503, "service_unavailable")


def test_errors_are_json_even_when_the_client_asks_for_html(
    client: TestClient, admin: Caller
) -> None:
    for response in (
        client.get("/nowhere", headers={"Accept": "text/html"}),
        client.get("/projects/", headers={"Accept": "text/html"}),
        client.put("/projects/", headers={**admin.headers, "Accept": "text/html"}),
        client.get("/projects/x", headers={**admin.headers, "Accept": "text/html"}),
    ):
        assert response.headers["content-type"] == "application/json"
        assert set(response.json()) == {"type", "message", "details"}


def test_head_answers_like_get_without_a_body(client: TestClient, admin: Caller) -> None:
    response = client.head("/projects/", headers=admin.headers)
    assert response.status_code == 200
    assert response.headers["x-total-count"] == "0"
