"""What the schemathesis run (tests/fuzz) found, each pinned where it was fixed."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from dialogue_engine.api.openapi import openapi_document

from .helpers import Caller, assert_error, new_dialogue, new_project

DOCUMENT = openapi_document()
OPERATIONS = {
    operation["operationId"]: (path, operation)
    for path, methods in DOCUMENT["paths"].items()
    for operation in methods.values()
}


@pytest.mark.parametrize("page", [10**9 + 1, 3317440808891524841472])
def test_a_page_past_a_billion_is_refused_not_a_server_error(
    client: TestClient, admin: Caller, page: int
) -> None:
    body = assert_error(
        client.get(f"/projects/?page={page}", headers=admin.headers), 422, "validation_error"
    )
    assert [(e["type"], e["path"]) for e in body["details"]["errors"]] == [("maximum", "/page")]


def test_the_last_allowed_page_is_empty(client: TestClient, admin: Caller) -> None:
    new_project(client, admin)
    response = client.get(f"/projects/?page={10**9}&per_page=100", headers=admin.headers)
    assert (response.status_code, response.json()) == (200, [])


def test_a_revision_whose_type_is_an_object_is_invalid(client: TestClient, admin: Caller) -> None:
    dialogue = new_dialogue(client, admin, new_project(client, admin))
    revision = {"type": {}, "properties": {"edit_type": "x", "patch": []}}
    response = client.post(f"{dialogue['url']}/revisions/", json=[revision], headers=admin.headers)
    body = assert_error(response, 422, "validation_error")
    assert {"type": "enum", "path": "/0/type"} in [
        {"type": e["type"], "path": e["path"]} for e in body["details"]["errors"]
    ]


def test_a_page_token_is_dropped_not_kept_when_a_header_authenticated(
    client: TestClient, admin: Caller
) -> None:
    """The address's token was never checked (a header won): no cookie may carry it, and
    one no cookie can carry (not Latin-1) once made this a 500."""
    dialogue = new_dialogue(client, admin, new_project(client, admin))
    url = f"{dialogue['url']}/history"
    moved = client.get(
        f"{url}?access_token=%F0%A0%80%80&revision=1", headers=admin.headers, follow_redirects=False
    )
    assert moved.status_code == 303
    assert moved.headers["location"] == f"{url}?revision=1"
    assert "set-cookie" not in moved.headers
    assert "303" in OPERATIONS["history_page"][1]["responses"]


def test_creating_a_dialogue_links_to_reading_and_patching_it() -> None:
    links = OPERATIONS["create_dialogue"][1]["responses"]["201"]["links"]
    for target in ("get_dialogue", "patch_dialogue", "create_sequence"):
        assert links[target]["parameters"]["project_id"] == "$request.path.project_id"
        assert links[target]["parameters"]["dialogue_id"] == "$response.body#/id"
    revision = OPERATIONS["get_dialogue"][1]["responses"]["200"]["links"]["get_revision"]
    assert revision["parameters"]["revision_id"] == "$response.body#/revision_id"


def _links() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, name, link)
        for path, methods in DOCUMENT["paths"].items()
        for operation in methods.values()
        for response in operation["responses"].values()
        for name, link in response.get("links", {}).items()
    ]


def test_every_link_names_an_operation_and_fills_each_of_its_path_parameters() -> None:
    assert len(_links()) > 50
    for source, _, link in _links():
        target_path, target = OPERATIONS[link["operationId"]]
        wanted = {p["name"] for p in target["parameters"] if p["in"] == "path"}
        assert set(link["parameters"]) == wanted, (source, link)
        for name, expression in link["parameters"].items():
            assert expression.startswith("$response.body#/") or (
                expression == f"$request.path.{name}" and f"{{{name}}}" in source
            ), (source, target_path, name, expression)


def test_every_operation_with_an_id_in_its_path_documents_404() -> None:
    for path, operation in OPERATIONS.values():
        if "{" in path:
            assert "404" in operation["responses"], (path, operation["operationId"])
