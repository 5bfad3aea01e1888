"""Releases: publish a revision, list, read one (``latest`` too) and its dialogue."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from .helpers import Caller, assert_error, new_dialogue, new_project, patch, retitle_op


@pytest.fixture
def dialogue(client: TestClient, admin: Caller) -> dict[str, Any]:
    project_id = new_project(client, admin)
    return new_dialogue(client, admin, project_id)


def release(client: TestClient, dialogue: dict[str, Any], who: Caller, revision_id: str) -> Any:
    return client.post(
        f"{dialogue['url']}/releases/", json={"revision_id": revision_id}, headers=who.headers
    )


def test_release_answers_201_with_location(
    client: TestClient, admin: Caller, dialogue: dict[str, Any]
) -> None:
    response = release(client, dialogue, admin, dialogue["revision_id"])
    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": body["id"],
        "url": f"{dialogue['url']}/releases/{body['id']}",
        "number": 1,
        "revision_id": dialogue["revision_id"],
        "created": body["created"],
        "templates": {},
    }
    assert response.headers["location"] == body["url"]
    assert client.get(body["url"], headers=admin.headers).json() == body


def test_publishing_sets_is_published_and_later_edits_set_has_changes(
    client: TestClient, admin: Caller, dialogue: dict[str, Any]
) -> None:
    release(client, dialogue, admin, dialogue["revision_id"])
    shown = client.get(dialogue["url"], headers=admin.headers).json()
    assert (shown["is_published"], shown["has_changes"]) == (True, False)
    edited = patch(client, dialogue["url"], retitle_op("Changed"), admin).json()
    assert (edited["is_published"], edited["has_changes"]) == (True, True)


def test_latest_names_the_newest_release_and_its_dialogue_is_what_it_pinned(
    client: TestClient, admin: Caller, dialogue: dict[str, Any]
) -> None:
    release(client, dialogue, admin, dialogue["revision_id"])
    second = patch(client, dialogue["url"], retitle_op("Second"), admin).json()
    newest = release(client, dialogue, admin, second["revision_id"]).json()
    patch(client, dialogue["url"], retitle_op("Unreleased"), admin)
    latest = client.get(f"{dialogue['url']}/releases/latest", headers=admin.headers).json()
    assert latest == newest and latest["number"] == 2
    pinned = client.get(f"{dialogue['url']}/releases/latest/dialogue", headers=admin.headers)
    assert pinned.json()["title"] == "Second"
    assert pinned.headers["etag"] == f'"{second["revision_id"]}"'
    first = client.get(f"{dialogue['url']}/releases/", headers=admin.headers).json()[-1]
    old = client.get(f"{first['url']}/dialogue", headers=admin.headers).json()
    assert old["title"] == "Survey"


def test_releases_list_newest_first_and_orders_like_revisions(
    client: TestClient, admin: Caller, dialogue: dict[str, Any]
) -> None:
    for _ in range(3):
        release(client, dialogue, admin, dialogue["revision_id"])
    url = f"{dialogue['url']}/releases/"
    response = client.get(url, headers=admin.headers)
    assert [r["number"] for r in response.json()] == [3, 2, 1]
    assert response.headers["x-total-count"] == "3"
    ascending = client.get(url + "?ordering=number&per_page=2", headers=admin.headers)
    assert [r["number"] for r in ascending.json()] == [1, 2]
    assert 'rel="next"' in ascending.headers["link"]
    assert_error(
        client.get(url + "?ordering=title", headers=admin.headers), 422, "validation_error"
    )


def test_missing_release_is_404_with_id_and_dialogue_id(
    client: TestClient, admin: Caller, dialogue: dict[str, Any]
) -> None:
    response = client.get(f"{dialogue['url']}/releases/44", headers=admin.headers)
    body = assert_error(response, 404, "not_found")
    assert body["message"] == "Release 44 not found"
    assert body["details"] == {"id": "44", "dialogue_id": dialogue["id"]}
    latest = client.get(f"{dialogue['url']}/releases/latest/dialogue", headers=admin.headers)
    assert_error(latest, 404, "not_found")


@pytest.mark.parametrize(
    "body",
    [
        {"revision_id": "nope"},
        {},
        {"revision_id": 7},
        {"revision_id": "x", "id": "1"},
        {"revision_id": "x", "number": 1},
        [],
    ],
)
def test_release_body_errors_are_422(
    client: TestClient, admin: Caller, dialogue: dict[str, Any], body: Any
) -> None:
    response = client.post(f"{dialogue['url']}/releases/", json=body, headers=admin.headers)
    assert_error(response, 422, "validation_error")
