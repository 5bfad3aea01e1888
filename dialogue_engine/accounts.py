"""The accounts facade: users, grants, sign-in, tokens and API keys.

Every identity write goes through :class:`Accounts` (exposed as
``DialogueEngine.accounts``), so the REST layer, the CLI and embedders share
one set of rules. Passwords are hashed with Argon2id (memory-hard); tokens and
API keys are random secrets of which only the SHA-256 is stored, and a
credential is found by an id derived from that hash: no scan, and the
comparison that follows is constant-time.

Example::

    accounts = engine.accounts
    user = accounts.register("joan@example.org", "s3cret", first_name="Joan")
    issued = accounts.sign_in("joan@example.org", "s3cret")
    actor = accounts.authenticate_token(issued.secret)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, Protocol, TypeVar
from uuid import UUID

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventsourcing.sqlite import SQLiteCursor

from .accountforms import check_user_fields
from .domain import permissions as perms
from .domain.aggregates import EngineAggregate, now_ms
from .domain.dialogue import Dialogue
from .domain.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from .domain.jsonvalue import JSON
from .domain.paging import Page, PageRequest
from .domain.patching import apply_patch, check_patch
from .domain.permissions import SYSTEM, Actor, Grant
from .domain.project import Project
from .domain.user import (
    API_KEY,
    TOKEN,
    AuthenticationFailed,
    Credential,
    EmailClaim,
    User,
    UserDirectory,
    check_grant,
    credential_id,
    email_claim_id,
    normalise_email,
    user_directory_id,
)
from .eventstore.application import DialogueStore, UnitOfWork
from .projections.users import UserRow, UserSummaries
from .throttle import Throttle

A = TypeVar("A", bound=EngineAggregate)
T = TypeVar("T")

ACTOR_CACHE_SIZE = 10_000
TOKEN_TTL_MS = 24 * 60 * 60 * 1000
MIN_PASSWORD_LENGTH = 8
DEFAULT_ADMIN_EMAIL = "admin@localhost"


class ViewReader(Protocol):
    """Runs a query on the read models once they hold this process's writes (the engine's)."""

    def __call__(self, query: Callable[[SQLiteCursor], T]) -> T: ...


@dataclass(frozen=True)
class PermissionRecord:
    id: str
    type: str
    project_id: str | None
    dialogue_id: str | None


@dataclass(frozen=True)
class UserRecord:
    id: str
    email: str
    first_name: str
    last_name: str
    permissions: tuple[PermissionRecord, ...]


@dataclass(frozen=True)
class CredentialRecord:
    """A token or API key without its secret."""

    id: str
    kind: str
    name: str
    created: int
    expires: int | None
    revoked: bool


@dataclass(frozen=True)
class IssuedCredential:
    """A new token or key: ``secret`` is shown this once and never stored."""

    credential: CredentialRecord
    secret: str


class Accounts:
    def __init__(
        self,
        store: DialogueStore,
        *,
        hasher: PasswordHasher | None = None,
        token_ttl_ms: int = TOKEN_TTL_MS,
        clock: Callable[[], int] = now_ms,
        login_throttle: Throttle | None = None,
        read_views: ViewReader | None = None,
    ) -> None:
        self.store = store
        self.hasher = hasher or PasswordHasher()
        self.token_ttl_ms = token_ttl_ms
        self.clock = clock
        self._actors: dict[tuple[UUID, int], Actor] = {}
        self.login_throttle = login_throttle or Throttle.for_logins(clock=self._now)
        """Failed sign-ins (and wrong old passwords) per email: then 429 for a while."""
        self.read_views = read_views

    def _now(self) -> int:
        """``clock()``, looked up on each call so a clock set later (tests) counts."""
        return self.clock()

    @cached_property
    def _decoy_hash(self) -> str:
        """Verified against when the email is unknown, so sign-in takes as long either way."""
        return self.hasher.hash(secrets.token_urlsafe(16))

    # Users

    def has_users(self) -> bool:
        return self._find(user_directory_id(), UserDirectory) is not None

    def register(
        self,
        email: str,
        password: str,
        *,
        first_name: str = "",
        last_name: str = "",
        admin: bool = False,
        actor: Actor = SYSTEM,
    ) -> UserRecord:
        """Create a user (needs ``admin``); with ``admin`` it holds the admin permission."""
        if not actor.is_admin:
            raise PermissionDenied("create", "users")
        return self._register(email, password, first_name, last_name, admin, actor.user_id)

    def bootstrap_admin(
        self, email: str | None, password: str | None
    ) -> tuple[UserRecord, str] | None:
        """On a store without users, create an admin: (admin, its password); else None.

        Without ``password`` a random one is made and returned, to be shown once.
        Checked and created in one save, so of several processes starting on an
        empty store exactly one creates the admin.
        """
        if self.has_users():
            return None
        chosen = password or secrets.token_urlsafe(18)
        record = self._register_or_none(
            email or DEFAULT_ADMIN_EMAIL, chosen, "", "", True, SYSTEM.user_id, only_if_first=True
        )
        return None if record is None else (record, chosen)

    def _register(
        self,
        email: str,
        password: str,
        first_name: str,
        last_name: str,
        admin: bool,
        by: str,
    ) -> UserRecord:
        record = self._register_or_none(email, password, first_name, last_name, admin, by)
        assert record is not None
        return record

    def _register_or_none(
        self,
        email: str,
        password: str,
        first_name: str,
        last_name: str,
        admin: bool,
        by: str,
        *,
        only_if_first: bool = False,
    ) -> UserRecord | None:
        email = normalise_email(email)
        password_hash = self.hasher.hash(check_password(password))

        def command(unit: UnitOfWork) -> User | None:
            directory = unit.find(user_directory_id(), UserDirectory)
            if only_if_first and directory is not None:
                return None
            if unit.find(email_claim_id(email), EmailClaim) is not None:
                raise ValidationFailed(
                    [FieldError("unique", "/email", f"{email!r} is already registered")]
                )
            user = unit.add(
                User.register(
                    email, password_hash, first_name=first_name, last_name=last_name, user_id=by
                )
            )
            unit.add(EmailClaim(email=email, owner_id=str(user.id)))
            if directory is None:
                unit.add(UserDirectory(first_user_id=str(user.id)))
            if admin:
                user.grant(perms.ADMIN, user_id=by)
            return user

        user = self.store.write(command)
        return None if user is None else _user_record(user)

    def get_user(self, user_id: str, *, actor: Actor) -> UserRecord:
        """A user as seen by ``actor``: itself, or anyone for an admin."""
        if user_id != actor.user_id and not actor.is_admin:
            raise NotFound("User", user_id)
        return _user_record(self._user(user_id))

    def list_users(self, *, actor: Actor, page: int = 1, per_page: int = 30) -> Page[UserRow]:
        """Every user in creation order, without permissions (needs ``admin``)."""
        if not actor.is_admin:
            raise PermissionDenied("list", "users")
        request = PageRequest(page, per_page)
        if self.read_views is None:
            raise RuntimeError("listing users needs the engine's read models")
        rows, total = self.read_views(
            lambda cursor: UserSummaries.query(cursor, request.offset, request.per_page)
        )
        return Page(rows, total, request.page, request.per_page)

    def replace_user(self, user_id: str, fields: JSON, *, actor: Actor) -> UserRecord:
        """Set ``first_name`` and ``last_name`` (one left out becomes empty).

        The user itself or an admin; the email cannot be changed.
        """
        checked = check_user_fields(fields)
        return self._change_user(user_id, actor, lambda user: _rename(user, checked, actor))

    def patch_user(self, user_id: str, patch: JSON, *, actor: Actor) -> UserRecord:
        """Apply an RFC 6902 patch to ``{first_name, last_name}``, all or nothing."""
        errors = check_patch(patch)
        if errors:
            raise ValidationFailed(errors, "Invalid JSON patch")

        def change(user: User) -> None:
            current = {"first_name": user.first_name, "last_name": user.last_name}
            _rename(user, check_user_fields(apply_patch(current, patch)), actor)

        return self._change_user(user_id, actor, change)

    def _change_user(
        self, user_id: str, actor: Actor, change: Callable[[User], None]
    ) -> UserRecord:
        if not perms.can_see_user(actor, user_id):
            raise NotFound("User", user_id)

        def command(unit: UnitOfWork) -> User:
            user = self._user_for_change(unit, user_id)
            change(user)
            return user

        return _user_record(self.store.write(command))

    def grant(
        self,
        user_id: str,
        type: str,
        *,
        project_id: str | None = None,
        dialogue_id: str | None = None,
        actor: Actor = SYSTEM,
    ) -> PermissionRecord:
        """Give a user one of the seven permissions, as :func:`~.permissions.can_grant` allows.

        An admin grants anything; a project admin the project- and dialogue-scoped
        types inside its own projects; nobody else grants. The project (and the
        dialogue, inside that project) must exist. An equal grant is returned again.
        """
        if not perms.may_see_grants_of(actor, user_id):
            raise NotFound("User", user_id)
        wanted = check_grant(type, project_id, dialogue_id)
        if not perms.can_grant(actor, wanted):
            raise PermissionDenied("grant", f"{wanted.type} permissions")
        self._check_scope_exists(wanted)

        def command(unit: UnitOfWork) -> tuple[User, str]:
            user = self._user_for_change(unit, user_id)
            grant_id = user.grant(
                type, project_id=project_id, dialogue_id=dialogue_id, user_id=actor.user_id
            )
            return user, grant_id

        user, grant_id = self.store.write(command)
        return next(p for p in _user_record(user).permissions if p.id == grant_id)

    def revoke(self, user_id: str, grant_id: str, *, actor: Actor = SYSTEM) -> PermissionRecord:
        """Take a permission back: whoever could grant it may; nobody their own ``admin``
        (another admin can), so an administrator cannot lock the last one out by mistake."""
        found = self.get_permission(user_id, grant_id, actor=actor)
        if not perms.can_grant(actor, _grant_of(found)):
            raise PermissionDenied("revoke", f"{found.type} permissions")
        if found.type == perms.ADMIN and user_id == actor.user_id:
            raise PermissionDenied("revoke", "your own admin permission")

        def command(unit: UnitOfWork) -> dict[str, Any]:
            return self._user_for_change(unit, user_id).revoke(grant_id, user_id=actor.user_id)

        return _permission_record(self.store.write(command))

    def list_permissions(self, user_id: str, *, actor: Actor) -> list[PermissionRecord]:
        """The user's permissions ``actor`` may see: its own, all for an admin, and for a
        project admin those inside its projects (another user's are otherwise not found)."""
        if not perms.may_see_grants_of(actor, user_id):
            raise NotFound("User", user_id)
        permissions = _user_record(self._user(user_id)).permissions
        return [p for p in permissions if perms.can_see_grant(actor, user_id, _grant_of(p))]

    def get_permission(self, user_id: str, grant_id: str, *, actor: Actor) -> PermissionRecord:
        for permission in self.list_permissions(user_id, actor=actor):
            if permission.id == grant_id:
                return permission
        raise NotFound("Permission", grant_id, user_id=user_id)

    def _check_scope_exists(self, grant: Grant) -> None:
        if grant.project_id is not None and self._find_by(grant.project_id, Project) is None:
            raise ValidationFailed(
                [
                    FieldError(
                        "unknown",
                        "/properties/project_id",
                        f"project {grant.project_id} does not exist",
                    )
                ]
            )
        if grant.dialogue_id is not None:
            dialogue = self._find_by(grant.dialogue_id, Dialogue)
            if dialogue is None or dialogue.project_id != grant.project_id:
                raise ValidationFailed(
                    [
                        FieldError(
                            "unknown",
                            "/properties/dialogue_id",
                            f"dialogue {grant.dialogue_id} is not in project {grant.project_id}",
                        )
                    ]
                )

    def change_password(self, old_password: str, new_password: str, *, actor: Actor) -> None:
        """Needs the current password; a wrong one counts as a failed sign-in of the email."""
        user = self._user(actor.user_id)
        key = _throttle_key(user.email)
        self.login_throttle.check(key)
        if not self._verify(user.password_hash, old_password):
            self.login_throttle.record(key)
            raise ValidationFailed(
                [FieldError("mismatch", "/old_password", "old_password is not the password")]
            )
        self.login_throttle.clear(key)
        password_hash = self.hasher.hash(check_password(new_password, "/new_password"))
        self.store.write(
            lambda unit: self._user_for_change(unit, actor.user_id).change_password(
                password_hash, user_id=actor.user_id
            )
        )

    def grant_in(self, unit: UnitOfWork, actor: Actor, type: str, **scope: str) -> None:
        """Inside another command's unit of work: grant ``actor``'s user a permission.

        Does nothing for callers without a user (the library's system actor).
        """
        try:
            user_uuid = UUID(actor.user_id)
        except ValueError:
            return
        user = unit.find(user_uuid, User)
        if user is not None:
            user.grant(type, user_id=actor.user_id, **scope)

    # Sign-in, tokens and API keys

    def sign_in(self, email: object, password: object) -> IssuedCredential:
        """A bearer token for the user with this email and password, or 401.

        After ``login_throttle.limit`` failures for one email within its window,
        every attempt for that email is refused (429) until the oldest failure
        leaves the window, whether the email is known or not and before the
        password is looked at.
        """
        key = _throttle_key(email)
        self.login_throttle.check(key)
        user = self._user_by_email(email)
        stored = user.password_hash if user is not None else self._decoy_hash
        if not self._verify(stored, password) or user is None:
            self.login_throttle.record(key)
            raise AuthenticationFailed("Invalid email or password")
        self.login_throttle.clear(key)
        return self._issue(user.id, TOKEN, "", self.token_ttl_ms, user.token_generation)

    def create_api_key(self, *, actor: Actor, name: object = "") -> IssuedCredential:
        """A new API key of ``actor``'s user; it does not expire until revoked."""
        user = self._user(actor.user_id)
        return self._issue(user.id, API_KEY, name, None)

    def get_credential(self, credential_id: str, kind: str, *, actor: Actor) -> CredentialRecord:
        """One of ``actor``'s own tokens or keys (another's is not found)."""
        return _credential_record(self._own_credential(credential_id, kind, actor))

    def revoke_credential(self, credential_id: str, kind: str, *, actor: Actor) -> CredentialRecord:
        found = self._own_credential(credential_id, kind, actor)

        def command(unit: UnitOfWork) -> Credential:
            credential = unit.get(found.id, Credential)
            credential.revoke(user_id=actor.user_id)
            return credential

        return _credential_record(self.store.write(command))

    def authenticate_token(self, secret: str) -> Actor:
        return self._authenticate(secret, TOKEN)

    def authenticate_api_key(self, secret: str) -> Actor:
        return self._authenticate(secret, API_KEY)

    def _authenticate(self, secret: str, kind: str) -> Actor:
        presented = _digest(secret)
        credential = self._find(_credential_id(presented), Credential)
        if (
            credential is None
            or not hmac.compare_digest(credential.secret_hash, presented)
            or credential.kind != kind
        ):
            raise AuthenticationFailed("Invalid or expired credentials")
        user = self._find(_uuid(credential.owner_id), User)
        if user is None or not credential.authenticates_at(self.clock(), user):
            raise AuthenticationFailed("Invalid or expired credentials")
        return self._actor_of(user)

    def _actor_of(self, user: User) -> Actor:
        """The user's actor, rebuilt only when the user changed (every request asks)."""
        key = (user.id, user.version)
        actor = self._actors.get(key)
        if actor is None:
            if len(self._actors) >= ACTOR_CACHE_SIZE:
                self._actors.clear()
            actor = self._actors[key] = user.actor
        return actor

    def _issue(
        self, owner: UUID, kind: str, name: object, ttl_ms: int | None, generation: int = 0
    ) -> IssuedCredential:
        secret = secrets.token_urlsafe(32)
        credential = self.store.write(
            lambda unit: unit.add(
                Credential.issue(
                    _digest(secret),
                    owner_id=str(owner),
                    kind=kind,
                    name=name,
                    ttl_ms=ttl_ms,
                    generation=generation,
                )
            )
        )
        return IssuedCredential(_credential_record(credential), secret)

    def _own_credential(self, credential_id: str, kind: str, actor: Actor) -> Credential:
        try:
            found = self._find(UUID(credential_id), Credential)
        except ValueError:
            found = None
        if found is None or found.owner_id != actor.user_id or found.kind != kind:
            raise NotFound("API key" if kind == API_KEY else "Token", credential_id)
        return found

    # Helpers

    def _verify(self, password_hash: str, password: object) -> bool:
        if type(password) is not str:
            return False
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _user_by_email(self, email: object) -> User | None:
        if type(email) is not str:
            return None
        claim = self._find(email_claim_id(email), EmailClaim)
        return None if claim is None else self._find(UUID(claim.owner_id), User)

    def _user(self, user_id: str) -> User:
        try:
            found = self._find(UUID(user_id), User)
        except ValueError:
            found = None
        if found is None:
            raise NotFound("User", user_id)
        return found

    def _find_by(self, raw_id: str, cls: type[A]) -> A | None:
        try:
            return self._find(UUID(raw_id), cls)
        except ValueError:
            return None

    def _user_for_change(self, unit: UnitOfWork, user_id: str) -> User:
        self._user(user_id)
        return unit.get(UUID(user_id), User)

    def _find(self, aggregate_id: UUID, cls: type[A]) -> A | None:
        try:
            return self.store.get(aggregate_id, cls)
        except NotFound:
            return None


def check_password(password: object, at: str = "/password") -> str:
    if type(password) is not str or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            [
                FieldError(
                    "minLength", at, f"a password has at least {MIN_PASSWORD_LENGTH} characters"
                )
            ]
        )
    return password


def _rename(user: User, fields: dict[str, str], actor: Actor) -> None:
    user.rename(fields["first_name"], fields["last_name"], user_id=actor.user_id)


def _grant_of(permission: PermissionRecord) -> Grant:
    return Grant(permission.type, permission.project_id, permission.dialogue_id)


def _throttle_key(email: object) -> str:
    """One counter per account email, however it is capitalised or padded."""
    return email.strip().lower() if type(email) is str else ""


@lru_cache(maxsize=4096)
def _credential_id(secret_hash: str) -> UUID:
    """Memoised: deriving the id (a uuid5) costs more than the rest of a cached lookup."""
    return credential_id(secret_hash)


@lru_cache(maxsize=4096)
def _uuid(value: str) -> UUID:
    return UUID(value)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _permission_record(grant: dict[str, Any]) -> PermissionRecord:
    return PermissionRecord(grant["id"], grant["type"], grant["project_id"], grant["dialogue_id"])


def _user_record(user: User) -> UserRecord:
    return UserRecord(
        id=str(user.id),
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        permissions=tuple(_permission_record(g) for g in user.grants),
    )


def _credential_record(credential: Credential) -> CredentialRecord:
    return CredentialRecord(
        id=str(credential.id),
        kind=credential.kind,
        name=credential.name,
        created=credential.created,
        expires=credential.expires,
        revoked=credential.revoked,
    )
