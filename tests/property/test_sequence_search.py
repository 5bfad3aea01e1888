"""The sequence search against a brute-force filter over the same history.

Hypothesis writes random histories (dialogues in two projects; sequences
added, retitled, removed and re-added at chosen ``created`` times, so
timestamps tie; releases of old and new revisions) and random queries; a
forgetful run makes the view drop its memory after every step, so each
batch loads its state from the view's own tables. The
oracle knows nothing of the read model: it replays each dialogue's revisions
through the public API and applies the definitions of the issue (created_at:
first revision holding the id; updated_at: last revision where it appeared or
changed; status from the releases' revisions). Paging through every result
must visit each expected sequence exactly once, in created_at order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dialogue_engine import Actor, DialogueEngine, Grant
from dialogue_engine.domain.sequence_search import iso_from_ms
from dialogue_engine.projections.sequences import SequenceView

TITLES = ["Intro", "intro two", "Week ONE", "wrap-up", "Straße", "STRASSE"]
DESCRIPTIONS = [None, "First week", "second WEEK", "reminders"]
IDS = ["a", "b", "c", "d"]
TIMES = [1_000, 2_000, 2_000, 3_500, 5_000]
"""Revision times (ms): repeated values make created_at ties likely."""


@dataclass(frozen=True)
class Op:
    kind: str
    dialogue: int
    sequence: str
    title: int
    description: int
    public: bool
    time: int


OPS = st.builds(
    Op,
    kind=st.sampled_from(
        ["add", "add", "add", "retitle", "remove", "release", "release", "release_first"]
    ),
    dialogue=st.sampled_from([0, 0, 0, 1, 2]),
    sequence=st.sampled_from([*IDS[:2], *IDS]),
    title=st.integers(0, len(TITLES) - 1),
    description=st.integers(0, len(DESCRIPTIONS) - 1),
    public=st.booleans(),
    time=st.sampled_from(TIMES),
)


def make_sequence(op: Op) -> dict[str, Any]:
    sequence: dict[str, Any] = {
        "id": op.sequence,
        "title": TITLES[op.title],
        "blocks": [
            {"id": f"{op.sequence}-{op.dialogue}-m", "type": "message", "properties": {"text": "x"}}
        ],
        "visibility": "public" if op.public else "private",
    }
    if DESCRIPTIONS[op.description] is not None:
        sequence["description"] = DESCRIPTIONS[op.description]
    return sequence


def forget(engine: DialogueEngine) -> None:
    """Apply the log so far, then drop the view's memory: the next batch loads from its tables."""
    engine.projector.catch_up()
    for view in engine._views.views:
        if isinstance(view, SequenceView):
            view._states.clear()


def play(engine: DialogueEngine, ops: list[Op], forgetful: bool = False) -> list[tuple[str, str]]:
    projects = [engine.create_project("P").id, engine.create_project("Q").id]
    dialogues = []
    for n in range(3):
        project = projects[n % 2]
        dialogue = engine.create_dialogue(project, {"title": f"D{n}", "sequences": []}, created=500)
        dialogues.append((project, dialogue.id))
    for op in ops:
        project, dialogue_id = dialogues[op.dialogue]
        current = engine.get_dialogue(project, dialogue_id)
        ids = [s["id"] for s in current.description["sequences"]]
        if op.kind == "add" and op.sequence not in ids:
            patch = [{"op": "add", "path": "/sequences/-", "value": make_sequence(op)}]
        elif op.kind == "retitle" and op.sequence in ids:
            at = ids.index(op.sequence)
            patch = [{"op": "replace", "path": f"/sequences/{at}/title", "value": TITLES[op.title]}]
        elif op.kind == "remove" and op.sequence in ids:
            patch = [{"op": "remove", "path": f"/sequences/{ids.index(op.sequence)}"}]
        elif op.kind.startswith("release"):
            first = engine.list_revisions(project, dialogue_id, ordering=["number"]).items[0]
            target = first.id if op.kind == "release_first" else current.revision_id
            engine.create_release(project, dialogue_id, target)
            if forgetful:
                forget(engine)
            continue
        else:
            continue
        engine.edit_dialogue(project, dialogue_id, patch, created=op.time)
        if forgetful:
            forget(engine)
    return dialogues


def oracle(engine: DialogueEngine, dialogues: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Every current sequence with the fields the search filters on, from history alone."""
    rows = []
    for project, dialogue_id in dialogues:
        history = engine.list_revisions(project, dialogue_id, ordering=["number"], per_page=100)
        states = []
        for revision in history.items:
            record = engine.get_revision_dialogue(project, dialogue_id, revision.id)
            states.append((revision.created, {s["id"]: s for s in record.description["sequences"]}))
        released = [
            r.revision_number
            for r in engine.list_releases(project, dialogue_id, ordering=["number"]).items
        ]
        current = states[-1][1]
        for sequence_id, sequence in current.items():
            present = [n for n, (_, seqs) in enumerate(states, 1) if sequence_id in seqs]
            changed = [
                n
                for n in present
                if n == 1
                or sequence_id not in states[n - 2][1]
                or states[n - 2][1][sequence_id] != states[n - 1][1][sequence_id]
            ]
            if released and released[-1] in present:
                status = 1
            elif any(r in present for r in released):
                status = 2
            else:
                status = 0
            rows.append(
                {
                    "key": (dialogue_id, sequence_id),
                    "project": project,
                    "dialogue": dialogue_id,
                    "id": sequence_id,
                    "title": sequence["title"],
                    "description": sequence.get("description"),
                    "display_status": int(sequence.get("visibility") == "public"),
                    "status": status,
                    "created_at": states[present[0] - 1][0],
                    "updated_at": states[changed[-1] - 1][0],
                }
            )
    return rows


QUERIES = st.fixed_dictionaries(
    {},
    optional={
        "id": st.sampled_from([*IDS, "zz"]),
        "title": st.sampled_from(["intro", "INTRO", "week", "ss", "ß", "-", "nothing"]),
        "description": st.sampled_from(["week", "WEEK", "rem", "none"]),
        "status": st.sampled_from(["0", "1", "2", "Draft", "published"]),
        "display_status": st.sampled_from(["0", "1", "Public"]),
        "created_at": st.sampled_from(TIMES),
        "created_at.gt": st.sampled_from([*TIMES, 1_999, 2_000.5]),
        "created_at.gte": st.sampled_from([*TIMES, 1_999, 2_000.5]),
        "created_at.lt": st.sampled_from([*TIMES, 2_001, 3_499.2]),
        "created_at.lte": st.sampled_from([*TIMES, 2_001, 3_499.2]),
        "ordering": st.sampled_from(["created_at", "-created_at"]),
    },
)
STATUS_WORDS = {"draft": 0, "published": 1, "unpublished": 2, "private": 0, "public": 1}


def as_iso(ms: float) -> str:
    """An ISO-8601 text of ``ms`` (fractions of a millisecond kept)."""
    whole = int(ms)
    text = iso_from_ms(whole)
    if ms != whole:
        micro = round((ms - whole) * 1000)
        text = text[:-1] + f"{micro:03d}Z"
    return text


def expected(rows: list[dict[str, Any]], query: dict[str, Any]) -> list[dict[str, Any]]:
    def number(value: str) -> int:
        return int(value) if value.isdigit() else STATUS_WORDS[value.lower()]

    def keep(row: dict[str, Any]) -> bool:
        checks = {
            "id": lambda v: row["id"] == v,
            "title": lambda v: v.casefold() in row["title"].casefold(),
            "description": lambda v: (
                row["description"] is not None and v.casefold() in row["description"].casefold()
            ),
            "status": lambda v: row["status"] == number(v),
            "display_status": lambda v: row["display_status"] == number(v),
            "created_at": lambda v: row["created_at"] == v,
            "created_at.gt": lambda v: row["created_at"] > v,
            "created_at.gte": lambda v: row["created_at"] >= v,
            "created_at.lt": lambda v: row["created_at"] < v,
            "created_at.lte": lambda v: row["created_at"] <= v,
        }
        return all(check(query[name]) for name, check in checks.items() if name in query)

    return [row for row in rows if keep(row)]


def pages(engine: DialogueEngine, params: dict[str, str], actor: Actor) -> Iterator[Any]:
    page_number = 1
    while True:
        page = engine.sequences.search({**params, "page": str(page_number)}, actor=actor)
        yield page
        if page_number >= page.last_page:
            return
        page_number += 1


@pytest.mark.filterwarnings("ignore")
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@example(  # published, then an earlier revision published again: Unpublished
    ops=[
        Op("add", 0, "a", 0, 1, True, 1_000),
        Op("release", 0, "a", 0, 0, False, 0),
        Op("add", 0, "b", 1, 0, False, 2_000),
        Op("release_first", 0, "a", 0, 0, False, 0),
    ],
    queries=[{"status": "2"}],
    page_size=1,
    scoped=0,
    forgetful=False,
)
@example(  # removed after a release and added again: the same sequence, Unpublished
    ops=[
        Op("add", 0, "a", 0, 1, True, 1_000),
        Op("release", 0, "a", 0, 0, False, 0),
        Op("remove", 0, "a", 0, 0, False, 2_000),
        Op("release", 0, "a", 0, 0, False, 0),
        Op("add", 0, "a", 2, 0, False, 3_500),
    ],
    queries=[{"status": "Unpublished"}],
    page_size=2,
    scoped=1,
    forgetful=True,
)
@given(
    ops=st.lists(OPS, min_size=3, max_size=20),
    queries=st.lists(QUERIES, min_size=1, max_size=6),
    page_size=st.integers(1, 4),
    scoped=st.integers(0, 2),
    forgetful=st.booleans(),
)
def test_search_matches_a_brute_force_filter_and_pages_visit_each_result_once(
    ops: list[Op], queries: list[dict[str, Any]], page_size: int, scoped: int, forgetful: bool
) -> None:
    with DialogueEngine.open("memory://", follow=False) as engine:
        dialogues = play(engine, ops, forgetful)
        rows = oracle(engine, dialogues)
        actor = Actor.system()
        (p, d0), (q, d1), (_, d2) = dialogues  # d0 and d2 are in p, d1 in q
        if scoped == 1:  # all of p (d0 also granted on its own), and d1 of q
            grants = [
                Grant("project:dialogues:read", p),
                Grant("dialogue:read", q, d1),
                Grant("dialogue:write", p, d0),
            ]
            actor = Actor("u", tuple(grants))
            rows = [r for r in rows if r["project"] == p or r["dialogue"] == d1]
        elif scoped == 2:  # two single dialogues in two projects
            actor = Actor("v", (Grant("dialogue:read", q, d1), Grant("dialogue:read", p, d2)))
            rows = [r for r in rows if r["dialogue"] in (d1, d2)]
        for query in [{}, *queries]:  # always the unfiltered list too
            params = {k: as_iso(v) if k.startswith("created_at") else v for k, v in query.items()}
            params["page_size"] = str(page_size)
            want = expected(rows, query)
            got = [row for page in pages(engine, params, actor) for row in page.items]
            assert all(page.total == len(want) for page in pages(engine, params, actor))
            keys = [(r.dialogue_id, r.id) for r in got]
            assert len(keys) == len(set(keys)), "a result was visited twice"
            assert sorted(keys) == sorted(r["key"] for r in want)
            times = [r.created_at for r in got]
            descending = query.get("ordering", "-created_at") == "-created_at"
            assert times == sorted(times, reverse=descending)
            by_key = {r["key"]: r for r in want}
            for row in got:
                truth = by_key[row.dialogue_id, row.id]
                assert (row.created_at, row.updated_at, row.status) == (
                    truth["created_at"],
                    truth["updated_at"],
                    truth["status"],
                )
                assert (row.title, row.description, row.display_status) == (
                    truth["title"],
                    truth["description"],
                    truth["display_status"],
                )
