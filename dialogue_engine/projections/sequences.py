"""The sequence read model: one row per sequence of every dialogue, for source 001's search.

Unlike the summaries, this view needs each event in order, not only the
latest state: ``created_at`` is when a revision *first* added a sequence id,
``updated_at`` the last revision that changed the sequence, and a release
decides each sequence's status from whether its id was present at the
released revision. So the view keeps, per dialogue:

- ``view_sequences``: the search rows (current sequences only), each with
  the revision intervals its id was present in;
- ``view_sequence_removed``: the same for ids that are not present now, so an
  id added again keeps when it was first added and the releases it was in
  (an id is the sequence's identity, as source 002 says);
- ``view_sequence_dialogues``: the folder (dialogue title and project) and the
  revisions its releases pinned.

Status: Draft (in no release), Published (present at the latest release's
revision), Unpublished (present at an earlier release's revision only).

Change detection is cheap because descriptions are copy-on-write: a sequence
that is the very object it was one revision earlier is unchanged. The state
of recently touched dialogues is kept in memory between batches; a batch
that did not commit (the recorder retries from the same position) or a
rebuild (which starts again at notification 1) discards it, because states
remember the last notification they applied. Otherwise a dialogue's state is
loaded from the tables, where each row keeps a fingerprint of its sequence.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from eventsourcing.sqlite import SQLiteCursor

from ..domain.dialogue import Dialogue
from ..domain.jsonvalue import JSON
from ..domain.releases import ReleaseLog
from ..domain.sequence_search import (
    PRIVATE,
    PUBLIC,
    SequenceSearch,
)
from .base import Change
from .participants import USER_COUNTS
from .sequence_state import (
    Current,
    DialogueState,
    Pending,
    Presence,
    dialogue_changed,
    releases_changed,
    status_of,
)

Scope = tuple[Collection[str], Collection[tuple[str, str]]]


@dataclass(frozen=True)
class SequenceRow:
    id: str
    project_id: str
    dialogue_id: str
    dialogue_title: str
    title: str
    description: str | None
    status: int
    display_status: int
    created_at: int
    updated_at: int
    number_users_active: int
    number_users_paused: int
    number_users_inactive: int
    number_users_finished: int
    number_active_steps: int
    step_info: list[dict[str, Any]]


_COLUMNS = (
    "sequence_id, project_id, dialogue_id, title, title_folded, description, "
    "description_folded, display_status, status, created_at, updated_at, created_revision, "
    "updated_revision, number_active_steps, step_info, fingerprint, intervals"
)
_UPSERT = (
    f"INSERT INTO view_sequences ({_COLUMNS}) VALUES ({', '.join('?' * 17)}) "
    "ON CONFLICT (dialogue_id, sequence_id) DO UPDATE SET title = excluded.title, "
    "title_folded = excluded.title_folded, description = excluded.description, "
    "description_folded = excluded.description_folded, "
    "display_status = excluded.display_status, status = excluded.status, "
    "created_at = excluded.created_at, updated_at = excluded.updated_at, "
    "created_revision = excluded.created_revision, "
    "updated_revision = excluded.updated_revision, "
    "number_active_steps = excluded.number_active_steps, step_info = excluded.step_info, "
    "fingerprint = excluded.fingerprint, intervals = excluded.intervals"
)


class SequenceView:
    name = "sequences"
    MEMORY = 256
    """Dialogues whose state stays in memory between batches."""

    def __init__(self) -> None:
        self._states: OrderedDict[str, DialogueState] = OrderedDict()

    def create_statements(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS view_sequences ("
            "seq_key INTEGER PRIMARY KEY, sequence_id TEXT NOT NULL, project_id TEXT NOT NULL, "
            "dialogue_id TEXT NOT NULL, title TEXT NOT NULL, title_folded TEXT NOT NULL, "
            "description TEXT, description_folded TEXT, display_status INTEGER NOT NULL, "
            "status INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, "
            "created_revision INTEGER NOT NULL, updated_revision INTEGER NOT NULL, "
            "number_users_active INTEGER NOT NULL DEFAULT 0, "
            "number_users_paused INTEGER NOT NULL DEFAULT 0, "
            "number_users_inactive INTEGER NOT NULL DEFAULT 0, "
            "number_users_finished INTEGER NOT NULL DEFAULT 0, "
            "number_active_steps INTEGER NOT NULL, step_info TEXT NOT NULL, "
            "fingerprint BLOB NOT NULL, intervals TEXT NOT NULL, "
            "UNIQUE (dialogue_id, sequence_id))",
            # Every filter of the search leads one index, followed by the ordering.
            "CREATE INDEX IF NOT EXISTS view_sequences_created "
            "ON view_sequences (created_at, seq_key)",
            "CREATE INDEX IF NOT EXISTS view_sequences_status "
            "ON view_sequences (status, created_at, seq_key)",
            "CREATE INDEX IF NOT EXISTS view_sequences_display "
            "ON view_sequences (display_status, created_at, seq_key)",
            "CREATE INDEX IF NOT EXISTS view_sequences_status_display "
            "ON view_sequences (status, display_status, created_at, seq_key)",
            "CREATE INDEX IF NOT EXISTS view_sequences_project "
            "ON view_sequences (project_id, created_at, seq_key)",
            "CREATE INDEX IF NOT EXISTS view_sequences_project_status "
            "ON view_sequences (project_id, status, display_status, created_at, seq_key)",
            "CREATE INDEX IF NOT EXISTS view_sequences_symbol "
            "ON view_sequences (sequence_id, created_at, seq_key)",
            "CREATE TABLE IF NOT EXISTS view_sequence_removed ("
            "dialogue_id TEXT NOT NULL, sequence_id TEXT NOT NULL, created_at INTEGER NOT NULL, "
            "created_revision INTEGER NOT NULL, intervals TEXT NOT NULL, "
            "PRIMARY KEY (dialogue_id, sequence_id))",
            "CREATE TABLE IF NOT EXISTS view_sequence_dialogues ("
            "dialogue_id TEXT PRIMARY KEY, project_id TEXT NOT NULL, title TEXT NOT NULL, "
            "released TEXT NOT NULL)",
        ]

    def drop_statements(self) -> list[str]:
        self._states.clear()
        return [
            "DROP TABLE IF EXISTS view_sequences",
            "DROP TABLE IF EXISTS view_sequence_removed",
            "DROP TABLE IF EXISTS view_sequence_dialogues",
        ]

    # Applying events

    def apply(self, cursor: SQLiteCursor, changes: Sequence[Change]) -> None:
        if not changes:
            return
        first = changes[0].notification_id
        # States that saw this batch's notifications belong to a batch that did
        # not commit (or to the view before a rebuild): the tables know better.
        for key in [k for k, s in self._states.items() if s.position >= first]:
            del self._states[key]
        pending: dict[str, Pending] = {}
        for change in changes:
            aggregate = change.aggregate
            if isinstance(aggregate, Dialogue):
                work = self._pending(cursor, pending, str(aggregate.id), aggregate.version)
                if work is None:
                    fresh = DialogueState(aggregate.project_id, "", [])
                    work = pending[str(aggregate.id)] = Pending(fresh, dialogue=True)
                dialogue_changed(
                    work, aggregate.description, aggregate.version, change.event.created
                )
            elif isinstance(aggregate, ReleaseLog) and aggregate.releases:
                work = self._pending(cursor, pending, aggregate.dialogue_id, None)
                if work is None:
                    continue  # a release of a dialogue this view never saw: nothing to show
                releases_changed(work, [r["revision_number"] for r in aggregate.releases])
            else:
                continue
            work.state.position = change.notification_id
        self._write(cursor, pending)
        for dialogue_id, work in pending.items():
            self._states[dialogue_id] = work.state
            self._states.move_to_end(dialogue_id)
        while len(self._states) > self.MEMORY:
            self._states.popitem(last=False)

    def _pending(
        self,
        cursor: SQLiteCursor,
        pending: dict[str, Pending],
        dialogue_id: str,
        version: int | None,
    ) -> Pending | None:
        work = pending.get(dialogue_id)
        if work is not None:
            return work
        state = self._states.get(dialogue_id)
        if state is None and version != 1:
            state = _load(cursor, dialogue_id)
        if state is None:
            return None
        work = pending[dialogue_id] = Pending(state)
        return work

    def _write(self, cursor: SQLiteCursor, pending: dict[str, Pending]) -> None:
        dialogues: list[tuple[str, str, str, str]] = []
        rows: list[tuple[Any, ...]] = []
        removed: list[tuple[str, str]] = []
        gone: list[tuple[str, str, int, int, str]] = []
        revived: list[tuple[str, str]] = []
        statuses: list[tuple[int, str, str]] = []
        for dialogue_id, work in pending.items():
            state = work.state
            if work.dialogue:
                released = orjson.dumps(state.released).decode()
                dialogues.append((dialogue_id, state.project_id, state.title, released))
            for sequence_id, (sequence, updated_at, updated_revision) in work.rows.items():
                history = state.history[sequence_id]
                rows.append(
                    _row(
                        dialogue_id,
                        state,
                        sequence,
                        history,
                        updated_at,
                        updated_revision,
                        state.current[sequence_id].fingerprint,
                    )
                )
            removed.extend((dialogue_id, sequence_id) for sequence_id in work.removed)
            revived.extend((dialogue_id, s) for s in work.revived if s in state.current)
            for sequence_id in work.removed_for_good:
                history = state.history[sequence_id]
                gone.append(
                    (
                        dialogue_id,
                        sequence_id,
                        history.created_at,
                        history.created_revision,
                        orjson.dumps(history.intervals).decode(),
                    )
                )
            if work.statuses:
                statuses.extend(
                    (status_of(state.history[s], state.released), dialogue_id, s)
                    for s in state.current
                    if s not in work.rows
                )
        cursor.executemany(
            "INSERT INTO view_sequence_dialogues (dialogue_id, project_id, title, released) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (dialogue_id) DO UPDATE SET "
            "title = excluded.title, released = excluded.released",
            dialogues,
        )
        cursor.executemany(
            "DELETE FROM view_sequences WHERE dialogue_id = ? AND sequence_id = ?", removed
        )
        cursor.executemany(_UPSERT, rows)
        cursor.executemany(
            "UPDATE view_sequences SET status = ? WHERE dialogue_id = ? AND sequence_id = ?",
            statuses,
        )
        cursor.executemany(
            "DELETE FROM view_sequence_removed WHERE dialogue_id = ? AND sequence_id = ?", revived
        )
        cursor.executemany(
            "INSERT INTO view_sequence_removed (dialogue_id, sequence_id, created_at, "
            "created_revision, intervals) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (dialogue_id, sequence_id) DO UPDATE SET intervals = excluded.intervals",
            gone,
        )

    # Reading

    @staticmethod
    def search(
        cursor: SQLiteCursor,
        query: SequenceSearch,
        scope: Scope | None,
    ) -> tuple[list[SequenceRow], int]:
        """A page of the rows matching ``query`` and visible in ``scope``, and their count.

        ``scope`` is (project ids whose dialogues are all readable, readable
        (project id, dialogue id) pairs); None: everything. Each part of a
        scope (a project, a dialogue outside those projects) has an index
        already in ``created_at`` order, so each is read in that order up to
        the end of the page and the parts are merged: no caller's page sorts
        all it can see.
        """
        parts = [
            (part, [*values, *params], filters)
            for part, values, small in _scope_parts(scope)
            for filters, params in [_filters(query, unindexed=small)]
        ]
        if query.created.empty or not parts:
            return [], 0
        total = 0
        for part, values, filters in parts:
            cursor.execute(
                f"SELECT COUNT(*) FROM view_sequences AS s WHERE {part}{filters}", values
            )
            total += cursor.fetchone()[0]
        direction = "DESC" if query.descending else "ASC"
        order = f"ORDER BY created_at {direction}, seq_key {direction}"
        if len(parts) == 1:
            ((part, values, filters),) = parts
            source = "view_sequences"
            where = f"WHERE {part}{filters}"
        else:
            # One index-ordered, limited read per part; the parts are disjoint.
            enough = query.offset + query.page_size
            reads = (
                f"SELECT * FROM (SELECT * FROM view_sequences AS s WHERE {part}{filters} "
                f"{order} LIMIT {enough})"
                for part, _, filters in parts
            )
            source = f"({' UNION ALL '.join(reads)})"
            where = ""
            values = [value for _, part_values, _ in parts for value in part_values]
        cursor.execute(
            "SELECT s.sequence_id, s.project_id, s.dialogue_id, d.title, s.title, "
            "s.description, s.status, s.display_status, s.created_at, s.updated_at, "
            f"{USER_COUNTS}, s.number_active_steps, s.step_info "
            f"FROM {source} AS s JOIN view_sequence_dialogues AS d "
            f"ON d.dialogue_id = s.dialogue_id {where} "
            f"ORDER BY s.created_at {direction}, s.seq_key {direction} LIMIT ? OFFSET ?",
            [*values, query.page_size, query.offset],
        )
        rows = [
            SequenceRow(*r[:15], step_info=orjson.loads(r[15]))  # type: ignore[misc]
            for r in cursor.fetchall()
        ]
        return rows, total


MAX_SCOPE_PARTS = 50
"""Beyond this many projects and dialogues, one OR'd condition (and a sort) instead."""


def _scope_parts(scope: Scope | None) -> list[tuple[str, list[Any], bool]]:
    """Disjoint conditions whose union is what ``scope`` may read (none: nothing),
    each with its parameters and whether it is one dialogue (a few rows)."""
    if scope is None:
        return [("1 = 1", [], False)]
    projects, dialogues = scope
    own = sorted((d, p) for p, d in dialogues if p not in projects)
    # '+' keeps the planner on the dialogue's own index rather than the project's.
    parts = [("s.project_id = ?", [p], False) for p in sorted(projects)] + [
        ("s.dialogue_id = ? AND +s.project_id = ?", [d, p], True) for d, p in own
    ]
    if len(parts) <= MAX_SCOPE_PARTS:
        return parts
    either = " OR ".join(f"({part})" for part, _, _ in parts)
    return [(f"({either})", [value for _, values, _ in parts for value in values], False)]


def _filters(query: SequenceSearch, unindexed: bool = False) -> tuple[str, list[Any]]:
    """`` AND ...`` for every filter given, and its parameters.

    ``unindexed`` marks each column with SQLite's unary ``+`` so that no
    filter steers the planner away from a more selective part (one dialogue).
    """
    conditions: list[str] = []
    params: list[Any] = []
    c = "+s." if unindexed else "s."
    for sql, value in (
        (f"{c}sequence_id = ?", query.id),
        ("instr(s.title_folded, ?) > 0", query.title),
        ("instr(s.description_folded, ?) > 0", query.description),
        (f"{c}status = ?", query.status),
        (f"{c}display_status = ?", query.display_status),
        (f"{c}created_at >= ?", query.created.low),
        (f"{c}created_at <= ?", query.created.high),
    ):
        if value is not None:
            conditions.append(sql)
            params.append(value)
    return "".join(f" AND {c}" for c in conditions), params


def _row(
    dialogue_id: str,
    state: DialogueState,
    sequence: JSON,
    history: Presence,
    updated_at: int,
    updated_revision: int,
    printed: bytes,
) -> tuple[Any, ...]:
    title = sequence.get("title")
    title = title if type(title) is str else ""
    description = sequence.get("description")
    description = description if type(description) is str else None
    blocks = sequence.get("blocks")
    blocks = blocks if type(blocks) is list else []
    steps = [
        {"id": b.get("id"), "type": b.get("type"), "title": b.get("title")}
        for b in blocks
        if type(b) is dict
    ]
    return (
        sequence.get("id"),
        state.project_id,
        dialogue_id,
        title,
        title.casefold(),
        description,
        description.casefold() if description is not None else None,
        PUBLIC if sequence.get("visibility") == "public" else PRIVATE,
        status_of(history, state.released),
        history.created_at,
        updated_at,
        history.created_revision,
        updated_revision,
        len(steps),
        orjson.dumps(steps).decode(),
        printed,
        orjson.dumps(history.intervals).decode(),
    )


def _load(cursor: SQLiteCursor, dialogue_id: str) -> DialogueState | None:
    cursor.execute(
        "SELECT project_id, title, released FROM view_sequence_dialogues WHERE dialogue_id = ?",
        (dialogue_id,),
    )
    found = cursor.fetchone()
    if found is None:
        return None
    state = DialogueState(found[0], found[1], orjson.loads(found[2]))
    cursor.execute(
        "SELECT sequence_id, created_at, created_revision, intervals, fingerprint "
        "FROM view_sequences WHERE dialogue_id = ?",
        (dialogue_id,),
    )
    for sequence_id, created_at, created_revision, intervals, printed in cursor.fetchall():
        state.current[sequence_id] = Current(bytes(printed))
        state.history[sequence_id] = Presence(created_at, created_revision, orjson.loads(intervals))
    cursor.execute(
        "SELECT sequence_id, created_at, created_revision, intervals "
        "FROM view_sequence_removed WHERE dialogue_id = ?",
        (dialogue_id,),
    )
    for sequence_id, created_at, created_revision, intervals in cursor.fetchall():
        state.history[sequence_id] = Presence(created_at, created_revision, orjson.loads(intervals))
    return state
