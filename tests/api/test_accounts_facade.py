"""The accounts facade behind /auth and /user: identity rules without HTTP."""

from __future__ import annotations

import threading
from uuid import UUID

import pytest

from dialogue_engine import DialogueEngine, NotFound, PermissionDenied, ValidationFailed
from dialogue_engine.domain.permissions import Actor
from dialogue_engine.domain.user import AuthenticationFailed, Credential


def test_two_registrations_of_one_email_at_once_leave_exactly_one_account(
    engine: DialogueEngine,
) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def register(i: int) -> None:
        barrier.wait()
        try:
            email = "same@example.org" if i % 2 else "Same@Example.org"
            engine.accounts.register(email, "password-1")
            outcomes.append("created")
        except ValidationFailed as e:
            assert e.errors[0].type == "unique"
            outcomes.append("refused")

    threads = [threading.Thread(target=register, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(outcomes) == ["created", "refused", "refused", "refused"]


def test_bootstrap_creates_one_admin_only_on_an_empty_store(engine: DialogueEngine) -> None:
    assert not engine.accounts.has_users()
    created = engine.accounts.bootstrap_admin(None, None)
    assert created is not None
    user, password = created
    assert user.email == "admin@localhost" and len(password) >= 16
    assert user.permissions[0].type == "admin"
    assert engine.accounts.bootstrap_admin("other@example.org", "password-2") is None


def test_a_store_with_a_user_from_the_shell_gets_no_bootstrap_admin(
    engine: DialogueEngine,
) -> None:
    engine.accounts.register("joan@example.org", "password-1")
    assert engine.accounts.bootstrap_admin(None, None) is None


def test_only_admins_register_users_and_grant(engine: DialogueEngine) -> None:
    user = engine.accounts.register("joan@example.org", "password-1")
    nobody = Actor(user.id)
    with pytest.raises(PermissionDenied):
        engine.accounts.register("x@example.org", "password-1", actor=nobody)
    with pytest.raises(PermissionDenied):
        engine.accounts.grant(user.id, "admin", actor=nobody)


def test_grants_have_ids_are_reused_when_equal_and_can_be_revoked(
    engine: DialogueEngine,
) -> None:
    user = engine.accounts.register("joan@example.org", "password-1")
    p1 = engine.create_project("P1").id
    first = engine.accounts.grant(user.id, "project:admin", project_id=p1)
    again = engine.accounts.grant(user.id, "project:admin", project_id=p1)
    assert first.id == again.id
    engine.accounts.revoke(user.id, first.id)
    assert engine.accounts.get_user(user.id, actor=Actor.system()).permissions == ()
    with pytest.raises(NotFound):
        engine.accounts.revoke(user.id, first.id)


@pytest.mark.parametrize(
    ("type_", "scope"),
    [
        ("superuser", {}),
        ("project:admin", {}),
        ("dialogue:read", {"project_id": "p1"}),
        ("admin", {"project_id": "p1"}),
    ],
)
def test_grants_need_exactly_their_scope(
    engine: DialogueEngine, type_: str, scope: dict[str, str]
) -> None:
    user = engine.accounts.register("joan@example.org", "password-1")
    with pytest.raises(ValidationFailed):
        engine.accounts.grant(user.id, type_, **scope)


def test_creating_a_project_grants_project_admin_in_the_same_save(
    engine: DialogueEngine,
) -> None:
    user = engine.accounts.register("joan@example.org", "password-1")
    engine.accounts.grant(user.id, "projects:create")
    before = engine.store.max_notification_id()
    actor = engine.accounts.authenticate_token(
        engine.accounts.sign_in("joan@example.org", "password-1").secret
    )
    project = engine.create_project("P", actor=actor)
    saved = engine.store.notifications(before, 100)
    (last,) = {n.id for n in saved if n.topic == "dialogue_engine:User.Granted"}
    created = {n.id for n in saved if n.topic == "dialogue_engine:Project.Created"}
    assert created == {last - 1}, "project and grant are consecutive in one save"
    permission = engine.accounts.get_user(user.id, actor=actor).permissions[-1]
    assert (permission.type, permission.project_id) == ("project:admin", project.id)


def test_the_system_actor_creates_projects_without_a_user(engine: DialogueEngine) -> None:
    assert engine.create_project("Library project").title == "Library project"


def test_every_user_event_names_the_acting_user(engine: DialogueEngine) -> None:
    admin = engine.accounts.register("admin@example.org", "password-1", admin=True)
    acting = Actor.system(admin.id)
    user = engine.accounts.register("joan@example.org", "password-1", actor=acting)
    engine.accounts.grant(user.id, "projects:create", actor=acting)
    events = engine.store.events_of(UUID(user.id))
    assert [type(e).__name__ for e in events] == ["Created", "Granted"]
    assert [e.user_id for e in events] == [admin.id, admin.id]


def test_identity_topics_are_stable(engine: DialogueEngine) -> None:
    engine.accounts.bootstrap_admin(None, None)
    topics = {n.topic for n in engine.store.notifications(0, 100)}
    assert {
        "dialogue_engine:User.Created",
        "dialogue_engine:User.Granted",
        "dialogue_engine:EmailClaim.Created",
        "dialogue_engine:UserDirectory.Created",
    } <= topics
    assert Credential.TOPIC == "dialogue_engine:Credential"


def test_wrong_passwords_and_unknown_emails_fail_alike(engine: DialogueEngine) -> None:
    engine.accounts.register("joan@example.org", "password-1")
    for email, password in (("joan@example.org", "wrong-one"), ("who@example.org", "x")):
        with pytest.raises(AuthenticationFailed) as failure:
            engine.accounts.sign_in(email, password)
        assert failure.value.message == "Invalid email or password"


def test_change_password_checks_the_old_one(engine: DialogueEngine) -> None:
    user = engine.accounts.register("joan@example.org", "password-1")
    with pytest.raises(ValidationFailed):
        engine.accounts.change_password("nope-nope", "password-2", actor=Actor(user.id))
    engine.accounts.change_password("password-1", "password-2", actor=Actor(user.id))
    engine.accounts.sign_in("joan@example.org", "password-2")
