"""Identity: users, their grants, the claim on each email, and issued credentials.

- :class:`User` holds email, names, a password hash (computed outside the
  domain: hashing is slow on purpose) and grants, each with an id. Every change
  is an event naming the acting user.
- :class:`EmailClaim` has an id derived from the lower-cased email and is
  created in the same save as its user, so the store's version check makes a
  second account with the same email impossible, without a read model.
- :class:`UserDirectory` exists once the first user does (same save), so "is
  this store empty of users?" is one lookup, and two processes bootstrapping
  at once cannot both create an administrator.
- :class:`Credential` is a bearer token or an API key, stored only as the
  SHA-256 of its secret and found by an id derived from that hash.

Checks and derived values (grant ids, timestamps) come before each event; the
event bodies only assign.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event
from eventsourcing.domain import Snapshot as BaseSnapshot

from .aggregates import NAMESPACE, EngineAggregate, derived_id, now_ms
from .errors import DomainError, FieldError, NotFound, ValidationFailed
from .permissions import DIALOGUE_SCOPED, PERMISSION_TYPES, PROJECT_SCOPED, Actor, Grant

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
MAX_NAME_LENGTH = 200
TOKEN = "token"
API_KEY = "api_key"


class AuthenticationFailed(DomainError):
    """No credentials, or credentials that do not identify a user."""

    type = "authentication_required"

    def __init__(self, reason: str = "Authentication required") -> None:
        super().__init__(reason, {})


def normalise_email(email: object, at: str = "/email") -> str:
    if type(email) is not str or not _EMAIL.fullmatch(email.strip()) or len(email) > 320:
        raise ValidationFailed([FieldError("format", at, "email must be an email address")])
    return email.strip()


def email_claim_id(email: str) -> UUID:
    return derived_id(NAMESPACE, "email:" + email.strip().lower())


def user_directory_id() -> UUID:
    return derived_id(NAMESPACE, "user-directory")


def credential_id(secret_hash: str) -> UUID:
    return derived_id(NAMESPACE, "credential:" + secret_hash)


def check_name(value: object, at: str) -> str:
    if value is None:
        return ""
    if type(value) is not str:
        raise ValidationFailed([FieldError("type", at, f"{at[1:]} must be a string")])
    if len(value) > MAX_NAME_LENGTH:
        raise ValidationFailed(
            [FieldError("maxLength", at, f"{at[1:]} is longer than {MAX_NAME_LENGTH}")]
        )
    return value


def check_grant(type_: object, project_id: object, dialogue_id: object) -> Grant:
    """A grant of one of the seven types with exactly the scope that type needs."""
    if type_ not in PERMISSION_TYPES:
        raise ValidationFailed(
            [FieldError("enum", "/type", f"type must be one of {', '.join(PERMISSION_TYPES)}")]
        )
    errors = []
    needs_project = type_ in PROJECT_SCOPED or type_ in DIALOGUE_SCOPED
    needs_dialogue = type_ in DIALOGUE_SCOPED
    for name, value, needed in (
        ("project_id", project_id, needs_project),
        ("dialogue_id", dialogue_id, needs_dialogue),
    ):
        if needed and (type(value) is not str or not value):
            errors.append(FieldError("required", f"/properties/{name}", f"{type_} needs {name}"))
        if not needed and value is not None:
            errors.append(
                FieldError(
                    "additionalProperties", f"/properties/{name}", f"{type_} takes no {name}"
                )
            )
    if errors:
        raise ValidationFailed(errors)
    return Grant(str(type_), project_id or None, dialogue_id or None)  # type: ignore[arg-type]


class User(EngineAggregate):
    TOPIC = "dialogue_engine:User"

    class Created(Aggregate.Created):
        TOPIC = "dialogue_engine:User.Created"
        email: str
        first_name: str
        last_name: str
        password_hash: str
        user_id: str

    class Snapshot(BaseSnapshot):
        TOPIC = "dialogue_engine:User.Snapshot"

    @event(Created)
    def __init__(
        self, email: str, first_name: str, last_name: str, password_hash: str, user_id: str
    ) -> None:
        self.email = email
        self.first_name = first_name
        self.last_name = last_name
        self.password_hash = password_hash
        self.grants: list[dict[str, Any]] = []

    token_generation = 0
    """Raised by each password reset; a token issued under an older one no longer works.

    Class defaults (here and ``password_serial``) so users stored before these
    existed, and their snapshots, read as 0.
    """
    password_serial = 0
    """Raised by every password change or reset: a reset token issued before it is void."""

    @classmethod
    def register(
        cls,
        email: object,
        password_hash: str,
        *,
        first_name: object = "",
        last_name: object = "",
        user_id: str,
    ) -> User:
        return cls(
            email=normalise_email(email),
            first_name=check_name(first_name, "/first_name"),
            last_name=check_name(last_name, "/last_name"),
            password_hash=password_hash,
            user_id=user_id,
        )

    @property
    def actor(self) -> Actor:
        """The engine caller this user is, holding its grants."""
        return Actor(
            str(self.id),
            tuple(Grant(g["type"], g["project_id"], g["dialogue_id"]) for g in self.grants),
        )

    def grant(
        self,
        type: object,
        *,
        project_id: object = None,
        dialogue_id: object = None,
        user_id: str,
    ) -> str:
        """Grant a permission; the id of the grant (an equal existing grant is reused)."""
        wanted = check_grant(type, project_id, dialogue_id)
        for existing in self.grants:
            if (existing["type"], existing["project_id"], existing["dialogue_id"]) == (
                wanted.type,
                wanted.project_id,
                wanted.dialogue_id,
            ):
                return str(existing["id"])
        grant_id = uuid4().hex
        self._granted(
            grant_id=grant_id,
            type=wanted.type,
            project_id=wanted.project_id,
            dialogue_id=wanted.dialogue_id,
            user_id=user_id,
        )
        return grant_id

    def revoke(self, grant_id: str, *, user_id: str) -> dict[str, Any]:
        for existing in self.grants:
            if existing["id"] == grant_id:
                self._revoked(grant_id=grant_id, user_id=user_id)
                return existing
        raise NotFound("Permission", grant_id, user_id=str(self.id))

    def change_password(self, password_hash: str, *, user_id: str) -> None:
        self._password_changed(password_hash=password_hash, user_id=user_id)

    def reset_password(self, password_hash: str, *, reset_id: str, user_id: str) -> None:
        """A new password through the reset token ``reset_id``; ends every issued token."""
        self._password_reset(password_hash=password_hash, reset_id=reset_id, user_id=user_id)

    def rename(self, first_name: object, last_name: object, *, user_id: str) -> None:
        first = check_name(first_name, "/first_name")
        last = check_name(last_name, "/last_name")
        if (first, last) != (self.first_name, self.last_name):
            self._renamed(first_name=first, last_name=last, user_id=user_id)

    @event("Granted", topic="dialogue_engine:User.Granted")
    def _granted(
        self,
        grant_id: str,
        type: str,
        project_id: str | None,
        dialogue_id: str | None,
        user_id: str,
    ) -> None:
        self.grants = [
            *self.grants,
            {"id": grant_id, "type": type, "project_id": project_id, "dialogue_id": dialogue_id},
        ]

    @event("Revoked", topic="dialogue_engine:User.Revoked")
    def _revoked(self, grant_id: str, user_id: str) -> None:
        self.grants = [g for g in self.grants if g["id"] != grant_id]

    @event("PasswordChanged", topic="dialogue_engine:User.PasswordChanged")
    def _password_changed(self, password_hash: str, user_id: str) -> None:
        self.password_hash = password_hash
        self.password_serial = self.password_serial + 1

    @event("PasswordReset", topic="dialogue_engine:User.PasswordReset")
    def _password_reset(self, password_hash: str, reset_id: str, user_id: str) -> None:
        self.password_hash = password_hash
        self.password_serial = self.password_serial + 1
        self.token_generation = self.token_generation + 1

    @event("Renamed", topic="dialogue_engine:User.Renamed")
    def _renamed(self, first_name: str, last_name: str, user_id: str) -> None:
        self.first_name = first_name
        self.last_name = last_name


class EmailClaim(EngineAggregate):
    """Exists while an account uses this email; its id is derived from the email."""

    TOPIC = "dialogue_engine:EmailClaim"

    class Created(Aggregate.Created):
        TOPIC = "dialogue_engine:EmailClaim.Created"
        email: str
        owner_id: str

    class Snapshot(BaseSnapshot):
        TOPIC = "dialogue_engine:EmailClaim.Snapshot"

    @staticmethod
    def create_id(email: str) -> UUID:
        return email_claim_id(email)

    @event(Created)
    def __init__(self, email: str, owner_id: str) -> None:
        self.email = email
        self.owner_id = owner_id


class UserDirectory(EngineAggregate):
    """A marker created with the first user: the store has users once it exists."""

    TOPIC = "dialogue_engine:UserDirectory"

    class Created(Aggregate.Created):
        TOPIC = "dialogue_engine:UserDirectory.Created"
        first_user_id: str

    class Snapshot(BaseSnapshot):
        TOPIC = "dialogue_engine:UserDirectory.Snapshot"

    @staticmethod
    def create_id() -> UUID:
        return user_directory_id()

    @event(Created)
    def __init__(self, first_user_id: str) -> None:
        self.first_user_id = first_user_id


class Credential(EngineAggregate):
    """A bearer token or an API key of one user, known only by its secret's hash."""

    TOPIC = "dialogue_engine:Credential"

    class Created(Aggregate.Created):
        TOPIC = "dialogue_engine:Credential.Created"
        class_version = 2
        """v2: ``generation``, the owner's token generation at issue (v1 events: 0)."""
        secret_hash: str
        owner_id: str
        kind: str
        name: str
        created: int
        expires: int | None
        generation: int

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["generation"] = 0

    class Snapshot(BaseSnapshot):
        TOPIC = "dialogue_engine:Credential.Snapshot"

    @staticmethod
    def create_id(secret_hash: str) -> UUID:
        return credential_id(secret_hash)

    @event(Created)
    def __init__(
        self,
        secret_hash: str,
        owner_id: str,
        kind: str,
        name: str,
        created: int,
        expires: int | None,
        generation: int,
    ) -> None:
        self.secret_hash = secret_hash
        self.owner_id = owner_id
        self.kind = kind
        self.name = name
        self.created = created
        self.expires = expires
        self.generation = generation
        self.revoked = False

    generation = 0
    """The owner's ``token_generation`` when issued (a class default for old snapshots).

    A token whose generation is not its owner's current one was issued before
    a password reset and no longer authenticates. Comparing generations, not
    timestamps, leaves no same-millisecond window and no race: a token issued
    from a stale read of the user carries the old generation and is void.
    """

    @classmethod
    def issue(
        cls,
        secret_hash: str,
        *,
        owner_id: str,
        kind: str,
        name: object = "",
        ttl_ms: int | None = None,
        generation: int = 0,
    ) -> Credential:
        created = now_ms()
        return cls(
            secret_hash=secret_hash,
            owner_id=owner_id,
            kind=kind,
            name=check_name(name, "/name"),
            created=created,
            expires=None if ttl_ms is None else created + ttl_ms,
            generation=generation,
        )

    def is_valid_at(self, now: int) -> bool:
        return not self.revoked and (self.expires is None or now < self.expires)

    def authenticates_at(self, now: int, owner: User) -> bool:
        """Valid at ``now`` for ``owner`` as it is now: a token also needs the owner's
        current token generation (a password reset ends tokens; API keys stay)."""
        if self.kind == TOKEN and self.generation != owner.token_generation:
            return False
        return self.is_valid_at(now)

    def revoke(self, *, user_id: str) -> None:
        if not self.revoked:
            self._revoked(user_id=user_id)

    @event("Revoked", topic="dialogue_engine:Credential.Revoked")
    def _revoked(self, user_id: str) -> None:
        self.revoked = True
