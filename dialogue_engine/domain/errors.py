"""The engine's own errors: one small tree, carrying fields rather than prose.

Every public function of the engine raises one of these (never ``KeyError``,
``TypeError`` or a library exception). The REST layer maps each class to a
status code and the ``{type, message, details}`` envelope in one table;
subclasses inherit their parent's mapping.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any


class DomainError(Exception):
    """Base class of every error the engine raises on purpose."""

    type: str = "domain_error"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}


class NotFound(DomainError):
    """The resource does not exist, or the caller may not see it."""

    type = "not_found"

    def __init__(self, kind: str, id: str, **extra: str) -> None:
        super().__init__(f"{kind} {id} not found", {"id": id, **extra})
        self.kind = kind
        self.id = id


@dataclass(frozen=True)
class FieldError:
    """One validation failure: ``path`` is a JSON pointer into the checked value."""

    type: str
    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"type": self.type, "path": self.path, "message": self.message}

    def under(self, prefix: str) -> FieldError:
        """The same error seen from a document that holds this one at ``prefix``."""
        return FieldError(self.type, prefix + self.path, self.message)


class ValidationFailed(DomainError):
    """The input is well-formed JSON but does not fit the schema or the rules."""

    type = "validation_error"

    def __init__(self, errors: list[FieldError], message: str = "Invalid request body") -> None:
        super().__init__(message, {"errors": [e.as_dict() for e in errors]})
        self.errors = errors


class PatchConflict(DomainError):
    """An RFC 6902 operation cannot apply: missing path, failed ``test``…

    ``details`` name the operation's index in its patch (and the revision's
    index in a bulk, when there is one).
    """

    type = "patch_conflict"

    def __init__(self, op_index: int, reason: str, path: str) -> None:
        super().__init__(
            f"Patch operation {op_index} cannot be applied: {reason}",
            {"op_index": op_index, "reason": reason, "path": path},
        )
        self.op_index = op_index
        self.reason = reason
        self.path = path


class StaleRevision(DomainError):
    """The caller expected another current revision (If-Match, expected_revision)."""

    type = "precondition_failed"

    def __init__(self, expected: str, current: str) -> None:
        super().__init__(
            f"Expected revision {expected}, but the current revision is {current}",
            {"expected": expected, "current": current},
        )


class ConcurrentWrite(DomainError):
    """Another writer saved first and the command could not be retried safely."""

    type = "conflict"

    def __init__(self, aggregate: str) -> None:
        super().__init__(
            f"{aggregate} was changed by another writer; retry the request",
            {"id": aggregate},
        )


class PermissionDenied(DomainError):
    """The caller may see the resource but not do this to it."""

    type = "authorization_error"

    def __init__(self, action: str, resource: str) -> None:
        super().__init__(
            f"Not allowed to {action} {resource}", {"action": action, "resource": resource}
        )


class SequenceInUse(DomainError):
    """A sequence cannot be removed while blocks of other sequences still lead to it.

    ``details["referring_blocks"]`` lists each ``{sequence_id, block_id, path}``
    whose ``next`` names it, so the caller knows what to change first.
    """

    type = "sequence_in_use"

    def __init__(self, sequence_id: str, referring: list[dict[str, str]]) -> None:
        names = ", ".join(sorted({r["block_id"] for r in referring}))
        super().__init__(
            f"Sequence {sequence_id} is still the next step of blocks {names}",
            {"id": sequence_id, "referring_blocks": referring},
        )


class InvalidParameter(DomainError):
    """A query parameter that cannot be understood (source 001 answers these with 400)."""

    type = "invalid_parameter"

    def __init__(self, parameter: str, value: str, reason: str) -> None:
        super().__init__(
            f"Invalid query parameter {parameter!r}: {reason}",
            {"parameter": parameter, "value": value, "reason": reason},
        )


def unexpected_members(node: Any, allowed: Collection[str], at: str = "") -> list[FieldError]:
    """The one ``additionalProperties`` error for members of ``node`` outside ``allowed``.

    Worded as JSON Schema validators word it ("('id' was unexpected)"), so a
    client sees the same message whichever check found the member.
    """
    extra = sorted((key for key in node if key not in allowed), key=repr)
    if not extra:
        return []
    listed = ", ".join(repr(key) for key in extra)
    verb = "was" if len(extra) == 1 else "were"
    message = f"Additional properties are not allowed ({listed} {verb} unexpected)"
    return [FieldError("additionalProperties", at, message)]
