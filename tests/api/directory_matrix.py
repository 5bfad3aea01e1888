"""The users, permissions, password and channel endpoints in the permission matrix.

What each grant may do here, from source 002's wording (and issue 4's grant rules):
admin-only lists and creations are 403 to others; a user acts on itself (its own
description, password and permissions); granting and revoking a dialogue-scoped
permission inside the world's project needs admin or project:admin there; a channel
(or provider) serving the world's project is visible to whoever can see the project,
and only an admin changes it. Each sample makes what it needs through the engine
(as the system actor) and fills the path placeholders the shared ``World`` does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

import orjson

from dialogue_engine import DialogueEngine
from dialogue_engine.api.routes import CHANNEL, PROVIDER, USER, Endpoint

JSON_PATCH = {"Content-Type": "application/json-patch+json"}
Send = Callable[[Any, str, dict[str, str]], Any]


def directory_expected(endpoint: Endpoint, grant: str, allowed: set[str]) -> int | None:
    """The status for this module's permission names; None for the others."""
    needed = endpoint.permission
    sees_project = "project:read" in allowed
    if needed == "admin":
        return endpoint.status if grant == "admin" else 403
    if needed in ("user:self", "permissions:read"):
        return endpoint.status
    if needed == "permissions:grant":
        return endpoint.status if grant in ("admin", "project:admin") else 403
    if needed in ("channel:read", "provider:read"):
        return endpoint.status if sees_project else 404
    if needed == "channel:admin":
        return endpoint.status if grant == "admin" else 403 if sees_project else 404
    return None


def _engine(w: Any) -> DialogueEngine:
    engine: DialogueEngine = w.client.app.state.engine
    return engine


def _user_path(w: Any, url: str) -> str:
    return url.replace("{user_id}", w.subject.user_id)


def _channel(w: Any) -> tuple[str, str]:
    """A provider and a channel of it serving the world's project: (provider, channel) ids."""
    channels = _engine(w).channels
    provider = channels.create_provider("Twitter")
    channel = channels.create_channel(
        title="@foo",
        address=f"@{uuid4().hex[:8]}",
        channel_type="twitter",
        provider_id=provider.id,
    )
    channels.assign_channel(channel.id, w.project_id)
    return provider.id, channel.id


def _extra_grant(w: Any) -> str:
    """A dialogue:read grant of the subject inside the world's project (given by the system)."""
    granted = _engine(w).accounts.grant(
        w.subject.user_id,
        "dialogue:read",
        project_id=w.project_id,
        dialogue_id=w.dialogue["id"],
    )
    return granted.id


def _on_user(method: str, body: Any = None) -> Send:
    def send(w: Any, url: str, headers: dict[str, str]) -> Any:
        return w.client.request(method, _user_path(w, url), json=body, headers=headers)

    return send


def _patch_user(w: Any, url: str, headers: dict[str, str]) -> Any:
    ops = [{"op": "replace", "path": "/first_name", "value": "Joan"}]
    return w.client.request(
        "PATCH", _user_path(w, url), content=orjson.dumps(ops), headers={**headers, **JSON_PATCH}
    )


def _new_user(w: Any, url: str, headers: dict[str, str]) -> Any:
    body = {"email": f"new-{uuid4().hex[:8]}@example.org", "password": "password-9"}
    return w.client.post(url, json=body, headers=headers)


def _reset(w: Any, url: str, headers: dict[str, str]) -> Any:
    return w.client.post(url, json={"email": w.subject.email}, headers=headers)


def _confirm(w: Any, url: str, headers: dict[str, str]) -> Any:
    issued = _engine(w).password_resets.issue(w.subject.email)
    assert issued is not None
    body = {"token": issued.secret, "password": "password-7"}
    return w.client.post(url, json=body, headers=headers)


def _grant(w: Any, url: str, headers: dict[str, str]) -> Any:
    scope = {"project_id": w.project_id, "dialogue_id": w.dialogue["id"]}
    body = {"type": "dialogue:write", "properties": scope}
    return w.client.post(_user_path(w, url), json=body, headers=headers)


def _on_permission(method: str) -> Send:
    def send(w: Any, url: str, headers: dict[str, str]) -> Any:
        filled = _user_path(w, url).replace("{permission_id}", _extra_grant(w))
        return w.client.request(method, filled, headers=headers)

    return send


def _new_channel(w: Any, url: str, headers: dict[str, str]) -> Any:
    provider = _engine(w).channels.create_provider("SMS Co")
    body = {"title": "2233", "address": "2233", "type": "sms", "provider": provider.id}
    return w.client.post(url, json=body, headers=headers)


def _on_channel(method: str, body: Any = None, patch: bool = False) -> Send:
    def send(w: Any, url: str, headers: dict[str, str]) -> Any:
        filled = url.replace("{channel_id}", _channel(w)[1])
        if patch:
            return w.client.request(
                method, filled, content=orjson.dumps(body), headers={**headers, **JSON_PATCH}
            )
        return w.client.request(method, filled, json=body, headers=headers)

    return send


def _on_provider(w: Any, url: str, headers: dict[str, str]) -> Any:
    return w.client.get(url.replace("{provider_id}", _channel(w)[0]), headers=headers)


def _plain(method: str, body: Any = None) -> Send:
    return lambda w, url, headers: w.client.request(method, url, json=body, headers=headers)


DIRECTORY_SAMPLES: dict[tuple[str, str], Send] = {
    ("POST", "/user/password-changes/"): _plain(
        "POST", {"old_password": "password-1", "new_password": "password-2"}
    ),
    ("GET", "/users/"): _plain("GET"),
    ("POST", "/users/"): _new_user,
    ("GET", USER): _on_user("GET"),
    ("PUT", USER): _on_user("PUT", {"first_name": "Joan", "last_name": "Watson"}),
    ("PATCH", USER): _patch_user,
    ("POST", "/password-resets/"): _reset,
    ("POST", "/password-confirmations/"): _confirm,
    ("GET", USER + "/permissions/"): _on_user("GET"),
    ("POST", USER + "/permissions/"): _grant,
    ("GET", USER + "/permissions/{permission_id}"): _on_permission("GET"),
    ("DELETE", USER + "/permissions/{permission_id}"): _on_permission("DELETE"),
    ("GET", "/channels/"): _plain("GET"),
    ("POST", "/channels/"): _new_channel,
    ("GET", CHANNEL): _on_channel("GET"),
    ("PUT", CHANNEL): _on_channel("PUT", {"project_id": None}),
    ("PATCH", CHANNEL): _on_channel(
        "PATCH", [{"op": "replace", "path": "/project_id", "value": None}], patch=True
    ),
    ("GET", "/projects/{project_id}/channels/"): _plain("GET"),
    ("GET", "/providers/"): _plain("GET"),
    ("POST", "/providers/"): _plain("POST", {"title": "MTN Nigeria"}),
    ("GET", PROVIDER): _on_provider,
}
