"""Password reset tokens: single-use, expiring, known only by their secret's hash.

A reset is requested for an email; its secret travels by mail and only the
SHA-256 of it is stored, in the aggregate's id and its ``Created`` event (as
for credentials), so a database reader cannot complete anyone's reset.

Confirming marks the token used in the same save as the user's new password:
of two confirmations racing on one token, the loser's save fails the store's
version check, its command re-runs on fresh state and finds the token used.
A token is also void once its owner's password changed after it was issued
(``password_serial``), so a successful reset or change ends every other
outstanding reset token of that user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from eventsourcing.domain import Snapshot as BaseSnapshot

from .aggregates import NAMESPACE, EngineAggregate, derived_id
from .errors import FieldError, ValidationFailed

if TYPE_CHECKING:
    from .user import User

RESET_TTL_MS = 60 * 60 * 1000
"""A reset token expires an hour after it was issued, unless configured otherwise."""


def password_reset_id(secret_hash: str) -> UUID:
    return derived_id(NAMESPACE, "password-reset:" + secret_hash)


def invalid_token(type: str, message: str) -> ValidationFailed:
    """The error for a token that cannot reset a password (always at ``/token``)."""
    return ValidationFailed([FieldError(type, "/token", message)])


class PasswordReset(EngineAggregate):
    """One reset token of one user: issued, then used at most once before it expires."""

    TOPIC = "dialogue_engine:PasswordReset"

    class Created(Aggregate.Created):
        TOPIC = "dialogue_engine:PasswordReset.Created"
        secret_hash: str
        owner_id: str
        password_serial: int
        created: int
        expires: int
        user_id: str

    class Snapshot(BaseSnapshot):
        TOPIC = "dialogue_engine:PasswordReset.Snapshot"

    @staticmethod
    def create_id(secret_hash: str) -> UUID:
        return password_reset_id(secret_hash)

    @event(Created)
    def __init__(
        self,
        secret_hash: str,
        owner_id: str,
        password_serial: int,
        created: int,
        expires: int,
        user_id: str,
    ) -> None:
        self.secret_hash = secret_hash
        self.owner_id = owner_id
        self.password_serial = password_serial
        self.created = created
        self.expires = expires
        self.used = False

    @classmethod
    def issue(
        cls, secret_hash: str, *, owner: User, now: int, ttl_ms: int, user_id: str
    ) -> PasswordReset:
        """A token for ``owner``, requested by ``user_id`` (``anonymous`` over the API)."""
        if type(ttl_ms) is not int or ttl_ms < 1:
            raise ValueError("a reset token lives at least one millisecond")
        return cls(
            secret_hash=secret_hash,
            owner_id=str(owner.id),
            password_serial=owner.password_serial,
            created=now,
            expires=now + ttl_ms,
            user_id=user_id,
        )

    def check_usable(self, now: int, owner: User) -> None:
        """Refuse a used, expired or superseded token (a 422 on ``/token``)."""
        if self.used:
            raise invalid_token("used", "this reset token was already used")
        if now >= self.expires:
            raise invalid_token("expired", "this reset token has expired")
        if owner.password_serial != self.password_serial:
            raise invalid_token(
                "superseded", "the password changed after this reset token was issued"
            )

    def use(self, *, now: int, owner: User, user_id: str) -> None:
        self.check_usable(now, owner)
        self._used(user_id=user_id)

    @event("Used", topic="dialogue_engine:PasswordReset.Used")
    def _used(self, user_id: str) -> None:
        self.used = True
