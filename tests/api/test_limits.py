"""Bad input within limits: 413 for long bodies, 400 for what is not strict JSON,
422 for oversized strings, arrays and patches; a refused request changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from starlette.requests import Request
from starlette.testclient import TestClient

from dialogue_engine import DialogueEngine
from dialogue_engine.api.app import create_app
from dialogue_engine.api.errors import PayloadTooLarge
from dialogue_engine.api.jsonbody import read_body
from dialogue_engine.api.openapi import openapi_document
from dialogue_engine.api.settings import HttpSettings, Limits

from .helpers import JSON_PATCH, Caller, assert_error, new_dialogue, new_project, patch

LIMITS = Limits(
    max_body_bytes=4096,
    max_json_depth=8,
    max_patch_operations=3,
    max_string_length=50,
    max_json_items=20,
)


@pytest.fixture
def limited(engine: DialogueEngine) -> Iterator[TestClient]:
    app = create_app(engine, settings=HttpSettings(limits=LIMITS))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def post_raw(client: TestClient, url: str, body: bytes, who: Caller) -> Any:
    return client.post(
        url, content=body, headers=who.with_headers(**{"Content-Type": "application/json"})
    )


def parse_error(response: Any) -> dict[str, Any]:
    details: dict[str, Any] = assert_error(response, 400, "parse_error")["details"]
    return details


def titles(client: TestClient, who: Caller) -> list[str]:
    return [p["title"] for p in client.get("/projects/", headers=who.headers).json()]


# --- size of the body -------------------------------------------------------------------


def test_a_body_over_the_limit_is_413_and_changes_nothing(
    limited: TestClient, admin: Caller
) -> None:
    body = orjson.dumps({"title": "x", "description": "y" * 40, "padding": ["z" * 40] * 100})
    assert len(body) > LIMITS.max_body_bytes
    response = limited.post("/projects/", content=body, headers=admin.headers)
    error = assert_error(response, 413, "payload_too_large")
    assert error["details"] == {"limit": 4096, "content_length": len(body)}
    assert response.headers["connection"] == "close"
    assert titles(limited, admin) == []
    just_fits = orjson.dumps({"title": "t" * 40}).ljust(LIMITS.max_body_bytes)
    assert limited.post("/projects/", content=just_fits, headers=admin.headers).status_code == 201


def _scope(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "method": "POST", "path": "/", "headers": headers, "query_string": b""}


def _read(headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> tuple[Any, int]:
    """``read_body`` over a client sending ``chunks``; its result (or error) and chunks read."""
    sent = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        sent += 1
        more = sent < len(chunks)
        return {"type": "http.request", "body": chunks[sent - 1], "more_body": more}

    async def run() -> Any:
        try:
            return await read_body(Request(_scope(headers), receive), 4096)
        except PayloadTooLarge as error:
            return error

    return asyncio.run(run()), sent


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit() -> None:
    chunks = [b"x" * 1000] * 100
    result, read = _read([(b"transfer-encoding", b"chunked")], chunks)
    assert isinstance(result, PayloadTooLarge)
    assert result.details == {"limit": 4096}
    assert read == 5  # 5,000 bytes: one chunk past the limit, never the 100,000
    body, read = _read([], [b"x" * 1000] * 4 + [b"y" * 96])
    assert body == b"x" * 4000 + b"y" * 96 and read == 5


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    result, read = _read([(b"content-length", b"100000000")], [b"x" * 1000] * 3)
    assert isinstance(result, PayloadTooLarge)
    assert result.details == {"limit": 4096, "content_length": 100_000_000}
    assert read == 0


# --- syntax -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason", "line", "column"),
    [
        (b'{"title": NaN}', "NaN is not valid JSON", 1, 11),
        (b'{"title": "x", "n": Infinity}', "Infinity is not valid JSON", 1, 21),
        (b'{"title": "x",\n "n": -Infinity}', "-Infinity is not valid JSON", 2, 8),
        (b'{"title": "x", "n": 1e400}', "number is infinity when parsed as double", 1, 21),
        (b'{"title": "caf\xe9"}', "Invalid UTF-8", 1, 15),
        (b'{"title": "a", "title": "b"}', "Duplicate object key 'title'", 1, 16),
        (b'{"title": "a",\n "title" : "b"}', "Duplicate object key 'title'", 2, 2),
        (b'{"title": "a", "\\u0074itle": "b"}', "Duplicate object key 'title'", 1, 16),
        (b'{"title": "x", "s": [{"id": 1, "x": {}, "id": 2}]}', "Duplicate object key 'id'", 1, 41),
    ],
)
def test_what_is_not_strict_json_is_a_400_with_reason_and_position(
    client: TestClient, admin: Caller, body: bytes, reason: str, line: int, column: int
) -> None:
    details = parse_error(post_raw(client, "/projects/", body, admin))
    assert details == {"reason": reason, "line": line, "column": column}
    assert titles(client, admin) == []


def test_colons_in_strings_are_not_mistaken_for_duplicate_keys(
    client: TestClient, admin: Caller
) -> None:
    title = 'at 10:00 "a": "b" \\": {"title": 1}'
    body = orjson.dumps({"title": title})
    assert body.count(b'":') > 1  # so the tokeniser, not the colon count, decides
    response = post_raw(client, "/projects/", body, admin)
    assert response.status_code == 201, response.text
    assert response.json()["title"] == title


def test_nesting_deeper_than_the_limit_is_400(limited: TestClient, admin: Caller) -> None:
    eight = b'{"title": "x", "a": ' + b"[" * 7 + b"]" * 7 + b"}"
    nine = b'{"title": "x",\n "a": ' + b"[" * 8 + b"]" * 8 + b"}"
    assert post_raw(limited, "/projects/", eight, admin).status_code != 400
    details = parse_error(post_raw(limited, "/projects/", nine, admin))
    assert details == {"reason": "JSON nested deeper than 8 levels", "line": 2, "column": 14}


def test_very_deep_nesting_is_400_with_the_default_limits(
    client: TestClient, admin: Caller
) -> None:
    for depth in (65, 1_500, 100_000):  # below, at and far beyond orjson's own limit
        body = b"[" * depth + b"]" * depth
        details = parse_error(post_raw(client, "/projects/", body, admin))
        assert details == {"reason": "JSON nested deeper than 64 levels", "line": 1, "column": 65}
    unclosed = parse_error(post_raw(client, "/projects/", b"[" * 2000, admin))
    assert unclosed["reason"] == "JSON nested deeper than 64 levels"


# --- sizes inside the value -------------------------------------------------------------


def test_strings_arrays_and_objects_past_their_limits_are_422_at_their_path(
    limited: TestClient, admin: Caller
) -> None:
    cases = [
        ({"title": "t" * 51}, "maxLength", "/title"),
        ({"title": "t", "x": {"k" * 51: 1}}, "maxLength", f"/x/{'k' * 51}"),
        ({"title": "t", "x": [[0] * 21]}, "maxItems", "/x/0"),
        ({"title": "t", "x": {str(i): i for i in range(21)}}, "maxProperties", "/x"),
        ({"title": "t", "a/b": ["x" * 51]}, "maxLength", "/a~1b/0"),
    ]
    for body, kind, path in cases:
        response = limited.post("/projects/", json=body, headers=admin.headers)
        error = assert_error(response, 422, "validation_error")
        assert [(e["type"], e["path"]) for e in error["details"]["errors"]] == [(kind, path)]
    at_limits = {"title": "t" * 50, "x": [0] * 20}
    response = limited.post("/projects/", json=at_limits, headers=admin.headers)
    assert response.status_code == 422  # "x" is unknown: the limits passed, the engine decided
    assert {e["type"] for e in response.json()["details"]["errors"]} == {"additionalProperties"}
    assert titles(limited, admin) == []


# --- patches ----------------------------------------------------------------------------


def _retitles(count: int) -> list[dict[str, Any]]:
    return [{"op": "replace", "path": "/title", "value": f"T{i}"} for i in range(count)]


def _edit(ops: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "edit", "properties": {"edit_type": "retitle", "patch": ops}}


def test_a_patch_with_more_operations_than_the_limit_is_422(
    limited: TestClient, admin: Caller
) -> None:
    dialogue = new_dialogue(limited, admin, new_project(limited, admin))
    too_many = patch(limited, dialogue["url"], _retitles(4), admin)
    error = assert_error(too_many, 422, "validation_error")
    assert error["details"]["errors"] == [
        {"type": "maxItems", "path": "", "message": "a patch has at most 3 operations"}
    ]
    sequence = dialogue["sequences"][0]["id"]
    on_sequence = limited.patch(
        f"{dialogue['url']}/sequences/{sequence}",
        content=orjson.dumps(_retitles(4)),
        headers=admin.with_headers(**JSON_PATCH),
    )
    assert_error(on_sequence, 422, "validation_error")
    assert (
        limited.get(dialogue["url"], headers=admin.headers).json()["revision_id"]
        == dialogue["revision_id"]
    )
    assert patch(limited, dialogue["url"], _retitles(3), admin).json()["title"] == "T2"


def test_each_revision_of_a_bulk_is_held_to_the_patch_limit(
    limited: TestClient, admin: Caller
) -> None:
    dialogue = new_dialogue(limited, admin, new_project(limited, admin))
    url = f"{dialogue['url']}/revisions/"
    bulk = [_edit(_retitles(3)), _edit(_retitles(4))]
    error = assert_error(
        limited.post(url, json=bulk, headers=admin.headers), 422, "validation_error"
    )
    assert [e["path"] for e in error["details"]["errors"]] == ["/1/properties/patch"]
    single = limited.post(url, json=_edit(_retitles(4)), headers=admin.headers)
    error = assert_error(single, 422, "validation_error")
    assert [e["path"] for e in error["details"]["errors"]] == ["/properties/patch"]
    revisions = limited.get(url, headers=admin.headers).json()
    assert [r["number"] for r in revisions] == [1]
    accepted = limited.post(url, json=[_edit(_retitles(3))] * 2, headers=admin.headers)
    assert accepted.status_code == 201


# --- documentation ----------------------------------------------------------------------


def test_every_endpoint_taking_a_body_documents_413() -> None:
    document = openapi_document()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method in ("post", "put", "patch"):
                assert "413" in operation["responses"], (method, path)
            else:
                assert "413" not in operation["responses"], (method, path)
