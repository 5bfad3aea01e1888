"""Date conversion of duplicated blocks: none, new-start-date, delete; zones; undated blocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogue_engine.domain.errors import ValidationFailed
from dialogue_engine.domain.schedule import Conversion, check_conversion, convert_dates


def email(block_id: str, send_at: str | None) -> dict[str, Any]:
    properties: dict[str, Any] = {"subject": "s", "body": "b"}
    if send_at is not None:
        properties["send_at"] = send_at
    return {"id": block_id, "type": "email", "properties": properties}


def send_at(block: dict[str, Any]) -> str | None:
    value: str | None = block["properties"].get("send_at")
    return value


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


BLOCKS = [
    email("second", "2024-05-02T12:00:00+02:00"),
    {"id": "hello", "type": "message", "properties": {"text": "Hi"}},
    email("first", "2024-05-01T09:00:00+02:00"),
    email("undated", None),
    email("third", "2024-05-03T07:30:00Z"),
]


def test_none_keeps_every_date_and_shares_nothing_it_changes() -> None:
    converted = convert_dates(BLOCKS, check_conversion("none", None))
    assert converted == BLOCKS


def test_delete_removes_send_at_and_leaves_undated_blocks_as_they_were() -> None:
    converted = convert_dates(BLOCKS, check_conversion("delete", None))
    assert [send_at(b) for b in converted if b["type"] == "email"] == [None] * 4
    assert converted[1] is BLOCKS[1]
    assert converted[3] is BLOCKS[3]
    assert converted[0]["properties"] == {"subject": "s", "body": "b"}
    assert send_at(BLOCKS[0]) == "2024-05-02T12:00:00+02:00"  # the input is untouched


def test_new_start_date_moves_the_earliest_and_keeps_every_offset_from_it() -> None:
    converted = convert_dates(BLOCKS, check_conversion("new-start-date", "2025-01-10T10:00+02:00"))
    dates = {b["id"]: send_at(b) for b in converted}
    assert dates["first"] == "2025-01-10T10:00:00+02:00"
    assert dates["second"] == "2025-01-11T13:00:00+02:00"  # 27 h after the first
    # 07:30Z is 09:30+02:00: 48 h 30 min after the first, written in the start's offset.
    assert dates["third"] == "2025-01-12T10:30:00+02:00"
    assert dates["undated"] is None
    assert converted[1] is BLOCKS[1]


def test_a_start_date_without_an_offset_is_read_in_the_earliest_blocks_offset() -> None:
    # Source 000's own example date has no time zone.
    converted = convert_dates(BLOCKS, check_conversion("new-start-date", "2013-03-14 09:30"))
    dates = {b["id"]: send_at(b) for b in converted}
    assert dates["first"] == "2013-03-14T09:30:00+02:00"
    assert dates["second"] == "2013-03-15T12:30:00+02:00"


def test_a_start_date_in_another_zone_converts_the_instants_not_the_wall_clock() -> None:
    converted = convert_dates(BLOCKS, check_conversion("new-start-date", "2025-01-10T08:00Z"))
    dates = {b["id"]: instant(str(send_at(b))) for b in converted if send_at(b)}
    assert dates["first"] == datetime(2025, 1, 10, 8, 0, tzinfo=UTC)
    assert dates["second"] - dates["first"] == timedelta(hours=27)
    assert all(d.utcoffset() == timedelta(0) for d in dates.values())


def test_new_start_date_with_no_dated_block_copies_them_unchanged() -> None:
    blocks = [email("a", None), {"id": "b", "type": "end"}]
    assert convert_dates(blocks, check_conversion("new-start-date", "2025-01-01T00:00Z")) == blocks


def test_a_move_past_year_9999_is_a_validation_error() -> None:
    blocks = [email("a", "2024-01-01T00:00:00Z"), email("b", "2030-01-01T00:00:00Z")]
    with pytest.raises(ValidationFailed) as raised:
        convert_dates(blocks, check_conversion("new-start-date", "9999-06-01T00:00Z"))
    assert raised.value.errors[0].path == "/new-start-date"


@pytest.mark.parametrize(
    ("kind", "start", "path"),
    [
        ("new-start-date", None, "/new-start-date"),
        ("none", "2025-01-01T00:00Z", "/new-start-date"),
        ("delete", "2025-01-01T00:00Z", "/new-start-date"),
        ("shift", None, "/date-conversion"),
        ("new-start-date", "next tuesday", "/new-start-date"),
        ("new-start-date", "2025-02-30T00:00Z", "/new-start-date"),
        ("new-start-date", 20250101, "/new-start-date"),
    ],
)
def test_inconsistent_or_malformed_conversions_are_422_naming_the_member(
    kind: str, start: object, path: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        check_conversion(kind, start)
    assert [e.path for e in raised.value.errors] == [path]


def test_conversion_defaults_to_none() -> None:
    assert check_conversion("none", None) == Conversion("none")


ZONES = st.integers(-12 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
INSTANTS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=ZONES
).map(lambda d: d.replace(microsecond=0))


@settings(max_examples=200)
@given(
    dates=st.lists(st.none() | INSTANTS, min_size=1, max_size=8),
    start=INSTANTS,
)
def test_new_start_date_preserves_every_gap_and_starts_at_the_new_date(
    dates: list[datetime | None], start: datetime
) -> None:
    blocks = [email(f"b{i}", d.isoformat() if d else None) for i, d in enumerate(dates)]
    converted = convert_dates(blocks, check_conversion("new-start-date", start.isoformat()))
    before = {b["id"]: instant(s) for b in blocks if (s := send_at(b))}
    after = {b["id"]: instant(s) for b in converted if (s := send_at(b))}
    assert before.keys() == after.keys()
    if before:
        first = min(before, key=lambda k: before[k])
        assert after[first] == start
        for key in before:
            assert after[key] - after[first] == before[key] - before[first]
            assert after[key].utcoffset() == start.utcoffset()
