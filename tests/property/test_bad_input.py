"""Whatever a library caller passes, only the engine's own errors come out."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogue_engine import DialogueEngine, DomainError

JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.binary(max_size=4),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=6) | st.integers(), children, max_size=3)
        | st.tuples(children)
    ),
    max_leaves=8,
)
PATCH_LIKE = (
    st.lists(
        st.fixed_dictionaries(
            {"op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test", "x"])},
            optional={
                "path": JUNK | st.sampled_from(["", "/title", "/sequences/0", "/sequences/-"]),
                "from": JUNK | st.just("/title"),
                "value": JUNK,
            },
        ),
        max_size=3,
    )
    | JUNK
)


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[DialogueEngine, str, str, str]]:
    with DialogueEngine.open("memory://", follow=False) as engine:
        project = engine.create_project("P")
        dialogue = engine.create_dialogue(project.id, {"title": "T", "sequences": []})
        yield engine, project.id, dialogue.id, dialogue.revision_id


def attempt(call: Any) -> None:
    with contextlib.suppress(DomainError):
        call()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(patch=PATCH_LIKE, junk=JUNK, other=JUNK)
def test_junk_input_raises_only_engine_errors(
    shared: tuple[DialogueEngine, str, str, str], patch: Any, junk: Any, other: Any
) -> None:
    engine, project, dialogue, revision = shared
    attempt(lambda: engine.edit_dialogue(project, dialogue, patch))
    attempt(lambda: engine.edit_dialogue(project, dialogue, [], edit_type=junk, details=other))
    attempt(lambda: engine.replace_dialogue(project, dialogue, junk))
    attempt(lambda: engine.create_dialogue(project, junk))
    attempt(lambda: engine.create_dialogue(project, {"title": "t", "sequences": junk}))
    attempt(lambda: engine.add_revisions(project, dialogue, junk))
    attempt(
        lambda: engine.add_revisions(
            project,
            dialogue,
            {"type": "edit", "properties": {"edit_type": "e", "patch": patch}, "created": other},
        )
    )
    attempt(lambda: engine.revert_dialogue(project, dialogue, junk))
    attempt(lambda: engine.create_release(project, dialogue, junk, created=other))
    attempt(lambda: engine.create_project(junk))
    attempt(lambda: engine.rename_project(project, junk))
    attempt(lambda: engine.get_dialogue(junk, dialogue))
    attempt(lambda: engine.get_dialogue(project, junk))
    attempt(lambda: engine.get_revision(project, dialogue, junk))
    attempt(lambda: engine.get_release(project, dialogue, junk))
    attempt(lambda: engine.list_revisions(project, dialogue, ordering=junk, page=other))
    attempt(lambda: engine.list_dialogues(project, page=junk, per_page=other))
    attempt(lambda: engine.list_projects(page=junk))
    attempt(lambda: engine.edit_dialogue(project, dialogue, [], expected_revision=junk))
    # The dialogue is still readable and consistent after all of that.
    assert engine.get_dialogue(project, dialogue).revision_number >= 1
    assert engine.get_revision(project, dialogue, revision).number == 1
