"""Source 001's sequence search: its query parameters, statuses and timestamps.

Every parameter is checked here, before any query runs, and a value that
cannot be understood is an :class:`InvalidParameter` naming it (source 001:
"Invalid timestamps return 400"; the same holds for every other parameter of
this endpoint, so a client meets one rule). Unknown parameters are ignored.

Decisions where source 001 is silent or does not fit a dialogue engine:

- ``id`` is the sequence's symbol (sequences are identified by symbols within
  their dialogue), matched exactly, so it can match one sequence in each of
  several dialogues.
- ``title`` and ``description`` match when the parameter is contained in the
  field after Unicode case folding (``str.casefold``).
- A timestamp without an offset is UTC. ``created_at`` (exact) compares at
  the millisecond, the precision revisions are recorded with.
- ``page`` counts from 1; ``page_size`` is 1 to 100, default 30. A page past
  the last answers an empty ``results`` with the right ``count``.
- ``status`` and ``display_status`` take the numbers of source 001, or the
  words it answers with (``Draft``, ``Public``…), case-insensitively.

Only sequences of dialogues the caller may read are counted and returned:
:func:`readable_scope` turns its grants into the projects and dialogues to search.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import ceil, floor

from .errors import InvalidParameter
from .paging import MAX_PAGE
from .permissions import DIALOGUE_ACCESS, Actor, project_read_all

DRAFT, PUBLISHED, UNPUBLISHED = 0, 1, 2
STATUSES = ("Draft", "Published", "Unpublished")
PRIVATE, PUBLIC = 0, 1
DISPLAY_STATUSES = ("Private", "Public")
ORDERINGS = ("created_at", "-created_at")
DEFAULT_PAGE_SIZE = 30
MAX_PAGE_SIZE = 100
RANGE_OPERATORS = ("gt", "gte", "lt", "lte")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CYCLE_DAYS = 146_097
"""The Gregorian calendar repeats every 400 years, which is this many days."""
_FIRST_DAY = (datetime(1, 1, 1, tzinfo=UTC) - _EPOCH).days
_LAST_DAY = (datetime(9999, 12, 31, tzinfo=UTC) - _EPOCH).days
"""The days since the epoch that ``datetime`` can hold."""


@dataclass(frozen=True)
class CreatedRange:
    """Bounds on ``created_at`` in whole milliseconds, all inclusive; ``None``: unbounded."""

    low: int | None = None
    high: int | None = None
    empty: bool = False
    """No timestamp can match (an exact value between two milliseconds)."""


@dataclass(frozen=True)
class SequenceSearch:
    id: str | None = None
    title: str | None = None
    """Casefolded."""
    description: str | None = None
    """Casefolded."""
    status: int | None = None
    display_status: int | None = None
    created: CreatedRange = CreatedRange()
    descending: bool = True
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def parse_search(params: Mapping[str, str]) -> SequenceSearch:
    """The search source 001 describes, from its query parameters (one value each)."""
    ordering = params.get("ordering", "-created_at")
    if ordering not in ORDERINGS:
        raise InvalidParameter("ordering", ordering, "ordering must be created_at or -created_at")
    title = params.get("title")
    description = params.get("description")
    return SequenceSearch(
        id=params.get("id"),
        title=title.casefold() if title is not None else None,
        description=description.casefold() if description is not None else None,
        status=_choice(params, "status", STATUSES),
        display_status=_choice(params, "display_status", DISPLAY_STATUSES),
        created=_created_range(params),
        descending=ordering == "-created_at",
        page=_integer(params, "page", 1, MAX_PAGE, 1),
        page_size=_integer(params, "page_size", 1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE),
    )


def parse_timestamp(name: str, value: str) -> float:
    """An ISO-8601 timestamp as milliseconds since the epoch (fractional below the ms)."""
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        # An offset's '+' sent unencoded arrives as a space.
        repaired = re.sub(r"(?<=\d) (\d{2}(:?\d{2})?)$", r"+\1", value)
        try:
            instant = datetime.fromisoformat(repaired)
        except ValueError:
            raise InvalidParameter(name, value, "not an ISO-8601 timestamp") from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds / 1000


def iso_from_ms(ms: int) -> str:
    """Milliseconds since the epoch as ISO-8601 UTC (``2024-05-01T10:00:00.123Z``).

    Revisions may carry any ``created`` up to 2**63-1 ms; years past 9999 are
    written with ISO 8601's expanded year (``+292278994-…``) rather than failing.
    """
    days, rest = divmod(ms, 86_400_000)
    cycles = 0
    # Bring the day into datetime's range by whole 400-year cycles.
    while days > _LAST_DAY:
        days -= _CYCLE_DAYS
        cycles += 1
    while days < _FIRST_DAY:
        days += _CYCLE_DAYS
        cycles -= 1
    instant = _EPOCH + timedelta(days=days, milliseconds=rest)
    text = instant.strftime("%Y-%m-%dT%H:%M:%S") + f".{instant.microsecond // 1000:03d}Z"
    if cycles:
        year = instant.year + 400 * cycles
        sign = "+" if year > 0 else "-"
        text = f"{sign}{abs(year)}{text[text.index('-', 1) :]}"
    return text


def status_name(status: int) -> str:
    return STATUSES[status]


def display_status_name(display_status: int) -> str:
    return DISPLAY_STATUSES[display_status]


def _choice(params: Mapping[str, str], name: str, words: tuple[str, ...]) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    numbers = [str(n) for n in range(len(words))]
    if value.strip() in numbers:
        return int(value)
    lowered = [w.lower() for w in words]
    if value.strip().lower() in lowered:
        return lowered.index(value.strip().lower())
    listed = ", ".join(f"{n} ({w})" for n, w in zip(numbers, words, strict=True))
    raise InvalidParameter(name, value, f"{name} must be one of {listed}")


def _integer(params: Mapping[str, str], name: str, low: int, high: int, default: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise InvalidParameter(name, value, f"{name} must be a whole number")
    number = int(text)
    if not low <= number <= high:
        raise InvalidParameter(name, value, f"{name} must be from {low} to {high}")
    return number


def _created_range(params: Mapping[str, str]) -> CreatedRange:
    """Every ``created_at`` filter as one inclusive range of whole milliseconds.

    For an integer x and a real bound v: x > v ⇔ x ≥ ⌊v⌋+1, x ≥ v ⇔ x ≥ ⌈v⌉,
    x < v ⇔ x ≤ ⌈v⌉-1, x ≤ v ⇔ x ≤ ⌊v⌋; x = v needs v whole.
    """
    lows: list[int] = []
    highs: list[int] = []
    empty = False
    exact = params.get("created_at")
    if exact is not None:
        value = parse_timestamp("created_at", exact)
        if value != floor(value):
            empty = True
        lows.append(ceil(value))
        highs.append(floor(value))
    for operator in RANGE_OPERATORS:
        name = f"created_at.{operator}"
        raw = params.get(name)
        if raw is None:
            continue
        value = parse_timestamp(name, raw)
        if operator == "gt":
            lows.append(floor(value) + 1)
        elif operator == "gte":
            lows.append(ceil(value))
        elif operator == "lt":
            highs.append(ceil(value) - 1)
        else:
            highs.append(floor(value))
    low = max(lows) if lows else None
    high = min(highs) if highs else None
    if low is not None and high is not None and low > high:
        empty = True
    return CreatedRange(low, high, empty)


def readable_scope(actor: Actor) -> tuple[frozenset[str], frozenset[tuple[str, str]]] | None:
    """(projects all of whose dialogues ``actor`` reads, (project, dialogue) pairs it reads).

    None: everything (an admin).
    """
    if actor.is_admin:
        return None
    projects = frozenset(
        g.project_id for g in actor.grants if g.project_id and project_read_all(actor, g.project_id)
    )
    dialogues = frozenset(
        (g.project_id, g.dialogue_id)
        for g in actor.grants
        if g.type in DIALOGUE_ACCESS and g.project_id and g.dialogue_id
    )
    return projects, dialogues
