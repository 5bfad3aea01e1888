"""Sign-in and the caller's own account: ``/auth/tokens``, ``/user``, ``/user/api-keys``.

Secrets (tokens, keys) appear in the one response that creates them; after
that only their metadata can be read, by their owner, and they can be revoked.
"""

from __future__ import annotations

from starlette.responses import Response

from ..domain.errors import FieldError, ValidationFailed, unexpected_members
from ..domain.user import API_KEY, TOKEN
from . import shapes
from .requests import Call
from .responses import JSONBytesResponse


def create_token(call: Call) -> Response:
    body = _object(call.json(), required=("email", "password"))
    issued = call.engine.accounts.sign_in(body["email"], body["password"])
    url = shapes.token_url(issued.credential.id)
    return JSONBytesResponse(shapes.issued_token(issued), 201, headers={"Location": url})


def get_token(call: Call) -> Response:
    token = call.engine.accounts.get_credential(call.param("token_id"), TOKEN, actor=call.actor)
    return JSONBytesResponse(shapes.credential(token))


def revoke_token(call: Call) -> Response:
    token = call.engine.accounts.revoke_credential(call.param("token_id"), TOKEN, actor=call.actor)
    return JSONBytesResponse(shapes.credential(token))


def get_user(call: Call) -> Response:
    user = call.engine.accounts.get_user(call.actor.user_id, actor=call.actor)
    return JSONBytesResponse(shapes.user(user))


def create_api_key(call: Call) -> Response:
    body = _object(call.json(optional=True), optional=("name",))
    issued = call.engine.accounts.create_api_key(actor=call.actor, name=body.get("name", ""))
    url = shapes.api_key_url(issued.credential.id)
    return JSONBytesResponse(shapes.issued_api_key(issued), 201, headers={"Location": url})


def get_api_key(call: Call) -> Response:
    key = call.engine.accounts.get_credential(call.param("key_id"), API_KEY, actor=call.actor)
    return JSONBytesResponse(shapes.credential(key))


def revoke_api_key(call: Call) -> Response:
    key = call.engine.accounts.revoke_credential(call.param("key_id"), API_KEY, actor=call.actor)
    return JSONBytesResponse(shapes.credential(key))


def _object(
    body: object, *, required: tuple[str, ...] = (), optional: tuple[str, ...] = ()
) -> dict[str, str]:
    """An object of string members: all of ``required``, some of ``optional``, nothing else."""
    if type(body) is not dict:
        raise ValidationFailed([FieldError("type", "", "the body must be an object")])
    errors = [
        FieldError("required", "", f"'{name}' is a required property")
        for name in required
        if name not in body
    ]
    errors += [
        FieldError("type", f"/{name}", f"{name} must be a string")
        for name, value in body.items()
        if name in required + optional and type(value) is not str
    ]
    errors += unexpected_members(body, (*required, *optional))
    if errors:
        raise ValidationFailed(errors)
    return body
