"""/projects/ and /projects/{id}."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from dialogue_engine import DialogueEngine

from .helpers import Caller, assert_error, caller, new_dialogue, new_project, patch, retitle_op


def test_create_project_answers_201_with_location_and_empty_dialogues(
    client: TestClient, admin: Caller
) -> None:
    response = client.post(
        "/projects/", json={"title": "Maternal Health ZA"}, headers=admin.headers
    )
    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": body["id"],
        "url": f"/projects/{body['id']}",
        "title": "Maternal Health ZA",
        "is_archived": False,
        "dialogues": [],
    }
    assert response.headers["location"] == body["url"]


def test_creator_gets_project_admin_on_the_new_project(
    client: TestClient, engine: DialogueEngine
) -> None:
    creator = caller(engine, ("projects:create", {}))
    project_id = new_project(client, creator)
    grants = client.get("/user", headers=creator.headers).json()["permissions"]
    assert {"type": "project:admin", "properties": {"project_id": project_id}} in [
        {k: g[k] for k in ("type", "properties")} for g in grants
    ]
    response = client.put(
        f"/projects/{project_id}", json={"title": "Renamed"}, headers=creator.headers
    )
    assert response.status_code == 200
    assert new_dialogue(client, creator, project_id)["can_edit"] is True


def test_create_project_rejects_read_only_fields(client: TestClient, admin: Caller) -> None:
    response = client.post("/projects/", json={"id": "23", "title": "T"}, headers=admin.headers)
    body = assert_error(response, 422, "validation_error")
    (error,) = body["details"]["errors"]
    assert error["type"] == "additionalProperties"
    assert "'id'" in error["message"]


@pytest.mark.parametrize(
    "body", [{}, {"title": ""}, {"title": 3}, {"title": "T", "is_archived": "yes"}, [], "T"]
)
def test_create_project_validates_its_body(client: TestClient, admin: Caller, body: object) -> None:
    assert_error(
        client.post("/projects/", json=body, headers=admin.headers), 422, "validation_error"
    )


def test_get_project_lists_its_dialogues(client: TestClient, admin: Caller) -> None:
    project_id = new_project(client, admin)
    dialogue = new_dialogue(client, admin, project_id)
    body = client.get(f"/projects/{project_id}", headers=admin.headers).json()
    assert body["dialogues"] == [
        {
            "id": dialogue["id"],
            "url": f"/projects/{project_id}/dialogues/{dialogue['id']}",
            "revision_id": dialogue["revision_id"],
            "title": "Survey",
            "is_archived": False,
            "is_published": False,
            "has_changes": False,
            "can_view": True,
            "can_edit": True,
        }
    ]


def test_get_project_lists_only_dialogues_the_caller_can_see(
    client: TestClient, engine: DialogueEngine, admin: Caller
) -> None:
    project_id = new_project(client, admin)
    seen = new_dialogue(client, admin, project_id)
    new_dialogue(client, admin, project_id)
    reader = caller(
        engine, ("dialogue:read", {"project_id": project_id, "dialogue_id": seen["id"]})
    )
    body = client.get(f"/projects/{project_id}", headers=reader.headers).json()
    assert [(d["id"], d["can_edit"]) for d in body["dialogues"]] == [(seen["id"], False)]


def test_missing_project_is_404_with_its_id(client: TestClient, admin: Caller) -> None:
    body = assert_error(client.get("/projects/23", headers=admin.headers), 404, "not_found")
    assert body["message"] == "Project 23 not found"
    assert body["details"] == {"id": "23"}


def test_put_replaces_title_and_archive_flag_ignoring_read_only_fields(
    client: TestClient, admin: Caller
) -> None:
    project_id = new_project(client, admin)
    response = client.put(
        f"/projects/{project_id}",
        json={"id": "other", "url": "/x", "dialogues": [], "title": "New", "is_archived": True},
        headers=admin.headers,
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["title"], body["is_archived"]) == (project_id, "New", True)


def test_put_without_is_archived_means_not_archived(client: TestClient, admin: Caller) -> None:
    project_id = new_project(client, admin)
    client.put(
        f"/projects/{project_id}", json={"title": "T", "is_archived": True}, headers=admin.headers
    )
    body = client.put(f"/projects/{project_id}", json={"title": "T"}, headers=admin.headers).json()
    assert body["is_archived"] is False


def test_patch_applies_json_patch_to_the_project(client: TestClient, admin: Caller) -> None:
    project_id = new_project(client, admin)
    ops = [
        *retitle_op("Maternal Health MX"),
        {"op": "replace", "path": "/is_archived", "value": True},
    ]
    response = patch(client, f"/projects/{project_id}", ops, admin)
    assert response.status_code == 200
    assert (response.json()["title"], response.json()["is_archived"]) == (
        "Maternal Health MX",
        True,
    )


@pytest.mark.parametrize("path", ["/id", "/url", "/dialogues", "/dialogues/0"])
def test_patch_on_a_read_only_field_is_422(client: TestClient, admin: Caller, path: str) -> None:
    project_id = new_project(client, admin)
    response = patch(
        client, f"/projects/{project_id}", [{"op": "replace", "path": path, "value": "x"}], admin
    )
    body = assert_error(response, 422, "validation_error")
    assert body["details"]["errors"][0]["path"] == "/0/path"


def test_patch_adding_an_unknown_member_is_422(client: TestClient, admin: Caller) -> None:
    project_id = new_project(client, admin)
    response = patch(
        client, f"/projects/{project_id}", [{"op": "add", "path": "/colour", "value": "red"}], admin
    )
    assert_error(response, 422, "validation_error")


def test_patch_that_cannot_apply_is_409_and_changes_nothing(
    client: TestClient, admin: Caller
) -> None:
    project_id = new_project(client, admin)
    ops = [*retitle_op("Changed"), {"op": "test", "path": "/title", "value": "Other"}]
    body = assert_error(patch(client, f"/projects/{project_id}", ops, admin), 409, "patch_conflict")
    assert body["details"]["op_index"] == 1
    assert client.get(f"/projects/{project_id}", headers=admin.headers).json()["title"] == (
        "Maternal Health ZA"
    )


def test_patch_needs_the_json_patch_media_type(client: TestClient, admin: Caller) -> None:
    project_id = new_project(client, admin)
    response = client.patch(f"/projects/{project_id}", json=retitle_op("X"), headers=admin.headers)
    body = assert_error(response, 415, "unsupported_media_type")
    assert body["details"]["expected"] == "application/json-patch+json"


def test_list_projects_pages_with_link_and_total_headers(client: TestClient, admin: Caller) -> None:
    ids = [new_project(client, admin, f"P{i}") for i in range(5)]
    response = client.get("/projects/?per_page=2&page=2", headers=admin.headers)
    assert response.status_code == 200
    assert [p["id"] for p in response.json()] == ids[2:4]
    assert response.headers["x-total-count"] == "5"
    links = {
        part.split('rel="')[1].rstrip('"'): part.split(">")[0].lstrip("<")
        for part in response.headers["link"].split(", ")
    }
    assert set(links) == {"first", "prev", "next", "last"}
    assert links["next"].endswith("/projects/?per_page=2&page=3")
    assert links["last"].endswith("page=3") and links["first"].endswith("page=1")


def test_list_projects_shows_summaries(client: TestClient, admin: Caller) -> None:
    project_id = new_project(client, admin)
    assert client.get("/projects/", headers=admin.headers).json() == [
        {
            "id": project_id,
            "url": f"/projects/{project_id}",
            "title": "Maternal Health ZA",
            "is_archived": False,
        }
    ]


def test_list_projects_omits_projects_the_caller_cannot_see(
    client: TestClient, engine: DialogueEngine, admin: Caller
) -> None:
    new_project(client, admin)
    outsider = caller(engine)
    response = client.get("/projects/", headers=outsider.headers)
    assert response.json() == [] and response.headers["x-total-count"] == "0"


@pytest.mark.parametrize(
    "query", ["page=0", "per_page=0", "per_page=101", "page=abc", "per_page=1.5", "page=-1"]
)
def test_paging_out_of_range_is_422(client: TestClient, admin: Caller, query: str) -> None:
    body = assert_error(
        client.get(f"/projects/?{query}", headers=admin.headers), 422, "validation_error"
    )
    assert body["details"]["errors"][0]["path"] in ("/page", "/per_page")


def test_paging_accepts_the_bounds(client: TestClient, admin: Caller) -> None:
    for query in ("per_page=1", "per_page=100", "page=1", "page=50"):
        assert client.get(f"/projects/?{query}", headers=admin.headers).status_code == 200


def test_collection_paths_answer_with_or_without_trailing_slash(
    client: TestClient, admin: Caller
) -> None:
    project_id = new_project(client, admin)
    assert client.get("/projects", headers=admin.headers).status_code == 200
    assert client.get(f"/projects/{project_id}/", headers=admin.headers).status_code == 200
