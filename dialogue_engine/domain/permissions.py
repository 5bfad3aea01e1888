"""Who may do what: the nine permission types of the dialogue contract.

- ``admin``: everything, everywhere.
- ``projects:create``: create projects (the creator then holds
  ``project:admin`` on each project it creates).
- ``project:admin``: read, write, create, archive and publish (release) the
  dialogues of one project, and edit the project itself.
- ``project:dialogues:read`` / ``project:dialogues:write``: read / write every
  dialogue of one project.
- ``dialogue:read`` / ``dialogue:write``: read / write one dialogue.
- ``project:dialogues:execute`` / ``dialogue:execute``: submit the sequences of every
  dialogue of one project / of one dialogue, and answer their runs (source 004's
  executor role; admins and project admins hold it implicitly). Executing does not
  imply reading.

Write implies read. Seeing a project needs any grant inside it.

Templates follow their project's permissions: any grant inside the project
reads them, ``project:admin`` and ``project:dialogues:write`` write them.
A template without a project is read by every authenticated user and written
by admins only. What a caller
may not see is reported as not found; what it may see but not change is a
permission error. Pure functions over an :class:`Actor`; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ADMIN = "admin"
PROJECTS_CREATE = "projects:create"
PROJECT_ADMIN = "project:admin"
PROJECT_DIALOGUES_READ = "project:dialogues:read"
PROJECT_DIALOGUES_WRITE = "project:dialogues:write"
DIALOGUE_READ = "dialogue:read"
DIALOGUE_WRITE = "dialogue:write"
PROJECT_DIALOGUES_EXECUTE = "project:dialogues:execute"
DIALOGUE_EXECUTE = "dialogue:execute"

PERMISSION_TYPES = (
    ADMIN,
    PROJECTS_CREATE,
    PROJECT_ADMIN,
    PROJECT_DIALOGUES_READ,
    PROJECT_DIALOGUES_WRITE,
    DIALOGUE_READ,
    DIALOGUE_WRITE,
    PROJECT_DIALOGUES_EXECUTE,
    DIALOGUE_EXECUTE,
)
PROJECT_SCOPED = frozenset(
    {PROJECT_ADMIN, PROJECT_DIALOGUES_READ, PROJECT_DIALOGUES_WRITE, PROJECT_DIALOGUES_EXECUTE}
)
DIALOGUE_SCOPED = frozenset({DIALOGUE_READ, DIALOGUE_WRITE, DIALOGUE_EXECUTE})
DIALOGUE_ACCESS = frozenset({DIALOGUE_READ, DIALOGUE_WRITE})
"""The dialogue-scoped grants that read the dialogue (executing one does not)."""


@dataclass(frozen=True)
class Grant:
    type: str
    project_id: str | None = None
    dialogue_id: str | None = None


@dataclass(frozen=True)
class Actor:
    """The caller of an engine command: who it is and what it holds."""

    user_id: str
    grants: tuple[Grant, ...] = field(default=())

    @classmethod
    def system(cls, user_id: str = "system") -> Actor:
        """A trusted caller (the library embedder, the CLI): holds ``admin``."""
        return cls(user_id, (Grant(ADMIN),))

    def holds(
        self, type: str, project_id: str | None = None, dialogue_id: str | None = None
    ) -> bool:
        return any(
            g.type == type
            and (project_id is None or g.project_id == project_id)
            and (dialogue_id is None or g.dialogue_id == dialogue_id)
            for g in self.grants
        )

    @property
    def is_admin(self) -> bool:
        return self.holds(ADMIN)


SYSTEM = Actor.system()


def can_create_project(actor: Actor) -> bool:
    return actor.is_admin or actor.holds(PROJECTS_CREATE)


def can_see_project(actor: Actor, project_id: str) -> bool:
    return actor.is_admin or any(g.project_id == project_id for g in actor.grants)


def can_admin_project(actor: Actor, project_id: str) -> bool:
    """Edit the project, create, archive and release its dialogues."""
    return actor.is_admin or actor.holds(PROJECT_ADMIN, project_id)


def project_read_all(actor: Actor, project_id: str) -> bool:
    return (
        can_admin_project(actor, project_id)
        or actor.holds(PROJECT_DIALOGUES_READ, project_id)
        or actor.holds(PROJECT_DIALOGUES_WRITE, project_id)
    )


def project_write_all(actor: Actor, project_id: str) -> bool:
    return can_admin_project(actor, project_id) or actor.holds(PROJECT_DIALOGUES_WRITE, project_id)


def can_read_dialogue(actor: Actor, project_id: str, dialogue_id: str) -> bool:
    return (
        project_read_all(actor, project_id)
        or actor.holds(DIALOGUE_READ, project_id, dialogue_id)
        or actor.holds(DIALOGUE_WRITE, project_id, dialogue_id)
    )


def can_write_dialogue(actor: Actor, project_id: str, dialogue_id: str) -> bool:
    return project_write_all(actor, project_id) or actor.holds(
        DIALOGUE_WRITE, project_id, dialogue_id
    )


def can_execute_dialogue(actor: Actor, project_id: str, dialogue_id: str) -> bool:
    """Submit the dialogue's sequences and answer its runs (source 004's executor role)."""
    return (
        can_admin_project(actor, project_id)
        or actor.holds(PROJECT_DIALOGUES_EXECUTE, project_id)
        or actor.holds(DIALOGUE_EXECUTE, project_id, dialogue_id)
    )


def readable_dialogues(actor: Actor, project_id: str) -> frozenset[str] | None:
    """The dialogue ids ``actor`` may read in the project; ``None`` means all of them."""
    if project_read_all(actor, project_id):
        return None
    return frozenset(
        g.dialogue_id
        for g in actor.grants
        if g.type in DIALOGUE_ACCESS and g.project_id == project_id and g.dialogue_id
    )


def writable_dialogues(actor: Actor, project_id: str) -> frozenset[str] | None:
    """The dialogue ids ``actor`` may write in the project; ``None`` means all of them."""
    if project_write_all(actor, project_id):
        return None
    return frozenset(
        g.dialogue_id
        for g in actor.grants
        if g.type == DIALOGUE_WRITE and g.project_id == project_id and g.dialogue_id
    )


def visible_projects(actor: Actor) -> frozenset[str] | None:
    """The project ids ``actor`` may see; ``None`` means all of them."""
    if actor.is_admin:
        return None
    return frozenset(g.project_id for g in actor.grants if g.project_id)


# Users, grants and channels

GRANTABLE_BY_PROJECT_ADMIN = PROJECT_SCOPED | DIALOGUE_SCOPED


def can_see_user(actor: Actor, user_id: str) -> bool:
    """A user's description: the user itself, or an admin (to anyone else it is not found)."""
    return actor.is_admin or actor.user_id == user_id


def administers_any_project(actor: Actor) -> bool:
    return any(g.type == PROJECT_ADMIN for g in actor.grants)


def can_grant(actor: Actor, grant: Grant) -> bool:
    """Grant or revoke ``grant``: an admin anything; a project admin the project- and
    dialogue-scoped types inside a project it administers; nobody else.

    So nobody hands out more than they hold: ``admin`` and ``projects:create``
    come only from an admin, and a project admin's reach ends at its projects.
    """
    if actor.is_admin:
        return True
    return (
        grant.type in GRANTABLE_BY_PROJECT_ADMIN
        and grant.project_id is not None
        and actor.holds(PROJECT_ADMIN, grant.project_id)
    )


def can_see_grant(actor: Actor, owner_id: str, grant: Grant) -> bool:
    """One of a user's permissions, as source 002 lists "the permissions accessible to
    the authenticating user": its own, all for an admin, those a project admin could grant."""
    return actor.user_id == owner_id or can_grant(actor, grant)


def may_see_grants_of(actor: Actor, owner_id: str) -> bool:
    """Whether ``actor`` may list another user's permissions at all (else not found)."""
    return can_see_user(actor, owner_id) or administers_any_project(actor)


def can_see_channel(actor: Actor, project_id: str | None) -> bool:
    """A channel: an admin, or whoever has access to the project using it."""
    return actor.is_admin or (project_id is not None and can_see_project(actor, project_id))


def can_read_template(actor: Actor, project_id: str | None) -> bool:
    return project_id is None or can_see_project(actor, project_id)


def can_write_template(actor: Actor, project_id: str | None) -> bool:
    if project_id is None:
        return actor.is_admin
    return project_write_all(actor, project_id)
