"""Send dates of copied blocks: source 000's date conversions, and ISO-8601 instants.

Duplicating blocks (source 000's ``duplicate-emails``) converts each copy's
``properties.send_at`` one of three ways:

- ``none``: the dates stay as they are;
- ``new-start-date``: the earliest ``send_at`` becomes the new start date and
  every other dated block keeps its distance from it (an absolute duration,
  so a copy lands at the same elapsed time whatever the offsets say);
- ``delete``: ``send_at`` is removed, so the copies must be rescheduled.

Blocks without ``send_at`` are copied unchanged by every conversion.

Decisions where source 000 is silent: its example date ``2013-03-14 09:30``
has no time zone, so a start date without one is read in the offset of the
earliest block's ``send_at`` (the author's own zone), or UTC when no block is
dated; every converted date is written in the start date's offset, as
``YYYY-MM-DDTHH:MM:SS[.ffffff]±HH:MM``. Offsets are fixed (``send_at`` carries
no zone names), so no daylight-saving rule applies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .errors import FieldError, ValidationFailed
from .jsonvalue import JSON

NONE = "none"
NEW_START_DATE = "new-start-date"
DELETE = "delete"
CONVERSIONS = (NONE, NEW_START_DATE, DELETE)

_INSTANT = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?",
    re.IGNORECASE,
)


def parse_instant(text: object, at: str) -> datetime:
    """An ISO-8601 date-time (``T`` or a space; seconds and offset optional).

    Naive when it carries no offset. A :class:`ValidationFailed` at ``at`` otherwise.
    """
    if type(text) is not str or _INSTANT.fullmatch(text) is None:
        raise ValidationFailed([FieldError("format", at, f"{text!r} is not an ISO-8601 date-time")])
    try:
        return datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError as e:
        raise ValidationFailed([FieldError("format", at, f"{text!r}: {e}")]) from None


def format_instant(instant: datetime) -> str:
    """The form ``send_at`` is stored in: seconds always, microseconds when there are any."""
    return instant.isoformat()


@dataclass(frozen=True)
class Conversion:
    """How to convert copied send dates; ``start`` only for ``new-start-date``."""

    kind: str = NONE
    start: datetime | None = None
    start_text: str | None = None


def check_conversion(kind: object, start: object, at: str = "") -> Conversion:
    """Source 000's ``date-conversion`` and ``new-start-date`` members, checked.

    ``new-start-date`` without a date, or a date given with another
    conversion, is a validation error.
    """
    if kind not in CONVERSIONS:
        raise ValidationFailed(
            [
                FieldError(
                    "enum", f"{at}/date-conversion", f"date-conversion must be one of {CONVERSIONS}"
                )
            ]
        )
    if kind != NEW_START_DATE:
        if start is not None:
            raise ValidationFailed(
                [
                    FieldError(
                        "dependentRequired",
                        f"{at}/new-start-date",
                        "new-start-date is only valid with date-conversion 'new-start-date'",
                    )
                ]
            )
        return Conversion(str(kind))
    if start is None:
        raise ValidationFailed(
            [
                FieldError(
                    "required",
                    f"{at}/new-start-date",
                    "date-conversion 'new-start-date' needs a new-start-date",
                )
            ]
        )
    return Conversion(NEW_START_DATE, parse_instant(start, f"{at}/new-start-date"), str(start))


def convert_dates(blocks: list[JSON], conversion: Conversion) -> list[JSON]:
    """The blocks with their ``properties.send_at`` converted (new objects; inputs untouched).

    A ``send_at`` that is not a date cannot be shifted: with ``new-start-date``
    that is a validation error pointing at the block (``/blocks/{index}``).
    """
    if conversion.kind == NONE:
        return list(blocks)
    if conversion.kind == DELETE:
        return [_with_send_at(block, None) for block in blocks]
    dated: dict[int, datetime] = {}
    for index, block in enumerate(blocks):
        text = _send_at(block)
        if text is not None:
            instant = parse_instant(text, f"/blocks/{index}/properties/send_at")
            dated[index] = instant if instant.tzinfo else instant.replace(tzinfo=UTC)
    if not dated:
        return list(blocks)
    earliest = min(dated.values())
    assert conversion.start is not None
    start = conversion.start
    if start.tzinfo is None:
        start = start.replace(tzinfo=earliest.tzinfo)
    converted = list(blocks)
    for index, instant in dated.items():
        try:
            moved = (start + (instant - earliest)).astimezone(start.tzinfo)
        except OverflowError:
            raise ValidationFailed(
                [
                    FieldError(
                        "range",
                        "/new-start-date",
                        f"moves block {blocks[index].get('id')!r} outside years 1 to 9999",
                    )
                ]
            ) from None
        converted[index] = _with_send_at(blocks[index], format_instant(moved))
    return converted


def _send_at(block: JSON) -> Any:
    properties = block.get("properties") if type(block) is dict else None
    value = properties.get("send_at") if type(properties) is dict else None
    return value if type(value) is str else None


def _with_send_at(block: JSON, value: str | None) -> JSON:
    properties = block.get("properties") if type(block) is dict else None
    if type(properties) is not dict or "send_at" not in properties:
        return block
    changed = {k: v for k, v in properties.items() if k != "send_at"}
    if value is not None:
        changed["send_at"] = value
    return {**block, "properties": changed}
