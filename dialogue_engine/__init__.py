"""dialogue-engine: an event-sourced authoring engine for conversational services."""

from .domain.blocktypes import BlockType
from .domain.dialogue import Revision
from .domain.errors import (
    ConcurrentWrite,
    DomainError,
    FieldError,
    NotFound,
    PatchConflict,
    PermissionDenied,
    StaleRevision,
    ValidationFailed,
)
from .domain.paging import Page
from .domain.permissions import Actor, Grant
from .engine import (
    DialogueEngine,
    DialogueRecord,
    DialogueSummary,
    ProjectRecord,
    ReleaseRecord,
)
from .eventstore.application import StoreUnavailable

__all__ = [
    "Actor",
    "BlockType",
    "ConcurrentWrite",
    "DialogueEngine",
    "DialogueRecord",
    "DialogueSummary",
    "DomainError",
    "FieldError",
    "Grant",
    "NotFound",
    "Page",
    "PatchConflict",
    "PermissionDenied",
    "ProjectRecord",
    "ReleaseRecord",
    "Revision",
    "StaleRevision",
    "StoreUnavailable",
    "ValidationFailed",
]
