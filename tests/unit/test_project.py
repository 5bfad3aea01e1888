"""The project aggregate: every change an event, no event for no change."""

from __future__ import annotations

from typing import Any

import pytest

from dialogue_engine.domain.errors import ValidationFailed
from dialogue_engine.domain.project import Project


def started(**kwargs: Any) -> Project:
    project = Project.start("Helpline", user_id="u1", **kwargs)
    project.collect_events()
    return project


def test_start_records_the_title_and_creator() -> None:
    project = Project.start("Helpline", user_id="u1")
    assert (project.title, project.is_archived, project.version) == ("Helpline", False, 1)
    [created] = project.collect_events()
    assert isinstance(created, Project.Created)
    assert (created.title, created.is_archived, created.user_id) == ("Helpline", False, "u1")


def test_a_project_may_start_archived() -> None:
    assert Project.start("Old", user_id="u1", is_archived=True).is_archived is True


@pytest.mark.parametrize(
    ("title", "error_type"),
    [
        (None, "type"),
        (5, "type"),
        ("", "minLength"),
        ("   ", "minLength"),
        ("x" * 1001, "maxLength"),
    ],
)
def test_a_title_must_be_non_blank_text_of_at_most_1000(title: Any, error_type: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Project.start(title, user_id="u1")
    assert [(e.type, e.path) for e in caught.value.errors] == [(error_type, "/title")]
    project = started()
    with pytest.raises(ValidationFailed):
        project.rename(title, user_id="u2")
    assert project.title == "Helpline"
    assert project.collect_events() == []


def test_rename_records_the_new_title() -> None:
    project = started()
    project.rename("Hotline", user_id="u2")
    assert project.title == "Hotline"
    [retitled] = project.collect_events()
    assert (retitled.title, retitled.user_id, retitled.originator_version) == ("Hotline", "u2", 2)


def test_renaming_to_the_same_title_records_nothing() -> None:
    project = started()
    project.rename("Helpline", user_id="u2")
    assert project.collect_events() == []
    assert project.version == 1


def test_archive_and_unarchive_each_record_one_event() -> None:
    project = started()
    project.set_archived(True, user_id="u2")
    assert project.is_archived is True
    project.set_archived(False, user_id="u3")
    assert project.is_archived is False
    archived, unarchived = project.collect_events()
    assert (type(archived), archived.user_id) == (Project.Archived, "u2")
    assert (type(unarchived), unarchived.user_id) == (Project.Unarchived, "u3")


def test_archiving_an_archived_project_records_nothing() -> None:
    project = started(is_archived=True)
    project.set_archived(True, user_id="u2")
    assert project.collect_events() == []


def test_unarchiving_an_active_project_records_nothing() -> None:
    project = started()
    project.set_archived(False, user_id="u2")
    assert project.collect_events() == []


def test_replaying_the_events_rebuilds_the_same_project() -> None:
    project = Project.start("Helpline", user_id="u1")
    project.rename("Hotline", user_id="u1")
    project.set_archived(True, user_id="u1")
    rebuilt: Any = None
    for event in project.collect_events():
        rebuilt = event.mutate(rebuilt)
    assert (rebuilt.id, rebuilt.version, rebuilt.title, rebuilt.is_archived) == (
        project.id,
        3,
        "Hotline",
        True,
    )
