"""Pure rules of issue 4: reset tokens, channels, token generations and who may grant what."""

from __future__ import annotations

import pytest

from dialogue_engine.domain.channels import Channel, channel_id
from dialogue_engine.domain.errors import ValidationFailed
from dialogue_engine.domain.permissions import Actor, Grant, can_grant, can_see_grant
from dialogue_engine.domain.resets import PasswordReset
from dialogue_engine.domain.user import API_KEY, TOKEN, Credential, User

HOUR = 3_600_000


def user() -> User:
    return User.register("joan@example.org", "hash-1", user_id="system")


def reset_for(owner: User, now: int = 0) -> PasswordReset:
    return PasswordReset.issue("a" * 64, owner=owner, now=now, ttl_ms=HOUR, user_id="anonymous")


def error_type(failure: pytest.ExceptionInfo[ValidationFailed]) -> tuple[str, str]:
    return failure.value.errors[0].type, failure.value.errors[0].path


def test_a_reset_token_works_once() -> None:
    owner = user()
    reset = reset_for(owner)
    reset.use(now=1, owner=owner, user_id=str(owner.id))
    with pytest.raises(ValidationFailed) as failure:
        reset.use(now=2, owner=owner, user_id=str(owner.id))
    assert error_type(failure) == ("used", "/token")


def test_a_reset_token_expires_after_its_lifetime() -> None:
    owner = user()
    reset = reset_for(owner, now=10)
    reset.check_usable(10 + HOUR - 1, owner)
    with pytest.raises(ValidationFailed) as failure:
        reset.check_usable(10 + HOUR, owner)
    assert error_type(failure) == ("expired", "/token")


def test_a_password_change_supersedes_earlier_reset_tokens() -> None:
    owner = user()
    reset = reset_for(owner)
    owner.change_password("hash-2", user_id=str(owner.id))
    with pytest.raises(ValidationFailed) as failure:
        reset.check_usable(1, owner)
    assert error_type(failure) == ("superseded", "/token")


def test_a_password_reset_ends_tokens_issued_before_it_but_not_api_keys() -> None:
    owner = user()
    token = Credential.issue(
        "t" * 64, owner_id=str(owner.id), kind=TOKEN, ttl_ms=HOUR, generation=owner.token_generation
    )
    key = Credential.issue(
        "k" * 64, owner_id=str(owner.id), kind=API_KEY, generation=owner.token_generation
    )
    now = token.created
    assert token.authenticates_at(now, owner) and key.authenticates_at(now, owner)
    owner.reset_password("hash-2", reset_id="r", user_id=str(owner.id))
    assert not token.authenticates_at(now, owner)
    assert key.authenticates_at(now, owner)
    later = Credential.issue(
        "u" * 64, owner_id=str(owner.id), kind=TOKEN, ttl_ms=HOUR, generation=owner.token_generation
    )
    assert later.authenticates_at(now, owner)


def test_credentials_stored_before_generations_read_as_generation_zero() -> None:
    state = {"secret_hash": "x"}
    Credential.Created.upcast_v1_v2(state)
    assert state["generation"] == 0


def test_a_channel_holds_one_project_and_unchanged_assignments_record_nothing() -> None:
    channel = Channel.start(
        title="@foo", address=" @foo ", channel_type="twitter", provider_id="p", user_id="admin"
    )
    assert channel.address == "@foo" and channel.id == channel_id("twitter", "@foo")
    channel.assign("p1", user_id="admin")
    channel.assign("p2", user_id="admin")
    channel.assign("p2", user_id="admin")
    channel.assign(None, user_id="admin")
    names = [type(e).__name__ for e in channel.collect_events()]
    assert names == ["Created", "Assigned", "Assigned", "Unassigned"]
    assert channel.project_id is None
    with pytest.raises(ValidationFailed):
        channel.assign(17, user_id="admin")


def test_a_channel_reports_every_bad_field_at_once() -> None:
    with pytest.raises(ValidationFailed) as failure:
        Channel.start(
            title="",
            address="",
            channel_type="No!",
            provider_id="p",
            is_available="yes",
            user_id="admin",
        )
    assert {e.path for e in failure.value.errors} == {
        "/title",
        "/address",
        "/type",
        "/is_available",
    }


ADMIN = Actor("a", (Grant("admin"),))
PROJECT_ADMIN = Actor("b", (Grant("project:admin", "p1"),))
WRITER = Actor("c", (Grant("project:dialogues:write", "p1"),))


@pytest.mark.parametrize(
    ("grant", "admin", "project_admin", "writer"),
    [
        (Grant("admin"), True, False, False),
        (Grant("projects:create"), True, False, False),
        (Grant("project:admin", "p1"), True, True, False),
        (Grant("project:admin", "p2"), True, False, False),
        (Grant("project:dialogues:read", "p1"), True, True, False),
        (Grant("dialogue:write", "p1", "d1"), True, True, False),
        (Grant("dialogue:read", "p2", "d2"), True, False, False),
    ],
)
def test_who_may_grant_what(grant: Grant, admin: bool, project_admin: bool, writer: bool) -> None:
    assert (can_grant(ADMIN, grant), can_grant(PROJECT_ADMIN, grant), can_grant(WRITER, grant)) == (
        admin,
        project_admin,
        writer,
    )


def test_a_user_sees_its_own_grants_and_a_project_admin_those_it_could_give() -> None:
    assert can_see_grant(WRITER, "c", Grant("admin"))
    assert can_see_grant(PROJECT_ADMIN, "x", Grant("project:dialogues:read", "p1"))
    assert not can_see_grant(PROJECT_ADMIN, "x", Grant("project:dialogues:read", "p2"))
