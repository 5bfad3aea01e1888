"""The auditor's endpoints over HTTP: verify, diff, blame, block history, as-of, feed, page."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.testclient import TestClient

from dialogue_engine import DialogueEngine
from dialogue_engine.api.app import create_app
from dialogue_engine.api.settings import HttpSettings

from .helpers import Caller, assert_error, caller, new_dialogue, new_project, patch, retitle_op

XSS = "<script>alert('x')</script>"


def world(client: TestClient, admin: Caller) -> tuple[str, dict[str, Any]]:
    project_id = new_project(client, admin)
    dialogue = new_dialogue(client, admin, project_id)
    return project_id, dialogue


def text_op(text: str) -> list[dict[str, Any]]:
    return [{"op": "replace", "path": "/sequences/0/blocks/0/properties/text", "value": text}]


def sse(body: str) -> list[dict[str, Any]]:
    """The events of a text/event-stream body."""
    events = []
    for chunk in body.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in chunk.splitlines() if line and not line.startswith(":")
        )
        if "data" in fields:
            events.append({**fields, "data": orjson.loads(fields["data"])})
    return events


def test_verify_reports_intact_chains_then_the_tampered_revision(
    engine: DialogueEngine, client: TestClient, admin: Caller
) -> None:
    _, dialogue = world(client, admin)
    patch(client, dialogue["url"], retitle_op("Second"), admin)
    client.post(
        f"{dialogue['url']}/releases/",
        json={"revision_id": dialogue["revision_id"]},
        headers=admin.headers,
    )
    response = client.get(f"{dialogue['url']}/verify", headers=admin.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["intact"] is True and body["revision_number"] == 2
    assert [(c["aggregate"], c["events"], c["intact"]) for c in body["chains"]] == [
        ("dialogue", 2, True),
        ("releases", 2, True),
    ]
    with engine.store.recorder.datastore.transaction(commit=True) as cursor:
        cursor.execute(
            "UPDATE stored_events SET state = replace(state, '\"Second\"', '\"Forged\"') "
            "WHERE originator_id = ? AND originator_version = 2",
            (dialogue["id"].replace("-", ""),),
        )
    tampered = client.get(f"{dialogue['url']}/verify", headers=admin.headers).json()
    assert tampered["intact"] is False
    broken = tampered["chains"][0]["broken"]
    assert broken["version"] == 2 and broken["expected"] != broken["found"]
    assert tampered["chains"][1]["intact"] is True


def test_diff_answers_the_rfc_6902_patch_between_two_revisions(
    client: TestClient, admin: Caller
) -> None:
    _, dialogue = world(client, admin)
    second = patch(client, dialogue["url"], retitle_op("Second"), admin).json()
    patch(client, dialogue["url"], text_op("Changed"), admin)
    first_id = dialogue["revision_id"]
    response = client.get(
        f"{dialogue['url']}/revisions/{first_id}/diff?to={second['revision_id']}",
        headers=admin.headers,
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json-patch+json"
    assert response.json() == retitle_op("Second")
    assert response.headers["X-To-Revision"] == second["revision_id"]
    to_current = client.get(f"{dialogue['url']}/revisions/{first_id}/diff", headers=admin.headers)
    assert sorted(op["path"] for op in to_current.json()) == [
        "/sequences/0/blocks/0/properties/text",
        "/title",
    ]
    unknown = client.get(
        f"{dialogue['url']}/revisions/{first_id}/diff?to=nope", headers=admin.headers
    )
    assert_error(unknown, 404, "not_found")
    empty = client.get(f"{dialogue['url']}/revisions/{first_id}/diff?to=", headers=admin.headers)
    assert_error(empty, 422, "validation_error")


def test_blame_names_each_author(engine: DialogueEngine, client: TestClient, admin: Caller) -> None:
    project_id, dialogue = world(client, admin)
    writer = caller(engine, ("project:dialogues:write", {"project_id": project_id}))
    patch(client, dialogue["url"], text_op("By the writer"), writer)
    body = client.get(f"{dialogue['url']}/blame", headers=admin.headers).json()
    assert body["revision_number"] == 2
    assert body["title"]["revision"]["user_id"] == admin.user_id
    first, *_ = body["sequences"]
    assert first["revision"]["user_id"] == writer.user_id
    assert first["added"]["number"] == 1
    assert [(b["id"], b["revision"]["number"]) for b in first["blocks"]] == [
        ("s0-b0", 2),
        ("s0-b1", 1),
    ]
    assert first["blocks"][0]["revision"]["url"].endswith(first["blocks"][0]["revision"]["id"])


def test_block_history_is_paged_and_404_for_a_block_never_there(
    client: TestClient, admin: Caller
) -> None:
    _, dialogue = world(client, admin)
    for n in range(3):
        patch(client, dialogue["url"], text_op(f"v{n}"), admin)
    url = f"{dialogue['url']}/sequences/s0/blocks/s0-b0/history"
    response = client.get(f"{url}?per_page=2&page=2", headers=admin.headers)
    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == "4"
    assert 'rel="prev"' in response.headers["Link"]
    assert [(e["revision"]["number"], e["change"], e["block"]["properties"]["text"])
            for e in response.json()] == [(3, "changed", "v1"), (4, "changed", "v2")]  # fmt: skip
    missing = client.get(
        f"{dialogue['url']}/sequences/s0/blocks/nope/history", headers=admin.headers
    )
    assert_error(missing, 404, "not_found")
    bad_page = client.get(f"{url}?per_page=0", headers=admin.headers)
    assert_error(bad_page, 422, "validation_error")


def test_a_dialogue_as_of_a_moment(client: TestClient, admin: Caller) -> None:
    project_id = new_project(client, admin)
    created = new_dialogue(client, admin, project_id, {"title": "T", "sequences": []})
    url = created["url"]
    revision = {
        "type": "edit",
        "created": 4_000_000_000_000,
        "properties": {"edit_type": "rename", "patch": retitle_op("Later")},
    }
    client.post(f"{url}/revisions/", json=revision, headers=admin.headers)
    now = client.get(f"{url}?as_of=3999999999999", headers=admin.headers)
    assert now.status_code == 200 and now.json()["title"] == "T"
    assert now.headers["ETag"] == f'"{created["revision_id"]}"'
    later = client.get(f"{url}?as_of=4000000000000", headers=admin.headers).json()
    assert later["title"] == "Later"
    assert_error(client.get(f"{url}?as_of=0", headers=admin.headers), 404, "not_found")
    assert_error(
        client.get(f"{url}?as_of=yesterday", headers=admin.headers), 422, "validation_error"
    )
    assert_error(client.get(f"{url}?as_of=-5", headers=admin.headers), 422, "validation_error")


def test_the_feed_streams_visible_revisions_and_releases_and_resumes_after_an_id(
    engine: DialogueEngine, client: TestClient, admin: Caller
) -> None:
    project_id, shown = world(client, admin)
    hidden = new_dialogue(client, admin, project_id)
    reader = caller(
        engine, ("dialogue:read", {"project_id": project_id, "dialogue_id": shown["id"]})
    )
    patch(client, hidden["url"], retitle_op("Hidden"), admin)
    patch(client, shown["url"], retitle_op("Shown"), admin)
    client.post(
        f"{shown['url']}/releases/",
        json={"revision_id": shown["revision_id"]},
        headers=admin.headers,
    )
    response = client.get("/events?after=0&timeout=0", headers=reader.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse(response.text)
    assert [(e["event"], e["data"]["dialogue_id"]) for e in events] == [
        ("revision", shown["id"]),
        ("revision", shown["id"]),
        ("release", shown["id"]),
    ]
    assert events[1]["data"]["revision"]["properties"]["patch"] == retitle_op("Shown")
    assert events[2]["data"]["release"]["revision_id"] == shown["revision_id"]
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(ids) and len(set(ids)) == 3

    patch(client, shown["url"], retitle_op("Third"), admin)
    resumed = client.get(
        "/events?timeout=0", headers=reader.with_headers(**{"Last-Event-ID": str(ids[1])})
    )
    again = sse(resumed.text)
    assert int(again[0]["id"]) == ids[2]
    assert [e["event"] for e in again] == ["release", "revision"]
    assert again[1]["data"]["revision"]["number"] == 3
    everything = sse(client.get("/events?after=0&timeout=0", headers=admin.headers).text)
    assert {e["data"]["dialogue_id"] for e in everything} == {shown["id"], hidden["id"]}


def test_the_feed_starts_at_the_end_and_rejects_bad_positions(
    client: TestClient, admin: Caller
) -> None:
    world(client, admin)
    assert sse(client.get("/events?timeout=0", headers=admin.headers).text) == []
    assert client.get("/events?timeout=0", headers=admin.headers).text == "retry: 1000\n\n"
    for query, headers in (
        ("?timeout=0&after=-1", {}),
        ("?timeout=301", {}),
        ("?timeout=0", {"Last-Event-ID": "x"}),
    ):
        response = client.get(f"/events{query}", headers=admin.with_headers(**headers))
        assert_error(response, 422, "validation_error")
    assert_error(client.get("/events?timeout=0"), 401, "authentication_required")


def test_the_history_page_lists_revisions_and_escapes_everything(
    client: TestClient, admin: Caller
) -> None:
    _, dialogue = world(client, admin)
    patch(client, dialogue["url"], retitle_op(XSS), admin)
    response = client.get(f"{dialogue['url']}/history", headers=admin.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    page = response.text
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert page.count("<tr class='chosen'>") == 1
    assert "create_dialogue" in page and admin.user_id in page
    edit_type = client.get(f"{dialogue['url']}/revisions/", headers=admin.headers).json()[0][
        "properties"
    ]["edit_type"]
    assert f"Revision 2: {edit_type} by {admin.user_id}" in page
    first = client.get(f"{dialogue['url']}/history?revision=1", headers=admin.headers).text
    assert "Revision 1: create_dialogue" in first and "Left: nothing" in first
    assert_error(
        client.get(f"{dialogue['url']}/history?revision=9", headers=admin.headers),
        404,
        "not_found",
    )


def test_the_history_page_takes_a_token_once_in_the_address_then_from_a_cookie(
    engine: DialogueEngine, client: TestClient, admin: Caller
) -> None:
    _, dialogue = world(client, admin)
    token = engine.accounts.sign_in(admin.email, "password-1").secret
    url = f"{dialogue['url']}/history"
    moved = client.get(f"{url}?revision=1&access_token={token}", follow_redirects=False)
    assert moved.status_code == 303
    assert moved.headers["location"] == f"{url}?revision=1"
    cookie = moved.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/projects/" in cookie
    followed = client.get(f"{url}?revision=1", cookies={"dialogue_engine_token": token})
    assert followed.status_code == 200 and "Revision 1" in followed.text
    assert_error(
        client.get(f"{url}?access_token=wrong", follow_redirects=False),
        401,
        "authentication_required",
    )
    # No JSON endpoint honours the cookie.
    client.cookies.set("dialogue_engine_token", token)
    assert_error(client.get(dialogue["url"]), 401, "authentication_required")


def test_the_server_may_end_event_streams_sooner_than_they_ask(
    engine: DialogueEngine, admin: Caller
) -> None:
    settings = HttpSettings(events_max_seconds=0)
    with TestClient(create_app(engine, settings=settings)) as short:
        project = short.post("/projects/", json={"title": "P"}, headers=admin.headers)
        body = {"title": "D", "sequences": []}
        dialogues = f"{project.headers['location']}/dialogues/"
        assert short.post(dialogues, json=body, headers=admin.headers).status_code == 201
        # No timeout asked for (300 s by default): the server's cap ends it at once.
        response = short.get("/events?after=0", headers=admin.headers)
    assert response.status_code == 200
    assert [event["event"] for event in sse(response.text)] == ["revision"]
