"""/channels/, /providers/ and /projects/{id}/channels/: access as source 002 words it."""

from __future__ import annotations

import threading
from typing import Any
from uuid import UUID

import orjson
import pytest
from starlette.testclient import TestClient

from dialogue_engine import DialogueEngine

from .helpers import JSON_PATCH, Caller, assert_error, caller, new_project


def new_provider(client: TestClient, admin: Caller, title: str = "Twitter") -> dict[str, Any]:
    response = client.post("/providers/", json={"title": title}, headers=admin.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def new_channel(
    client: TestClient, admin: Caller, provider: str, address: str = "@foo", **extra: Any
) -> dict[str, Any]:
    body = {"title": address, "address": address, "type": "twitter", "provider": provider}
    response = client.post("/channels/", json={**body, **extra}, headers=admin.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def assign(client: TestClient, who: Caller, channel_id: str, project_id: str | None) -> Any:
    return client.put(
        f"/channels/{channel_id}", json={"project_id": project_id}, headers=who.headers
    )


@pytest.fixture
def project(client: TestClient, admin: Caller) -> str:
    return new_project(client, admin)


def test_admins_create_providers_and_channels(client: TestClient, admin: Caller) -> None:
    provider = new_provider(client, admin)
    assert provider["url"] == f"/providers/{provider['id']}" and provider["channels"] == []
    channel = new_channel(client, admin, provider["id"], is_available=False)
    assert channel == {
        "id": channel["id"],
        "url": f"/channels/{channel['id']}",
        "project_id": None,
        "title": "@foo",
        "address": "@foo",
        "type": "twitter",
        "is_available": False,
        "provider": {"id": provider["id"], "url": provider["url"], "title": "Twitter"},
    }
    by_summary = new_channel(client, admin, {"id": provider["id"]}, address="@bar")  # type: ignore[arg-type]
    assert by_summary["provider"]["id"] == provider["id"]


def test_creating_channels_is_checked(client: TestClient, admin: Caller) -> None:
    provider = new_provider(client, admin)["id"]
    new_channel(client, admin, provider)
    base = {"title": "x", "address": "2233", "type": "sms", "provider": provider}
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({**base, "address": "@foo", "type": "twitter"}, "unique", "/address"),
        ({**base, "provider": "nope"}, "unknown", "/provider"),
        ({**base, "type": "SMS!"}, "pattern", "/type"),
        ({**base, "address": "  "}, "minLength", "/address"),
        ({**base, "title": ""}, "minLength", "/title"),
        ({**base, "is_available": "yes"}, "type", "/is_available"),
        ({**base, "project_id": None}, "additionalProperties", ""),
        ({"title": "x"}, "required", ""),
    ]
    for body, type_, path in cases:
        response = client.post("/channels/", json=body, headers=admin.headers)
        errors = assert_error(response, 422, "validation_error")["details"]["errors"]
        assert (errors[0]["type"], errors[0]["path"]) == (type_, path), body
    bad_provider = client.post("/providers/", json={"title": ""}, headers=admin.headers)
    assert_error(bad_provider, 422, "validation_error")
    assert_error(
        client.post("/providers/", json={"title": "X", "id": "1"}, headers=admin.headers),
        422,
        "validation_error",
    )


def test_only_admins_create_and_list(
    client: TestClient, engine: DialogueEngine, admin: Caller
) -> None:
    provider = new_provider(client, admin)["id"]
    joan = caller(engine, ("projects:create", {}))
    body = {"title": "x", "address": "2233", "type": "sms", "provider": provider}
    for method, url, payload in (
        ("POST", "/providers/", {"title": "MTN"}),
        ("POST", "/channels/", body),
        ("GET", "/providers/", None),
        ("GET", "/channels/", None),
    ):
        response = client.request(method, url, json=payload, headers=joan.headers)
        assert_error(response, 403, "authorization_error")
        assert_error(client.request(method, url, json=payload), 401, "authentication_required")


def test_admin_lists_are_paged_in_creation_order(client: TestClient, admin: Caller) -> None:
    providers = [new_provider(client, admin, f"P{i}")["id"] for i in range(3)]
    for i in range(3):
        new_channel(client, admin, providers[0], address=f"@c{i}")
    page = client.get("/channels/?per_page=2&page=2", headers=admin.headers)
    assert page.headers["x-total-count"] == "3"
    assert [c["address"] for c in page.json()] == ["@c2"]
    assert page.json()[0]["provider"]["title"] == "P0"
    listed = client.get("/providers/?per_page=2", headers=admin.headers)
    assert [p["title"] for p in listed.json()] == ["P0", "P1"]
    assert set(listed.json()[0]) == {"id", "url", "title"}
    assert 'rel="next"' in listed.headers["link"]


def test_a_channel_is_seen_by_admins_and_by_those_with_access_to_its_project(
    client: TestClient, engine: DialogueEngine, admin: Caller, project: str
) -> None:
    channel = new_channel(client, admin, new_provider(client, admin)["id"])
    url = channel["url"]
    member = caller(engine, ("project:dialogues:read", {"project_id": project}))
    outsider = caller(engine, ("projects:create", {}))
    assert_error(client.get(url, headers=member.headers), 404, "not_found")
    assert assign(client, admin, channel["id"], project).status_code == 200
    assert client.get(url, headers=member.headers).json()["project_id"] == project
    assert client.get(url, headers=admin.headers).status_code == 200
    assert_error(client.get(url, headers=outsider.headers), 404, "not_found")
    assert_error(client.get("/channels/nope", headers=admin.headers), 404, "not_found")


def test_only_an_admin_changes_the_project_a_channel_serves(
    client: TestClient, engine: DialogueEngine, admin: Caller, project: str
) -> None:
    channel = new_channel(client, admin, new_provider(client, admin)["id"])
    assign(client, admin, channel["id"], project)
    here = caller(engine, ("project:admin", {"project_id": project}))
    outsider = caller(engine)
    assert_error(assign(client, here, channel["id"], None), 403, "authorization_error")
    assert_error(assign(client, outsider, channel["id"], None), 404, "not_found")
    assert client.get(channel["url"], headers=admin.headers).json()["project_id"] == project


def test_put_writes_only_project_id_and_ignores_read_only_members(
    client: TestClient, admin: Caller, project: str
) -> None:
    channel = new_channel(client, admin, new_provider(client, admin)["id"])
    sent = {**channel, "project_id": project, "title": "changed", "address": "@other"}
    response = client.put(channel["url"], json=sent, headers=admin.headers)
    assert response.status_code == 200
    assert response.json() == {**channel, "project_id": project}
    cleared = client.put(channel["url"], json={}, headers=admin.headers)
    assert cleared.json()["project_id"] is None
    for bad in ({"project_id": 17}, {"project_id": ""}, {"project_id": "nope"}, {"colour": "red"}):
        assert_error(
            client.put(channel["url"], json=bad, headers=admin.headers), 422, "validation_error"
        )


def test_patch_changes_project_id_and_refuses_read_only_members(
    client: TestClient, admin: Caller, project: str
) -> None:
    channel = new_channel(client, admin, new_provider(client, admin)["id"])
    headers = admin.with_headers(**JSON_PATCH)

    def send(ops: list[dict[str, Any]]) -> Any:
        return client.patch(channel["url"], content=orjson.dumps(ops), headers=headers)

    response = send([{"op": "replace", "path": "/project_id", "value": project}])
    assert response.status_code == 200 and response.json()["project_id"] == project
    refused = send([{"op": "replace", "path": "/address", "value": "@x"}])
    assert assert_error(refused, 422, "validation_error")["details"]["errors"][0]["path"] == (
        "/0/path"
    )
    cleared = send([{"op": "replace", "path": "/project_id", "value": None}])
    assert cleared.json()["project_id"] is None
    assert_error(send([{"op": "remove", "path": "/nothing"}]), 409, "patch_conflict")


def test_a_channel_serves_one_project_at_a_time(
    client: TestClient, admin: Caller, project: str
) -> None:
    other = new_project(client, admin, "Other")
    channel = new_channel(client, admin, new_provider(client, admin)["id"])
    assign(client, admin, channel["id"], project)
    assign(client, admin, channel["id"], other)

    def served(project_id: str) -> list[str]:
        response = client.get(f"/projects/{project_id}/channels/", headers=admin.headers)
        assert response.status_code == 200
        return [c["id"] for c in response.json()]

    assert (served(project), served(other)) == ([], [channel["id"]])


def test_concurrent_assignments_leave_the_channel_in_exactly_one_project(
    client: TestClient, engine: DialogueEngine, admin: Caller
) -> None:
    projects = [engine.create_project(f"P{i}").id for i in range(4)]
    provider = engine.channels.create_provider("SMS Co")
    channel = engine.channels.create_channel(
        title="2233", address="2233", channel_type="sms", provider_id=provider.id
    )
    barrier = threading.Barrier(len(projects))

    def take(project_id: str) -> None:
        barrier.wait()
        engine.channels.assign_channel(channel.id, project_id)

    threads = [threading.Thread(target=take, args=(p,)) for p in projects]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    holders = [p for p in projects if engine.channels.project_channels(p)]
    assert holders == [engine.channels.get_channel(channel.id).project_id]
    events = engine.store.events_of(UUID(channel.id))
    assert [type(e).__name__ for e in events].count("Assigned") == len(projects)


def test_project_channels_need_access_to_the_project(
    client: TestClient, engine: DialogueEngine, admin: Caller, project: str
) -> None:
    channel = new_channel(client, admin, new_provider(client, admin)["id"])
    assign(client, admin, channel["id"], project)
    member = caller(engine, ("project:dialogues:read", {"project_id": project}))
    listed = client.get(f"/projects/{project}/channels/", headers=member.headers)
    assert listed.status_code == 200 and listed.json()[0]["provider"]["title"] == "Twitter"
    outsider = caller(engine)
    assert_error(
        client.get(f"/projects/{project}/channels/", headers=outsider.headers), 404, "not_found"
    )
    assert_error(client.get("/projects/nope/channels/", headers=admin.headers), 404, "not_found")


def test_a_provider_shows_the_channels_the_caller_may_see(
    client: TestClient, engine: DialogueEngine, admin: Caller, project: str
) -> None:
    other = new_project(client, admin, "Other")
    provider = new_provider(client, admin)
    mine = new_channel(client, admin, provider["id"], address="@mine")
    theirs = new_channel(client, admin, provider["id"], address="@theirs")
    new_channel(client, admin, provider["id"], address="@idle")
    assign(client, admin, mine["id"], project)
    assign(client, admin, theirs["id"], other)
    member = caller(engine, ("project:dialogues:read", {"project_id": project}))

    def addresses(who: Caller) -> list[str]:
        response = client.get(provider["url"], headers=who.headers)
        assert response.status_code == 200, response.text
        return [c["address"] for c in response.json()["channels"]]

    assert addresses(admin) == ["@mine", "@theirs", "@idle"]
    assert addresses(member) == ["@mine"]
    assert_error(client.get(provider["url"], headers=caller(engine).headers), 404, "not_found")
    assert_error(client.get("/providers/nope", headers=admin.headers), 404, "not_found")


def test_channel_events_name_the_acting_user(
    client: TestClient, engine: DialogueEngine, admin: Caller, project: str
) -> None:
    channel = new_channel(client, admin, new_provider(client, admin)["id"])
    assign(client, admin, channel["id"], project)
    assign(client, admin, channel["id"], None)
    assign(client, admin, channel["id"], None)
    events = engine.store.events_of(UUID(channel["id"]))
    assert [(type(e).__name__, e.user_id) for e in events] == [
        ("Created", admin.user_id),
        ("Assigned", admin.user_id),
        ("Unassigned", admin.user_id),
    ]
