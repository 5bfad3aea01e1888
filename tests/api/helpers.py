"""Building blocks for API tests: callers with grants, projects, dialogues."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import orjson
from starlette.testclient import TestClient

from dialogue_engine import DialogueEngine
from dialogue_engine.domain.permissions import Actor

JSON_PATCH = {"Content-Type": "application/json-patch+json"}


@dataclass(frozen=True)
class Caller:
    user_id: str
    email: str
    headers: dict[str, str]

    def with_headers(self, **extra: str) -> dict[str, str]:
        return {**self.headers, **extra}


def caller(engine: DialogueEngine, *grants: tuple[str, dict[str, str]]) -> Caller:
    """A new user holding ``grants``, authenticating with an API key."""
    email = f"user-{uuid4().hex[:8]}@example.org"
    user = engine.accounts.register(email, "password-1")
    for type_, scope in grants:
        engine.accounts.grant(user.id, type_, **scope)
    key = engine.accounts.create_api_key(actor=Actor(user.id))
    return Caller(user.id, email, {"API-KEY": key.secret})


def sequence(sequence_id: str, blocks: int = 1) -> dict[str, Any]:
    return {
        "id": sequence_id,
        "title": f"Sequence {sequence_id}",
        "blocks": [
            {
                "id": f"{sequence_id}-b{i}",
                "type": "message",
                "title": f"Block {i}",
                "properties": {"text": f"Hello {i}"},
            }
            for i in range(blocks)
        ],
    }


def description(title: str = "Survey", sequences: int = 1) -> dict[str, Any]:
    return {"title": title, "sequences": [sequence(f"s{i}", 2) for i in range(sequences)]}


def new_project(client: TestClient, who: Caller, title: str = "Maternal Health ZA") -> str:
    response = client.post("/projects/", json={"title": title}, headers=who.headers)
    assert response.status_code == 201, response.text
    project_id: str = response.json()["id"]
    return project_id


def new_dialogue(
    client: TestClient, who: Caller, project_id: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = client.post(
        f"/projects/{project_id}/dialogues/", json=body or description(), headers=who.headers
    )
    assert response.status_code == 201, response.text
    dialogue: dict[str, Any] = response.json()
    return dialogue


def patch(
    client: TestClient, url: str, ops: list[dict[str, Any]], who: Caller, **headers: str
) -> Any:
    return client.patch(
        url, content=orjson.dumps(ops), headers={**who.headers, **JSON_PATCH, **headers}
    )


def retitle_op(title: str) -> list[dict[str, Any]]:
    return [{"op": "replace", "path": "/title", "value": title}]


def assert_error(response: Any, status: int, type_: str) -> dict[str, Any]:
    """The response is ``status`` in the error envelope with this ``type``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == {"type", "message", "details"}
    assert body["type"] == type_, body
    return body
