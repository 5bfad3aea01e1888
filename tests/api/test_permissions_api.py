"""/users/{id}/permissions/: listing, granting and revoking, and who may do which.

The expected outcomes come from issue 4's rules, written out here: an admin grants
anything; a project admin the project- and dialogue-scoped types of its own projects;
nobody else grants, and nobody escalates beyond what they hold. A user that the caller
may not see (not itself, and the caller neither admin nor any project's admin) is 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from starlette.testclient import TestClient

from dialogue_engine import DialogueEngine

from .helpers import Caller, assert_error, caller, new_dialogue, new_project

TYPES = (
    "admin",
    "projects:create",
    "project:admin",
    "project:dialogues:read",
    "project:dialogues:write",
    "dialogue:read",
    "dialogue:write",
)
SCOPED = set(TYPES) - {"admin", "projects:create"}


@dataclass
class Setting:
    client: TestClient
    engine: DialogueEngine
    admin: Caller
    project: str
    other_project: str
    dialogue: str
    target: Caller

    def scope(self, type_: str) -> dict[str, str]:
        if type_ in ("admin", "projects:create"):
            return {}
        if type_.startswith("project:"):
            return {"project_id": self.project}
        return {"project_id": self.project, "dialogue_id": self.dialogue}

    def grant(self, who: Caller, user_id: str, type_: str) -> Any:
        body = {"type": type_, "properties": self.scope(type_)}
        return self.client.post(f"/users/{user_id}/permissions/", json=body, headers=who.headers)


@pytest.fixture
def setting(client: TestClient, engine: DialogueEngine, admin: Caller) -> Setting:
    project = new_project(client, admin)
    other_project = new_project(client, admin, "Other")
    dialogue = new_dialogue(client, admin, project)["id"]
    return Setting(client, engine, admin, project, other_project, dialogue, caller(engine))


ROLES = {
    "admin": lambda s: [("admin", {})],
    "project:admin here": lambda s: [("project:admin", {"project_id": s.project})],
    "project:admin elsewhere": lambda s: [("project:admin", {"project_id": s.other_project})],
    "projects:create": lambda s: [("projects:create", {})],
    "project:dialogues:write": lambda s: [("project:dialogues:write", {"project_id": s.project})],
    "dialogue:write": lambda s: [
        ("dialogue:write", {"project_id": s.project, "dialogue_id": s.dialogue})
    ],
    "none": lambda s: [],
}


def expected_grant(role: str, type_: str) -> int:
    if role == "admin":
        return 200
    if role == "project:admin here":
        return 200 if type_ in SCOPED else 403
    if role == "project:admin elsewhere":
        return 403
    return 404


@pytest.mark.parametrize("type_", TYPES)
@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_granting_each_type_to_another_user(
    setting: Setting, role: str, type_: str
) -> None:
    granter = caller(setting.engine, *ROLES[role](setting))
    response = setting.grant(granter, setting.target.user_id, type_)
    assert response.status_code == expected_grant(role, type_), response.text
    held = [
        p.type
        for p in setting.engine.accounts.get_user(
            setting.target.user_id,
            actor=setting.engine.accounts.authenticate_api_key(setting.admin.headers["API-KEY"]),
        ).permissions
    ]
    assert (type_ in held) == (response.status_code == 200)


@pytest.mark.parametrize("type_", TYPES)
@pytest.mark.parametrize("role", [r for r in ROLES if r not in ("admin", "project:admin here")])
def test_nobody_grants_itself_more(setting: Setting, role: str, type_: str) -> None:
    granter = caller(setting.engine, *ROLES[role](setting))
    response = setting.grant(granter, granter.user_id, type_)
    assert_error(response, 403, "authorization_error")


def test_a_grant_returns_the_permission_and_an_equal_one_is_returned_again(
    setting: Setting,
) -> None:
    first = setting.grant(setting.admin, setting.target.user_id, "dialogue:read")
    assert first.status_code == 200
    body = first.json()
    assert body["type"] == "dialogue:read" and len(body["id"]) == 32
    assert body["properties"] == {"project_id": setting.project, "dialogue_id": setting.dialogue}
    again = setting.grant(setting.admin, setting.target.user_id, "dialogue:read")
    assert again.json() == body


def test_grant_bodies_are_checked(setting: Setting) -> None:
    url = f"/users/{setting.target.user_id}/permissions/"
    headers = setting.admin.headers
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, ""),
        ({"type": "projects:admin", "properties": {"project_id": setting.project}}, "/type"),
        ({"type": "project:admin"}, "/properties/project_id"),
        (
            {"type": "admin", "properties": {"project_id": setting.project}},
            "/properties/project_id",
        ),
        ({"type": "project:admin", "properties": {"project_id": "nope"}}, "/properties/project_id"),
        (
            {
                "type": "dialogue:read",
                "properties": {
                    "project_id": setting.other_project,
                    "dialogue_id": setting.dialogue,
                },
            },
            "/properties/dialogue_id",
        ),
        ({"type": "admin", "properties": {"colour": "red"}}, "/properties"),
        ({"type": "admin", "properties": []}, "/properties"),
        ({"type": "admin", "id": "mine"}, ""),
    ]
    for body, path in cases:
        response = setting.client.post(url, json=body, headers=headers)
        errors = assert_error(response, 422, "validation_error")["details"]["errors"]
        assert errors[0]["path"] == path, (body, errors)
    assert_error(
        setting.client.post("/users/nope/permissions/", json={"type": "admin"}, headers=headers),
        404,
        "not_found",
    )


def test_listing_shows_what_the_caller_may_see(setting: Setting) -> None:
    engine, target = setting.engine, setting.target.user_id
    engine.accounts.grant(target, "projects:create")
    engine.accounts.grant(target, "project:dialogues:read", project_id=setting.project)
    engine.accounts.grant(target, "project:admin", project_id=setting.other_project)
    url = f"/users/{target}/permissions/"

    def types(who: Caller) -> list[str]:
        response = setting.client.get(url, headers=who.headers)
        assert response.status_code == 200, response.text
        return [p["type"] for p in response.json()]

    assert types(setting.admin) == ["projects:create", "project:dialogues:read", "project:admin"]
    assert types(setting.target) == types(setting.admin)
    here = caller(engine, ("project:admin", {"project_id": setting.project}))
    assert types(here) == ["project:dialogues:read"]
    reader = caller(engine, ("project:dialogues:read", {"project_id": setting.project}))
    assert_error(setting.client.get(url, headers=reader.headers), 404, "not_found")

    hidden = engine.accounts.list_permissions(
        target, actor=engine.accounts.authenticate_api_key(setting.admin.headers["API-KEY"])
    )[0].id
    response = setting.client.get(f"{url}{hidden}", headers=here.headers)
    assert_error(response, 404, "not_found")
    assert setting.client.get(f"{url}{hidden}", headers=setting.admin.headers).status_code == 200
    assert_error(setting.client.get(f"{url}nope", headers=setting.admin.headers), 404, "not_found")


def test_a_revoked_permission_counts_on_the_very_next_request(setting: Setting) -> None:
    client, target = setting.client, setting.target
    granted = setting.grant(setting.admin, target.user_id, "project:dialogues:read").json()
    token = client.post("/auth/tokens", json={"email": target.email, "password": "password-1"})
    bearer = {"Authorization": f"Bearer {token.json()['token']}"}
    project_url = f"/projects/{setting.project}"
    for headers in (target.headers, bearer):
        assert client.get(project_url, headers=headers).status_code == 200
    url = f"/users/{target.user_id}/permissions/{granted['id']}"
    revoked = client.delete(url, headers=setting.admin.headers)
    assert revoked.status_code == 200 and revoked.json() == granted
    for headers in (target.headers, bearer):
        assert_error(client.get(project_url, headers=headers), 404, "not_found")
    assert_error(client.delete(url, headers=setting.admin.headers), 404, "not_found")


def test_revoking_follows_the_grant_rules(setting: Setting) -> None:
    engine, client, target = setting.engine, setting.client, setting.target.user_id
    inside = engine.accounts.grant(
        target, "dialogue:write", project_id=setting.project, dialogue_id=setting.dialogue
    )
    elsewhere = engine.accounts.grant(target, "project:admin", project_id=setting.other_project)
    here = caller(engine, ("project:admin", {"project_id": setting.project}))
    base = f"/users/{target}/permissions/"
    assert_error(client.delete(base + elsewhere.id, headers=here.headers), 404, "not_found")
    assert_error(
        client.delete(base + inside.id, headers=setting.target.headers), 403, "authorization_error"
    )
    assert client.delete(base + inside.id, headers=here.headers).status_code == 200


def test_nobody_revokes_their_own_admin_but_another_admin_can(setting: Setting) -> None:
    client, engine = setting.client, setting.engine
    listed = engine.accounts.list_permissions(
        setting.admin.user_id,
        actor=engine.accounts.authenticate_api_key(setting.admin.headers["API-KEY"]),
    )
    (own,) = [p for p in listed if p.type == "admin"]
    url = f"/users/{setting.admin.user_id}/permissions/{own.id}"
    assert_error(client.delete(url, headers=setting.admin.headers), 403, "authorization_error")
    other_admin = caller(engine, ("admin", {}))
    assert client.delete(url, headers=other_admin.headers).status_code == 200


def test_grant_and_revoke_events_name_the_acting_user(setting: Setting) -> None:
    here = caller(setting.engine, ("project:admin", {"project_id": setting.project}))
    granted = setting.grant(here, setting.target.user_id, "project:dialogues:write").json()
    setting.client.delete(
        f"/users/{setting.target.user_id}/permissions/{granted['id']}", headers=here.headers
    )
    events = setting.engine.store.events_of(UUID(setting.target.user_id))
    assert [(type(e).__name__, e.user_id) for e in events[-2:]] == [
        ("Granted", here.user_id),
        ("Revoked", here.user_id),
    ]
