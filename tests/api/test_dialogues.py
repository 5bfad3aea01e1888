"""/projects/{id}/dialogues/ and one dialogue: bodies, ETag/If-Match, read-only fields."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.application import LRUCache
from starlette.testclient import TestClient

from dialogue_engine import DialogueEngine

from .helpers import (
    Caller,
    assert_error,
    caller,
    description,
    new_dialogue,
    new_project,
    patch,
    retitle_op,
)

FLAGS = ("id", "url", "revision_id", "is_published", "has_changes", "can_view", "can_edit")


@pytest.fixture
def project_id(client: TestClient, admin: Caller) -> str:
    return new_project(client, admin)


def dialogue_url(project_id: str, dialogue: dict[str, Any]) -> str:
    return f"/projects/{project_id}/dialogues/{dialogue['id']}"


def revisions(client: TestClient, url: str, who: Caller) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = client.get(f"{url}/revisions/", headers=who.headers).json()
    return listed


def test_create_dialogue_answers_201_with_location_etag_and_flags(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    body = description()
    response = client.post(f"/projects/{project_id}/dialogues/", json=body, headers=admin.headers)
    assert response.status_code == 201
    created = response.json()
    assert response.headers["location"] == created["url"] == dialogue_url(project_id, created)
    assert response.headers["etag"] == f'"{created["revision_id"]}"'
    assert {k: created[k] for k in ("title", "sequences", "is_archived")} == {
        **body,
        "is_archived": False,
    }
    assert {k: created[k] for k in FLAGS[3:]} == {
        "is_published": False,
        "has_changes": False,
        "can_view": True,
        "can_edit": True,
    }


@pytest.mark.parametrize("member", ["id", "url", "revision_id", "is_published", "can_edit"])
def test_create_dialogue_rejects_read_only_fields(
    client: TestClient, admin: Caller, project_id: str, member: str
) -> None:
    body = {**description(), member: "x"}
    response = client.post(f"/projects/{project_id}/dialogues/", json=body, headers=admin.headers)
    error = assert_error(response, 422, "validation_error")["details"]["errors"][0]
    assert error["type"] == "additionalProperties" and repr(member) in error["message"]


def test_invalid_description_is_422_with_json_pointers(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    body = description()
    body["sequences"][0]["blocks"][1]["id"] = "Not A Symbol"
    response = client.post(f"/projects/{project_id}/dialogues/", json=body, headers=admin.headers)
    errors = assert_error(response, 422, "validation_error")["details"]["errors"]
    assert {"/sequences/0/blocks/1/id"} <= {e["path"] for e in errors}


def test_body_that_is_not_json_is_400_with_reason_line_and_column(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    response = client.post(
        f"/projects/{project_id}/dialogues/",
        content=b'{\n  "title": "x",\n  "sequences": [,]\n}',
        headers={**admin.headers, "Content-Type": "application/json"},
    )
    body = assert_error(response, 400, "parse_error")
    assert body["message"] == "Invalid JSON in request body"
    assert body["details"] == {"reason": "Expecting value", "line": 3, "column": 17}


def test_empty_and_non_utf8_bodies_are_parse_errors(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    url = f"/projects/{project_id}/dialogues/"
    empty = assert_error(client.post(url, content=b"", headers=admin.headers), 400, "parse_error")
    assert empty["details"] == {"reason": "Expecting value", "line": 1, "column": 1}
    binary = client.post(url, content=b'{"title": "\xff"}', headers=admin.headers)
    assert assert_error(binary, 400, "parse_error")["details"]["column"] == 12


def test_a_body_sent_as_a_form_is_415(client: TestClient, admin: Caller, project_id: str) -> None:
    response = client.post(
        f"/projects/{project_id}/dialogues/",
        content=b"title=x",
        headers={**admin.headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, 415, "unsupported_media_type")


def test_get_dialogue_has_its_revision_as_etag(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    created = new_dialogue(client, admin, project_id)
    response = client.get(dialogue_url(project_id, created), headers=admin.headers)
    assert response.status_code == 200
    assert response.json() == created
    assert response.headers["etag"] == f'"{created["revision_id"]}"'


def test_missing_dialogue_is_404_with_its_id(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    response = client.get(f"/projects/{project_id}/dialogues/21", headers=admin.headers)
    body = assert_error(response, 404, "not_found")
    assert body["message"] == "Dialogue 21 not found" and body["details"] == {"id": "21"}


def test_dialogue_of_another_project_is_404(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    created = new_dialogue(client, admin, project_id)
    other = new_project(client, admin, "Other")
    response = client.get(f"/projects/{other}/dialogues/{created['id']}", headers=admin.headers)
    assert_error(response, 404, "not_found")


def test_put_records_an_edit_revision_and_ignores_read_only_fields(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    created = new_dialogue(client, admin, project_id)
    url = dialogue_url(project_id, created)
    sent = {**created, "title": "Renamed", "id": "ignored", "can_edit": False}
    response = client.put(url, json=sent, headers=admin.headers)
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["title"], body["can_edit"]) == (created["id"], "Renamed", True)
    assert response.headers["etag"] == f'"{body["revision_id"]}"' != f'"{created["revision_id"]}"'
    latest = revisions(client, url, admin)[0]
    assert latest["number"] == 2 and latest["properties"]["edit_type"] == "replace_dialogue"
    assert latest["properties"]["patch"] == [
        {"op": "replace", "path": "/title", "value": "Renamed"}
    ]


def test_put_that_changes_nothing_records_no_revision(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    created = new_dialogue(client, admin, project_id)
    url = dialogue_url(project_id, created)
    response = client.put(url, json=created, headers=admin.headers)
    assert response.status_code == 200
    assert response.json()["revision_id"] == created["revision_id"]
    assert len(revisions(client, url, admin)) == 1


def test_patch_records_an_edit_revision_carrying_the_patch(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    created = new_dialogue(client, admin, project_id)
    url = dialogue_url(project_id, created)
    ops = [
        {
            "op": "add",
            "path": "/sequences/-",
            "value": {"id": "start", "title": "Start of sequence", "blocks": []},
        }
    ]
    response = patch(client, url, ops, admin)
    assert response.status_code == 200
    assert response.json()["sequences"][-1]["id"] == "start"
    assert revisions(client, url, admin)[0]["properties"]["patch"] == ops


def test_contract_example_patch_adding_at_sequences_is_422(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    created = new_dialogue(client, admin, project_id)
    ops = [
        {"op": "remove", "path": "/sequences/0"},
        {
            "op": "add",
            "path": "/sequences",
            "value": {"id": "start", "title": "Start of sequence", "blocks": []},
        },
    ]
    response = patch(client, dialogue_url(project_id, created), ops, admin)
    assert_error(response, 422, "validation_error")


def test_patch_that_cannot_apply_is_409_naming_the_op(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    created = new_dialogue(client, admin, project_id)
    url = dialogue_url(project_id, created)
    ops = [*retitle_op("New"), {"op": "remove", "path": "/sequences/9"}]
    body = assert_error(patch(client, url, ops, admin), 409, "patch_conflict")
    assert body["details"]["op_index"] == 1
    assert client.get(url, headers=admin.headers).json()["title"] == "Survey"


@pytest.mark.parametrize(
    "op",
    [
        {"op": "replace", "path": "/id", "value": "x"},
        {"op": "add", "path": "/url", "value": "x"},
        {"op": "remove", "path": "/revision_id"},
        {"op": "replace", "path": "/can_edit", "value": False},
        {"op": "copy", "from": "/is_published", "path": "/title"},
    ],
)
def test_patch_on_a_read_only_field_is_422(
    client: TestClient, admin: Caller, project_id: str, op: dict[str, Any]
) -> None:
    created = new_dialogue(client, admin, project_id)
    body = assert_error(
        patch(client, dialogue_url(project_id, created), [op], admin), 422, "validation_error"
    )
    assert body["details"]["errors"][0]["type"] == "readOnly"
    assert body["details"]["errors"][0]["path"] in ("/0/path", "/0/from")


def test_malformed_patch_is_422_with_pointers_into_the_patch(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    created = new_dialogue(client, admin, project_id)
    response = patch(
        client, dialogue_url(project_id, created), [{"op": "jump", "path": "/x"}], admin
    )
    assert assert_error(response, 422, "validation_error")["details"]["errors"][0]["path"] == (
        "/0/op"
    )


def test_patch_needs_the_json_patch_media_type(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    created = new_dialogue(client, admin, project_id)
    url = dialogue_url(project_id, created)
    response = client.patch(url, json=retitle_op("X"), headers=admin.headers)
    assert_error(response, 415, "unsupported_media_type")
    no_type = client.patch(url, content=b"[]", headers=admin.headers)
    assert_error(no_type, 415, "unsupported_media_type")


def test_if_match_with_the_current_revision_succeeds(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    created = new_dialogue(client, admin, project_id)
    url = dialogue_url(project_id, created)
    etag = f'"{created["revision_id"]}"'
    response = patch(client, url, retitle_op("A"), admin, **{"If-Match": etag})
    assert response.status_code == 200
    put = client.put(
        url,
        json={**description(), "title": "B"},
        headers=admin.with_headers(**{"If-Match": response.headers["etag"]}),
    )
    assert put.status_code == 200


def test_stale_if_match_is_412_on_put_and_patch(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    created = new_dialogue(client, admin, project_id)
    url = dialogue_url(project_id, created)
    stale = f'"{created["revision_id"]}"'
    patch(client, url, retitle_op("A"), admin)
    body = assert_error(
        patch(client, url, retitle_op("B"), admin, **{"If-Match": stale}),
        412,
        "precondition_failed",
    )
    assert body["details"]["expected"] == created["revision_id"]
    put = client.put(url, json=description(), headers=admin.with_headers(**{"If-Match": stale}))
    assert_error(put, 412, "precondition_failed")
    assert client.get(url, headers=admin.headers).json()["title"] == "A"


def test_if_match_star_and_lists_of_tags(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    created = new_dialogue(client, admin, project_id)
    url = dialogue_url(project_id, created)
    assert patch(client, url, retitle_op("A"), admin, **{"If-Match": "*"}).status_code == 200
    current = client.get(url, headers=admin.headers).headers["etag"]
    listed = f'"{created["revision_id"]}", W/{current}'
    assert patch(client, url, retitle_op("B"), admin, **{"If-Match": listed}).status_code == 200
    assert_error(
        patch(client, url, retitle_op("C"), admin, **{"If-Match": listed}),
        412,
        "precondition_failed",
    )


def test_list_dialogues_shows_summaries_in_creation_order(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    first = new_dialogue(client, admin, project_id, description("First"))
    second = new_dialogue(client, admin, project_id, description("Second"))
    response = client.get(f"/projects/{project_id}/dialogues/", headers=admin.headers)
    assert [d["id"] for d in response.json()] == [first["id"], second["id"]]
    assert set(response.json()[0]) == {"title", "is_archived", *FLAGS}
    assert response.headers["x-total-count"] == "2"


def test_list_dialogues_filters(client: TestClient, admin: Caller, project_id: str) -> None:
    archived = new_dialogue(client, admin, project_id, {**description("A"), "is_archived": True})
    released = new_dialogue(client, admin, project_id, description("R"))
    changed = new_dialogue(client, admin, project_id, description("C"))
    for dialogue in (released, changed):
        client.post(
            f"{dialogue_url(project_id, dialogue)}/releases/",
            json={"revision_id": dialogue["revision_id"]},
            headers=admin.headers,
        )
    patch(client, dialogue_url(project_id, changed), retitle_op("C2"), admin)

    def ids(query: str) -> set[str]:
        url = f"/projects/{project_id}/dialogues/?{query}"
        return {d["id"] for d in client.get(url, headers=admin.headers).json()}

    assert ids("is_archived=true") == {archived["id"]}
    assert ids("is_published=true") == {released["id"], changed["id"]}
    assert ids("is_published=false") == {archived["id"]}
    assert ids("has_changes=true") == {changed["id"]}
    assert ids("has_changes=false&is_published=true") == {released["id"]}
    assert ids("can_view=false") == set()
    assert ids("can_edit=true") == {archived["id"], released["id"], changed["id"]}


def test_can_edit_filter_and_flag_follow_the_callers_grants(
    client: TestClient, engine: DialogueEngine, admin: Caller, project_id: str
) -> None:
    editable = new_dialogue(client, admin, project_id)
    readable = new_dialogue(client, admin, project_id)
    user = caller(
        engine,
        ("dialogue:write", {"project_id": project_id, "dialogue_id": editable["id"]}),
        ("dialogue:read", {"project_id": project_id, "dialogue_id": readable["id"]}),
    )
    url = f"/projects/{project_id}/dialogues/"
    listed = client.get(url, headers=user.headers).json()
    assert {d["id"]: d["can_edit"] for d in listed} == {editable["id"]: True, readable["id"]: False}
    assert [d["id"] for d in client.get(url + "?can_edit=false", headers=user.headers).json()] == [
        readable["id"]
    ]
    shown = client.get(dialogue_url(project_id, readable), headers=user.headers).json()
    assert (shown["can_view"], shown["can_edit"]) == (True, False)


@pytest.mark.parametrize("query", ["is_archived=maybe", "can_edit=", "page=0"])
def test_malformed_filters_are_422(
    client: TestClient, admin: Caller, project_id: str, query: str
) -> None:
    response = client.get(f"/projects/{project_id}/dialogues/?{query}", headers=admin.headers)
    assert_error(response, 422, "validation_error")


def test_dialogue_list_pages(client: TestClient, admin: Caller, project_id: str) -> None:
    for i in range(3):
        new_dialogue(client, admin, project_id, description(f"D{i}"))
    response = client.get(
        f"/projects/{project_id}/dialogues/?per_page=2&page=2", headers=admin.headers
    )
    assert [d["title"] for d in response.json()] == ["D2"]
    assert 'rel="prev"' in response.headers["link"] and 'rel="next"' not in response.headers["link"]


def test_archiving_needs_project_admin(
    client: TestClient, engine: DialogueEngine, admin: Caller, project_id: str
) -> None:
    created = new_dialogue(client, admin, project_id)
    writer = caller(engine, ("project:dialogues:write", {"project_id": project_id}))
    url = dialogue_url(project_id, created)
    op = [{"op": "replace", "path": "/is_archived", "value": True}]
    assert_error(patch(client, url, op, writer), 403, "authorization_error")
    assert patch(client, url, op, admin).json()["is_archived"] is True


def forget_cached_aggregates(engine: DialogueEngine) -> None:
    # LRUCache.clear() keeps its entries (eventsourcing 9.5.6): replace the caches.
    engine.store._committed = LRUCache(maxsize=100)
    engine.store._historical = LRUCache(maxsize=100)
    engine._documents = LRUCache(maxsize=100)


def test_reads_not_in_memory_fall_back_to_the_store(
    client: TestClient, engine: DialogueEngine, admin: Caller, project_id: str
) -> None:
    created = new_dialogue(client, admin, project_id)
    url = dialogue_url(project_id, created)
    patch(client, url, retitle_op("Second"), admin)
    engine.projector.stop()  # it would refill the cache behind our back
    forget_cached_aggregates(engine)
    response = client.get(url, headers=admin.headers)
    assert response.status_code == 200 and response.json()["title"] == "Second"
    old = client.get(f"{url}/revisions/{created['revision_id']}/dialogue", headers=admin.headers)
    assert old.status_code == 200 and old.json()["title"] == "Survey"


def test_memory_only_reads_refuse_to_touch_the_database(
    engine: DialogueEngine, admin: Caller
) -> None:
    from dialogue_engine.eventstore.application import WouldBlock, memory_only

    engine.projector.stop()  # it would refill the cache behind our back
    project = engine.create_project("P")
    dialogue = engine.create_dialogue(project.id, description())
    with memory_only():
        assert engine.get_dialogue(project.id, dialogue.id).title == "Survey"
    forget_cached_aggregates(engine)
    with memory_only(), pytest.raises(WouldBlock):
        engine.get_dialogue(project.id, dialogue.id)
    assert engine.get_dialogue(project.id, dialogue.id).title == "Survey"
