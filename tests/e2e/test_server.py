"""The real server: a whole authoring session over HTTP survives a restart unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from .server import running_server

pytestmark = pytest.mark.e2e

ADMIN = {
    "DIALOGUE_ENGINE_ADMIN_EMAIL": "admin@example.org",
    "DIALOGUE_ENGINE_ADMIN_PASSWORD": "correct horse battery",
}
PATCH = {"Content-Type": "application/json-patch+json"}


def sign_in(client: httpx.Client, email: str, password: str) -> dict[str, str]:
    response = client.post("/auth/tokens", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def author(client: httpx.Client, auth: dict[str, str]) -> dict[str, str]:
    """Create, edit, revert and release over HTTP; the URLs of what was made."""
    project = client.post("/projects/", json={"title": "Maternal Health ZA"}, headers=auth)
    assert project.status_code == 201, project.text
    project_url = project.headers["location"]
    body = {"title": "Service Rating Survey", "sequences": []}
    created = client.post(f"{project_url}/dialogues/", json=body, headers=auth)
    assert created.status_code == 201, created.text
    url = created.headers["location"]
    first = created.json()["revision_id"]
    added = client.patch(
        url,
        content=orjson.dumps(
            [
                {
                    "op": "add",
                    "path": "/sequences/-",
                    "value": {
                        "id": "start",
                        "title": "Start",
                        "blocks": [
                            {"id": "hello", "type": "message", "properties": {"text": "Hi"}}
                        ],
                    },
                }
            ]
        ),
        headers={**auth, **PATCH, "If-Match": created.headers["etag"]},
    )
    assert added.status_code == 200, added.text
    replaced = client.put(url, json={**added.json(), "title": "Renamed"}, headers=auth)
    assert replaced.status_code == 200, replaced.text
    released = client.post(
        f"{url}/releases/", json={"revision_id": replaced.json()["revision_id"]}, headers=auth
    )
    assert released.status_code == 201, released.text
    revert = {"type": "revert", "properties": {"revision_id": first}}
    reverted = client.post(f"{url}/revisions/", json=revert, headers=auth)
    assert reverted.status_code == 201, reverted.text
    assert client.get(url, headers=auth).json()["sequences"] == []
    return {"project": project_url, "dialogue": url}


def read_everything(client: httpx.Client, auth: dict[str, str], urls: dict[str, str]) -> Any:
    url = urls["dialogue"]
    revisions = client.get(f"{url}/revisions/?ordering=number", headers=auth).json()
    releases = client.get(f"{url}/releases/", headers=auth).json()
    return {
        "projects": client.get("/projects/", headers=auth).json(),
        "project": client.get(urls["project"], headers=auth).json(),
        "dialogue": client.get(url, headers=auth).json(),
        "etag": client.get(url, headers=auth).headers["etag"],
        "revisions": revisions,
        "as_of": [client.get(f"{r['url']}/dialogue", headers=auth).json() for r in revisions],
        "releases": releases,
        "latest": client.get(f"{url}/releases/latest/dialogue", headers=auth).json(),
        "user": client.get("/user", headers=auth).json(),
    }


def test_authoring_over_http_survives_a_restart(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'store.db'}"
    log = tmp_path / "server.log"
    email, password = ADMIN["DIALOGUE_ENGINE_ADMIN_EMAIL"], ADMIN["DIALOGUE_ENGINE_ADMIN_PASSWORD"]
    with running_server(store, log, ADMIN) as client:
        auth = sign_in(client, email, password)
        urls = author(client, auth)
        key = client.post("/user/api-keys", json={"name": "e2e"}, headers=auth).json()["key"]
        before = read_everything(client, auth, urls)
    assert [r["type"] for r in before["revisions"]] == ["edit", "edit", "edit", "revert"]
    assert before["dialogue"]["has_changes"] is True
    assert before["latest"]["title"] == "Renamed"

    with running_server(store, log, ADMIN) as client:
        after_with_token = read_everything(client, sign_in(client, email, password), urls)
        after_with_key = read_everything(client, {"API-KEY": key}, urls)
    assert after_with_token == before
    assert after_with_key == before
    assert log.read_text().count("created admin user") == 1


def test_first_start_without_settings_prints_a_random_admin_password(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    unset = {"DIALOGUE_ENGINE_ADMIN_EMAIL": "", "DIALOGUE_ENGINE_ADMIN_PASSWORD": ""}
    with running_server(f"sqlite:///{tmp_path / 'store.db'}", log, unset) as client:
        line = next(x for x in log.read_text().splitlines() if "created admin user" in x)
        email, password = line.split()[3], line.split()[-1]
        auth = sign_in(client, email, password)
        assert client.get("/user", headers=auth).json()["permissions"][0]["type"] == "admin"
