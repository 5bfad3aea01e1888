"""Pages of a list: ``page`` from 1 (to a billion), ``per_page`` from 1 to 100 (default 30)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from .errors import FieldError, ValidationFailed

T = TypeVar("T")

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
MAX_PAGE = 10**9
"""A page past any real list, yet whose offset still fits a 64-bit SQL integer."""


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    def __post_init__(self) -> None:
        errors = []
        if type(self.page) is not int or not 1 <= self.page <= MAX_PAGE:
            too_big = type(self.page) is int and self.page > MAX_PAGE
            message = f"page must be an integer from 1 to {MAX_PAGE}"
            errors.append(FieldError("maximum" if too_big else "minimum", "/page", message))
        if type(self.per_page) is not int or not 1 <= self.per_page <= MAX_PER_PAGE:
            errors.append(
                FieldError(
                    "maximum", "/per_page", f"per_page must be an integer from 1 to {MAX_PER_PAGE}"
                )
            )
        if errors:
            raise ValidationFailed(errors, "Invalid query parameters")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of items, and the total count across all pages."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def last_page(self) -> int:
        return max(1, -(-self.total // self.per_page))
