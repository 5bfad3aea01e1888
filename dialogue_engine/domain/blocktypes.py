"""Block types: each names a JSON Schema for a block's ``properties``.

The built-ins ship with the engine; library users register more with
:meth:`BlockTypeRegistry.register`. Whatever the type, a string member named
``next`` anywhere inside ``properties`` names a sequence of the same dialogue
(that is how questions, routes and custom types point onwards), and the
description validator checks it. Likewise a string ``template_id`` at the top
of ``properties`` (with an optional ``version_id``) references a template; the
engine checks that it exists (:func:`template_reference`).

Validity is decided by ``jsonschema-rs`` (Draft 2020-12, ~0.2 µs a block);
only invalid properties go through ``jsonschema``, whose messages and paths
are what clients see. Results are also memoised by the block's canonical
encoding: re-validating an unchanged block is a dict lookup.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import jsonschema
import jsonschema_rs
import orjson

from .errors import FieldError, ValidationFailed
from .jsonvalue import JSON, escape

SYMBOL_PATTERN = "^[a-z][a-z0-9-]*$"
ISO_8601_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$"

Check = Callable[[Mapping[str, Any]], list[FieldError]]
"""Rules a JSON Schema cannot say; errors' paths are relative to ``properties``."""


@dataclass(frozen=True)
class BlockType:
    name: str
    schema: dict[str, Any]
    description: str = ""
    check: Check | None = field(default=None, compare=False)


_SYMBOL = {"type": "string", "pattern": SYMBOL_PATTERN}
_TEXT = {"type": "string", "minLength": 1}


def _send_at_is_a_date(properties: Mapping[str, Any]) -> list[FieldError]:
    value = properties.get("send_at")
    if type(value) is not str:
        return []
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return [FieldError("format", "/send_at", f"{value!r} is not an ISO-8601 date-time")]
    return []


BUILTIN_TYPES: tuple[BlockType, ...] = (
    BlockType(
        "message",
        {
            "type": "object",
            "properties": {"text": _TEXT, "template_id": _TEXT, "version_id": _TEXT},
            "if": {"required": ["template_id"]},
            "else": {"required": ["text"]},
            "dependentRequired": {"version_id": ["template_id"]},
            "additionalProperties": False,
        },
        "Sends a text to the participant: `text`, or a template reference "
        "(`template_id` [+ `version_id`]).",
    ),
    BlockType(
        "question",
        {
            "type": "object",
            "properties": {
                "text": _TEXT,
                "choices": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "properties": {
                            "value": {"type": "string", "minLength": 1},
                            "label": {"type": "string", "minLength": 1},
                            "next": _SYMBOL,
                        },
                        "required": ["value", "label"],
                        "additionalProperties": False,
                    },
                },
            },
            "required": ["text", "choices"],
            "additionalProperties": False,
        },
        "Asks a multiple-choice question; a choice may lead to another sequence.",
    ),
    BlockType(
        "freetext",
        {
            "type": "object",
            "properties": {"text": _TEXT, "store_as": _SYMBOL},
            "required": ["text", "store_as"],
            "additionalProperties": False,
        },
        "Asks an open question and stores the answer under `store_as`.",
    ),
    BlockType(
        "route",
        {
            "type": "object",
            "properties": {
                "rules": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "variable": _SYMBOL,
                            "operator": {"enum": ["equals", "not_equals", "contains", "gt", "lt"]},
                            "value": {"type": ["string", "number", "boolean"]},
                            "next": _SYMBOL,
                        },
                        "required": ["variable", "operator", "value", "next"],
                        "additionalProperties": False,
                    },
                },
                "next": _SYMBOL,
            },
            "required": ["rules"],
            "additionalProperties": False,
        },
        "Moves to the `next` of the first rule that matches, else to its own `next`.",
    ),
    BlockType(
        "email",
        {
            "type": "object",
            "properties": {
                "subject": _TEXT,
                "body": _TEXT,
                "template_id": _TEXT,
                "version_id": _TEXT,
                "send_at": {"type": "string", "pattern": ISO_8601_PATTERN},
            },
            "anyOf": [{"required": ["subject", "body"]}, {"required": ["template_id"]}],
            "dependentRequired": {"version_id": ["template_id"]},
            "additionalProperties": False,
        },
        "Sends an email: subject and body, or a template reference; `send_at` in ISO-8601.",
        _send_at_is_a_date,
    ),
    BlockType(
        "end",
        {"type": "object", "properties": {}, "additionalProperties": False},
        "Finishes the participant's run.",
    ),
)


class BlockTypeRegistry:
    """The block types one engine knows, and a memo of validated properties."""

    MEMO_LIMIT = 50_000

    def __init__(self, types: tuple[BlockType, ...] = BUILTIN_TYPES) -> None:
        self._types: dict[str, BlockType] = {}
        self._validators: dict[str, Any] = {}
        self._fast: dict[str, Any] = {}
        self._memo: dict[tuple[str, bytes], tuple[FieldError, ...]] = {}
        for block_type in types:
            self.register(block_type)

    def register(self, block_type: BlockType) -> None:
        """Add (or replace) a type. Its schema is checked to be valid JSON Schema."""
        if not _is_symbol(block_type.name):
            raise ValidationFailed(
                [FieldError("pattern", "/name", f"{block_type.name!r} is not a symbol")]
            )
        try:
            jsonschema.Draft202012Validator.check_schema(block_type.schema)
        except jsonschema.SchemaError as e:
            raise ValidationFailed(
                [FieldError("schema", "/schema", f"not a valid JSON Schema: {e.message}")]
            ) from e
        self._types[block_type.name] = block_type
        self._validators[block_type.name] = jsonschema.Draft202012Validator(block_type.schema)
        try:
            self._fast[block_type.name] = jsonschema_rs.Draft202012Validator(block_type.schema)
        except Exception:  # a schema the fast validator cannot compile: the reference one serves
            self._fast.pop(block_type.name, None)
        self._memo.clear()

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[BlockType]:
        return iter(sorted(self._types.values(), key=lambda t: t.name))

    def get(self, name: str) -> BlockType | None:
        return self._types.get(name)

    def check_properties(self, name: str, properties: JSON) -> tuple[FieldError, ...]:
        """Errors of ``properties`` for type ``name``, paths relative to ``properties``."""
        try:
            key = (name, orjson.dumps(properties, option=orjson.OPT_SORT_KEYS))
        except orjson.JSONEncodeError as e:  # e.g. an integer beyond 64 bits
            return (FieldError("type", "", f"not a JSON value: {e}"),)
        found = self._memo.get(key)
        if found is None:
            found = self._check(name, properties)
            if len(self._memo) >= self.MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = found
        return found

    def _check(self, name: str, properties: JSON) -> tuple[FieldError, ...]:
        block_type = self._types[name]
        fast = self._fast.get(name)
        if fast is not None and fast.is_valid(properties):
            # ~0.2 µs instead of ~15-40 µs; only invalid input pays for the
            # reference validator, whose error messages and paths are the contract.
            valid: list[FieldError] = block_type.check(properties) if block_type.check else []
            return tuple(sorted(valid, key=lambda e: (e.path, e.type)))
        errors = [
            FieldError(
                str(error.validator),
                "".join(f"/{escape(str(part))}" for part in error.absolute_path),
                error.message,
            )
            for error in self._validators[name].iter_errors(properties)
        ]
        if not errors and block_type.check is not None:
            errors = block_type.check(properties)
        return tuple(sorted(errors, key=lambda e: (e.path, e.type)))


def _is_symbol(value: object) -> bool:
    return type(value) is str and re.fullmatch(SYMBOL_PATTERN, value) is not None


def next_references(properties: JSON, path: str = "") -> Iterator[tuple[str, str]]:
    """Every ``(pointer, sequence id)`` named by a string ``next`` inside ``properties``."""
    kind = type(properties)
    if kind is dict:
        for key, value in properties.items():
            child = f"{path}/{escape(key)}"
            if key == "next" and type(value) is str:
                yield child, value
            elif type(value) in (dict, list):
                yield from next_references(value, child)
    elif kind is list:
        for index, value in enumerate(properties):
            if type(value) in (dict, list):
                yield from next_references(value, f"{path}/{index}")


def template_reference(properties: JSON) -> tuple[str, str | None] | None:
    """``(template_id, version_id or None)`` a block's properties reference, if any."""
    if type(properties) is not dict:
        return None
    template_id = properties.get("template_id")
    if type(template_id) is not str:
        return None
    version_id = properties.get("version_id")
    return template_id, version_id if type(version_id) is str else None
