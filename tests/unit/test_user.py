"""Identity: users and their grants, email claims, credentials."""

from __future__ import annotations

from typing import Any

import pytest

from dialogue_engine.domain import permissions as perms
from dialogue_engine.domain.errors import NotFound, ValidationFailed
from dialogue_engine.domain.permissions import Grant
from dialogue_engine.domain.user import (
    API_KEY,
    TOKEN,
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


def registered(**kwargs: Any) -> User:
    user = User.register("Ada@Example.org", "hash-1", user_id="admin", **kwargs)
    user.collect_events()
    return user


def error_keys_of(call: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as caught:
        call()
    return sorted((e.type, e.path) for e in caught.value.errors)


@pytest.mark.parametrize(
    ("email", "normalised"),
    [("a@b", "a@b"), ("  Ada@Example.org ", "Ada@Example.org"), ("x.y+z@mail.co", "x.y+z@mail.co")],
)
def test_emails_are_trimmed(email: str, normalised: str) -> None:
    assert normalise_email(email) == normalised


@pytest.mark.parametrize(
    "email", ["", "ada", "a@b@c", "a b@c", "@b", "a@", None, 5, "a@" + "b" * 320]
)
def test_other_emails_are_refused(email: Any) -> None:
    assert error_keys_of(lambda: normalise_email(email)) == [("format", "/email")]


def test_email_claims_ignore_case_and_surrounding_space() -> None:
    assert email_claim_id("Ada@Example.org") == email_claim_id(" ada@example.org")
    assert email_claim_id("ada@example.org") != email_claim_id("bob@example.org")
    claim = EmailClaim(email="Ada@Example.org", owner_id="u1")
    assert claim.id == email_claim_id("ada@example.org")


def test_register_records_the_user_without_grants() -> None:
    user = User.register(" ada@example.org", "hash-1", first_name="Ada", user_id="admin")
    assert (user.email, user.first_name, user.last_name, user.password_hash) == (
        "ada@example.org",
        "Ada",
        "",
        "hash-1",
    )
    assert user.grants == []
    assert user.actor == perms.Actor(str(user.id), ())
    [created] = user.collect_events()
    assert created.user_id == "admin"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"first_name": 5}, [("type", "/first_name")]),
        ({"last_name": "x" * 201}, [("maxLength", "/last_name")]),
    ],
)
def test_register_refuses_bad_names(kwargs: dict[str, Any], expected: list[Any]) -> None:
    assert error_keys_of(lambda: User.register("a@b", "h", user_id="admin", **kwargs)) == expected


def test_a_missing_name_is_empty() -> None:
    assert User.register("a@b", "h", first_name=None, user_id="admin").first_name == ""


@pytest.mark.parametrize(
    ("grant_type", "project_id", "dialogue_id"),
    [
        (perms.ADMIN, None, None),
        (perms.PROJECTS_CREATE, None, None),
        (perms.PROJECT_ADMIN, "p1", None),
        (perms.PROJECT_DIALOGUES_READ, "p1", None),
        (perms.PROJECT_DIALOGUES_WRITE, "p1", None),
        (perms.DIALOGUE_READ, "p1", "d1"),
        (perms.DIALOGUE_WRITE, "p1", "d1"),
    ],
)
def test_each_permission_type_takes_exactly_its_scope(
    grant_type: str, project_id: str | None, dialogue_id: str | None
) -> None:
    assert check_grant(grant_type, project_id, dialogue_id) == Grant(
        grant_type, project_id, dialogue_id
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("owner", None, None), [("enum", "/type")]),
        ((None, None, None), [("enum", "/type")]),
        ((perms.ADMIN, "p1", None), [("additionalProperties", "/properties/project_id")]),
        (
            (perms.PROJECTS_CREATE, None, "d1"),
            [("additionalProperties", "/properties/dialogue_id")],
        ),
        ((perms.PROJECT_ADMIN, None, None), [("required", "/properties/project_id")]),
        ((perms.PROJECT_ADMIN, "", None), [("required", "/properties/project_id")]),
        ((perms.PROJECT_DIALOGUES_READ, 5, None), [("required", "/properties/project_id")]),
        (
            (perms.PROJECT_DIALOGUES_WRITE, "p1", "d1"),
            [("additionalProperties", "/properties/dialogue_id")],
        ),
        ((perms.DIALOGUE_READ, "p1", None), [("required", "/properties/dialogue_id")]),
        (
            (perms.DIALOGUE_WRITE, None, None),
            [("required", "/properties/dialogue_id"), ("required", "/properties/project_id")],
        ),
    ],
)
def test_a_grant_with_the_wrong_scope_is_refused(
    args: tuple[Any, ...], expected: list[Any]
) -> None:
    assert error_keys_of(lambda: check_grant(*args)) == expected


def test_grants_become_the_users_actor_grants() -> None:
    user = registered()
    first = user.grant(perms.PROJECT_ADMIN, project_id="p1", user_id="admin")
    second = user.grant(perms.DIALOGUE_READ, project_id="p2", dialogue_id="d2", user_id="admin")
    assert first != second
    assert user.actor.grants == (
        Grant(perms.PROJECT_ADMIN, "p1"),
        Grant(perms.DIALOGUE_READ, "p2", "d2"),
    )
    assert perms.can_admin_project(user.actor, "p1")
    assert [e.grant_id for e in user.collect_events()] == [first, second]


def test_granting_an_equal_grant_again_reuses_it_and_records_nothing() -> None:
    user = registered()
    grant_id = user.grant(perms.PROJECT_ADMIN, project_id="p1", user_id="admin")
    user.collect_events()
    assert user.grant(perms.PROJECT_ADMIN, project_id="p1", user_id="other") == grant_id
    assert user.collect_events() == []
    assert len(user.grants) == 1


def test_revoke_removes_one_grant() -> None:
    user = registered()
    kept = user.grant(perms.ADMIN, user_id="admin")
    dropped = user.grant(perms.PROJECT_ADMIN, project_id="p1", user_id="admin")
    removed = user.revoke(dropped, user_id="admin")
    assert removed["id"] == dropped
    assert [g["id"] for g in user.grants] == [kept]


def test_revoking_an_unknown_grant_is_not_found() -> None:
    user = registered()
    with pytest.raises(NotFound):
        user.revoke("nope", user_id="admin")
    assert user.collect_events() == []


def test_rename_records_only_a_change() -> None:
    user = registered(first_name="Ada")
    user.rename("Ada", "", user_id="u")
    assert user.collect_events() == []
    user.rename("Ada", "Lovelace", user_id="u")
    assert (user.first_name, user.last_name) == ("Ada", "Lovelace")
    assert len(user.collect_events()) == 1
    with pytest.raises(ValidationFailed):
        user.rename(1, "x", user_id="u")


def test_change_password_replaces_the_hash() -> None:
    user = registered()
    user.change_password("hash-2", user_id="u")
    assert user.password_hash == "hash-2"


def test_replaying_the_events_rebuilds_the_same_user() -> None:
    user = User.register("a@b", "h1", user_id="admin")
    user.grant(perms.ADMIN, user_id="admin")
    removed = user.grant(perms.PROJECTS_CREATE, user_id="admin")
    user.revoke(removed, user_id="admin")
    user.change_password("h2", user_id="admin")
    user.rename("A", "B", user_id="admin")
    rebuilt: Any = None
    for event in user.collect_events():
        rebuilt = event.mutate(rebuilt)
    assert (rebuilt.grants, rebuilt.password_hash, rebuilt.first_name, rebuilt.last_name) == (
        user.grants,
        "h2",
        "A",
        "B",
    )


def test_the_user_directory_has_one_fixed_id() -> None:
    assert UserDirectory(first_user_id="u1").id == user_directory_id() == UserDirectory.create_id()


def test_a_credential_is_found_by_its_secret_hash() -> None:
    credential = Credential.issue("sha-1", owner_id="u1", kind=TOKEN)
    assert credential.id == credential_id("sha-1") != credential_id("sha-2")
    assert (credential.owner_id, credential.kind, credential.name) == ("u1", TOKEN, "")


def test_a_credential_without_ttl_never_expires() -> None:
    credential = Credential.issue("sha-1", owner_id="u1", kind=API_KEY, name="ci")
    assert credential.expires is None
    assert credential.is_valid_at(credential.created + 10**12)


def test_a_credential_expires_after_its_ttl() -> None:
    credential = Credential.issue("sha-1", owner_id="u1", kind=TOKEN, ttl_ms=1000)
    assert credential.expires == credential.created + 1000
    assert credential.is_valid_at(credential.created + 999)
    assert not credential.is_valid_at(credential.created + 1000)


def test_a_revoked_credential_is_invalid_and_revokes_once() -> None:
    credential = Credential.issue("sha-1", owner_id="u1", kind=TOKEN)
    credential.collect_events()
    credential.revoke(user_id="u1")
    credential.revoke(user_id="u1")
    assert not credential.is_valid_at(credential.created)
    assert len(credential.collect_events()) == 1


def test_a_credential_name_is_checked() -> None:
    assert error_keys_of(
        lambda: Credential.issue("sha-1", owner_id="u1", kind=TOKEN, name=["x"])
    ) == [("type", "/name")]
