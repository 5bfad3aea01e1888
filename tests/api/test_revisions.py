"""Revisions: list and order, create one or a bulk (atomic), revert, read, replay."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from dialogue_engine import DialogueEngine

from .helpers import Caller, assert_error, caller, new_dialogue, new_project, patch, retitle_op


@pytest.fixture
def url(client: TestClient, admin: Caller) -> str:
    project_id = new_project(client, admin)
    dialogue = new_dialogue(client, admin, project_id)
    return f"/projects/{project_id}/dialogues/{dialogue['id']}"


def edit(title: str, created: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "edit",
        "details": {"title": title},
        "properties": {"edit_type": "rename_dialogue", "patch": retitle_op(title)},
    }
    if created is not None:
        body["created"] = created
    return body


def post(client: TestClient, url: str, body: Any, who: Caller, **headers: str) -> Any:
    return client.post(f"{url}/revisions/", json=body, headers=who.with_headers(**headers))


def test_post_one_revision_answers_201_with_location_and_etag(
    client: TestClient, admin: Caller, url: str
) -> None:
    response = post(client, url, edit("Renamed"), admin)
    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": body["id"],
        "url": f"{url}/revisions/{body['id']}",
        "number": 2,
        "user_id": admin.user_id,
        "created": body["created"],
        "type": "edit",
        "details": {"title": "Renamed"},
        "properties": {"edit_type": "rename_dialogue", "patch": retitle_op("Renamed")},
    }
    assert response.headers["location"] == body["url"]
    assert response.headers["etag"] == f'"{body["id"]}"'
    assert client.get(url, headers=admin.headers).json()["revision_id"] == body["id"]


def test_revision_user_id_is_its_author(
    client: TestClient, engine: DialogueEngine, admin: Caller, url: str
) -> None:
    project_id = url.split("/")[2]
    writer = caller(engine, ("project:dialogues:write", {"project_id": project_id}))
    assert post(client, url, edit("By writer"), writer).json()["user_id"] == writer.user_id
    patch(client, url, retitle_op("By admin"), admin)
    authors = [r["user_id"] for r in client.get(f"{url}/revisions/", headers=admin.headers).json()]
    assert authors == [admin.user_id, writer.user_id, admin.user_id]


def test_bulk_post_records_all_revisions_in_order(
    client: TestClient, admin: Caller, url: str
) -> None:
    response = post(client, url, [edit("A"), edit("B")], admin)
    assert response.status_code == 201
    assert [(r["number"], r["details"]["title"]) for r in response.json()] == [(2, "A"), (3, "B")]
    assert response.headers["location"] == response.json()[-1]["url"]


def test_bulk_post_is_all_or_nothing(client: TestClient, admin: Caller, url: str) -> None:
    bad = edit("B")
    bad["properties"]["patch"] = [{"op": "remove", "path": "/nowhere"}]
    body = assert_error(post(client, url, [edit("A"), bad], admin), 409, "patch_conflict")
    assert body["details"]["revision_index"] == 1
    listed = client.get(f"{url}/revisions/", headers=admin.headers)
    assert listed.headers["x-total-count"] == "1"
    assert client.get(url, headers=admin.headers).json()["title"] == "Survey"


def test_bulk_validation_errors_point_into_the_array(
    client: TestClient, admin: Caller, url: str
) -> None:
    bad = edit("B")
    bad["properties"]["patch"] = [{"op": "replace", "path": "/title", "value": 3}]
    body = assert_error(post(client, url, [edit("A"), bad], admin), 422, "validation_error")
    assert body["details"]["errors"][0]["path"].startswith("/1/")


@pytest.mark.parametrize("member", ["id", "url", "number", "user_id"])
def test_revision_read_only_fields_are_422(
    client: TestClient, admin: Caller, url: str, member: str
) -> None:
    response = post(client, url, {**edit("A"), member: "1"}, admin)
    assert_error(response, 422, "validation_error")


def test_revert_restores_an_earlier_description(
    client: TestClient, admin: Caller, url: str
) -> None:
    first = client.get(url, headers=admin.headers).json()
    patch(client, url, retitle_op("Changed"), admin)
    revert = {"type": "revert", "properties": {"revision_id": first["revision_id"]}}
    response = post(client, url, revert, admin)
    assert response.status_code == 201
    assert response.json()["properties"] == {"revision_id": first["revision_id"]}
    assert response.json()["number"] == 3
    now = client.get(url, headers=admin.headers).json()
    assert {k: now[k] for k in ("title", "sequences")} == {
        k: first[k] for k in ("title", "sequences")
    }


def test_revert_to_an_unknown_revision_is_422(client: TestClient, admin: Caller, url: str) -> None:
    revert = {"type": "revert", "properties": {"revision_id": "nope"}}
    body = assert_error(post(client, url, revert, admin), 422, "validation_error")
    assert body["details"]["errors"][0]["path"] == "/properties/revision_id"


def test_a_revision_that_changes_nothing_is_not_recorded(
    client: TestClient, admin: Caller, url: str
) -> None:
    current = client.get(url, headers=admin.headers).headers["etag"]
    response = post(client, url, edit("Survey"), admin)
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["etag"] == current
    bulk = post(client, url, [edit("Survey")], admin)
    assert bulk.status_code == 200 and bulk.json() == []
    assert client.get(f"{url}/revisions/", headers=admin.headers).headers["x-total-count"] == "1"


def test_a_bulk_answers_only_what_it_recorded(client: TestClient, admin: Caller, url: str) -> None:
    response = post(client, url, [edit("Survey"), edit("New")], admin)
    assert response.status_code == 201
    assert [r["details"]["title"] for r in response.json()] == ["New"]


def test_stale_if_match_on_revision_post_is_412(
    client: TestClient, admin: Caller, url: str
) -> None:
    stale = client.get(url, headers=admin.headers).headers["etag"]
    post(client, url, edit("A"), admin)
    assert_error(
        post(client, url, edit("B"), admin, **{"If-Match": stale}), 412, "precondition_failed"
    )
    current = client.get(url, headers=admin.headers).headers["etag"]
    assert post(client, url, edit("B"), admin, **{"If-Match": current}).status_code == 201


def test_revisions_default_to_newest_first(client: TestClient, admin: Caller, url: str) -> None:
    post(client, url, [edit("A"), edit("B")], admin)
    numbers = [r["number"] for r in client.get(f"{url}/revisions/", headers=admin.headers).json()]
    assert numbers == [3, 2, 1]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ordering=number", [1, 2, 3, 4]),
        ("ordering=-number", [4, 3, 2, 1]),
        ("ordering=created", [3, 4, 1, 2]),
        ("ordering=-created", [2, 1, 3, 4]),
        ("ordering=-created&ordering=number", [2, 1, 3, 4]),
        ("ordering=-created,-number", [2, 1, 4, 3]),
    ],
)
def test_revisions_are_ordered_by_each_key_in_turn(
    client: TestClient, admin: Caller, url: str, query: str, expected: list[int]
) -> None:
    # Revision 1 was created now; 2 in the far future; 3 and 4 at the same early instant.
    post(client, url, [edit("A", 9_000_000_000_000), edit("B", 1_000), edit("C", 1_000)], admin)
    response = client.get(f"{url}/revisions/?{query}", headers=admin.headers)
    assert [r["number"] for r in response.json()] == expected


def test_unknown_ordering_is_422(client: TestClient, admin: Caller, url: str) -> None:
    response = client.get(f"{url}/revisions/?ordering=title", headers=admin.headers)
    assert assert_error(response, 422, "validation_error")["details"]["errors"][0]["path"] == (
        "/ordering"
    )


def test_revisions_page_with_links(client: TestClient, admin: Caller, url: str) -> None:
    post(client, url, [edit(f"T{i}") for i in range(4)], admin)
    response = client.get(
        f"{url}/revisions/?per_page=2&page=2&ordering=number", headers=admin.headers
    )
    assert [r["number"] for r in response.json()] == [3, 4]
    assert response.headers["x-total-count"] == "5"
    assert "ordering=number" in response.headers["link"]


def test_get_one_revision_and_the_dialogue_as_of_it(
    client: TestClient, admin: Caller, url: str
) -> None:
    first = client.get(url, headers=admin.headers).json()
    created = post(client, url, edit("Renamed"), admin).json()
    shown = client.get(created["url"], headers=admin.headers)
    assert shown.status_code == 200 and shown.json() == created
    old = client.get(f"{url}/revisions/{first['revision_id']}/dialogue", headers=admin.headers)
    assert old.status_code == 200
    assert old.json()["title"] == "Survey"
    assert old.json()["revision_id"] == first["revision_id"]
    assert old.headers["etag"] == f'"{first["revision_id"]}"'


def test_missing_revision_is_404(client: TestClient, admin: Caller, url: str) -> None:
    body = assert_error(client.get(f"{url}/revisions/7", headers=admin.headers), 404, "not_found")
    assert body["message"] == "Revision 7 not found"
    assert body["details"]["id"] == "7"
    assert_error(client.get(f"{url}/revisions/7/dialogue", headers=admin.headers), 404, "not_found")


def test_revision_body_that_is_not_json_is_400(client: TestClient, admin: Caller, url: str) -> None:
    response = client.post(f"{url}/revisions/", content=b"[{]", headers=admin.headers)
    assert assert_error(response, 400, "parse_error")["details"]["column"] == 3
