"""Builders and hypothesis strategies shared by the domain unit tests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from dialogue_engine.domain.errors import FieldError
from dialogue_engine.domain.jsonvalue import escape

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.text(alphabet="ab~/", max_size=3)
)
KEYS = st.text(alphabet="ab~/", max_size=3)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=12,
)
"""Small JSON documents whose keys need RFC 6901 escapes and whose scalars mix 1, 1.0, true."""


def valid_description() -> dict[str, Any]:
    """A fresh description using every built-in block type, with cross-sequence references."""
    return {
        "title": "Welcome",
        "is_archived": False,
        "sequences": [
            {
                "id": "start",
                "title": "Start",
                "blocks": [
                    {"id": "hello", "type": "message", "properties": {"text": "Hi"}},
                    {
                        "id": "ask",
                        "type": "question",
                        "properties": {
                            "text": "More?",
                            "choices": [
                                {"value": "y", "label": "Yes", "next": "more"},
                                {"value": "n", "label": "No"},
                            ],
                        },
                    },
                    {
                        "id": "name",
                        "type": "freetext",
                        "properties": {"text": "Name?", "store_as": "name"},
                    },
                    {
                        "id": "branch",
                        "type": "route",
                        "properties": {
                            "rules": [
                                {
                                    "variable": "name",
                                    "operator": "equals",
                                    "value": "bob",
                                    "next": "more",
                                }
                            ],
                            "next": "start",
                        },
                    },
                ],
            },
            {
                "id": "more",
                "title": "More",
                "description": "The second sequence",
                "visibility": "public",
                "blocks": [
                    {
                        "id": "mail",
                        "type": "email",
                        "title": "Mail",
                        "properties": {
                            "subject": "S",
                            "body": "B",
                            "send_at": "2024-05-01T09:30:00Z",
                        },
                    },
                    {
                        "id": "tpl",
                        "type": "email",
                        "properties": {"template_id": "t1", "version_id": "v1"},
                    },
                    {"id": "bye", "type": "end"},
                ],
            },
        ],
    }


def minimal_description(title: str = "Hello") -> dict[str, Any]:
    return {
        "title": title,
        "is_archived": False,
        "sequences": [
            {
                "id": "start",
                "title": "Start",
                "blocks": [{"id": "hi", "type": "message", "properties": {"text": "Hi"}}],
            }
        ],
    }


def error_keys(errors: list[FieldError]) -> list[tuple[str, str]]:
    """``(type, path)`` of each error, sorted: what the tests compare."""
    return sorted((e.type, e.path) for e in errors)


def all_pointers(document: Any, prefix: str = "") -> list[str]:
    """The pointer of every value in ``document``, the root (``""``) first."""
    found = [prefix]
    if type(document) is dict:
        for key, value in document.items():
            found.extend(all_pointers(value, f"{prefix}/{escape(key)}"))
    elif type(document) is list:
        for index, value in enumerate(document):
            found.extend(all_pointers(value, f"{prefix}/{index}"))
    return found


def add_pointers(document: Any, prefix: str = "") -> list[str]:
    """Pointers an ``add`` may target: existing values, new keys, array ends and ``-``."""
    found = [prefix]
    if type(document) is dict:
        found.append(f"{prefix}/new")
        for key, value in document.items():
            found.extend(add_pointers(value, f"{prefix}/{escape(key)}"))
    elif type(document) is list:
        found.extend([f"{prefix}/-", f"{prefix}/{len(document)}"])
        for index, value in enumerate(document):
            found.extend(add_pointers(value, f"{prefix}/{index}"))
    return found


@st.composite
def json_patches(draw: st.DrawFn, document: Any, *, with_test: bool = True) -> list[dict[str, Any]]:
    """A patch of 1 to 3 operations aimed mostly at paths that exist in ``document``."""
    ops: list[dict[str, Any]] = []
    names = ["add", "remove", "replace", "move", "copy"] + (["test"] if with_test else [])
    existing = all_pointers(document)
    targets = [*add_pointers(document), "/missing", "/0/x"]
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(names))
        if name == "add":
            op = {"op": name, "path": draw(st.sampled_from(targets)), "value": draw(JSON_VALUES)}
        elif name in ("remove", "replace", "test"):
            op = {"op": name, "path": draw(st.sampled_from([*existing, "/missing"]))}
            if name != "remove":
                op["value"] = draw(JSON_VALUES)
        else:
            op = {
                "op": name,
                "from": draw(st.sampled_from(existing)),
                "path": draw(st.sampled_from(targets)),
            }
        ops.append(op)
    return ops
