"""Each permission type x each endpoint of the route table -> the expected status.

The expected outcome comes from this file's own table of what each grant
allows (read from source 002's permission list), not from the engine's code:
what the caller may not see is 404, what it may see but not change is 403.
Adding an endpoint without a sample request here fails
``test_every_endpoint_has_a_sample_request``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from dialogue_engine import DialogueEngine
from dialogue_engine.api.routes import (
    DIALOGUE,
    ENDPOINTS,
    PROJECT,
    TEMPLATE,
    TEMPLATE_LOCALE,
    Endpoint,
)
from dialogue_engine.domain.permissions import PERMISSION_TYPES, Actor

from .audit_matrix import AUDIT_SAMPLES
from .directory_matrix import DIRECTORY_SAMPLES, directory_expected
from .helpers import JSON_PATCH, Caller, caller, description, new_dialogue, new_project, patch

BASIC = {"public", "user"}
READ = {*BASIC, "project:read", "dialogue:read"}
WRITE = {*READ, "dialogue:write"}
EXECUTE = {"dialogue:execute", "run:execute"}
OTHER_PROJECT_ADMIN = "project:admin of another project"
"""A user of another project: it administers a project of its own and nothing of the world's."""
ABILITIES: dict[str, set[str]] = {
    "anonymous": {"public"},
    "none": BASIC,
    "admin": {
        *WRITE,
        "projects:create",
        "project:admin",
        "dialogue:create",
        "dialogue:publish",
        "template:write",
        "project:write",
        *EXECUTE,
    },
    "projects:create": {*BASIC, "projects:create"},
    "project:admin": {
        *WRITE,
        "project:admin",
        "dialogue:create",
        "dialogue:publish",
        "template:write",
        "project:write",
        *EXECUTE,
    },
    "project:dialogues:read": READ,
    "project:dialogues:write": {*WRITE, "template:write", "project:write"},
    "dialogue:read": READ,
    "dialogue:write": WRITE,
    "project:dialogues:execute": {*BASIC, "project:read", *EXECUTE},
    "dialogue:execute": {*BASIC, "project:read", *EXECUTE},
    OTHER_PROJECT_ADMIN: BASIC,
}
PUBLIC_ENDPOINTS = {
    ("GET", "/healthz"),
    ("GET", "/openapi.json"),
    ("POST", "/auth/tokens"),
    ("POST", "/password-resets/"),
    ("POST", "/password-confirmations/"),
}
"""What a caller without credentials may use: an endpoint marked public by mistake fails
``test_only_the_known_endpoints_are_public``."""


def expected(endpoint: Endpoint, grant: str) -> int:
    """The world's template belongs to its project: project grants decide (a project the
    caller cannot see, named in a new template's body, is a 422)."""
    allowed = ABILITIES[grant]
    needed = endpoint.permission
    if needed != "public" and grant == "anonymous":
        return 401
    directory = directory_expected(endpoint, grant, allowed)
    if directory is not None:
        return directory
    if needed.startswith("template:"):
        if "project:read" not in allowed:
            return 422 if needed == "template:create" else 404
        if needed != "template:read" and "template:write" not in allowed:
            return 403
        return endpoint.status
    if needed.startswith(("project:", "dialogue:", "run:")) and "project:read" not in allowed:
        return 404
    if needed in ("dialogue:read", "dialogue:write", "dialogue:publish") and (
        "dialogue:read" not in allowed
    ):
        return 404
    return endpoint.status if needed in allowed else 403


@dataclass
class World:
    client: TestClient
    project_id: str
    dialogue: dict[str, Any]
    first_revision: str
    release_id: str
    subject: Caller
    token_id: str
    key_id: str
    template_id: str
    version_id: str
    participant_id: str = ""
    """A participant of the project, enrolled in the dialogue's sequence s0."""
    spare_participant_id: str = ""
    """A participant of the project enrolled nowhere."""
    run_id: str = ""
    """A run of the enrolled participant, waiting at s0's question."""

    def fill(self, path: str) -> str:
        return (
            path.replace(DIALOGUE, self.dialogue["url"])
            .replace("{template_id}", self.template_id)
            .replace("{version_id}", self.version_id)
            .replace("{locale}", "en-US")
            .replace(PROJECT, f"/projects/{self.project_id}")
            .replace("{revision_id}", self.first_revision)
            .replace("{release_id}", self.release_id)
            .replace("{token_id}", self.token_id)
            .replace("{key_id}", self.key_id)
            .replace("{sequence_id}", "s0")
            .replace("{block_id}", "s0-b0")
            .replace("{participant_id}", self.participant_id)
            .replace("{run_id}", self.run_id)
        )


Send = Callable[[World, str, dict[str, str]], Any]


def _json(method: str, body: Any) -> Send:
    return lambda w, url, headers: w.client.request(method, url, json=body, headers=headers)


def _no_body(method: str) -> Send:
    return lambda w, url, headers: w.client.request(method, url, headers=headers)


def _patch(ops: list[dict[str, Any]]) -> Send:
    return lambda w, url, headers: w.client.request(
        "PATCH", url, content=orjson.dumps(ops), headers={**headers, **JSON_PATCH}
    )


def _sign_in(w: World, url: str, headers: dict[str, str]) -> Any:
    return w.client.post(url, json={"email": w.subject.email, "password": "password-1"})


def _release(w: World, url: str, headers: dict[str, str]) -> Any:
    return w.client.post(url, json={"revision_id": w.first_revision}, headers=headers)


def _new_template(w: World, url: str, headers: dict[str, str]) -> Any:
    body = {"name": "New", "subject": "s", "text": "t", "project_id": w.project_id}
    return w.client.post(url, json=body, headers=headers)


RETITLE = [{"op": "replace", "path": "/title", "value": "Retitled"}]
VERSION = {"name": "v", "subject": "Hi {{ name }}", "text": "Hello {{ name }}"}
RENDER = {"template_data": {"name": "Ann"}}
TEMPLATE_SAMPLES: dict[tuple[str, str], Send] = {
    key: send
    for base in (TEMPLATE, TEMPLATE_LOCALE)
    for key, send in {
        ("GET", base): _no_body("GET"),
        ("PUT", base): _json("PUT", {"name": "Renamed", "tags": ["a"]}),
        ("DELETE", base): _no_body("DELETE"),
        ("GET", base + "/versions"): _no_body("GET"),
        ("POST", base + "/versions"): _json("POST", VERSION),
        ("GET", base + "/versions/{version_id}"): _no_body("GET"),
        ("PUT", base + "/versions/{version_id}"): _json("PUT", VERSION),
        ("POST", base + "/versions/{version_id}/render"): _json("POST", RENDER),
    }.items()
}
SEQUENCE = DIALOGUE + "/sequences/{sequence_id}"
MESSAGE = {"type": "message", "properties": {"text": "Hi"}}
SEQUENCE_SAMPLES: dict[tuple[str, str], Send] = {
    ("GET", "/sequences/search/"): _no_body("GET"),
    ("GET", DIALOGUE + "/sequences/"): _no_body("GET"),
    ("POST", DIALOGUE + "/sequences/"): _json("POST", {"title": "New sequence"}),
    ("GET", SEQUENCE): _no_body("GET"),
    ("PUT", SEQUENCE): _json("PUT", {"title": "Renamed"}),
    ("PATCH", SEQUENCE): _patch([{"op": "move", "from": "/blocks/0", "path": "/blocks/1"}]),
    ("DELETE", SEQUENCE): _no_body("DELETE"),
    ("POST", SEQUENCE + "/duplicate-blocks/"): _json("POST", {"duplicate-to-sequence-id": "s0"}),
    ("GET", SEQUENCE + "/blocks/"): _no_body("GET"),
    ("POST", SEQUENCE + "/blocks/"): _json("POST", MESSAGE),
    ("GET", SEQUENCE + "/blocks/{block_id}"): _no_body("GET"),
    ("PUT", SEQUENCE + "/blocks/{block_id}"): _json("PUT", MESSAGE),
    ("DELETE", SEQUENCE + "/blocks/{block_id}"): _no_body("DELETE"),
}
PARTICIPANT = PROJECT + "/participants/{participant_id}"
ENROLMENT = SEQUENCE + "/participants/{participant_id}"
PARTICIPANT_SAMPLES: dict[tuple[str, str], Send] = {
    ("GET", PROJECT + "/participants/"): _no_body("GET"),
    ("POST", PROJECT + "/participants/"): _json("POST", {"address": "+27820000001"}),
    ("GET", PARTICIPANT): _no_body("GET"),
    ("PUT", PARTICIPANT): _json("PUT", {"address": "+27820000002", "name": "Ann"}),
    ("PATCH", PARTICIPANT): _patch([{"op": "replace", "path": "/name", "value": "Bo"}]),
    ("DELETE", PARTICIPANT): _no_body("DELETE"),
    ("GET", SEQUENCE + "/participants/"): _no_body("GET"),
    ("POST", SEQUENCE + "/participants/"): lambda w, url, headers: w.client.post(
        url, json={"participant_id": w.spare_participant_id}, headers=headers
    ),
    ("GET", ENROLMENT): _no_body("GET"),
    ("PATCH", ENROLMENT): _patch([{"op": "replace", "path": "/status", "value": "paused"}]),
    ("DELETE", ENROLMENT): _no_body("DELETE"),
    ("POST", SEQUENCE + "/submit/"): _no_body("POST"),
    ("GET", PROJECT + "/runs/{run_id}"): _no_body("GET"),
    ("POST", PROJECT + "/runs/{run_id}/replies/"): _json("POST", {"text": "yes"}),
    ("GET", PROJECT + "/outbox/"): _no_body("GET"),
}
SAMPLES: dict[tuple[str, str], Send] = {
    ("GET", "/healthz"): _no_body("GET"),
    ("GET", "/openapi.json"): _no_body("GET"),
    ("POST", "/auth/tokens"): _sign_in,
    ("GET", "/auth/tokens/{token_id}"): _no_body("GET"),
    ("DELETE", "/auth/tokens/{token_id}"): _no_body("DELETE"),
    ("GET", "/user"): _no_body("GET"),
    ("POST", "/user/api-keys"): _json("POST", {"name": "k"}),
    ("GET", "/user/api-keys/{key_id}"): _no_body("GET"),
    ("DELETE", "/user/api-keys/{key_id}"): _no_body("DELETE"),
    ("GET", "/block-types/"): _no_body("GET"),
    ("GET", "/projects/"): _no_body("GET"),
    ("POST", "/projects/"): _json("POST", {"title": "New project"}),
    ("GET", PROJECT): _no_body("GET"),
    ("PUT", PROJECT): _json("PUT", {"title": "Renamed"}),
    ("PATCH", PROJECT): _patch(RETITLE),
    ("GET", PROJECT + "/dialogues/"): _no_body("GET"),
    ("POST", PROJECT + "/dialogues/"): _json("POST", description("New dialogue")),
    ("GET", DIALOGUE): _no_body("GET"),
    ("PUT", DIALOGUE): _json("PUT", description("Replaced")),
    ("PATCH", DIALOGUE): _patch(RETITLE),
    ("GET", DIALOGUE + "/revisions/"): _no_body("GET"),
    ("POST", DIALOGUE + "/revisions/"): _json(
        "POST", {"type": "edit", "properties": {"edit_type": "rename", "patch": RETITLE}}
    ),
    ("GET", DIALOGUE + "/revisions/{revision_id}"): _no_body("GET"),
    ("GET", DIALOGUE + "/revisions/{revision_id}/dialogue"): _no_body("GET"),
    ("GET", DIALOGUE + "/releases/"): _no_body("GET"),
    ("POST", DIALOGUE + "/releases/"): _release,
    ("GET", DIALOGUE + "/releases/{release_id}"): _no_body("GET"),
    ("GET", DIALOGUE + "/releases/{release_id}/dialogue"): _no_body("GET"),
    **DIRECTORY_SAMPLES,
    ("GET", DIALOGUE + "/releases/{release_id}/templates/{template_id}"): _no_body("GET"),
    ("POST", DIALOGUE + "/releases/{release_id}/templates/{template_id}/render"): _json(
        "POST", RENDER
    ),
    ("GET", "/templates"): _no_body("GET"),
    ("POST", "/templates"): _new_template,
    ("POST", TEMPLATE + "/locales"): _json(
        "POST", {"name": "fr", "subject": "s", "text": "t", "locale": "fr-FR"}
    ),
    **TEMPLATE_SAMPLES,
    **SEQUENCE_SAMPLES,
    **AUDIT_SAMPLES,
    **PARTICIPANT_SAMPLES,
}


def build_world(engine: DialogueEngine, client: TestClient, grant: str, on_other: bool) -> World:
    owner = caller(engine, ("admin", {}))
    project_id = new_project(client, owner)
    template = engine.templates.create({**VERSION, "project_id": project_id})
    with_template = description()
    with_template["sequences"][0]["blocks"].append(
        {"id": "mail", "type": "email", "properties": {"template_id": template.id}}
    )
    with_template["sequences"][0]["blocks"].append(
        {
            "id": "ask",
            "type": "question",
            "properties": {"text": "Ok?", "choices": [{"value": "yes", "label": "Yes"}]},
        }
    )
    dialogue = new_dialogue(client, owner, project_id, with_template)
    other = new_dialogue(client, owner, project_id, description("Other"))
    first_revision = dialogue["revision_id"]
    patch(client, dialogue["url"], [{"op": "replace", "path": "/title", "value": "v2"}], owner)
    release = client.post(
        f"{dialogue['url']}/releases/", json={"revision_id": first_revision}, headers=owner.headers
    ).json()
    grant_of_dialogue = {"project_id": project_id, "dialogue_id": dialogue["id"]}
    scopes = {
        "admin": {},
        "projects:create": {},
        "project:admin": {"project_id": project_id},
        "project:dialogues:read": {"project_id": project_id},
        "project:dialogues:write": {"project_id": project_id},
        "dialogue:read": grant_of_dialogue,
        "dialogue:write": grant_of_dialogue,
        "project:dialogues:execute": {"project_id": project_id},
        "dialogue:execute": grant_of_dialogue,
    }
    grants = [(grant, scopes[grant])] if grant in scopes else []
    if grant == OTHER_PROJECT_ADMIN:
        elsewhere = engine.create_project("Another project")
        engine.create_dialogue(elsewhere.id, description("Elsewhere"))
        grants = [("project:admin", {"project_id": elsewhere.id})]
    subject = caller(engine, *grants)
    actor = Actor(subject.user_id)
    token_id = engine.accounts.sign_in(subject.email, "password-1").credential.id
    key_id = engine.accounts.create_api_key(actor=actor, name="second").credential.id
    if grant == "anonymous":
        subject = Caller(subject.user_id, subject.email, {})
    target = other if on_other else dialogue
    enrolled = engine.participants.create(project_id, {"address": "+27820000000"})
    spare = engine.participants.create(project_id, {"address": "+27820000009"})
    engine.participants.enrol(project_id, dialogue["id"], "s0", {"participant_id": enrolled.id})
    (run,) = engine.runs.submit(project_id, dialogue["id"], "s0")
    return World(
        client,
        project_id,
        target,
        first_revision,
        release["id"],
        subject,
        token_id,
        key_id,
        template.id,
        template.versions[0].id,
        enrolled.id,
        spare.id,
        run.id,
    )


def endpoint_id(endpoint: Endpoint) -> str:
    return f"{endpoint.method} {endpoint.path}"


def test_every_endpoint_has_a_sample_request() -> None:
    assert {(e.method, e.path) for e in ENDPOINTS} == set(SAMPLES)


def test_every_permission_type_is_a_role_of_the_matrix() -> None:
    """A permission type added to the domain without a row here fails."""
    assert set(PERMISSION_TYPES) <= set(ABILITIES)


def test_only_the_known_endpoints_are_public() -> None:
    assert {(e.method, e.path) for e in ENDPOINTS if e.permission == "public"} == PUBLIC_ENDPOINTS


@pytest.mark.parametrize("grant", list(ABILITIES))
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=endpoint_id)
def test_permission_matrix(
    engine: DialogueEngine, client: TestClient, endpoint: Endpoint, grant: str
) -> None:
    world = build_world(engine, client, grant, on_other=False)
    response = SAMPLES[(endpoint.method, endpoint.path)](
        world, world.fill(endpoint.path), world.subject.headers
    )
    assert response.status_code == expected(endpoint, grant), response.text


DIALOGUE_ENDPOINTS = [e for e in ENDPOINTS if e.path.startswith(DIALOGUE)]


@pytest.mark.parametrize("grant", ["dialogue:read", "dialogue:write"])
@pytest.mark.parametrize("endpoint", DIALOGUE_ENDPOINTS, ids=endpoint_id)
def test_dialogue_grants_do_not_reach_other_dialogues(
    engine: DialogueEngine, client: TestClient, endpoint: Endpoint, grant: str
) -> None:
    world = build_world(engine, client, grant, on_other=True)
    response = SAMPLES[(endpoint.method, endpoint.path)](
        world, world.fill(endpoint.path), world.subject.headers
    )
    assert response.status_code == 404, response.text
