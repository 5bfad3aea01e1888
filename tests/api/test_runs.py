"""Submitting a sequence and walking its runs over HTTP, for several participants."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from dialogue_engine import DialogueEngine

from .helpers import Caller, assert_error, caller, new_dialogue, new_project, patch

STATUSES = ("active", "paused", "inactive", "finished")


def block(block_id: str, type_: str, **properties: Any) -> dict[str, Any]:
    return {"id": block_id, "type": type_, "properties": properties}


def branching(template_id: str, tips: str = "Quit tips") -> dict[str, Any]:
    ask = block(
        "smoke",
        "question",
        text="Do you smoke?",
        choices=[
            {"value": "yes", "label": "Yes", "next": "smoker"},
            {"value": "no", "label": "No", "next": "non-smoker"},
        ],
    )
    return {
        "title": "Health",
        "sequences": [
            {
                "id": "intro",
                "title": "Intro",
                "blocks": [
                    block("hello", "email", template_id=template_id),
                    block("welcome", "message", text="Welcome"),
                    ask,
                ],
            },
            {
                "id": "smoker",
                "title": "Smoker",
                "blocks": [block("tips", "message", text=tips), block("stop", "end")],
            },
            {
                "id": "non-smoker",
                "title": "Non-smoker",
                "blocks": [
                    block("age", "freetext", text="How old are you?", store_as="age"),
                    block(
                        "by-age",
                        "route",
                        rules=[
                            {"variable": "age", "operator": "gt", "value": 60, "next": "senior"}
                        ],
                    ),
                    block("done", "end"),
                ],
            },
            {"id": "senior", "title": "Senior", "blocks": [block("old", "message", text="Rest")]},
        ],
    }


class World:
    def __init__(self, engine: DialogueEngine, client: TestClient, admin: Caller) -> None:
        self.engine = engine
        self.client = client
        self.admin = admin
        self.project_id = new_project(client, admin)
        template = engine.templates.create(
            {
                "name": "hi",
                "subject": "Hi",
                "text": "Hello {{ name }}",
                "project_id": self.project_id,
            }
        )
        self.template_id = template.id
        self.dialogue = new_dialogue(client, admin, self.project_id, branching(template.id))
        self.url = self.dialogue["url"]

    def release(self, revision_id: str | None = None) -> dict[str, Any]:
        body = {"revision_id": revision_id or self.dialogue["revision_id"]}
        response = self.client.post(f"{self.url}/releases/", json=body, headers=self.admin.headers)
        assert response.status_code == 201, response.text
        release: dict[str, Any] = response.json()
        return release

    def participant(self, name: str) -> str:
        response = self.client.post(
            f"/projects/{self.project_id}/participants/",
            json={"address": f"+27{name}", "name": name},
            headers=self.admin.headers,
        )
        assert response.status_code == 201, response.text
        participant_id: str = response.json()["id"]
        enrolled = self.client.post(
            f"{self.url}/sequences/intro/participants/",
            json={"participant_id": participant_id},
            headers=self.admin.headers,
        )
        assert enrolled.status_code == 201, enrolled.text
        return participant_id

    def enrolment(self, participant_id: str) -> str:
        return f"{self.url}/sequences/intro/participants/{participant_id}"

    def set_status(self, participant_id: str, status: str) -> None:
        ops = [{"op": "replace", "path": "/status", "value": status}]
        response = patch(self.client, self.enrolment(participant_id), ops, self.admin)
        assert response.status_code == 200, response.text

    def submit(self, sequence_id: str = "intro", who: Caller | None = None) -> Any:
        headers = (who or self.admin).headers
        return self.client.post(f"{self.url}/sequences/{sequence_id}/submit/", headers=headers)

    def runs_by_participant(self, response: Any) -> dict[str, dict[str, Any]]:
        assert response.status_code == 202, response.text
        runs = [self.run(run_id) for run_id in response.json()["runs"]]
        return {r["participant_id"]: r for r in runs}

    def run(self, run_id: str) -> dict[str, Any]:
        response = self.client.get(
            f"/projects/{self.project_id}/runs/{run_id}", headers=self.admin.headers
        )
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def reply(self, run_id: str, text: Any, who: Caller | None = None) -> Any:
        return self.client.post(
            f"/projects/{self.project_id}/runs/{run_id}/replies/",
            json={"text": text},
            headers=(who or self.admin).headers,
        )

    def counts(self) -> dict[str, int]:
        response = self.client.get("/sequences/search/?id=intro", headers=self.admin.headers)
        (row,) = response.json()["results"]
        return {status: row[f"number_users_{status}"] for status in STATUSES}

    def statuses(self) -> dict[str, int]:
        """The enrolments' statuses counted from the enrolment list itself."""
        listed = self.client.get(
            f"{self.url}/sequences/intro/participants/?per_page=100", headers=self.admin.headers
        ).json()
        return {status: sum(e["status"] == status for e in listed) for status in STATUSES}


@pytest.fixture
def world(engine: DialogueEngine, client: TestClient, admin: Caller) -> World:
    return World(engine, client, admin)


def texts(run: dict[str, Any]) -> list[str]:
    return [m["text"] for m in run["messages"]]


def test_a_branching_dialogue_runs_end_to_end_for_several_participants(world: World) -> None:
    world.release()
    ann, ben, cat, dan = (world.participant(n) for n in ("ann", "ben", "cat", "dan"))
    world.set_status(dan, "inactive")
    assert (
        world.counts()
        == world.statuses()
        == {"active": 3, "paused": 0, "inactive": 1, "finished": 0}
    )

    runs = world.runs_by_participant(world.submit())
    assert set(runs) == {ann, ben, cat}
    first = runs[ann]
    assert (first["status"], first["position"]) == (
        "waiting",
        {"sequence_id": "intro", "block_id": "smoke", "index": 2},
    )
    assert [m["type"] for m in first["messages"]] == ["email", "message", "question"]
    assert first["messages"][0]["subject"] == "Hi"
    assert first["messages"][0]["text"] == "Hello ann"
    assert first["messages"][2]["choices"][0] == {"value": "yes", "label": "Yes"}

    ann_run = world.reply(runs[ann]["id"], "YES")
    assert ann_run.status_code == 200, ann_run.text
    assert ann_run.json()["status"] == "finished"
    assert texts(ann_run.json())[-1] == "Quit tips"
    assert ann_run.json()["answers"] == [
        {"sequence_id": "intro", "block_id": "smoke", "text": "YES", "value": "yes"}
    ]
    assert (
        world.counts()
        == world.statuses()
        == {"active": 2, "paused": 0, "inactive": 1, "finished": 1}
    )

    ben_id = runs[ben]["id"]
    assert world.reply(ben_id, "2").json()["position"]["block_id"] == "age"
    ben_run = world.reply(ben_id, "71").json()
    assert (ben_run["status"], texts(ben_run)[-2:]) == ("finished", ["How old are you?", "Rest"])
    assert (
        world.counts()
        == world.statuses()
        == {"active": 1, "paused": 0, "inactive": 1, "finished": 2}
    )

    cat_id = runs[cat]["id"]
    once = world.reply(cat_id, "purple").json()
    assert (once["status"], texts(once)[-1]) == ("waiting", "Do you smoke?")
    assert world.counts() == {"active": 1, "paused": 0, "inactive": 1, "finished": 2}
    twice = world.reply(cat_id, "green").json()
    assert twice["status"] == "inactive" and twice["position"] is None
    assert (
        world.counts()
        == world.statuses()
        == {"active": 0, "paused": 0, "inactive": 2, "finished": 2}
    )
    assert_error(world.reply(cat_id, "yes"), 409, "run_not_waiting")

    outbox = world.client.get(
        f"/projects/{world.project_id}/outbox/?participant_id={ben}", headers=world.admin.headers
    )
    assert outbox.headers["X-Total-Count"] == str(len(ben_run["messages"]))
    assert [m["text"] for m in outbox.json()] == texts(ben_run)
    everything = world.client.get(
        f"/projects/{world.project_id}/outbox/?per_page=100", headers=world.admin.headers
    ).json()
    assert {m["participant_id"] for m in everything} == {ann, ben, cat}
    none = world.client.get(
        f"/projects/{world.project_id}/outbox/?channel_id=nope", headers=world.admin.headers
    )
    assert none.json() == []


def test_pausing_a_participant_stops_its_run_from_advancing(world: World) -> None:
    world.release()
    ann = world.participant("ann")
    (run,) = world.runs_by_participant(world.submit()).values()
    world.set_status(ann, "paused")
    assert (
        world.counts()
        == world.statuses()
        == {"active": 0, "paused": 1, "inactive": 0, "finished": 0}
    )
    assert_error(world.reply(run["id"], "yes"), 409, "run_not_waiting")
    assert world.run(run["id"]) == run
    assert world.runs_by_participant(world.submit()) == {}

    world.set_status(ann, "active")
    assert world.reply(run["id"], "yes").json()["status"] == "finished"
    assert (
        world.counts()
        == world.statuses()
        == {"active": 0, "paused": 0, "inactive": 0, "finished": 1}
    )


def test_a_run_keeps_its_release_while_a_newer_one_is_made(world: World) -> None:
    first = world.release()
    ann = world.participant("ann")
    (in_flight,) = world.runs_by_participant(world.submit()).values()

    edited = world.client.put(
        world.url, json=branching(world.template_id, "New tips"), headers=world.admin.headers
    )
    assert edited.status_code == 200, edited.text
    world.engine.templates.create_version(
        world.template_id,
        {"name": "v2", "subject": "Hey", "text": "Hey {{ name }}", "published": True},
    )
    second = world.release(edited.json()["revision_id"])
    assert second["id"] != first["id"]

    ben = world.participant("ben")
    started = world.runs_by_participant(world.submit())
    assert set(started) == {ann, ben}
    fresh = started[ben]
    assert {r["release_id"] for r in started.values()} == {second["id"]}
    assert fresh["messages"][0]["text"] == "Hey ben"

    done = world.reply(in_flight["id"], "yes").json()
    assert done["release_id"] == first["id"]
    assert texts(done)[-1] == "Quit tips"
    assert texts(world.reply(fresh["id"], "yes").json())[-1] == "New tips"


def test_submitting_needs_a_release_holding_the_sequence(world: World) -> None:
    body = assert_error(world.submit(), 409, "not_released")
    assert "never been released" in body["message"]
    world.release()
    added = world.client.post(
        f"{world.url}/sequences/",
        json={"title": "Later", "id": "later"},
        headers=world.admin.headers,
    )
    assert added.status_code == 201, added.text
    body = assert_error(world.submit("later"), 409, "not_released")
    assert body["details"]["sequence_id"] == "later"
    assert_error(world.submit("nope"), 409, "not_released")


def test_bad_replies_and_unknown_runs_answer_in_the_envelope(world: World) -> None:
    world.release()
    world.participant("ann")
    (run,) = world.runs_by_participant(world.submit()).values()
    runs = f"/projects/{world.project_id}/runs"
    headers = world.admin.headers
    assert_error(world.client.get(f"{runs}/nope", headers=headers), 404, "not_found")
    unknown = "00000000-0000-0000-0000-000000000000"
    assert_error(world.reply(unknown, "yes"), 404, "not_found")
    assert_error(world.reply(run["id"], 3), 422, "validation_error")
    extra = world.client.post(f"{runs}/{run['id']}/replies/", json={"txt": "x"}, headers=headers)
    assert_error(extra, 422, "validation_error")
    not_json = world.client.post(f"{runs}/{run['id']}/replies/", content=b"{", headers=headers)
    assert_error(not_json, 400, "parse_error")
    other = new_project(world.client, world.admin, "Other")
    assert_error(
        world.client.get(f"/projects/{other}/runs/{run['id']}", headers=headers), 404, "not_found"
    )
    assert world.run(run["id"]) == run


def test_executors_submit_and_reply_but_readers_do_not(world: World) -> None:
    world.release()
    world.participant("ann")
    scope = {"project_id": world.project_id, "dialogue_id": world.dialogue["id"]}
    executor = caller(world.engine, ("dialogue:execute", scope))
    reader = caller(world.engine, ("dialogue:read", scope))
    assert_error(world.submit(who=reader), 403, "authorization_error")
    (run,) = world.runs_by_participant(world.submit(who=executor)).values()
    assert_error(world.reply(run["id"], "yes", who=reader), 403, "authorization_error")
    assert world.reply(run["id"], "yes", who=executor).status_code == 200
    assert_error(world.client.get(world.url, headers=executor.headers), 404, "not_found")
