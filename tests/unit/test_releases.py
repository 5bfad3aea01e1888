"""Release logs: each release pins an existing revision; ids are derived, never stored."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from dialogue_engine.domain.errors import NotFound, ValidationFailed
from dialogue_engine.domain.releases import Release, ReleaseLog, release_id, release_log_id

DIALOGUE = uuid.UUID("0b8f4f0e-6c89-4c1a-9d47-5d7e0f6b9c11")


def new_log() -> ReleaseLog:
    log = ReleaseLog(dialogue_id=str(DIALOGUE), project_id="project-1")
    log.collect_events()
    return log


def test_the_log_id_is_derived_from_the_dialogue_id() -> None:
    log = new_log()
    assert log.id == release_log_id(DIALOGUE) == ReleaseLog.create_id(str(DIALOGUE))
    assert log.id != release_log_id(uuid.uuid4())
    assert (log.dialogue_id, log.project_id, log.releases, log.latest) == (
        str(DIALOGUE),
        "project-1",
        [],
        None,
    )


def test_release_pins_a_revision_and_numbers_releases_from_one() -> None:
    log = new_log()
    first = log.release(2, latest_revision=3, user_id="u1", created=100)
    second = log.release(3, latest_revision=3, user_id="u2", created=200)
    assert first == Release(release_id(DIALOGUE, 1), 1, 2, 100, "u1")
    assert second == Release(release_id(DIALOGUE, 2), 2, 3, 200, "u2")
    assert log.latest == second
    assert log.all() == [first, second]
    assert log.get(1) == first
    assert [e.revision_number for e in log.collect_events()] == [2, 3]


def test_an_earlier_revision_may_be_released_again() -> None:
    log = new_log()
    log.release(3, latest_revision=3, user_id="u1")
    again = log.release(1, latest_revision=3, user_id="u1")
    assert (again.number, again.revision_number) == (2, 1)


@pytest.mark.parametrize("number", [0, -1, 4, True, 1.0, "1", None])
def test_releasing_a_revision_that_does_not_exist_is_a_validation_error(number: Any) -> None:
    log = new_log()
    with pytest.raises(ValidationFailed) as caught:
        log.release(number, latest_revision=3, user_id="u1")
    assert [(e.type, e.path) for e in caught.value.errors] == [("unknown", "/revision_id")]
    assert log.releases == []
    assert log.collect_events() == []


def test_release_refuses_a_bad_created() -> None:
    log = new_log()
    with pytest.raises(ValidationFailed) as caught:
        log.release(1, latest_revision=1, user_id="u1", created=-1)
    assert [e.path for e in caught.value.errors] == ["/created"]
    assert log.releases == []


@pytest.mark.parametrize("number", [0, -1, 2, True, "1"])
def test_getting_a_release_that_does_not_exist_is_not_found(number: Any) -> None:
    log = new_log()
    log.release(1, latest_revision=1, user_id="u1")
    with pytest.raises(NotFound):
        log.get(number)


def test_release_ids_are_derived_stable_and_unique() -> None:
    other = uuid.uuid4()
    ids = {release_id(d, n) for d in (DIALOGUE, other) for n in range(1, 21)}
    assert len(ids) == 40
    assert release_id(DIALOGUE, 1) == release_id(DIALOGUE, 1)


def test_replaying_the_events_rebuilds_the_same_releases() -> None:
    log = ReleaseLog(dialogue_id=str(DIALOGUE), project_id="project-1")
    log.release(1, latest_revision=2, user_id="u1", created=5)
    log.release(2, latest_revision=2, user_id="u2", created=6)
    rebuilt: Any = None
    for event in log.collect_events():
        rebuilt = event.mutate(rebuilt)
    assert rebuilt.all() == log.all()
    assert rebuilt.version == 3
