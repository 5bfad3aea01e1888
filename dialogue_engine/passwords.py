"""Password reset requests: the same answer, at once, for every email.

``POST /password-resets/`` must not tell whether an email has an account,
neither by its answer nor by how long the answer takes. So a request only
checks that it was given an email address and queues a job on the
:class:`~dialogue_engine.mail.Postman`; the lookup, the token, its event and
the message all happen on the postman's thread, after the answer. A known
email gets a message; an unknown one gets nothing, and nobody can see the
difference.

The token is written first (its own save), the message is sent after: never
inside the store's write transaction. Reset mails per email are limited
(:data:`RESETS_PER_HOUR`), silently, so nobody can flood an inbox through
this endpoint.

Tokens are single-use and expire (one hour by default); see
:mod:`dialogue_engine.domain.resets`. Confirming one sets the password, ends
every bearer token of the user and lifts the sign-in limit of its email.

Example::

    engine.password_resets.request("joan@example.org")   # returns at once
    engine.password_resets.postman.drain(5)               # (tests) wait for the mail
    engine.password_resets.confirm(token_from_the_mail, "a new password")
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from urllib.parse import quote

from .accounts import Accounts, _digest, _throttle_key, check_password
from .domain.errors import FieldError, ValidationFailed
from .domain.permissions import Actor
from .domain.resets import RESET_TTL_MS, PasswordReset, invalid_token, password_reset_id
from .domain.user import User, normalise_email
from .envsettings import env_int
from .eventstore.application import UnitOfWork
from .mail import Postman
from .throttle import Throttle

RESET_TTL_VAR = "DIALOGUE_ENGINE_RESET_TOKEN_TTL"
RESET_URL_VAR = "DIALOGUE_ENGINE_RESET_URL"
SUBJECT = "Reset your dialogue-engine password"
ANONYMOUS_USER = "anonymous"
"""The acting user recorded for a reset requested by nobody signed in."""
RESETS_PER_HOUR = 3
"""Reset mails per email per hour: more requests are answered alike but send nothing."""


@dataclass(frozen=True)
class IssuedReset:
    """A new reset token: ``secret`` goes out by mail and is never stored."""

    email: str
    secret: str
    expires: int


def reset_ttl_ms(environ: Mapping[str, str] | None = None) -> int:
    """``$DIALOGUE_ENGINE_RESET_TOKEN_TTL`` seconds (default one hour), in milliseconds."""
    env = os.environ if environ is None else environ
    return env_int(env, RESET_TTL_VAR, RESET_TTL_MS // 1000) * 1000


class PasswordResets:
    def __init__(
        self,
        accounts: Accounts,
        postman: Postman,
        *,
        sender: str,
        reset_url: str | None = None,
        ttl_ms: int = RESET_TTL_MS,
    ) -> None:
        """``reset_url``: a link template such as ``https://app.example.org/reset?token={token}``
        (default ``$DIALOGUE_ENGINE_RESET_URL``); without one the message names the API call.
        ``ttl_ms``: how long a token lives."""
        self.accounts = accounts
        self.postman = postman
        self.sender = sender
        self.reset_url = reset_url if reset_url is not None else os.environ.get(RESET_URL_VAR)
        self.ttl_ms = ttl_ms
        self.throttle = Throttle(RESETS_PER_HOUR, 3_600_000, clock=lambda: accounts.clock())

    def request(self, email: object) -> None:
        """Queue a reset for ``email``; only a value that is no email address at all is refused
        (422), which says nothing about accounts."""
        address = normalise_email(email)
        self.postman.post(lambda: self._prepare(address))

    def issue(self, email: object, *, actor: Actor | None = None) -> IssuedReset | None:
        """A reset token for the account with ``email``; None if there is none, or if
        :data:`RESETS_PER_HOUR` were issued for it within the hour.

        The caller sends the secret (:meth:`request` does, off the request path).
        Recorded as ``PasswordReset.Created`` naming the acting user
        (``anonymous`` when nobody signed in asked).
        """
        accounts = self.accounts
        key = _throttle_key(email)
        user = accounts._user_by_email(email)
        if user is None or not self.throttle.allows(key):
            return None
        self.throttle.record(key)
        secret = secrets.token_urlsafe(32)
        by = actor.user_id if actor is not None else ANONYMOUS_USER

        def command(unit: UnitOfWork) -> PasswordReset:
            owner = unit.get(user.id, User)
            return unit.add(
                PasswordReset.issue(
                    _digest(secret),
                    owner=owner,
                    now=accounts.clock(),
                    ttl_ms=self.ttl_ms,
                    user_id=by,
                )
            )

        reset = accounts.store.write(command)
        return IssuedReset(user.email, secret, reset.expires)

    def confirm(self, token: object, password: object) -> None:
        """Set a new password with a mailed reset token.

        The token works once, before it expires, and only while the password is
        the one it was issued under; otherwise 422 on ``/token``. Success ends
        every bearer token of the user (API keys stay), lifts the sign-in limit
        of its email, and is recorded as ``User.PasswordReset`` and
        ``PasswordReset.Used``, both naming the user, who proved to be them by
        the token. The token and the password change in one save.
        """
        accounts = self.accounts
        new_password = check_password(password)
        if type(token) is not str or not token:
            raise ValidationFailed([FieldError("type", "/token", "token must be a string")])
        presented = _digest(token)
        reset = accounts._find(password_reset_id(presented), PasswordReset)
        if reset is None or not hmac.compare_digest(reset.secret_hash, presented):
            raise invalid_token("unknown", "this is not a password reset token")
        owner = accounts._user(reset.owner_id)
        reset.check_usable(accounts.clock(), owner)  # before the slow hash; again below
        password_hash = accounts.hasher.hash(new_password)

        def command(unit: UnitOfWork) -> None:
            current = unit.get(reset.id, PasswordReset)
            user = unit.get(owner.id, User)
            current.use(now=accounts.clock(), owner=user, user_id=str(user.id))
            user.reset_password(password_hash, reset_id=str(reset.id), user_id=str(user.id))

        accounts.store.write(command)
        accounts.login_throttle.clear(_throttle_key(owner.email))

    def close(self, timeout: float = 5.0) -> None:
        self.postman.close(timeout)

    def _prepare(self, email: str) -> EmailMessage | None:
        issued = self.issue(email)
        return None if issued is None else self.message(issued)

    def message(self, issued: IssuedReset) -> EmailMessage:
        expires = datetime.fromtimestamp(issued.expires / 1000, UTC)
        if self.reset_url:
            action = (
                "To choose a new password, open this link:\n\n"
                f"    {self.reset_url.format(token=quote(issued.secret, safe=''))}\n"
            )
        else:
            action = (
                "To choose a new password, send it with this token to the API:\n\n"
                '    POST /password-confirmations/  {"token": "<token>", "password": "<new>"}\n'
            )
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = issued.email
        message["Subject"] = SUBJECT
        message.set_content(
            "Someone asked to reset the password of the dialogue-engine account\n"
            f"{issued.email}.\n\n"
            f"{action}\n"
            f"Token: {issued.secret}\n\n"
            f"It works once and expires at {expires:%Y-%m-%d %H:%M} UTC.\n"
            "If you did not ask for this, ignore this message: your password stays as it is.\n"
        )
        return message
