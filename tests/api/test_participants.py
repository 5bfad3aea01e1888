"""Participants of a project and their enrolments in sequences, over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from dialogue_engine import DialogueEngine

from .helpers import (
    Caller,
    assert_error,
    description,
    new_dialogue,
    new_project,
    patch,
)

STATUSES = ("active", "paused", "inactive", "finished")


@pytest.fixture
def project_id(client: TestClient, admin: Caller) -> str:
    return new_project(client, admin)


@pytest.fixture
def dialogue(client: TestClient, admin: Caller, project_id: str) -> dict[str, Any]:
    return new_dialogue(client, admin, project_id, description("Survey", sequences=2))


def add(client: TestClient, who: Caller, project_id: str, **fields: Any) -> dict[str, Any]:
    body = {"address": "+27820000000", **fields}
    response = client.post(f"/projects/{project_id}/participants/", json=body, headers=who.headers)
    assert response.status_code == 201, response.text
    participant: dict[str, Any] = response.json()
    return participant


def users_url(dialogue: dict[str, Any], sequence_id: str = "s0") -> str:
    return f"{dialogue['url']}/sequences/{sequence_id}/participants/"


def enrol(client: TestClient, who: Caller, url: str, participant_id: str) -> Any:
    return client.post(url, json={"participant_id": participant_id}, headers=who.headers)


def set_status(client: TestClient, who: Caller, url: str, status: str) -> Any:
    return patch(client, url, [{"op": "replace", "path": "/status", "value": status}], who)


def counts(client: TestClient, who: Caller, sequence_id: str) -> dict[str, int]:
    response = client.get(f"/sequences/search/?id={sequence_id}", headers=who.headers)
    assert response.status_code == 200, response.text
    (row,) = response.json()["results"]
    return {status: row[f"number_users_{status}"] for status in STATUSES}


def test_a_participant_is_created_read_replaced_patched_and_deleted(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    created = add(client, admin, project_id, name="Ann")
    url = created["url"]
    assert url == f"/projects/{project_id}/participants/{created['id']}"
    assert (created["address"], created["name"], created["channel_id"]) == (
        "+27820000000",
        "Ann",
        None,
    )
    assert client.get(url, headers=admin.headers).json() == created

    replaced = client.put(url, json={**created, "address": "+27820000001"}, headers=admin.headers)
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["address"], replaced.json()["name"]) == ("+27820000001", "Ann")

    patched = patch(client, url, [{"op": "remove", "path": "/name"}], admin)
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] is None

    assert client.delete(url, headers=admin.headers).status_code == 200
    assert_error(client.get(url, headers=admin.headers), 404, "not_found")
    listed = client.get(f"/projects/{project_id}/participants/", headers=admin.headers)
    assert listed.json() == []


def test_participants_list_in_creation_order_and_page(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    made = [add(client, admin, project_id, address=f"+2782000000{i}")["id"] for i in range(3)]
    url = f"/projects/{project_id}/participants/"
    first = client.get(f"{url}?per_page=2", headers=admin.headers)
    second = client.get(f"{url}?per_page=2&page=2", headers=admin.headers)
    assert first.headers["X-Total-Count"] == "3"
    assert [p["id"] for p in first.json() + second.json()] == made
    other = new_project(client, admin, "Other")
    assert client.get(f"/projects/{other}/participants/", headers=admin.headers).json() == []


def test_bad_participants_answer_in_the_envelope(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    url = f"/projects/{project_id}/participants/"
    body = assert_error(
        client.post(url, json={"name": 3}, headers=admin.headers), 422, "validation_error"
    )
    paths = {(e["path"], e["type"]) for e in body["details"]["errors"]}
    assert paths == {("", "required"), ("/name", "type")}
    unknown_channel = client.post(
        url, json={"address": "a", "channel_id": "nope"}, headers=admin.headers
    )
    assert_error(unknown_channel, 422, "validation_error")
    assert_error(client.get(f"{url}not-an-id", headers=admin.headers), 404, "not_found")
    created = add(client, admin, project_id)
    moved = patch(client, created["url"], [{"op": "replace", "path": "/id", "value": "x"}], admin)
    assert_error(moved, 422, "validation_error")


def test_a_participant_may_use_a_channel_serving_its_project(
    engine: DialogueEngine, client: TestClient, admin: Caller, project_id: str
) -> None:
    provider = engine.channels.create_provider("MTN")
    channel = engine.channels.create_channel(
        title="Shortcode", address="1234", channel_type="sms", provider_id=provider.id
    )
    url = f"/projects/{project_id}/participants/"
    refused = client.post(
        url, json={"address": "a", "channel_id": channel.id}, headers=admin.headers
    )
    assert_error(refused, 422, "validation_error")
    engine.channels.assign_channel(channel.id, project_id)
    assert add(client, admin, project_id, channel_id=channel.id)["channel_id"] == channel.id


def test_enrolment_counts_fill_the_sequence_read_model_after_every_step(
    client: TestClient, admin: Caller, project_id: str, dialogue: dict[str, Any]
) -> None:
    people = [add(client, admin, project_id, address=f"+2782000000{i}") for i in range(3)]
    assert counts(client, admin, "s0") == dict.fromkeys(STATUSES, 0)
    for person in people:
        response = enrol(client, admin, users_url(dialogue), person["id"])
        assert response.status_code == 201, response.text
    assert counts(client, admin, "s0") == {"active": 3, "paused": 0, "inactive": 0, "finished": 0}
    assert counts(client, admin, "s1") == dict.fromkeys(STATUSES, 0)

    first, second, third = (f"{users_url(dialogue)}{p['id']}" for p in people)
    assert set_status(client, admin, first, "paused").json()["status"] == "paused"
    assert counts(client, admin, "s0") == {"active": 2, "paused": 1, "inactive": 0, "finished": 0}
    set_status(client, admin, second, "finished")
    set_status(client, admin, third, "inactive")
    assert counts(client, admin, "s0") == {"active": 0, "paused": 1, "inactive": 1, "finished": 1}

    assert client.delete(third, headers=admin.headers).status_code == 200
    assert counts(client, admin, "s0") == {"active": 0, "paused": 1, "inactive": 0, "finished": 1}
    client.delete(people[1]["url"], headers=admin.headers)
    assert counts(client, admin, "s0") == {"active": 0, "paused": 1, "inactive": 0, "finished": 0}

    listed = client.get(users_url(dialogue), headers=admin.headers)
    assert [(e["participant_id"], e["status"]) for e in listed.json()] == [
        (people[0]["id"], "paused")
    ]
    assert client.get(first, headers=admin.headers).json()["url"] == first


def test_bad_enrolments_answer_in_the_envelope(
    client: TestClient, admin: Caller, project_id: str, dialogue: dict[str, Any]
) -> None:
    person = add(client, admin, project_id)
    assert enrol(client, admin, users_url(dialogue), person["id"]).status_code == 201
    again = enrol(client, admin, users_url(dialogue), person["id"])
    assert_error(again, 422, "validation_error")
    stranger = add(client, admin, new_project(client, admin, "Other"))
    assert_error(enrol(client, admin, users_url(dialogue), stranger["id"]), 422, "validation_error")
    assert_error(enrol(client, admin, users_url(dialogue, "nope"), person["id"]), 404, "not_found")
    one = f"{users_url(dialogue)}{person['id']}"
    assert_error(set_status(client, admin, one, "asleep"), 422, "validation_error")
    assert_error(
        client.get(f"{users_url(dialogue, 's1')}{person['id']}", headers=admin.headers),
        404,
        "not_found",
    )
    extra = patch(client, one, [{"op": "add", "path": "/x", "value": 1}], admin)
    assert_error(extra, 422, "validation_error")
    not_patch = client.patch(one, json={"status": "paused"}, headers=admin.headers)
    assert_error(not_patch, 415, "unsupported_media_type")
