"""Who is calling: ``Authorization: Bearer <token>`` or ``API-KEY: <key>``.

(Browser pages also take a token from a query parameter or a cookie:
:func:`authenticate_browser`.)

The credential is checked by the accounts facade on every request, and the
caller's :class:`~dialogue_engine.domain.permissions.Actor` is built from its
user's grants as they are now, so a grant or revocation counts at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..domain.permissions import Actor
from ..domain.user import AuthenticationFailed

if TYPE_CHECKING:
    from starlette.datastructures import Headers
    from starlette.requests import Request

    from ..engine import DialogueEngine

ANONYMOUS = Actor("anonymous")
"""The caller of public endpoints: holds nothing."""


def authenticate(engine: DialogueEngine, headers: Headers) -> Actor:
    authorization = headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationFailed("Authorization must be 'Bearer <token>'")
        return engine.accounts.authenticate_token(token.strip())
    key = headers.get("api-key")
    if key is not None:
        return engine.accounts.authenticate_api_key(key.strip())
    raise AuthenticationFailed("Authentication required: a Bearer token or an API-KEY header")


TOKEN_QUERY = "access_token"
"""RFC 6750's query parameter for a bearer token (browser-facing pages only)."""
TOKEN_COOKIE = "dialogue_engine_token"


def authenticate_browser(engine: DialogueEngine, request: Request) -> Actor:
    """For pages a browser opens (``api/history.py``): the headers, else a token from the
    ``access_token`` query parameter, else from the cookie that page sets.

    Only endpoints marked ``browser`` in the route table use this: no endpoint
    that changes anything accepts a cookie, so cross-site requests gain nothing.
    """
    headers = request.headers
    if uses_header_credentials(headers):
        return authenticate(engine, headers)
    token = request.query_params.get(TOKEN_QUERY) or request.cookies.get(TOKEN_COOKIE)
    if token:
        return engine.accounts.authenticate_token(token)
    return authenticate(engine, headers)


def uses_header_credentials(headers: Headers) -> bool:
    """Whether the request authenticates by a header (which then wins over a page's token)."""
    return "authorization" in headers or "api-key" in headers
