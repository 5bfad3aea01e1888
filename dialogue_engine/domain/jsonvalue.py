"""Plain JSON values: one canonical encoding, strict equality, owned copies.

Descriptions are treated as immutable once they belong to an aggregate: a
change builds a new root that shares every untouched subtree with the old one
(see :mod:`dialogue_engine.domain.patching`). That is why readers need no lock
and why equality can short-circuit on identity.
"""

from __future__ import annotations

from typing import Any

import orjson

from .errors import FieldError, ValidationFailed

JSON = Any
"""A plain JSON value: dict with str keys, list, str, int, float, bool or None."""

_CANONICAL = orjson.OPT_SORT_KEYS
_MIN_INT = -(2**63)
_MAX_INT = 2**64 - 1
"""The integers orjson (and so the stored payloads) can carry."""
MAX_DEPTH = 200
"""Deepest nesting of arrays and objects in a value; orjson cannot encode beyond 254."""


def canonical_bytes(value: JSON) -> bytes:
    """The one encoding used for hashes and stored payloads: sorted keys, no NaN."""
    return orjson.dumps(value, option=_CANONICAL)


def dumps(value: JSON) -> bytes:
    """Compact JSON bytes, keys in document order (for responses)."""
    return orjson.dumps(value)


def loads(data: bytes | str) -> JSON:
    return orjson.loads(data)


def owned_copy(value: JSON, *, path: str = "") -> JSON:
    """A deep copy that belongs to the engine, checked to be plain JSON.

    Rejects what JSON cannot carry (NaN, Infinity, non-string keys, integers
    beyond 64 bits, nesting deeper than :data:`MAX_DEPTH`, tuples of objects,
    bytes…) with a :class:`ValidationFailed`
    rather than a library error; its path points at the offending value (``""``
    is the root, as in RFC 6901).
    """
    try:
        _check_plain(value, path)
        return orjson.loads(orjson.dumps(value))
    except (TypeError, orjson.JSONEncodeError) as e:
        raise ValidationFailed([FieldError("type", path, f"not a JSON value: {e}")]) from e


def _check_plain(value: JSON, path: str, depth: int = 0) -> None:
    kind = type(value)
    if depth >= MAX_DEPTH and kind in (dict, list):
        raise ValidationFailed(
            [FieldError("maxDepth", path, f"nested deeper than {MAX_DEPTH} levels")]
        )
    if kind is float:
        if value != value or value in (float("inf"), float("-inf")):
            raise ValidationFailed([FieldError("type", path, "NaN and Infinity are not JSON")])
    elif kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise ValidationFailed(
                    [FieldError("type", path, f"object key {key!r} is not a string")]
                )
            _check_plain(item, f"{path}/{escape(key)}", depth + 1)
    elif kind is list:
        for index, item in enumerate(value):
            _check_plain(item, f"{path}/{index}", depth + 1)
    elif kind is int and not _MIN_INT <= value <= _MAX_INT:
        raise ValidationFailed([FieldError("type", path, "integer exceeds the 64-bit range")])
    elif value is not None and kind not in (str, int, bool):
        raise ValidationFailed([FieldError("type", path, f"{kind.__name__} is not a JSON type")])


def json_equal(a: JSON, b: JSON) -> bool:
    """Equality that tells ``1``, ``1.0`` and ``true`` apart, and is fast on shared trees."""
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is dict:
        if a.keys() != b.keys():
            return False
        for key, item in a.items():
            other = b[key]
            if item is not other and not json_equal(item, other):
                return False
        return True
    if kind is list:
        if len(a) != len(b):
            return False
        for item, other in zip(a, b, strict=True):
            if item is not other and not json_equal(item, other):
                return False
        return True
    return bool(a == b)


def escape(token: str) -> str:
    """Escape one JSON pointer reference token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def pointer(*tokens: str | int) -> str:
    return "".join(f"/{escape(str(t))}" for t in tokens)
