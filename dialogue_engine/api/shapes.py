"""Engine records shaped as source 002 shows them: field names, ``url`` members.

Also the read-only members of each resource, which request bodies may not set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .responses import splice_object

if TYPE_CHECKING:
    from ..accounts import CredentialRecord, IssuedCredential, PermissionRecord, UserRecord
    from ..domain.blocktypes import BlockType
    from ..domain.dialogue import Revision
    from ..engine import DialogueRecord, DialogueSummary, ProjectRecord, ReleaseRecord

PROJECT_READ_ONLY = frozenset({"id", "url", "dialogues"})
DIALOGUE_READ_ONLY = frozenset(
    {"id", "url", "revision_id", "is_published", "has_changes", "can_view", "can_edit"}
)
RELEASE_READ_ONLY = frozenset({"id", "url", "number", "created"})


def project_url(project_id: str) -> str:
    return f"/projects/{project_id}"


def dialogue_url(project_id: str, dialogue_id: str) -> str:
    return f"/projects/{project_id}/dialogues/{dialogue_id}"


def revision_url(project_id: str, dialogue_id: str, revision_id: str) -> str:
    return f"{dialogue_url(project_id, dialogue_id)}/revisions/{revision_id}"


def release_url(project_id: str, dialogue_id: str, release_id: str) -> str:
    return f"{dialogue_url(project_id, dialogue_id)}/releases/{release_id}"


def project_summary(project: ProjectRecord) -> dict[str, Any]:
    return {
        "id": project.id,
        "url": project_url(project.id),
        "title": project.title,
        "is_archived": project.is_archived,
    }


def project(project: ProjectRecord, dialogues: list[DialogueSummary]) -> dict[str, Any]:
    return {**project_summary(project), "dialogues": [dialogue_summary(d) for d in dialogues]}


def dialogue_summary(dialogue: DialogueSummary) -> dict[str, Any]:
    return {
        "id": dialogue.id,
        "url": dialogue_url(dialogue.project_id, dialogue.id),
        "revision_id": dialogue.revision_id,
        "title": dialogue.title,
        "is_archived": dialogue.is_archived,
        "is_published": dialogue.is_published,
        "has_changes": dialogue.has_changes,
        "can_view": dialogue.can_view,
        "can_edit": dialogue.can_edit,
    }


def dialogue_bytes(dialogue: DialogueRecord) -> bytes:
    """The dialogue's JSON: its flags spliced before the cached description bytes."""
    flags = {
        "id": dialogue.id,
        "url": dialogue_url(dialogue.project_id, dialogue.id),
        "revision_id": dialogue.revision_id,
        "is_published": dialogue.is_published,
        "has_changes": dialogue.has_changes,
        "can_view": dialogue.can_view,
        "can_edit": dialogue.can_edit,
    }
    return splice_object(flags, dialogue.document)


def revision(project_id: str, dialogue_id: str, revision: Revision) -> dict[str, Any]:
    return {
        "id": revision.id,
        "url": revision_url(project_id, dialogue_id, revision.id),
        "number": revision.number,
        "user_id": revision.user_id,
        "created": revision.created,
        "type": revision.type,
        "details": revision.details,
        "properties": revision.properties,
    }


def release(project_id: str, dialogue_id: str, release: ReleaseRecord) -> dict[str, Any]:
    return {
        "id": release.id,
        "url": release_url(project_id, dialogue_id, release.id),
        "number": release.number,
        "revision_id": release.revision_id,
        "created": release.created,
        "templates": dict(release.templates),
    }


def permission(permission: PermissionRecord) -> dict[str, Any]:
    scope = {"project_id": permission.project_id, "dialogue_id": permission.dialogue_id}
    return {
        "id": permission.id,
        "type": permission.type,
        "properties": {key: value for key, value in scope.items() if value is not None},
    }


def user(user: UserRecord) -> dict[str, Any]:
    return {
        "id": user.id,
        "url": f"/users/{user.id}",
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "permissions": [permission(p) for p in user.permissions],
    }


def token_url(token_id: str) -> str:
    return f"/auth/tokens/{token_id}"


def api_key_url(key_id: str) -> str:
    return f"/user/api-keys/{key_id}"


def credential(credential: CredentialRecord) -> dict[str, Any]:
    url = token_url if credential.kind == "token" else api_key_url
    shaped = {
        "id": credential.id,
        "url": url(credential.id),
        "created": credential.created,
        "expires": credential.expires,
        "is_revoked": credential.revoked,
    }
    if credential.kind != "token":
        shaped["name"] = credential.name
    return shaped


def issued_token(issued: IssuedCredential) -> dict[str, Any]:
    return {**credential(issued.credential), "token": issued.secret}


def issued_api_key(issued: IssuedCredential) -> dict[str, Any]:
    return {**credential(issued.credential), "key": issued.secret}


def block_type(block_type: BlockType) -> dict[str, Any]:
    return {
        "type": block_type.name,
        "description": block_type.description,
        "schema": block_type.schema,
    }
