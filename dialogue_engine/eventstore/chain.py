"""The hash chain that makes each aggregate's history tamper-evident.

Every stored event carries ``hash``: SHA-256 over its predecessor's hash (64
zeros for an aggregate's first event), its topic, originator id and version,
and the canonical JSON of its state without the hash itself. Changing one
byte of one stored event breaks its own hash and every later link of its
aggregate. The chain is computed where events are stored, so every aggregate
and every future event class is chained without further code.

The canonical state bytes are exactly what re-encoding the stored JSON with
sorted keys gives, so a verifier needs nothing but the stored rows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent

GENESIS = "0" * 64
HASH_FIELD = "hash"
CHAIN_HEAD = "_chain_head"
"""Aggregate attribute: the hash of its newest stored event (kept in snapshots)."""

_CANONICAL = orjson.OPT_SORT_KEYS


def link(previous: str, topic: str, originator_id: UUID | str, version: int, state: bytes) -> str:
    """The hash of one event, given its predecessor's and its canonical state bytes.

    ``originator_id`` may be given as its canonical string (what the hash
    covers), which saves a verifier formatting the same UUID for every event.
    """
    digest = hashlib.sha256(f"{previous}\n{topic}\n{originator_id}\n{version}\n".encode())
    digest.update(state)
    return digest.hexdigest()


def stored_state_without_hash(stored_state: bytes) -> tuple[bytes, str | None]:
    """The canonical bytes a hash was computed over, and the hash stored beside them."""
    state: dict[str, Any] = orjson.loads(stored_state)
    found = state.pop(HASH_FIELD, None)
    return orjson.dumps(state, option=_CANONICAL), found


def chain_head(aggregate: Any) -> str:
    return str(getattr(aggregate, CHAIN_HEAD, GENESIS))


@dataclass(frozen=True)
class BrokenLink:
    """The first event whose stored hash is not what its content and predecessor give."""

    notification_id: int | None
    """Its position in the log (None when checked outside the log, one aggregate at a time)."""
    aggregate_id: str
    version: int
    expected: str
    found: str | None


class ChainVerifier:
    """Recomputes every aggregate's chain from stored rows fed in log order.

    Verifying is read-bound (see ``bench/bench_audit.py``), so the per-event
    work is kept small: ids the recorder already parsed are not parsed again,
    and each aggregate's id is formatted once.
    """

    def __init__(self) -> None:
        self.heads: dict[UUID, str] = {}
        self.checked = 0
        self._names: dict[UUID, str] = {}

    def check(self, notification: StoredEvent) -> BrokenLink | None:
        """The broken link at ``notification`` (a ``Notification`` or a ``StoredEvent``), if any.

        A ``StoredEvent`` has no notification id: its broken link reports ``None``.
        """
        aggregate_id = notification.originator_id
        if type(aggregate_id) is not UUID:
            aggregate_id = UUID(str(aggregate_id))
        previous = self.heads.get(aggregate_id, GENESIS)
        name = self._names.get(aggregate_id)
        if name is None:
            name = self._names[aggregate_id] = str(aggregate_id)
        try:
            state, found = stored_state_without_hash(notification.state)
        except orjson.JSONDecodeError:
            state, found = notification.state, None
        expected = link(previous, notification.topic, name, notification.originator_version, state)
        self.checked += 1
        if found != expected:
            return BrokenLink(
                getattr(notification, "id", None),
                name,
                notification.originator_version,
                expected,
                found,
            )
        self.heads[aggregate_id] = expected
        return None
