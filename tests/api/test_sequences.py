"""Sequence and block sub-resources, duplicate-blocks and /sequences/search/ over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
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
)

MESSAGE = {"type": "message", "properties": {"text": "Hi"}}


@pytest.fixture
def project_id(client: TestClient, admin: Caller) -> str:
    return new_project(client, admin)


@pytest.fixture
def dialogue(client: TestClient, admin: Caller, project_id: str) -> dict[str, Any]:
    return new_dialogue(client, admin, project_id, description("Survey", sequences=2))


def email(block_id: str, send_at: str | None) -> dict[str, Any]:
    properties = {"subject": "s", "body": "b", **({"send_at": send_at} if send_at else {})}
    return {"id": block_id, "type": "email", "properties": properties}


def revisions(client: TestClient, url: str, who: Caller) -> list[dict[str, Any]]:
    listed = client.get(f"{url}/revisions/?ordering=number&per_page=100", headers=who.headers)
    assert listed.status_code == 200
    body: list[dict[str, Any]] = listed.json()
    return body


def test_every_sub_resource_write_is_in_the_revision_list_with_its_edit_type(
    client: TestClient, admin: Caller, dialogue: dict[str, Any]
) -> None:
    url = dialogue["url"]
    h = admin.headers
    steps = [
        client.post(f"{url}/sequences/", json={"title": "Reminders"}, headers=h),
        client.put(f"{url}/sequences/reminders", json={"title": "Reminders!"}, headers=h),
        client.post(f"{url}/sequences/reminders/blocks/", json=MESSAGE, headers=h),
        client.post(f"{url}/sequences/reminders/blocks/", json=email("mail", None), headers=h),
        patch(
            client,
            f"{url}/sequences/reminders",
            [{"op": "move", "from": "/blocks/1", "path": "/blocks/0"}],
            admin,
        ),
        client.put(
            f"{url}/sequences/reminders/blocks/message", json=MESSAGE | {"title": "T"}, headers=h
        ),
        client.post(
            f"{url}/sequences/s0/duplicate-blocks/",
            json={"duplicate-to-sequence-id": "reminders"},
            headers=h,
        ),
        client.delete(f"{url}/sequences/reminders/blocks/mail", headers=h),
        client.delete(f"{url}/sequences/reminders", headers=h),
    ]
    assert [r.status_code for r in steps] == [201, 200, 201, 201, 200, 200, 201, 200, 200]
    listed = revisions(client, url, admin)
    assert [r["properties"]["edit_type"] for r in listed] == [
        "create_dialogue",
        "new_sequence",
        "update_sequence",
        "new_block",
        "new_block",
        "move_block",
        "update_block",
        "duplicate_blocks",
        "remove_block",
        "remove_sequence",
    ]
    assert all(r["details"]["summary"] for r in listed[1:])
    assert listed[5]["details"]["summary"] == (
        "Moved block 'mail' from position 2 to 1 in sequence 'Reminders!' (reminders)"
    )
    # Each response's ETag is the revision it made.
    assert [s.headers["etag"] for s in steps] == [f'"{r["id"]}"' for r in listed[1:]]


def test_a_new_sequence_answers_201_with_location_and_a_generated_id(
    client: TestClient, admin: Caller, dialogue: dict[str, Any]
) -> None:
    response = client.post(
        f"{dialogue['url']}/sequences/", json={"title": "Week 1: Welcome"}, headers=admin.headers
    )
    assert response.status_code == 201
    body = response.json()
    assert body["id"] == "week-1-welcome"
    assert (
        response.headers["location"] == body["url"] == f"{dialogue['url']}/sequences/{body['id']}"
    )
    assert body["blocks"] == [] and body["dialogue_id"] == dialogue["id"]
    fetched = client.get(body["url"], headers=admin.headers)
    assert fetched.json() == body
    assert fetched.headers["etag"] == response.headers["etag"]


def test_sequences_and_blocks_list_in_order_and_page(
    client: TestClient, admin: Caller, dialogue: dict[str, Any]
) -> None:
    listed = client.get(f"{dialogue['url']}/sequences/?per_page=1&page=2", headers=admin.headers)
    assert [s["id"] for s in listed.json()] == ["s1"]
    assert listed.headers["x-total-count"] == "2"
    blocks = client.get(f"{dialogue['url']}/sequences/s0/blocks/", headers=admin.headers).json()
    assert [b["id"] for b in blocks] == ["s0-b0", "s0-b1"]
    assert blocks[0]["url"] == f"{dialogue['url']}/sequences/s0/blocks/s0-b0"
    assert blocks[0]["sequence_id"] == "s0"


def test_read_only_members_are_rejected_on_post_and_patch_and_ignored_on_put(
    client: TestClient, admin: Caller, dialogue: dict[str, Any]
) -> None:
    url = f"{dialogue['url']}/sequences/"
    posted = client.post(url, json={"title": "T", "revision_id": "x"}, headers=admin.headers)
    assert_error(posted, 422, "validation_error")
    current = client.get(url + "s0", headers=admin.headers).json()
    replaced = client.put(url + "s0", json={**current, "title": "New"}, headers=admin.headers)
    assert replaced.status_code == 200 and replaced.json()["title"] == "New"
    patched = patch(client, url + "s0", [{"op": "replace", "path": "/id", "value": "z"}], admin)
    assert (
        assert_error(patched, 422, "validation_error")["details"]["errors"][0]["path"] == "/0/path"
    )
    put_block = client.put(
        url + "s0/blocks/s0-b0", json={"id": "other", **MESSAGE}, headers=admin.headers
    )
    assert assert_error(put_block, 422, "validation_error")["details"]["errors"][0]["path"] == "/id"


def test_validation_errors_point_into_the_request_body(
    client: TestClient, admin: Caller, dialogue: dict[str, Any]
) -> None:
    response = client.post(
        f"{dialogue['url']}/sequences/s0/blocks/",
        json={"type": "message", "properties": {"text": 3}},
        headers=admin.headers,
    )
    errors = assert_error(response, 422, "validation_error")["details"]["errors"]
    assert [e["path"] for e in errors] == ["/properties/text"]


def test_unknown_sequences_and_blocks_are_404_in_the_envelope(
    client: TestClient, admin: Caller, dialogue: dict[str, Any]
) -> None:
    body = assert_error(
        client.get(f"{dialogue['url']}/sequences/nope", headers=admin.headers), 404, "not_found"
    )
    assert body["details"]["id"] == "nope"
    missing = client.get(f"{dialogue['url']}/sequences/s0/blocks/nope", headers=admin.headers)
    assert assert_error(missing, 404, "not_found")["details"] == {"id": "nope", "sequence_id": "s0"}


def test_a_stale_if_match_is_412(
    client: TestClient, admin: Caller, dialogue: dict[str, Any]
) -> None:
    client.post(f"{dialogue['url']}/sequences/", json={"title": "x"}, headers=admin.headers)
    stale = admin.with_headers(**{"If-Match": f'"{dialogue["revision_id"]}"'})
    response = client.post(f"{dialogue['url']}/sequences/s0/blocks/", json=MESSAGE, headers=stale)
    assert_error(response, 412, "precondition_failed")


def test_patching_a_sequence_needs_the_json_patch_media_type(
    client: TestClient, admin: Caller, dialogue: dict[str, Any]
) -> None:
    response = client.patch(f"{dialogue['url']}/sequences/s0", json=[], headers=admin.headers)
    assert_error(response, 415, "unsupported_media_type")


def test_deleting_a_sequence_other_blocks_lead_to_is_409_naming_them(
    client: TestClient, admin: Caller, dialogue: dict[str, Any]
) -> None:
    question = {
        "id": "ask",
        "type": "question",
        "properties": {"text": "?", "choices": [{"value": "1", "label": "Go", "next": "s0"}]},
    }
    client.post(f"{dialogue['url']}/sequences/s1/blocks/", json=question, headers=admin.headers)
    response = client.delete(f"{dialogue['url']}/sequences/s0", headers=admin.headers)
    body = assert_error(response, 409, "sequence_in_use")
    assert body["details"]["referring_blocks"] == [
        {
            "sequence_id": "s1",
            "block_id": "ask",
            "path": "/sequences/1/blocks/2/properties/choices/0/next",
        }
    ]
    assert "ask" in body["message"]


DATED = [
    email("first", "2024-05-01T09:00:00+02:00"),
    email("later", "2024-05-03T10:30:00+02:00"),
    email("undated", None),
]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"date-conversion": "none"},
            ["2024-05-01T09:00:00+02:00", "2024-05-03T10:30:00+02:00", None],
        ),
        ({}, ["2024-05-01T09:00:00+02:00", "2024-05-03T10:30:00+02:00", None]),
        ({"date-conversion": "delete"}, [None, None, None]),
        (
            {"date-conversion": "new-start-date", "new-start-date": "2013-03-14 09:30"},
            ["2013-03-14T09:30:00+02:00", "2013-03-16T11:00:00+02:00", None],
        ),
        (
            {"date-conversion": "new-start-date", "new-start-date": "2013-03-14T09:30:00-05:00"},
            ["2013-03-14T09:30:00-05:00", "2013-03-16T11:00:00-05:00", None],
        ),
    ],
)
def test_duplicate_blocks_converts_send_dates(
    client: TestClient,
    admin: Caller,
    project_id: str,
    body: dict[str, Any],
    expected: list[str | None],
) -> None:
    source = new_dialogue(
        client,
        admin,
        project_id,
        {
            "title": "D",
            "sequences": [
                {"id": "a", "title": "A", "blocks": DATED},
                {"id": "b", "title": "B", "blocks": []},
            ],
        },
    )
    response = client.post(
        f"{source['url']}/sequences/a/duplicate-blocks/",
        json={"duplicate-to-sequence-id": "b", **body},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    result = response.json()
    assert response.headers["location"] == result["sequence"]["url"]
    assert result["blocks"] == [{"from": b["id"], "to": f"{b['id']}-copy"} for b in DATED]
    copies = result["sequence"]["blocks"]
    assert [c["properties"].get("send_at") for c in copies] == expected
    original = client.get(f"{source['url']}/sequences/a", headers=admin.headers).json()
    assert original["blocks"] == DATED


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"date-conversion": "new-start-date"}, "/new-start-date"),
        ({"date-conversion": "none", "new-start-date": "2024-01-01 10:00"}, "/new-start-date"),
        ({"date-conversion": "delete", "new-start-date": "2024-01-01 10:00"}, "/new-start-date"),
        ({"date-conversion": "new-start-date", "new-start-date": "soon"}, "/new-start-date"),
        ({"date-conversion": "later"}, "/date-conversion"),
        ({"duplicate-to-sequence-id": "missing"}, "/duplicate-to-sequence-id"),
        ({"duplicate-to-dialogue-id": "not-a-dialogue"}, "/duplicate-to-dialogue-id"),
        ({"extra": 1}, ""),
    ],
)
def test_inconsistent_duplication_requests_are_422(
    client: TestClient, admin: Caller, dialogue: dict[str, Any], body: dict[str, Any], path: str
) -> None:
    response = client.post(
        f"{dialogue['url']}/sequences/s0/duplicate-blocks/",
        json={"duplicate-to-sequence-id": "s1", **body},
        headers=admin.headers,
    )
    errors = assert_error(response, 422, "validation_error")["details"]["errors"]
    assert [e["path"] for e in errors] == [path]
    assert len(revisions(client, dialogue["url"], admin)) == 1


def test_duplicating_into_another_dialogue_records_the_revision_there(
    client: TestClient, admin: Caller, project_id: str, dialogue: dict[str, Any]
) -> None:
    other = new_dialogue(client, admin, project_id, description("Other"))
    response = client.post(
        f"{dialogue['url']}/sequences/s0/duplicate-blocks/",
        json={"duplicate-to-sequence-id": "s0", "duplicate-to-dialogue-id": other["id"]},
        headers=admin.headers,
    )
    assert response.status_code == 201
    assert response.json()["sequence"]["dialogue_id"] == other["id"]
    assert [r["properties"]["edit_type"] for r in revisions(client, other["url"], admin)] == [
        "create_dialogue",
        "duplicate_blocks",
    ]
    assert len(revisions(client, dialogue["url"], admin)) == 1


# Search


def search(client: TestClient, who: Caller, query: str = "") -> Any:
    return client.get(f"/sequences/search/?{query}", headers=who.headers)


def test_search_answers_source_001s_page_with_statuses_in_words(
    client: TestClient, admin: Caller, dialogue: dict[str, Any]
) -> None:
    client.post(
        f"{dialogue['url']}/releases/",
        json={"revision_id": dialogue["revision_id"]},
        headers=admin.headers,
    )
    client.put(
        f"{dialogue['url']}/sequences/s1",
        json={"title": "Follow-up", "description": "Second week", "visibility": "public"},
        headers=admin.headers,
    )
    response = search(client, admin, "title=FOLLOW")
    assert response.status_code == 200
    page = response.json()
    assert (page["count"], page["next"], page["previous"]) == (1, None, None)
    (result,) = page["results"]
    assert result["id"] == "s1"
    assert result["folder"] == {
        "id": dialogue["id"],
        "title": "Survey",
        "project_id": dialogue["url"].split("/")[2],
    }
    assert (result["status"], result["display_status"]) == ("Published", "Public")
    assert result["description"] == "Second week"
    assert result["number_active_steps"] == 2
    assert result["step_info"] == [
        {"id": "s1-b0", "type": "message", "title": "Block 0"},
        {"id": "s1-b1", "type": "message", "title": "Block 1"},
    ]
    assert result["number_users_active"] == result["number_users_finished"] == 0
    assert result["created_at"].endswith("Z") and result["updated_at"] >= result["created_at"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("created_at.gte=yesterday", "created_at.gte"),
        ("created_at=2024-02-30T00:00:00Z", "created_at"),
        ("ordering=title", "ordering"),
        ("status=9", "status"),
        ("page_size=1000", "page_size"),
    ],
)
def test_a_bad_search_parameter_is_400_naming_it(
    client: TestClient, admin: Caller, query: str, parameter: str
) -> None:
    body = assert_error(search(client, admin, query), 400, "invalid_parameter")
    assert body["details"]["parameter"] == parameter
    assert parameter in body["message"]


def test_search_needs_authentication_and_takes_an_api_key_or_a_token(
    engine: DialogueEngine, client: TestClient, admin: Caller, dialogue: dict[str, Any]
) -> None:
    assert_error(search(client, Caller("", "", {})), 401, "authentication_required")
    assert "API-KEY" in admin.headers and search(client, admin).json()["count"] == 2
    token = engine.accounts.sign_in(admin.email, "password-1").secret
    bearer = client.get("/sequences/search/", headers={"Authorization": f"Bearer {token}"})
    assert bearer.json()["count"] == 2


def test_search_counts_and_returns_only_sequences_the_caller_can_read(
    engine: DialogueEngine,
    client: TestClient,
    admin: Caller,
    project_id: str,
    dialogue: dict[str, Any],
) -> None:
    hidden = new_dialogue(client, admin, project_id, description("Hidden", sequences=3))
    reader = caller(
        engine, ("dialogue:read", {"project_id": project_id, "dialogue_id": dialogue["id"]})
    )
    page = search(client, reader).json()
    assert page["count"] == 2
    assert {r["folder"]["id"] for r in page["results"]} == {dialogue["id"]}
    assert search(client, admin).json()["count"] == 5
    assert hidden["id"] not in str(page)
    assert search(client, caller(engine)).json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


def test_following_next_visits_every_result_once_and_previous_leads_back(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    for n in range(3):
        new_dialogue(client, admin, project_id, description(f"D{n}", sequences=3))
    seen: list[tuple[str, str]] = []
    url: str | None = "http://testserver/sequences/search/?page_size=4&ordering=created_at"
    pages = []
    while url is not None:
        response = client.get(url, headers=admin.headers)
        page = response.json()
        pages.append(page)
        seen.extend((r["folder"]["id"], r["id"]) for r in page["results"])
        url = page["next"]
        assert url is None or url.startswith("http://testserver/sequences/search/?")
    assert len(seen) == len(set(seen)) == 9 == pages[0]["count"]
    assert len(pages) == 3 and pages[0]["previous"] is None
    back = client.get(pages[-1]["previous"], headers=admin.headers).json()
    assert back == pages[1]
    created = [r["created_at"] for p in pages for r in p["results"]]
    assert created == sorted(created)
