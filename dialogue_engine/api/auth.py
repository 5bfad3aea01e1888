"""Who is calling: ``Authorization: Bearer <token>`` or ``API-KEY: <key>``.

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
