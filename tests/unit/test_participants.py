"""The participant aggregate: fields, enrolments and their statuses, without I/O."""

from __future__ import annotations

import pytest

from dialogue_engine.domain.errors import NotFound, ValidationFailed
from dialogue_engine.domain.participants import Participant


def participant() -> Participant:
    return Participant.start("p1", {"address": " +2782 ", "name": "Ann"}, user_id="u", now=5)


def test_a_new_participant_holds_its_checked_fields() -> None:
    made = participant()
    assert made.fields == {"address": "+2782", "name": "Ann", "channel_id": None}
    assert (made.project_id, made.created, made.enrolments) == ("p1", 5, {})


def test_every_field_error_is_reported_at_once() -> None:
    with pytest.raises(ValidationFailed) as caught:
        Participant.start("p1", {"name": 1, "channel_id": 2, "x": 0}, user_id="u")
    assert {e.path for e in caught.value.errors} == {"", "/name", "/channel_id"}


def test_a_change_that_changes_nothing_records_nothing() -> None:
    made = participant()
    made.collect_events()
    made.change(dict(made.fields), user_id="u")
    assert made.collect_events() == []
    made.change({"address": "+2783"}, user_id="u")
    assert made.fields == {"address": "+2783", "name": None, "channel_id": None}


def test_enrolments_start_active_and_change_status_once_each() -> None:
    made = participant()
    made.enrol("d", "s0", user_id="u", now=7)
    assert made.enrolment("d", "s0") == {
        "dialogue_id": "d",
        "sequence_id": "s0",
        "status": "active",
        "enrolled": 7,
    }
    with pytest.raises(ValidationFailed):
        made.enrol("d", "s0", user_id="u")
    made.collect_events()
    made.set_status("d", "s0", "active", user_id="u")
    assert made.collect_events() == []
    made.set_status("d", "s0", "paused", user_id="u")
    assert made.enrolment("d", "s0")["status"] == "paused"
    with pytest.raises(ValidationFailed):
        made.set_status("d", "s0", "asleep", user_id="u")
    made.withdraw("d", "s0", user_id="u")
    with pytest.raises(NotFound):
        made.enrolment("d", "s0")


def test_a_deleted_participant_has_no_enrolments_and_refuses_commands() -> None:
    made = participant()
    made.enrol("d", "s0", user_id="u")
    made.delete(user_id="u")
    assert made.enrolments == {}
    with pytest.raises(NotFound):
        made.change({"address": "x"}, user_id="u")
    with pytest.raises(NotFound):
        made.enrol("d", "s1", user_id="u")
