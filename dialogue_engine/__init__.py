"""dialogue-engine: an event-sourced authoring engine for conversational services."""

from .domain.blocktypes import BlockType
from .domain.dialogue import Revision
from .domain.errors import (
    ConcurrentWrite,
    DomainError,
    FieldError,
    InvalidParameter,
    NotFound,
    PatchConflict,
    PermissionDenied,
    SequenceInUse,
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
from .sequences import BlockRecord, DuplicationRecord, SequenceRecord

__all__ = [
    "Actor",
    "BlockRecord",
    "BlockType",
    "ConcurrentWrite",
    "DialogueEngine",
    "DialogueRecord",
    "DialogueSummary",
    "DomainError",
    "DuplicationRecord",
    "FieldError",
    "Grant",
    "InvalidParameter",
    "NotFound",
    "Page",
    "PatchConflict",
    "PermissionDenied",
    "ProjectRecord",
    "ReleaseRecord",
    "Revision",
    "SequenceInUse",
    "SequenceRecord",
    "StaleRevision",
    "StoreUnavailable",
    "ValidationFailed",
]
