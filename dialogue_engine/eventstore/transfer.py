"""Export the event log as JSON Lines, and import such a file into an empty store.

The file is one JSON object per line:

1. a header ``{"format": "dialogue-engine-export", "version": 1, "project_id", "exported_at"}``;
2. one line per stored event, in log order:
   ``{"notification_id", "originator_id", "originator_version", "topic", "state"}``,
   where ``state`` is the stored payload itself (its ``hash`` included);
3. a trailer ``{"end": {"events", "aggregates", "last_notification_id"}}``, so
   a truncated file is told apart from a short history.

The stored payloads are canonical JSON (sorted keys), so an import re-encodes
each ``state`` canonically and gets the stored bytes back exactly; the hashes,
topics, versions and derived ids (revision and release ids) come back with
them. An import reads the file twice: first it checks everything (the format,
the order, that every topic names a known class, and every aggregate's hash
chain) without writing; only then does it write the events in one
transaction through the recorder, and take the snapshots a store writing
those events would have taken. A file that fails any check writes nothing.

``--project``: the project, and every aggregate whose creation names it in
``project_id`` (its dialogues, their release logs, its templates). Each
aggregate is exported whole, so its chain verifies on its own.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Notification, PersistenceError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import resolve_topic

from ..domain.aggregates import EngineAggregate
from ..domain.errors import DomainError
from . import ledger
from .application import DialogueStore, StoreUnavailable
from .chain import ChainVerifier

FORMAT = "dialogue-engine-export"
VERSION = 1
WRITE_BATCH = 1000
_CANONICAL = orjson.OPT_SORT_KEYS


class ImportRefused(DomainError):
    """The file is not an intact export, or the store is not empty: nothing was written."""

    type = "import_refused"

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(f"Import refused: {reason}", {"reason": reason, **details})


@dataclass(frozen=True)
class ExportSummary:
    events: int
    aggregates: int
    last_notification_id: int
    project_id: str | None


@dataclass(frozen=True)
class ImportSummary:
    events: int
    aggregates: int
    snapshots: int
    last_notification_id: int


Progress = Callable[[int, int], None]
StagedProgress = Callable[[str, int, int], None]


def export_events(
    store: DialogueStore,
    out: IO[bytes],
    *,
    project_id: str | None = None,
    progress: Progress | None = None,
) -> ExportSummary:
    """Write the log (or one project's aggregates) to ``out``; see the module docstring."""
    header = {
        "format": FORMAT,
        "version": VERSION,
        "project_id": project_id,
        "exported_at": time.time_ns() // 1_000_000,
    }
    out.write(orjson.dumps(header) + b"\n")
    total = store.max_notification_id()
    included: dict[UUID, bool] = {}
    events = 0
    last = 0
    for rows in ledger.notifications(store):
        for row in rows:
            if project_id is not None and not _in_project(row, project_id, included):
                continue
            included.setdefault(_uuid(row), True)
            out.write(_line(row))
            events += 1
            last = row.id
        if progress:
            progress(rows[-1].id, total)
    aggregates = sum(1 for kept in included.values() if kept)
    trailer = {"end": {"events": events, "aggregates": aggregates, "last_notification_id": last}}
    out.write(orjson.dumps(trailer) + b"\n")
    return ExportSummary(events, aggregates, last, project_id)


def _in_project(row: Notification, project_id: str, included: dict[UUID, bool]) -> bool:
    aggregate_id = _uuid(row)
    known = included.get(aggregate_id)
    if known is not None:
        return known
    if row.originator_version != 1:
        return False  # its creation came before and was not kept
    state = orjson.loads(row.state)
    kept = str(row.originator_id) == project_id or state.get("project_id") == project_id
    included[aggregate_id] = kept
    return kept


def _uuid(row: StoredEvent) -> UUID:
    aggregate_id = row.originator_id
    return aggregate_id if isinstance(aggregate_id, UUID) else UUID(aggregate_id)


def _line(row: Notification) -> bytes:
    # The stored bytes are spliced in as they are: no decoding on the way out.
    head = orjson.dumps(
        {
            "notification_id": row.id,
            "originator_id": str(row.originator_id),
            "originator_version": row.originator_version,
            "topic": row.topic,
        }
    )
    return b"".join((head[:-1], b',"state":', row.state, b"}\n"))


def import_events(
    store: DialogueStore, path: Path, *, progress: StagedProgress | None = None
) -> ImportSummary:
    """Check the whole file, then write it into ``store``, which must hold no event."""
    if store.max_notification_id():
        raise ImportRefused("the store is not empty", path=str(path))
    size = path.stat().st_size
    verifier = ChainVerifier()
    versions: dict[UUID, int] = {}
    topics: set[str] = set()
    last = 0
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for notification, offset in _read(source, path, digest):
            if notification.id <= last:
                raise ImportRefused("events out of log order", line_notification=notification.id)
            last = notification.id
            broken = verifier.check(notification)
            if broken is not None:
                raise ImportRefused(
                    "a hash chain does not verify",
                    aggregate_id=broken.aggregate_id,
                    version=broken.version,
                    notification_id=broken.notification_id,
                    expected=broken.expected,
                    found=broken.found,
                )
            if notification.topic not in topics:
                _check_topic(notification.topic)
                topics.add(notification.topic)
            versions[_uuid(notification)] = notification.originator_version
            if progress and verifier.checked % WRITE_BATCH == 0:
                progress("verifying", offset, size)
    if progress:
        progress("verifying", size, size)
    _write(store, path, verifier.checked, digest.hexdigest(), progress)
    snapshots = _take_snapshots(store, versions, progress)
    for aggregate_id, version in versions.items():
        store.observe(aggregate_id, version)
    store.last_notification_id = store.max_notification_id()
    return ImportSummary(verifier.checked, len(versions), snapshots, store.last_notification_id)


def _read(source: IO[bytes], path: Path, digest: Any) -> Iterator[tuple[Notification, int]]:
    """The file's events (as notifications) and the byte offset after each; checks framing.

    Every line read is fed to ``digest`` (a hashlib object).
    """
    first = source.readline()
    digest.update(first)
    header = _parse(first, 1)
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise ImportRefused(f"not a {FORMAT} file of version {VERSION}", path=str(path))
    offset = source.tell()
    line_number = 1
    for raw in source:
        digest.update(raw)
        line_number += 1
        offset += len(raw)
        item = _parse(raw, line_number)
        if "end" in item:
            _check_trailer(item["end"], line_number, source)
            return
        yield _notification(item, line_number), offset
    raise ImportRefused("the file ends without its trailer (truncated?)", line=line_number)


def _check_trailer(end: Any, line_number: int, source: IO[bytes]) -> None:
    if source.read().strip():
        raise ImportRefused("lines after the trailer", line=line_number)
    if type(end) is not dict or type(end.get("events")) is not int:
        raise ImportRefused("malformed trailer", line=line_number)
    if end["events"] != line_number - 2:
        raise ImportRefused(
            "the trailer counts another number of events", line=line_number, expected=end["events"]
        )


def _parse(raw: bytes, line_number: int) -> dict[str, Any]:
    try:
        item = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ImportRefused("a line is not JSON", line=line_number) from None
    if type(item) is not dict:
        raise ImportRefused("a line is not a JSON object", line=line_number)
    return item


def _notification(item: dict[str, Any], line_number: int) -> Notification:
    fields = (
        item.get("notification_id"),
        item.get("originator_id"),
        item.get("originator_version"),
        item.get("topic"),
        item.get("state"),
    )
    number, originator, version, topic, state = fields
    if not (
        type(number) is int
        and type(originator) is str
        and type(version) is int
        and version >= 1
        and type(topic) is str
        and type(state) is dict
    ):
        raise ImportRefused("a line is not a stored event", line=line_number)
    try:
        originator_id = UUID(originator)
    except ValueError:
        raise ImportRefused("an originator id is not a UUID", line=line_number) from None
    return Notification(
        id=number,
        originator_id=originator_id,
        originator_version=version,
        topic=topic,
        state=orjson.dumps(state, option=_CANONICAL),
    )


def _check_topic(topic: str) -> None:
    try:
        resolve_topic(topic)
    except Exception:  # the library raises TopicError or an import error
        raise ImportRefused(
            "an event names a class this engine does not know", topic=topic
        ) from None


def _write(
    store: DialogueStore, path: Path, total: int, checked: str, progress: StagedProgress | None
) -> None:
    """Every event through the recorder, in one transaction where the recorder allows it.

    The file is read again (holding a million events in memory is not an
    option), so its digest must match the one of the checked pass: a file
    changed in between is refused and the transaction rolled back.
    """
    recorder = store.recorder
    written = 0
    digest = hashlib.sha256()
    try:
        with path.open("rb") as source:
            batches = _batches(_read(source, path, digest))
            # The library's own insert, inside one transaction of its datastore:
            # a failure anywhere leaves the store as empty as it was.
            if isinstance(recorder, SQLiteApplicationRecorder):
                insert: Callable[[Any, list[StoredEvent]], object] = recorder._insert_events
            else:
                assert isinstance(recorder, PostgresApplicationRecorder)
                insert = recorder._insert_stored_events  # takes the table's write lock
            with recorder.datastore.transaction(commit=True) as cursor:
                for batch in batches:
                    insert(cursor, batch)
                    written += len(batch)
                    if progress:
                        progress("writing", written, total)
                if digest.hexdigest() != checked:
                    raise ImportRefused("the file changed while it was imported")
    except PersistenceError as e:
        raise StoreUnavailable(str(e)) from e


def _batches(items: Iterator[tuple[Notification, int]]) -> Iterator[list[StoredEvent]]:
    batch: list[StoredEvent] = []
    for notification, _ in items:
        batch.append(
            StoredEvent(
                originator_id=notification.originator_id,
                originator_version=notification.originator_version,
                topic=notification.topic,
                state=notification.state,
            )
        )
        if len(batch) == WRITE_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _take_snapshots(
    store: DialogueStore, versions: dict[UUID, int], progress: StagedProgress | None
) -> int:
    """The snapshots the store takes while writing (every interval), so reads stay cheap."""
    if store.snapshots is None:
        return 0
    shortest = min(store.snapshotting_intervals.values(), default=0)
    long_ones = {a: v for a, v in versions.items() if shortest and v >= shortest}
    total = sum(long_ones.values())
    done = taken = 0
    for aggregate_id, last in long_ones.items():
        kind = type(store.load_at(aggregate_id, 1, EngineAggregate))
        interval = store.snapshotting_intervals.get(kind, 0)
        for version in range(interval, last + 1, interval) if interval else ():
            # Each load starts from the snapshot just taken: one interval of events.
            aggregate = store.load_at(aggregate_id, version, EngineAggregate)
            try:
                store.snapshots.put([aggregate.Snapshot.take(aggregate)])
            except PersistenceError as e:
                raise StoreUnavailable(str(e)) from e
            taken += 1
        done += last
        if progress:
            progress("snapshots", done, total)
    return taken
