"""The dialogue aggregate: every change is a numbered revision.

The aggregate's version *is* the revision number: creation is revision 1 and
each edit or revert adds one, with no gaps. Releases live in their own
aggregate (:mod:`.releases`) so that this stays true.

Each command decides once (checks the patch, applies it copy-on-write,
validates the result, derives timestamps) and only then triggers its event;
the event body just applies the stored patch, so replaying old history never
re-runs today's rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from eventsourcing.domain import Snapshot as BaseSnapshot

from .aggregates import EngineAggregate, check_created, derived_id
from .blocktypes import BlockTypeRegistry
from .description import normalise, require_valid
from .diff import make_patch
from .errors import FieldError, PermissionDenied, ValidationFailed
from .jsonvalue import JSON, json_equal, owned_copy
from .patching import apply_patch, check_patch, defined_members

CREATE_EDIT_TYPE = "create_dialogue"


@lru_cache(maxsize=65_536)
def revision_id(dialogue_id: UUID, number: int) -> str:
    """The opaque, globally unique id of revision ``number`` of a dialogue.

    Derived rather than stored, so exports and imports reproduce it exactly.
    """
    return str(derived_id(dialogue_id, f"revision-{number}"))


class Dialogue(EngineAggregate):
    TOPIC = "dialogue_engine:Dialogue"

    class Created(Aggregate.Created):
        TOPIC = "dialogue_engine:Dialogue.Created"
        project_id: str
        description: dict[str, Any]
        user_id: str
        created: int
        details: dict[str, Any]

    class Snapshot(BaseSnapshot):
        TOPIC = "dialogue_engine:Dialogue.Snapshot"

    @event(Created)
    def __init__(
        self,
        project_id: str,
        description: dict[str, Any],
        user_id: str,
        created: int,
        details: dict[str, Any],
    ) -> None:
        self.project_id = project_id
        self.description = description

    @classmethod
    def start(
        cls,
        project_id: str,
        description: JSON,
        *,
        registry: BlockTypeRegistry,
        user_id: str,
        created: object = None,
        details: JSON = None,
    ) -> Dialogue:
        """Revision 1: a validated description."""
        description = normalise(owned_copy(description))
        require_valid(description, registry)
        return cls(
            project_id=project_id,
            description=description,
            user_id=user_id,
            created=check_created(created),
            details=_details(details),
        )

    @property
    def revision_number(self) -> int:
        return self.version

    @property
    def is_archived(self) -> bool:
        return bool(self.description.get("is_archived"))

    def edit(
        self,
        patch: JSON,
        *,
        registry: BlockTypeRegistry,
        user_id: str,
        edit_type: object = "edit",
        details: JSON = None,
        created: object = None,
        may_archive: bool = True,
    ) -> bool:
        """Record an edit revision; ``False`` (and nothing recorded) if it changes nothing.

        Raises :class:`ValidationFailed` for a malformed patch (paths into the
        patch) or an invalid result (paths into the description), and
        :class:`PatchConflict` when an operation cannot apply.
        """
        errors = check_patch(patch)
        if errors:
            raise ValidationFailed(errors, "Invalid JSON patch")
        if type(edit_type) is not str or not edit_type:
            raise ValidationFailed([FieldError("type", "/edit_type", "edit_type must be a string")])
        created = check_created(created)
        details = _details(details)
        patch = defined_members(owned_copy(patch))
        result = apply_patch(self.description, patch)
        if json_equal(result, self.description):
            return False
        self._check_result(result, registry, may_archive)
        self.trigger_event(
            self.Edited,
            patch=patch,
            user_id=user_id,
            created=created,
            edit_type=edit_type,
            details=details,
        )
        return True

    def replace(
        self,
        description: JSON,
        *,
        registry: BlockTypeRegistry,
        user_id: str,
        edit_type: str = "replace_dialogue",
        details: JSON = None,
        created: object = None,
        may_archive: bool = True,
    ) -> bool:
        """Record an edit whose patch turns the current description into ``description``.

        A description without ``is_archived`` keeps the current flag: leaving
        it out of a replacement must not silently unarchive a dialogue.
        """
        target = owned_copy(description)
        if type(target) is not dict:
            raise ValidationFailed([FieldError("type", "", "a dialogue description is an object")])
        target.setdefault("is_archived", self.description.get("is_archived", False))
        return self.edit(
            make_patch(self.description, target),
            registry=registry,
            user_id=user_id,
            edit_type=edit_type,
            details=details,
            created=created,
            may_archive=may_archive,
        )

    def revert(
        self,
        target_number: int,
        target_description: JSON,
        *,
        registry: BlockTypeRegistry,
        user_id: str,
        details: JSON = None,
        created: object = None,
        may_archive: bool = True,
    ) -> bool:
        """Record a revert to revision ``target_number``, whose description is given.

        ``False`` when the description is already the same.
        """
        if type(target_number) is not int or not 1 <= target_number <= self.version:
            raise ValidationFailed(
                [FieldError("unknown", "/revision_id", f"revision {target_number} does not exist")]
            )
        patch = make_patch(self.description, target_description)
        if not patch:
            return False
        self._check_result(apply_patch(self.description, patch), registry, may_archive)
        self.trigger_event(
            self.Reverted,
            revision_id=revision_id(self.id, target_number),
            revision_number=target_number,
            patch=patch,
            user_id=user_id,
            created=check_created(created),
            details=_details(details),
        )
        return True

    def _check_result(self, result: JSON, registry: BlockTypeRegistry, may_archive: bool) -> None:
        require_valid(result, registry, previous=self.description)
        if not may_archive and result.get("is_archived") != self.description.get("is_archived"):
            raise PermissionDenied("archive or unarchive", f"dialogue {self.id}")

    class Edited(Aggregate.Event):
        """An edit revision: the RFC 6902 patch and what to show about it."""

        TOPIC = "dialogue_engine:Dialogue.Edited"
        patch: list[dict[str, Any]]
        user_id: str
        created: int
        edit_type: str
        details: dict[str, Any]

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Dialogue)
            aggregate.description = apply_patch(aggregate.description, self.patch)

    class Reverted(Aggregate.Event):
        """A revert revision: the revision restored, and the patch that restored it."""

        TOPIC = "dialogue_engine:Dialogue.Reverted"
        revision_id: str
        revision_number: int
        patch: list[dict[str, Any]]
        user_id: str
        created: int
        details: dict[str, Any]

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Dialogue)
            aggregate.description = apply_patch(aggregate.description, self.patch)


def _details(details: JSON) -> dict[str, Any]:
    if details is None:
        return {}
    if type(details) is not dict:
        raise ValidationFailed([FieldError("type", "/details", "details must be an object")])
    copied: dict[str, Any] = owned_copy(details, path="/details")
    return copied


@dataclass(frozen=True)
class Revision:
    """One revision as the contract shows it (``properties`` per type)."""

    id: str
    number: int
    user_id: str
    created: int
    type: str
    details: dict[str, Any]
    properties: dict[str, Any]


def revision_from_event(event: Any) -> Revision:
    """The revision recorded by a dialogue event (values shared: copy before handing out)."""
    number = event.originator_version
    common = {
        "id": revision_id(event.originator_id, number),
        "number": number,
        "user_id": event.user_id,
        "created": event.created,
        "details": event.details,
    }
    if isinstance(event, Dialogue.Created):
        properties = {
            "edit_type": CREATE_EDIT_TYPE,
            "patch": [{"op": "add", "path": "", "value": event.description}],
        }
        return Revision(type="edit", properties=properties, **common)
    if isinstance(event, Dialogue.Reverted):
        return Revision(type="revert", properties={"revision_id": event.revision_id}, **common)
    return Revision(
        type="edit", properties={"edit_type": event.edit_type, "patch": event.patch}, **common
    )
