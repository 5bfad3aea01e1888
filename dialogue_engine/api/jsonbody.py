"""Reading a request body within :class:`~.settings.Limits`, and parsing it as strict JSON.

- Size: a ``Content-Length`` over ``max_body_bytes`` is refused before a byte
  is read; a chunked body is counted as it streams and refused as soon as it
  passes the limit, so no more than the limit is ever held (413
  ``payload_too_large``).
- Syntax (400 ``parse_error`` with ``reason``, ``line``, ``column``): what
  orjson rejects (invalid UTF-8, ``NaN``, ``Infinity``, ``-Infinity``, numbers
  out of range…), nesting deeper than ``max_json_depth``, and an object key
  given twice (``{"a": 1, "a": 2}`` is ambiguous: parsers differ on which wins).
- Sizes inside the value (422 ``validation_error`` pointing at the value):
  strings and object keys longer than ``max_string_length``, arrays and
  objects with more than ``max_json_items`` items.

Speed: the body is parsed once, by orjson; one walk over the parsed value
checks depth and sizes and counts object members. Duplicate keys are found
without a second parse: every key is a string followed by ``:``, so a body
with as many colons (or, when strings hold colons too, as many quotes followed
by a colon) as the value has members repeated no key, since orjson keeps only
the last of duplicates. Only when the counts differ (a duplicate, or an
escaped quote before a colon inside a string) is the body tokenised to look.
Error messages are worked out on the error path only. A small patch costs ~3
µs more than orjson alone; a 116 KB dialogue ~1.5 ms (the walk and a count).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import orjson

from ..domain.errors import FieldError, ValidationFailed
from ..domain.jsonvalue import escape
from .errors import ParseError, PayloadTooLarge

if TYPE_CHECKING:
    from starlette.requests import Request

    from .settings import Limits

_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"(\s*:)?|[\[\]{}]', re.DOTALL)
"""A string (group 1 set when it is an object key) or a bracket, outside strings."""
_KEY_END = re.compile(rb'"[ \t\n\r]*:')
ORJSON_MAX_DEPTH = 1024
"""orjson refuses deeper documents whatever ``max_json_depth`` says."""


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing one over ``limit`` bytes before reading past it."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(limit, int(declared))
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes, limits: Limits) -> Any:
    """``body`` as a JSON value within ``limits`` (400 or 422 otherwise)."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise _syntax_error(body, e, limits) from None
    kind = type(value)
    if kind is str and len(value) > limits.max_string_length:
        raise ValidationFailed(_size_errors(value, "", limits), "Request body too large")
    if kind is not dict and kind is not list:
        return value
    try:
        members = _walk(value, 0, limits)
    except _TooDeep:
        raise _too_deep(body, limits.max_json_depth) from None
    except _TooBig:
        raise ValidationFailed(_size_errors(value, "", limits), "Request body too large") from None
    if members != body.count(b":") and members != len(_KEY_END.findall(body)):
        _reject_duplicate_keys(body)
    return value


class _TooDeep(Exception):
    pass


class _TooBig(Exception):
    pass


def _walk(value: dict[str, Any] | list[Any], depth: int, limits: Limits) -> int:
    """The members of every object in ``value``; raises at the first limit passed."""
    if depth >= limits.max_json_depth:
        raise _TooDeep
    if len(value) > limits.max_json_items:
        raise _TooBig
    longest = limits.max_string_length
    members = 0
    items: Iterable[Any] = value
    if type(value) is dict:
        members = len(value)
        if members and max(map(len, value)) > longest:
            raise _TooBig
        items = value.values()
    for item in items:
        kind = type(item)
        if kind is str:
            if len(item) > longest:
                raise _TooBig
        elif kind is dict or kind is list:
            members += _walk(item, depth + 1, limits)
    return members


def _size_errors(value: Any, at: str, limits: Limits) -> list[FieldError]:
    """Where ``value`` passes a size limit, as JSON pointers (the error path only)."""
    kind = type(value)
    if kind is str:
        if len(value) > limits.max_string_length:
            message = f"string is longer than {limits.max_string_length} characters"
            return [FieldError("maxLength", at, message)]
        return []
    if kind is list:
        if len(value) > limits.max_json_items:
            message = f"array has more than {limits.max_json_items} items"
            return [FieldError("maxItems", at, message)]
        return [e for i, item in enumerate(value) for e in _size_errors(item, f"{at}/{i}", limits)]
    if kind is dict:
        if len(value) > limits.max_json_items:
            message = f"object has more than {limits.max_json_items} members"
            return [FieldError("maxProperties", at, message)]
        errors = []
        for key, item in value.items():
            inner = f"{at}/{escape(key)}"
            if len(key) > limits.max_string_length:
                message = f"key is longer than {limits.max_string_length} characters"
                errors.append(FieldError("maxLength", inner, message))
            errors += _size_errors(item, inner, limits)
        return errors
    return []


def _too_deep(body: bytes, max_depth: int) -> ParseError:
    reason = f"JSON nested deeper than {max_depth} levels"
    depth = 0
    for token in _TOKEN.finditer(body):
        bracket = token.group()
        if bracket in (b"[", b"{"):
            depth += 1
            if depth > max_depth:
                return _error_at(body, token.start(), reason)
        elif bracket in (b"]", b"}"):
            depth -= 1
    return ParseError(reason, 1, 1)


def _reject_duplicate_keys(body: bytes) -> None:
    """Tokenise ``body`` (valid JSON) and raise at the first key repeated in one object."""
    keys: list[set[str] | None] = []
    for token in _TOKEN.finditer(body):
        text = token.group()
        if text in (b"{", b"["):
            keys.append(set() if text == b"{" else None)
        elif text in (b"}", b"]"):
            keys.pop()
        elif token.group(1) is not None:
            key = orjson.loads(text[: token.start(1) - token.start()])
            seen = keys[-1]
            assert seen is not None
            if key in seen:
                raise _error_at(body, token.start(), f"Duplicate object key {key!r}")
            seen.add(key)


def _syntax_error(body: bytes, error: orjson.JSONDecodeError, limits: Limits) -> ParseError:
    """Why orjson refused ``body``, worded as Python's decoder words it where it can.

    The contract shows the standard library's reasons ("Expecting value");
    where that decoder accepts what orjson refuses (``NaN``, ``Infinity``,
    ``1e400``) orjson's own reason and position are given.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        return _error_at(body, e.start, "Invalid UTF-8")
    if error.msg == "depth limit exceeded":
        return _too_deep(body, min(limits.max_json_depth, ORJSON_MAX_DEPTH))
    try:
        json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as e:
        return ParseError(e.msg, e.lineno, e.colno)
    except _NotJSON as e:
        return ParseError(f"{e} is not valid JSON", error.lineno, error.colno)
    except RecursionError:
        pass
    return ParseError(error.msg, error.lineno, error.colno)


class _NotJSON(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NotJSON(name)


def _error_at(body: bytes, position: int, reason: str) -> ParseError:
    line_start = body.rfind(b"\n", 0, position) + 1
    column = len(body[line_start:position].decode("utf-8", "replace")) + 1
    return ParseError(reason, body.count(b"\n", 0, position) + 1, column)
