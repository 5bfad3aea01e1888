"""List responses: a JSON array, with ``Link`` and ``X-Total-Count`` headers.

Source 002 keeps list bodies as bare arrays, so the paging metadata travels
in headers: ``rel`` first, prev, next and last (GitHub's convention), each
URL being the request's own with ``page`` changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.datastructures import URL
from starlette.responses import Response

from ..domain.paging import Page
from .responses import JSONBytesResponse

T = TypeVar("T")


def paged(url: URL, page: Page[T], shape: Callable[[T], Any]) -> Response:
    headers = {"X-Total-Count": str(page.total), "Link": link_header(url, page)}
    return JSONBytesResponse([shape(item) for item in page.items], headers=headers)


def link_header(url: URL, page: Page[Any]) -> str:
    last = page.last_page
    targets = {"first": 1, "last": last}
    if page.page > 1:
        targets["prev"] = min(page.page - 1, last)
    if page.page < last:
        targets["next"] = page.page + 1
    order = ("first", "prev", "next", "last")
    return ", ".join(
        f'<{url.include_query_params(page=targets[rel])}>; rel="{rel}"'
        for rel in order
        if rel in targets
    )
