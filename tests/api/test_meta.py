"""/healthz, /block-types/ and the OpenAPI document."""

from __future__ import annotations

from typing import Any

import jsonschema
from openapi_spec_validator import validate
from starlette.testclient import TestClient

from dialogue_engine.api.routes import ENDPOINTS

from .helpers import Caller, assert_error


def test_healthz_answers_without_authentication(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_block_types_lists_each_registered_type_with_its_schema(
    client: TestClient, admin: Caller
) -> None:
    response = client.get("/block-types/", headers=admin.headers)
    assert response.status_code == 200
    types = {t["type"]: t for t in response.json()}
    assert {"message", "question", "freetext", "route", "email", "end"} <= set(types)
    for block_type in types.values():
        jsonschema.Draft202012Validator.check_schema(block_type["schema"])
    assert types["message"]["schema"]["else"] == {"required": ["text"]}


def test_block_types_need_authentication(client: TestClient) -> None:
    assert_error(client.get("/block-types/"), 401, "authentication_required")


def openapi(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def test_openapi_document_is_valid_openapi_3_1(client: TestClient) -> None:
    document = openapi(client)
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_openapi_documents_every_endpoint_with_its_bodies(client: TestClient) -> None:
    paths = openapi(client)["paths"]
    for endpoint in ENDPOINTS:
        operation = paths[endpoint.path][endpoint.method.lower()]
        success = operation["responses"][str(endpoint.status)]
        if endpoint.response:
            assert endpoint.produces in success["content"]
        if endpoint.request:
            assert endpoint.media_type in operation["requestBody"]["content"]
        if endpoint.permission != "public":
            assert "401" in operation["responses"]


def test_openapi_schemas_describe_real_responses(client: TestClient, admin: Caller) -> None:
    document = openapi(client)
    schemas = document["components"]["schemas"]
    project = client.post("/projects/", json={"title": "P"}, headers=admin.headers).json()
    dialogue = client.post(
        f"/projects/{project['id']}/dialogues/",
        json={"title": "D", "sequences": []},
        headers=admin.headers,
    ).json()
    resolver = {"$defs": schemas}

    def check(instance: Any, name: str) -> None:
        schema = {**schemas[name], **resolver}
        text = jsonschema.Draft202012Validator(_rebased(schema), format_checker=None).iter_errors(
            instance
        )
        assert list(text) == [], name

    check(project, "Project")
    check(dialogue, "Dialogue")
    check(client.get("/user", headers=admin.headers).json(), "User")


def _rebased(schema: Any) -> Any:
    """The schema with ``#/components/schemas/X`` references pointed at ``#/$defs/X``."""
    if isinstance(schema, dict):
        return {
            key: (
                value.replace("#/components/schemas/", "#/$defs/")
                if key == "$ref"
                else _rebased(value)
            )
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_rebased(item) for item in schema]
    return schema
