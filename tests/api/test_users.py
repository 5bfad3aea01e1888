"""/user, /user/password-changes/, /users/ and /users/{id}."""

from __future__ import annotations

from uuid import UUID

import orjson
from starlette.testclient import TestClient

from dialogue_engine import DialogueEngine

from .helpers import JSON_PATCH, Caller, assert_error, caller


def test_get_user_describes_the_caller_with_its_permissions(
    client: TestClient, admin: Caller
) -> None:
    body = client.get("/user", headers=admin.headers).json()
    assert body["id"] == admin.user_id and body["url"] == f"/users/{admin.user_id}"
    assert body["email"] == admin.email
    assert [p["type"] for p in body["permissions"]] == ["admin"]
    assert "password" not in str(body).lower()


def test_a_password_change_is_204_and_the_new_password_signs_in(
    client: TestClient, engine: DialogueEngine
) -> None:
    joan = caller(engine)
    body = {"old_password": "password-1", "new_password": "password-2"}
    response = client.post("/user/password-changes/", json=body, headers=joan.headers)
    assert response.status_code == 204 and response.content == b""
    old = client.post("/auth/tokens", json={"email": joan.email, "password": "password-1"})
    assert old.status_code == 401
    new = client.post("/auth/tokens", json={"email": joan.email, "password": "password-2"})
    assert new.status_code == 201
    (event,) = [
        e
        for e in engine.store.events_of(UUID(joan.user_id))
        if type(e).__name__ == "PasswordChanged"
    ]
    assert event.user_id == joan.user_id
    assert "password-2" not in str(vars(event))


def test_a_wrong_old_password_is_422_on_old_password(
    client: TestClient, engine: DialogueEngine
) -> None:
    joan = caller(engine)
    body = {"old_password": "wrong-one", "new_password": "password-2"}
    response = client.post("/user/password-changes/", json=body, headers=joan.headers)
    errors = assert_error(response, 422, "validation_error")["details"]["errors"]
    assert [(e["type"], e["path"]) for e in errors] == [("mismatch", "/old_password")]


def test_password_change_bodies_are_checked(client: TestClient, engine: DialogueEngine) -> None:
    joan = caller(engine)
    short = {"old_password": "password-1", "new_password": "short"}
    response = client.post("/user/password-changes/", json=short, headers=joan.headers)
    errors = assert_error(response, 422, "validation_error")["details"]["errors"]
    assert errors[0]["path"] == "/new_password"
    for bad in ({"old_password": "password-1"}, {"old_password": 1, "new_password": "x" * 9}):
        response = client.post("/user/password-changes/", json=bad, headers=joan.headers)
        assert_error(response, 422, "validation_error")
    assert_error(client.post("/user/password-changes/", json=short), 401, "authentication_required")


def test_the_user_list_is_admin_only_and_paged(
    client: TestClient, engine: DialogueEngine, admin: Caller
) -> None:
    for i in range(4):
        engine.accounts.register(f"user{i}@example.org", "password-1", first_name=f"U{i}")
    response = client.get("/users/?per_page=2&page=2", headers=admin.headers)
    assert response.status_code == 200
    assert response.headers["x-total-count"] == "5"
    assert 'rel="next"' in response.headers["link"]
    page = response.json()
    assert [u["email"] for u in page] == ["user1@example.org", "user2@example.org"]
    assert set(page[0]) == {"id", "url", "email", "first_name", "last_name"}
    joan = caller(engine)
    assert_error(client.get("/users/", headers=joan.headers), 403, "authorization_error")
    assert_error(client.get("/users/?per_page=101", headers=admin.headers), 422, "validation_error")


def test_admins_create_users_who_can_sign_in(client: TestClient, admin: Caller) -> None:
    body = {"email": "joan@example.org", "password": "password-1", "first_name": "Joan"}
    response = client.post("/users/", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == created["url"] == f"/users/{created['id']}"
    assert (created["email"], created["first_name"], created["last_name"]) == (
        "joan@example.org",
        "Joan",
        "",
    )
    assert "password" not in created
    signed = client.post(
        "/auth/tokens", json={"email": "joan@example.org", "password": "password-1"}
    )
    assert signed.status_code == 201


def test_creating_users_is_checked(
    client: TestClient, engine: DialogueEngine, admin: Caller
) -> None:
    good = {"email": "joan@example.org", "password": "password-1"}
    assert client.post("/users/", json=good, headers=admin.headers).status_code == 201
    duplicate = client.post("/users/", json=good, headers=admin.headers)
    assert assert_error(duplicate, 422, "validation_error")["details"]["errors"][0]["type"] == (
        "unique"
    )
    for bad in (
        {"password": "password-1"},
        {"email": "not-an-email", "password": "password-1"},
        {"email": "x@example.org", "password": "short"},
        {"email": "x@example.org", "password": "password-1", "id": "mine"},
        {"email": "x@example.org", "password": "password-1", "is_admin": True},
    ):
        assert_error(
            client.post("/users/", json=bad, headers=admin.headers), 422, "validation_error"
        )
    joan = caller(engine)
    other = {"email": "y@example.org", "password": "password-1"}
    assert_error(
        client.post("/users/", json=other, headers=joan.headers), 403, "authorization_error"
    )


def test_a_user_sees_and_renames_itself_and_not_others(
    client: TestClient, engine: DialogueEngine
) -> None:
    joan, sam = caller(engine), caller(engine)
    own = client.get(f"/users/{joan.user_id}", headers=joan.headers)
    assert own.status_code == 200 and own.json()["email"] == joan.email
    assert "permissions" not in own.json()
    renamed = client.put(
        f"/users/{joan.user_id}",
        json={"first_name": "Joan", "last_name": "Watson"},
        headers=joan.headers,
    )
    assert renamed.status_code == 200
    assert (renamed.json()["first_name"], renamed.json()["last_name"]) == ("Joan", "Watson")
    for method in ("GET", "PUT"):
        response = client.request(
            method, f"/users/{sam.user_id}", json={"first_name": "X"}, headers=joan.headers
        )
        assert_error(response, 404, "not_found")
    assert_error(client.get("/users/nope", headers=joan.headers), 404, "not_found")


def test_an_admin_renames_anyone_and_the_event_names_the_admin(
    client: TestClient, engine: DialogueEngine, admin: Caller
) -> None:
    joan = caller(engine)
    ops = [{"op": "replace", "path": "/last_name", "value": "Watson"}]
    response = client.patch(
        f"/users/{joan.user_id}",
        content=orjson.dumps(ops),
        headers=admin.with_headers(**JSON_PATCH),
    )
    assert response.status_code == 200 and response.json()["last_name"] == "Watson"
    renamed = engine.store.events_of(UUID(joan.user_id))[-1]
    assert (type(renamed).__name__, renamed.user_id) == ("Renamed", admin.user_id)


def test_the_email_is_read_only(client: TestClient, engine: DialogueEngine) -> None:
    joan = caller(engine)
    url = f"/users/{joan.user_id}"
    put = client.put(
        url, json={"email": "new@example.org", "first_name": "J"}, headers=joan.headers
    )
    assert put.status_code == 200 and put.json()["email"] == joan.email
    ops = [{"op": "replace", "path": "/email", "value": "new@example.org"}]
    patch = client.patch(url, content=orjson.dumps(ops), headers=joan.with_headers(**JSON_PATCH))
    errors = assert_error(patch, 422, "validation_error")["details"]["errors"]
    assert errors[0] == {"type": "readOnly", "path": "/0/path", "message": "'email' is read-only"}
    assert client.get(url, headers=joan.headers).json()["email"] == joan.email


def test_user_patches_are_atomic_and_checked(client: TestClient, engine: DialogueEngine) -> None:
    joan = caller(engine)
    url = f"/users/{joan.user_id}"
    headers = joan.with_headers(**JSON_PATCH)
    ops = [
        {"op": "replace", "path": "/first_name", "value": "Joan"},
        {"op": "remove", "path": "/middle_name"},
    ]
    assert_error(
        client.patch(url, content=orjson.dumps(ops), headers=headers), 409, "patch_conflict"
    )
    assert client.get(url, headers=joan.headers).json()["first_name"] == ""
    added = [{"op": "add", "path": "/nickname", "value": "J"}]
    response = client.patch(url, content=orjson.dumps(added), headers=headers)
    assert_error(response, 422, "validation_error")
    wrong_type = [{"op": "replace", "path": "/first_name", "value": 3}]
    response = client.patch(url, content=orjson.dumps(wrong_type), headers=headers)
    assert_error(response, 422, "validation_error")
    assert_error(
        client.patch(url, content=orjson.dumps(ops), headers=joan.headers),
        415,
        "unsupported_media_type",
    )
