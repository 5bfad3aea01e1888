"""Signing in, tokens, API keys and /user."""

from __future__ import annotations

from starlette.testclient import TestClient

from dialogue_engine import DialogueEngine

from .helpers import Caller, assert_error, caller


def sign_in(client: TestClient, email: str, password: str = "password-1") -> dict[str, str]:
    response = client.post("/auth/tokens", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_sign_in_returns_a_token_with_its_expiry_and_location(
    client: TestClient, admin: Caller
) -> None:
    response = client.post("/auth/tokens", json={"email": admin.email, "password": "password-1"})
    assert response.status_code == 201
    body = response.json()
    assert isinstance(body["token"], str) and len(body["token"]) >= 32
    assert body["expires"] > body["created"]
    assert response.headers["location"] == body["url"] == f"/auth/tokens/{body['id']}"


def test_a_token_authenticates_requests(client: TestClient, admin: Caller) -> None:
    headers = sign_in(client, admin.email)
    response = client.get("/user", headers=headers)
    assert response.status_code == 200
    assert response.json()["email"] == admin.email


def test_email_is_matched_without_regard_to_case(client: TestClient, admin: Caller) -> None:
    assert client.get("/user", headers=sign_in(client, admin.email.upper())).status_code == 200


def test_wrong_password_is_401(client: TestClient, admin: Caller) -> None:
    response = client.post("/auth/tokens", json={"email": admin.email, "password": "nope-nope"})
    assert_error(response, 401, "authentication_required")


def test_unknown_email_is_401_like_a_wrong_password(client: TestClient) -> None:
    response = client.post("/auth/tokens", json={"email": "who@example.org", "password": "x"})
    body = assert_error(response, 401, "authentication_required")
    assert body["message"] == "Invalid email or password"


def test_sign_in_body_must_have_email_and_password(client: TestClient) -> None:
    response = client.post("/auth/tokens", json={"email": "a@b.c", "extra": 1})
    body = assert_error(response, 422, "validation_error")
    assert {e["type"] for e in body["details"]["errors"]} == {"required", "additionalProperties"}


def test_requests_without_credentials_are_401_with_a_challenge(client: TestClient) -> None:
    response = client.get("/projects/")
    assert_error(response, 401, "authentication_required")
    assert response.headers["www-authenticate"] == "Bearer"


def test_unknown_token_and_unknown_key_are_401(client: TestClient) -> None:
    assert_error(
        client.get("/user", headers={"Authorization": "Bearer nope"}),
        401,
        "authentication_required",
    )
    assert_error(client.get("/user", headers={"API-KEY": "nope"}), 401, "authentication_required")


def test_authorization_must_use_the_bearer_scheme(client: TestClient, admin: Caller) -> None:
    response = client.get("/user", headers={"Authorization": "Basic YTpi"})
    assert_error(response, 401, "authentication_required")


def test_a_token_is_not_accepted_as_an_api_key(client: TestClient, admin: Caller) -> None:
    token = sign_in(client, admin.email)["Authorization"].split()[1]
    assert_error(client.get("/user", headers={"API-KEY": token}), 401, "authentication_required")


def test_expired_tokens_are_401(client: TestClient, engine: DialogueEngine, admin: Caller) -> None:
    headers = sign_in(client, admin.email)
    now = engine.accounts.clock()
    engine.accounts.clock = lambda: now + engine.accounts.token_ttl_ms + 1
    assert_error(client.get("/user", headers=headers), 401, "authentication_required")


def test_a_revoked_token_stops_working(client: TestClient, admin: Caller) -> None:
    created = client.post("/auth/tokens", json={"email": admin.email, "password": "password-1"})
    headers = {"Authorization": f"Bearer {created.json()['token']}"}
    url = created.headers["location"]
    shown = client.get(url, headers=headers)
    assert shown.status_code == 200
    assert "token" not in shown.json()
    revoked = client.delete(url, headers=headers)
    assert revoked.status_code == 200 and revoked.json()["is_revoked"] is True
    assert_error(client.get("/user", headers=headers), 401, "authentication_required")


def test_another_users_token_is_not_found(
    client: TestClient, engine: DialogueEngine, admin: Caller
) -> None:
    created = client.post("/auth/tokens", json={"email": admin.email, "password": "password-1"})

    other = caller(engine)
    response = client.get(created.headers["location"], headers=other.headers)
    assert_error(response, 404, "not_found")
    assert_error(
        client.delete(created.headers["location"], headers=other.headers), 404, "not_found"
    )


def test_api_key_is_shown_once_and_authenticates(client: TestClient, admin: Caller) -> None:
    response = client.post("/user/api-keys", json={"name": "ci"}, headers=admin.headers)
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "ci" and body["expires"] is None
    assert response.headers["location"] == f"/user/api-keys/{body['id']}"
    key_headers = {"API-KEY": body["key"]}
    assert client.get("/user", headers=key_headers).json()["id"] == admin.user_id
    shown = client.get(response.headers["location"], headers=key_headers).json()
    assert "key" not in shown and shown["name"] == "ci"


def test_api_key_body_is_optional(client: TestClient, admin: Caller) -> None:
    response = client.post("/user/api-keys", headers=admin.headers)
    assert response.status_code == 201
    assert response.json()["name"] == ""


def test_api_key_name_must_be_a_string(client: TestClient, admin: Caller) -> None:
    response = client.post("/user/api-keys", json={"name": 3}, headers=admin.headers)
    assert_error(response, 422, "validation_error")


def test_a_revoked_api_key_stops_working(client: TestClient, admin: Caller) -> None:
    created = client.post("/user/api-keys", headers=admin.headers)
    key_headers = {"API-KEY": created.json()["key"]}
    assert client.delete(created.headers["location"], headers=admin.headers).status_code == 200
    assert_error(client.get("/user", headers=key_headers), 401, "authentication_required")


def test_secrets_are_never_stored(
    client: TestClient, engine: DialogueEngine, admin: Caller
) -> None:
    token = client.post(
        "/auth/tokens", json={"email": admin.email, "password": "password-1"}
    ).json()["token"]
    key = client.post("/user/api-keys", headers=admin.headers).json()["key"]
    stored = b"".join(n.state for n in engine.store.notifications(0, 10_000))
    assert token.encode() not in stored
    assert key.encode() not in stored
    assert b"password-1" not in stored


def test_user_is_shown_as_the_contract_shows_it(client: TestClient, admin: Caller) -> None:
    body = client.get("/user", headers=admin.headers).json()
    assert body == {
        "id": admin.user_id,
        "url": f"/users/{admin.user_id}",
        "email": admin.email,
        "first_name": "",
        "last_name": "",
        "permissions": [{"id": body["permissions"][0]["id"], "type": "admin", "properties": {}}],
    }


def test_scoped_permissions_show_their_ids(client: TestClient, engine: DialogueEngine) -> None:

    p1 = engine.create_project("P1").id
    reader = caller(engine, ("project:dialogues:read", {"project_id": p1}))
    (permission,) = client.get("/user", headers=reader.headers).json()["permissions"]
    assert permission["type"] == "project:dialogues:read"
    assert permission["properties"] == {"project_id": p1}
    assert len(permission["id"]) == 32
