"""Source 001's search parameters: statuses, ISO-8601 ranges, ordering, paging; 400s."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogue_engine.domain.errors import InvalidParameter
from dialogue_engine.domain.sequence_search import (
    CreatedRange,
    iso_from_ms,
    parse_search,
    parse_timestamp,
)


def test_defaults_are_newest_first_thirty_a_page() -> None:
    search = parse_search({})
    assert (search.descending, search.page, search.page_size, search.offset) == (True, 1, 30, 0)
    assert search.created == CreatedRange()


def test_statuses_take_source_001s_numbers_or_words() -> None:
    assert parse_search({"status": "2", "display_status": "1"}).status == 2
    assert parse_search({"status": "published"}).status == 1
    assert parse_search({"display_status": "Private"}).display_status == 0


def test_title_and_description_are_casefolded_for_contains() -> None:
    search = parse_search({"title": "STRASSE", "description": "Straße"})
    assert (search.title, search.description) == ("strasse", "strasse")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("created_at", "yesterday"),
        ("created_at.gt", "2024-13-01"),
        ("created_at.gte", ""),
        ("created_at.lt", "2024-05-01T25:00"),
        ("created_at.lte", "1714557600"),
        ("ordering", "title"),
        ("ordering", "created"),
        ("status", "3"),
        ("display_status", "hidden"),
        ("page", "0"),
        ("page", "two"),
        ("page_size", "101"),
        ("page_size", "-1"),
    ],
)
def test_an_invalid_parameter_is_named_in_the_error(name: str, value: str) -> None:
    with pytest.raises(InvalidParameter) as raised:
        parse_search({name: value})
    assert raised.value.details["parameter"] == name
    assert raised.value.details["value"] == value


def test_ranges_become_inclusive_whole_millisecond_bounds() -> None:
    created = parse_search(
        {"created_at.gt": "2024-05-01T10:00:00.0005Z", "created_at.lt": "2024-05-01T10:00:01Z"}
    ).created
    base = 1_714_557_600_000
    assert created == CreatedRange(base + 1, base + 999)


def test_an_exact_time_between_two_milliseconds_matches_nothing() -> None:
    assert parse_search({"created_at": "2024-05-01T10:00:00.0005Z"}).created.empty
    exact = parse_search({"created_at": "2024-05-01T12:00:00+02:00"}).created
    assert exact == CreatedRange(1_714_557_600_000, 1_714_557_600_000)


def test_contradictory_bounds_match_nothing() -> None:
    search = parse_search({"created_at.gte": "2024-05-02", "created_at.lte": "2024-05-01"})
    assert search.created.empty


def test_timestamps_without_an_offset_are_utc_and_an_unencoded_plus_is_understood() -> None:
    assert parse_timestamp("x", "2024-05-01T10:00:00") == 1_714_557_600_000
    assert parse_timestamp("x", "2024-05-01T12:00:00 02:00") == 1_714_557_600_000


@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 31)))
def test_iso_from_ms_round_trips_through_the_parser(moment: datetime) -> None:
    ms = int(moment.replace(tzinfo=UTC).timestamp() * 1000)
    assert parse_timestamp("x", iso_from_ms(ms)) == ms


def test_iso_from_ms_writes_years_past_9999_expanded() -> None:
    assert iso_from_ms(2**63 - 1) == "+292278994-08-17T07:12:55.807Z"
    assert iso_from_ms(0) == "1970-01-01T00:00:00.000Z"
