"""``/user/password-changes/``, ``/users/``, ``/users/{id}``, its permissions, and the
public ``/password-resets/`` and ``/password-confirmations/``.

The rules (who sees whom, who grants what, how resets stay silent about
accounts) live in :mod:`dialogue_engine.accounts` and :mod:`dialogue_engine.passwords`.
"""

from __future__ import annotations

from starlette.responses import Response

from ..accountforms import check_new_permission, check_new_user, check_user_fields
from . import directoryshapes as shapes
from .accounts import _object
from .pagination import paged
from .requests import Call, drop_read_only, reject_read_only
from .responses import JSONBytesResponse
from .shapes import permission


def change_password(call: Call) -> Response:
    body = _object(call.json(), required=("old_password", "new_password"))
    accounts = call.engine.accounts
    accounts.change_password(body["old_password"], body["new_password"], actor=call.actor)
    return Response(status_code=204)


def list_users(call: Call) -> Response:
    page = call.engine.accounts.list_users(actor=call.actor, **call.page())
    return paged(call.request.url, page, shapes.user_summary)


def create_user(call: Call) -> Response:
    fields = check_new_user(reject_read_only(call.json(), shapes.NEW_USER_READ_ONLY))
    user = call.engine.accounts.register(**fields, actor=call.actor)
    url = shapes.user_url(user.id)
    return JSONBytesResponse(shapes.user_summary(user), 201, headers={"Location": url})


def get_user_by_id(call: Call) -> Response:
    user = call.engine.accounts.get_user(call.param("user_id"), actor=call.actor)
    return JSONBytesResponse(shapes.user_summary(user))


def replace_user(call: Call) -> Response:
    fields = check_user_fields(drop_read_only(call.json(), shapes.USER_READ_ONLY))
    user = call.engine.accounts.replace_user(call.param("user_id"), fields, actor=call.actor)
    return JSONBytesResponse(shapes.user_summary(user))


def patch_user(call: Call) -> Response:
    patch = call.patch(shapes.USER_READ_ONLY)
    user = call.engine.accounts.patch_user(call.param("user_id"), patch, actor=call.actor)
    return JSONBytesResponse(shapes.user_summary(user))


def request_password_reset(call: Call) -> Response:
    body = _object(call.json(), required=("email",))
    call.engine.password_resets.request(body["email"])
    return Response(status_code=204)


def confirm_password_reset(call: Call) -> Response:
    body = _object(call.json(), required=("token", "password"))
    call.engine.password_resets.confirm(body["token"], body["password"])
    return Response(status_code=204)


def list_permissions(call: Call) -> Response:
    found = call.engine.accounts.list_permissions(call.param("user_id"), actor=call.actor)
    return JSONBytesResponse([permission(p) for p in found])


def grant(call: Call) -> Response:
    fields = check_new_permission(reject_read_only(call.json(), shapes.PERMISSION_READ_ONLY))
    granted = call.engine.accounts.grant(call.param("user_id"), **fields, actor=call.actor)
    return JSONBytesResponse(permission(granted))


def get_permission(call: Call) -> Response:
    found = call.engine.accounts.get_permission(
        call.param("user_id"), call.param("permission_id"), actor=call.actor
    )
    return JSONBytesResponse(permission(found))


def revoke(call: Call) -> Response:
    revoked = call.engine.accounts.revoke(
        call.param("user_id"), call.param("permission_id"), actor=call.actor
    )
    return JSONBytesResponse(permission(revoked))
