"""Blocks referencing templates, and releases pinning the versions they reference."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from dialogue_engine import DialogueEngine

from .helpers import Caller, assert_error, description, new_dialogue, new_project, patch


@pytest.fixture
def project_id(client: TestClient, admin: Caller) -> str:
    return new_project(client, admin)


def new_template(client: TestClient, who: Caller, **extra: Any) -> dict[str, Any]:
    body = {"name": "Welcome", "subject": "Hi {{ name }}", "text": "Welcome {{ name }}", **extra}
    response = client.post("/templates", json=body, headers=who.headers)
    assert response.status_code == 201, response.text
    template_id = response.json()["id"]
    shown: dict[str, Any] = client.get(f"/templates/{template_id}", headers=who.headers).json()
    return shown


def with_blocks(*blocks: dict[str, Any]) -> dict[str, Any]:
    body = description()
    body["sequences"][0]["blocks"].extend(blocks)
    return body


def email(template_id: str, version_id: str | None = None, block_id: str = "mail") -> Any:
    properties = {"template_id": template_id}
    if version_id is not None:
        properties["version_id"] = version_id
    return {"id": block_id, "type": "email", "properties": properties}


def message(template_id: str, block_id: str = "note") -> Any:
    return {"id": block_id, "type": "message", "properties": {"template_id": template_id}}


def errors(response: Any) -> list[tuple[str, str]]:
    body = assert_error(response, 422, "validation_error")
    return [(e["type"], e["path"]) for e in body["details"]["errors"]]


BLOCK = "/sequences/0/blocks/2/properties"


# References


def test_email_and_message_blocks_may_reference_a_template(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    template = new_template(client, admin)
    version_id = template["versions"][0]["id"]
    body = with_blocks(email(template["id"], version_id), message(template["id"]))
    dialogue = new_dialogue(client, admin, project_id, body)
    blocks = dialogue["sequences"][0]["blocks"]
    assert blocks[2]["properties"] == {"template_id": template["id"], "version_id": version_id}
    assert blocks[3]["properties"] == {"template_id": template["id"]}


def test_a_message_still_takes_text_and_needs_text_or_a_template(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    new_dialogue(client, admin, project_id, description())
    bare = {"id": "bare", "type": "message", "properties": {}}
    response = client.post(
        f"/projects/{project_id}/dialogues/", json=with_blocks(bare), headers=admin.headers
    )
    assert errors(response) == [("required", "/sequences/0/blocks/2/properties")]
    only_version = {"id": "v", "type": "message", "properties": {"text": "t", "version_id": "x"}}
    response = client.post(
        f"/projects/{project_id}/dialogues/", json=with_blocks(only_version), headers=admin.headers
    )
    assert errors(response) == [("dependentRequired", "/sequences/0/blocks/2/properties")]


@pytest.mark.parametrize("kind", [email, message])
def test_an_unknown_template_is_422_at_the_blocks_path(
    client: TestClient, admin: Caller, project_id: str, kind: Any
) -> None:
    response = client.post(
        f"/projects/{project_id}/dialogues/",
        json=with_blocks(kind("tem_0000000000000000000000")),
        headers=admin.headers,
    )
    assert errors(response) == [("reference", f"{BLOCK}/template_id")]


def test_an_unknown_version_is_422_at_the_version_path(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    template = new_template(client, admin)
    response = client.post(
        f"/projects/{project_id}/dialogues/",
        json=with_blocks(email(template["id"], "ver_0000000000000000000000")),
        headers=admin.headers,
    )
    assert errors(response) == [("reference", f"{BLOCK}/version_id")]


def test_deleted_templates_and_other_projects_templates_are_unknown(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    deleted = new_template(client, admin)
    client.delete(f"/templates/{deleted['id']}", headers=admin.headers)
    other_project = new_project(client, admin, "Other")
    elsewhere = new_template(client, admin, project_id=other_project)
    own = new_template(client, admin, project_id=project_id)
    body = with_blocks(
        email(deleted["id"], block_id="a"), email(elsewhere["id"], block_id="b"),
        email(own["id"], block_id="c"),
    )  # fmt: skip
    response = client.post(f"/projects/{project_id}/dialogues/", json=body, headers=admin.headers)
    assert errors(response) == [
        ("reference", f"{BLOCK}/template_id"),
        ("reference", "/sequences/0/blocks/3/properties/template_id"),
    ]


def test_edits_replacements_and_revisions_check_new_references(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    dialogue = new_dialogue(client, admin, project_id)
    unknown = email("tem_0000000000000000000000")
    response = patch(
        client, dialogue["url"], [{"op": "add", "path": "/sequences/0/blocks/-", "value": unknown}],
        admin,
    )  # fmt: skip
    assert errors(response) == [("reference", f"{BLOCK}/template_id")]
    response = client.put(dialogue["url"], json=with_blocks(unknown), headers=admin.headers)
    assert errors(response) == [("reference", f"{BLOCK}/template_id")]
    op = {"op": "add", "path": "/sequences/0/blocks/-", "value": unknown}
    good = {"op": "replace", "path": "/title", "value": "ok"}
    bulk = [
        {"type": "edit", "properties": {"edit_type": "x", "patch": [good]}},
        {"type": "edit", "properties": {"edit_type": "x", "patch": [op]}},
    ]
    response = client.post(f"{dialogue['url']}/revisions/", json=bulk, headers=admin.headers)
    assert errors(response) == [("reference", f"/1{BLOCK}/template_id")]
    shown = client.get(dialogue["url"], headers=admin.headers).json()
    assert shown["revision_id"] == dialogue["revision_id"]


def test_a_block_referencing_a_template_deleted_later_does_not_block_other_edits(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    template = new_template(client, admin)
    dialogue = new_dialogue(client, admin, project_id, with_blocks(email(template["id"])))
    client.delete(f"/templates/{template['id']}", headers=admin.headers)
    response = patch(
        client, dialogue["url"], [{"op": "replace", "path": "/title", "value": "x"}], admin
    )
    assert response.status_code == 200, response.text
    touch = [{"op": "add", "path": f"{BLOCK}/send_at", "value": "2030-01-01T00:00:00Z"}]
    assert errors(patch(client, dialogue["url"], touch, admin)) == [
        ("reference", f"{BLOCK}/template_id")
    ]


# Releases


def release(client: TestClient, who: Caller, dialogue: dict[str, Any]) -> Any:
    response = client.post(
        f"{dialogue['url']}/releases/",
        json={"revision_id": dialogue["revision_id"]},
        headers=who.headers,
    )
    return response


def test_a_release_pins_the_published_version_of_every_referenced_template(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    first = new_template(client, admin)
    second = new_template(client, admin, name="Second")
    old_version = first["versions"][0]["id"]
    newer = client.post(
        f"/templates/{first['id']}/versions",
        json={"name": "v2", "subject": "s", "text": "t"},
        headers=admin.headers,
    ).json()
    body = with_blocks(
        email(first["id"], block_id="a"), message(second["id"], block_id="b"),
        email(first["id"], newer["id"], block_id="c"),
    )  # fmt: skip
    dialogue = new_dialogue(client, admin, project_id, body)
    response = release(client, admin, dialogue)
    assert response.status_code == 201, response.text
    assert response.json()["templates"] == {
        first["id"]: old_version,
        second["id"]: second["versions"][0]["id"],
    }
    none = release(client, admin, new_dialogue(client, admin, project_id)).json()
    assert none["templates"] == {}


def test_a_release_stays_the_same_after_its_templates_change(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    template = new_template(client, admin)
    pinned = template["versions"][0]["id"]
    dialogue = new_dialogue(client, admin, project_id, with_blocks(email(template["id"])))
    created = release(client, admin, dialogue).json()
    url = f"{created['url']}/templates/{template['id']}"
    before = client.get(url, headers=admin.headers).json()
    rendered_before = client.post(
        f"{url}/render", json={"template_data": {"name": "Ann"}}, headers=admin.headers
    ).json()
    assert before["id"] == pinned and before["text"] == "Welcome {{ name }}"
    assert rendered_before["text"] == "Welcome Ann"

    base = f"/templates/{template['id']}"
    client.put(
        f"{base}/versions/{pinned}",
        json={"name": "edited", "subject": "Changed", "text": "Changed {{ name }}"},
        headers=admin.headers,
    )
    client.post(
        f"{base}/versions",
        json={"name": "v2", "subject": "s", "text": "New {{ name }}", "published": True},
        headers=admin.headers,
    )
    client.put(base, json={"name": "Renamed"}, headers=admin.headers)
    client.delete(base, headers=admin.headers)

    assert client.get(created["url"], headers=admin.headers).json() == created
    latest = client.get(f"{dialogue['url']}/releases/latest", headers=admin.headers).json()
    assert latest["templates"] == {template["id"]: pinned}
    assert client.get(url, headers=admin.headers).json() == before
    rendered_after = client.post(
        f"{url}/render", json={"template_data": {"name": "Ann"}}, headers=admin.headers
    ).json()
    assert rendered_after == rendered_before


def test_a_template_not_pinned_by_the_release_is_404(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    template = new_template(client, admin)
    dialogue = new_dialogue(client, admin, project_id)
    created = release(client, admin, dialogue).json()
    response = client.get(f"{created['url']}/templates/{template['id']}", headers=admin.headers)
    assert_error(response, 404, "not_found")


def test_releasing_a_revision_whose_template_was_deleted_is_422(
    client: TestClient, admin: Caller, project_id: str
) -> None:
    template = new_template(client, admin)
    dialogue = new_dialogue(client, admin, project_id, with_blocks(email(template["id"])))
    client.delete(f"/templates/{template['id']}", headers=admin.headers)
    assert errors(release(client, admin, dialogue)) == [("reference", f"{BLOCK}/template_id")]


def test_the_engine_pins_and_renders_releases_without_http(engine: DialogueEngine) -> None:
    template = engine.templates.create({"name": "T", "subject": "S", "text": "Hi {{ name }}"})
    project = engine.create_project("P")
    dialogue = engine.create_dialogue(project.id, with_blocks(email(template.id)))
    created = engine.create_release(project.id, dialogue.id, dialogue.revision_id)
    assert created.templates == {template.id: template.versions[0].id}
    engine.templates.replace_version(
        template.id, template.versions[0].id, {"name": "n", "subject": "S", "text": "Bye"}
    )
    rendered = engine.render_release_template(
        project.id, dialogue.id, "latest", template.id, {"name": "Ann"}
    )
    assert rendered.text == "Hi Ann"
