"""The nine permission types against every check, in one table."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dialogue_engine.domain import permissions as perms
from dialogue_engine.domain.permissions import Actor, Grant

P, OTHER_P = "p1", "p2"
D, OTHER_D = "d1", "d2"

GRANTS = {
    perms.ADMIN: Grant(perms.ADMIN),
    perms.PROJECTS_CREATE: Grant(perms.PROJECTS_CREATE),
    perms.PROJECT_ADMIN: Grant(perms.PROJECT_ADMIN, P),
    perms.PROJECT_DIALOGUES_READ: Grant(perms.PROJECT_DIALOGUES_READ, P),
    perms.PROJECT_DIALOGUES_WRITE: Grant(perms.PROJECT_DIALOGUES_WRITE, P),
    perms.DIALOGUE_READ: Grant(perms.DIALOGUE_READ, P, D),
    perms.DIALOGUE_WRITE: Grant(perms.DIALOGUE_WRITE, P, D),
    perms.PROJECT_DIALOGUES_EXECUTE: Grant(perms.PROJECT_DIALOGUES_EXECUTE, P),
    perms.DIALOGUE_EXECUTE: Grant(perms.DIALOGUE_EXECUTE, P, D),
}

CHECKS: dict[str, Callable[[Actor], bool]] = {
    "create project": perms.can_create_project,
    "see project": lambda a: perms.can_see_project(a, P),
    "see other project": lambda a: perms.can_see_project(a, OTHER_P),
    "admin project": lambda a: perms.can_admin_project(a, P),
    "admin other project": lambda a: perms.can_admin_project(a, OTHER_P),
    "read all dialogues": lambda a: perms.project_read_all(a, P),
    "write all dialogues": lambda a: perms.project_write_all(a, P),
    "read dialogue": lambda a: perms.can_read_dialogue(a, P, D),
    "write dialogue": lambda a: perms.can_write_dialogue(a, P, D),
    "read other dialogue": lambda a: perms.can_read_dialogue(a, P, OTHER_D),
    "write other dialogue": lambda a: perms.can_write_dialogue(a, P, OTHER_D),
    "read dialogue of other project": lambda a: perms.can_read_dialogue(a, OTHER_P, D),
    "write dialogue of other project": lambda a: perms.can_write_dialogue(a, OTHER_P, D),
    "execute dialogue": lambda a: perms.can_execute_dialogue(a, P, D),
    "execute other dialogue": lambda a: perms.can_execute_dialogue(a, P, OTHER_D),
    "execute dialogue of other project": lambda a: perms.can_execute_dialogue(a, OTHER_P, D),
}

# One row per permission type, one column per check above, in order.
T, F = True, False
EXPECTED = {
    perms.ADMIN: (T, T, T, T, T, T, T, T, T, T, T, T, T, T, T, T),
    perms.PROJECTS_CREATE: (T, F, F, F, F, F, F, F, F, F, F, F, F, F, F, F),
    perms.PROJECT_ADMIN: (F, T, F, T, F, T, T, T, T, T, T, F, F, T, T, F),
    perms.PROJECT_DIALOGUES_READ: (F, T, F, F, F, T, F, T, F, T, F, F, F, F, F, F),
    perms.PROJECT_DIALOGUES_WRITE: (F, T, F, F, F, T, T, T, T, T, T, F, F, F, F, F),
    perms.DIALOGUE_READ: (F, T, F, F, F, F, F, T, F, F, F, F, F, F, F, F),
    perms.DIALOGUE_WRITE: (F, T, F, F, F, F, F, T, T, F, F, F, F, F, F, F),
    perms.PROJECT_DIALOGUES_EXECUTE: (F, T, F, F, F, F, F, F, F, F, F, F, F, T, T, F),
    perms.DIALOGUE_EXECUTE: (F, T, F, F, F, F, F, F, F, F, F, F, F, T, F, F),
}


def test_the_table_covers_the_nine_permission_types() -> None:
    assert set(EXPECTED) == set(GRANTS) == set(perms.PERMISSION_TYPES)
    assert len(perms.PERMISSION_TYPES) == 9


@pytest.mark.parametrize("grant_type", perms.PERMISSION_TYPES)
@pytest.mark.parametrize("check", CHECKS)
def test_each_permission_type_against_each_check(grant_type: str, check: str) -> None:
    actor = Actor("u1", (GRANTS[grant_type],))
    expected = EXPECTED[grant_type][list(CHECKS).index(check)]
    assert CHECKS[check](actor) is expected


@pytest.mark.parametrize("check", CHECKS)
def test_an_actor_without_grants_may_do_nothing(check: str) -> None:
    assert CHECKS[check](Actor("nobody")) is False


@pytest.mark.parametrize(
    ("grant_type", "readable", "writable"),
    [
        (perms.ADMIN, None, None),
        (perms.PROJECTS_CREATE, frozenset(), frozenset()),
        (perms.PROJECT_ADMIN, None, None),
        (perms.PROJECT_DIALOGUES_READ, None, frozenset()),
        (perms.PROJECT_DIALOGUES_WRITE, None, None),
        (perms.DIALOGUE_READ, frozenset({D}), frozenset()),
        (perms.DIALOGUE_WRITE, frozenset({D}), frozenset({D})),
        (perms.PROJECT_DIALOGUES_EXECUTE, frozenset(), frozenset()),
        (perms.DIALOGUE_EXECUTE, frozenset(), frozenset()),
    ],
)
def test_readable_and_writable_dialogues_of_a_project(
    grant_type: str, readable: frozenset[str] | None, writable: frozenset[str] | None
) -> None:
    actor = Actor("u1", (GRANTS[grant_type],))
    assert perms.readable_dialogues(actor, P) == readable
    assert perms.writable_dialogues(actor, P) == writable
    if grant_type != perms.ADMIN:
        assert perms.readable_dialogues(actor, OTHER_P) == frozenset()
        assert perms.writable_dialogues(actor, OTHER_P) == frozenset()


@pytest.mark.parametrize("grant_type", perms.PERMISSION_TYPES)
def test_visible_projects(grant_type: str) -> None:
    actor = Actor("u1", (GRANTS[grant_type],))
    expected = {
        perms.ADMIN: None,
        perms.PROJECTS_CREATE: frozenset(),
    }.get(grant_type, frozenset({P}))
    assert perms.visible_projects(actor) == expected


def test_grants_add_up() -> None:
    actor = Actor(
        "u1",
        (
            Grant(perms.DIALOGUE_READ, P, D),
            Grant(perms.DIALOGUE_WRITE, P, OTHER_D),
            Grant(perms.PROJECT_DIALOGUES_READ, OTHER_P),
        ),
    )
    assert perms.readable_dialogues(actor, P) == frozenset({D, OTHER_D})
    assert perms.writable_dialogues(actor, P) == frozenset({OTHER_D})
    assert perms.can_read_dialogue(actor, OTHER_P, "any")
    assert not perms.can_write_dialogue(actor, OTHER_P, "any")
    assert perms.visible_projects(actor) == frozenset({P, OTHER_P})


def test_a_dialogue_grant_is_bound_to_its_project() -> None:
    actor = Actor("u1", (Grant(perms.DIALOGUE_WRITE, OTHER_P, D),))
    assert not perms.can_read_dialogue(actor, P, D)
    assert not perms.can_write_dialogue(actor, P, D)


def test_the_system_actor_is_an_admin() -> None:
    assert perms.SYSTEM.is_admin
    assert Actor.system("cli").user_id == "cli"
    assert Actor.system().is_admin
    assert not Actor("u1", (GRANTS[perms.PROJECT_ADMIN],)).is_admin
