"""Page requests: page from 1, per_page from 1 to 100, default 30."""

from __future__ import annotations

from typing import Any

import pytest

from dialogue_engine.domain.errors import ValidationFailed
from dialogue_engine.domain.paging import Page, PageRequest


def test_the_defaults_are_page_one_of_thirty() -> None:
    request = PageRequest()
    assert (request.page, request.per_page, request.offset) == (1, 30, 0)


@pytest.mark.parametrize(
    ("page", "per_page", "offset"), [(1, 1, 0), (2, 30, 30), (3, 100, 200), (10**6, 1, 999_999)]
)
def test_the_offset_skips_the_earlier_pages(page: int, per_page: int, offset: int) -> None:
    assert PageRequest(page, per_page).offset == offset


@pytest.mark.parametrize("page", [0, -1, True, 1.0, "1", None])
def test_a_page_below_one_or_not_an_integer_is_refused(page: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        PageRequest(page=page)
    assert [(e.type, e.path) for e in caught.value.errors] == [("minimum", "/page")]


@pytest.mark.parametrize("per_page", [0, 101, -5, True, 30.0, "30", None])
def test_per_page_outside_one_to_a_hundred_is_refused(per_page: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        PageRequest(per_page=per_page)
    assert [(e.type, e.path) for e in caught.value.errors] == [("maximum", "/per_page")]


def test_both_bad_bounds_are_reported_together() -> None:
    with pytest.raises(ValidationFailed) as caught:
        PageRequest(0, 101)
    assert [e.path for e in caught.value.errors] == ["/page", "/per_page"]
    assert caught.value.message == "Invalid query parameters"


@pytest.mark.parametrize(
    ("total", "per_page", "last"), [(0, 30, 1), (1, 30, 1), (30, 30, 1), (31, 30, 2), (100, 1, 100)]
)
def test_the_last_page_is_at_least_one(total: int, per_page: int, last: int) -> None:
    assert Page([], total, 1, per_page).last_page == last
