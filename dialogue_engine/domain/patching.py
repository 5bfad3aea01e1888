"""RFC 6902 JSON Patch, applied copy-on-write.

``apply_patch`` never mutates its input. It copies only the containers on the
path of each operation and shares every other subtree with the input, so a
one-block edit of a 1,000-block description costs microseconds, the previous
description stays intact for readers, and a failing operation leaves nothing
behind (the caller simply keeps the old root): patches are atomic by
construction.

Errors: a malformed patch (not a list, unknown op, missing member, bad
pointer syntax) is a :class:`ValidationFailed` with pointers into the patch; an
operation that cannot apply to this document (missing path, failed ``test``,
index out of range) is a :class:`PatchConflict` naming the operation's index.
"""

from __future__ import annotations

from typing import Any

import orjson

from .errors import FieldError, PatchConflict
from .jsonvalue import JSON, json_equal

OPS = ("add", "remove", "replace", "move", "copy", "test")
_NEEDS_VALUE = frozenset({"add", "replace", "test"})
_NEEDS_FROM = frozenset({"move", "copy"})
_MEMBERS = {
    name: frozenset(
        {"op", "path"}
        | ({"value"} if name in _NEEDS_VALUE else set())
        | ({"from"} if name in _NEEDS_FROM else set())
    )
    for name in OPS
}


def check_patch(patch: Any) -> list[FieldError]:
    """Structural errors of a patch, with JSON pointers into the patch itself."""
    if type(patch) is not list:
        return [FieldError("type", "", "a JSON patch is an array of operations")]
    errors: list[FieldError] = []
    for index, op in enumerate(patch):
        at = f"/{index}"
        if type(op) is not dict:
            errors.append(FieldError("type", at, "an operation is an object"))
            continue
        name = op.get("op")
        if "op" not in op:
            errors.append(FieldError("required", at, "'op' is a required property"))
            continue
        if name not in OPS:
            errors.append(FieldError("enum", f"{at}/op", f"op must be one of {', '.join(OPS)}"))
            continue
        members = ["path", *(["from"] if name in _NEEDS_FROM else [])]
        for member in members:
            if member not in op:
                errors.append(FieldError("required", at, f"'{member}' is a required property"))
            elif type(op[member]) is not str:
                errors.append(FieldError("type", f"{at}/{member}", "a JSON pointer is a string"))
            elif (reason := pointer_syntax_error(op[member])) is not None:
                errors.append(FieldError("format", f"{at}/{member}", reason))
        if name in _NEEDS_VALUE and "value" not in op:
            errors.append(FieldError("required", at, "'value' is a required property"))
    return errors


def defined_members(patch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The patch with only the members each operation defines.

    RFC 6902 (section 4, example A.11): other members MUST be ignored, so they
    are dropped rather than rejected, and never stored.
    """
    kept = []
    for op in patch:
        members = _MEMBERS[op["op"]]
        kept.append(op if op.keys() <= members else {k: v for k, v in op.items() if k in members})
    return kept


def pointer_syntax_error(pointer: str) -> str | None:
    if pointer and not pointer.startswith("/"):
        return f"JSON pointer {pointer!r} must be empty or start with '/'"
    index = pointer.find("~")
    while index != -1:
        if pointer[index + 1 : index + 2] not in ("0", "1"):
            return f"JSON pointer {pointer!r} has an invalid '~' escape"
        index = pointer.find("~", index + 2)
    return None


def parse_pointer(pointer: str) -> list[str]:
    if not pointer:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def apply_patch(document: JSON, patch: list[dict[str, Any]]) -> JSON:
    """The document after ``patch``; ``document`` itself is left untouched.

    ``patch`` must have passed :func:`check_patch`. Values from the patch are
    placed into the result without copying: neither the patch nor the result
    is ever mutated afterwards (the engine owns both).
    """
    writer = _CopyOnWrite(document)
    for index, op in enumerate(patch):
        writer.apply(index, op)
    return writer.root


class _CopyOnWrite:
    def __init__(self, root: JSON) -> None:
        self.root = root
        # Containers created by this application; only these may be mutated.
        # Holding them also keeps their ids from being reused.
        self._fresh: dict[int, JSON] = {}

    def apply(self, index: int, op: dict[str, Any]) -> None:
        name = op["op"]
        path = op["path"]
        tokens = parse_pointer(path)
        if name == "add":
            self._add(index, path, tokens, op["value"])
        elif name == "remove":
            self._remove(index, path, tokens)
        elif name == "replace":
            self._get(index, path, tokens)
            if not tokens:
                self.root = op["value"]
            else:
                parent, last = self._parent(index, path, tokens)
                parent[_key(parent, last, index, path)] = op["value"]
        elif name == "test":
            if not values_equal(self._get(index, path, tokens), op["value"]):
                raise PatchConflict(index, f"test failed: value at {path!r} differs", path)
        else:
            source = op["from"]
            source_tokens = parse_pointer(source)
            value = self._get(index, source, source_tokens)
            if name == "move":
                if source == path:
                    return
                if tokens[: len(source_tokens)] == source_tokens:
                    raise PatchConflict(
                        index, f"cannot move {source!r} into its own child {path!r}", path
                    )
                self._remove(index, source, source_tokens)
            else:
                value = orjson.loads(orjson.dumps(value))
            self._add(index, path, tokens, value)

    def _own(self, container: JSON) -> JSON:
        if id(container) in self._fresh:
            return container
        copied = dict(container) if type(container) is dict else list(container)
        self._fresh[id(copied)] = copied
        return copied

    def _parent(self, index: int, path: str, tokens: list[str]) -> tuple[Any, str]:
        """The owned container holding the last token, and that token."""
        node = self.root = self._own(_container(self.root, index, path))
        for token in tokens[:-1]:
            child = _container(_child(node, token, index, path), index, path)
            owned = self._own(child)
            if owned is not child:
                node[_key(node, token, index, path)] = owned
            node = owned
        return node, tokens[-1]

    def _get(self, index: int, path: str, tokens: list[str]) -> JSON:
        node = self.root
        for token in tokens:
            node = _child(node, token, index, path)
        return node

    def _add(self, index: int, path: str, tokens: list[str], value: JSON) -> None:
        if not tokens:
            self.root = value
            return
        parent, last = self._parent(index, path, tokens)
        if type(parent) is dict:
            parent[last] = value
            return
        if last == "-":
            parent.append(value)
            return
        position = _array_index(last, index, path)
        if position > len(parent):
            raise PatchConflict(index, f"index {position} is past the end of the array", path)
        parent.insert(position, value)

    def _remove(self, index: int, path: str, tokens: list[str]) -> None:
        if not tokens:
            raise PatchConflict(index, "the document root cannot be removed", path)
        self._get(index, path, tokens)
        parent, last = self._parent(index, path, tokens)
        if type(parent) is dict:
            del parent[last]
        else:
            del parent[_array_index(last, index, path)]


def values_equal(a: JSON, b: JSON) -> bool:
    """``test``'s equality (RFC 6902 section 4.6): numbers are equal when their values are
    (``1`` equals ``1.0``), but never a boolean (``true`` is not ``1``); arrays pairwise in
    order, objects member by member whatever their order; everything else by type and value.

    Change detection keeps :func:`~.jsonvalue.json_equal`, which tells ``1`` from ``1.0``:
    replacing one by the other changes the stored document.
    """
    if json_equal(a, b):
        return True
    kind, other = type(a), type(b)
    if kind in _NUMBERS and other in _NUMBERS:
        return bool(a == b)
    if kind is not other:
        return False
    if kind is dict:
        return a.keys() == b.keys() and all(values_equal(a[key], b[key]) for key in a)
    if kind is list:
        return len(a) == len(b) and all(map(values_equal, a, b))
    return False


_NUMBERS = (int, float)


def _container(node: JSON, index: int, path: str) -> JSON:
    if type(node) not in (dict, list):
        raise PatchConflict(
            index, f"path {path!r} goes through a value that is not a container", path
        )
    return node


def _child(node: JSON, token: str, index: int, path: str) -> JSON:
    kind = type(node)
    if kind is dict:
        if token not in node:
            raise PatchConflict(index, f"path {path!r} does not exist", path)
        return node[token]
    if kind is list:
        position = _array_index(token, index, path)
        if position >= len(node):
            raise PatchConflict(index, f"path {path!r} does not exist", path)
        return node[position]
    raise PatchConflict(index, f"path {path!r} does not exist", path)


def _key(node: JSON, token: str, index: int, path: str) -> str | int:
    return _array_index(token, index, path) if type(node) is list else token


def _array_index(token: str, index: int, path: str) -> int:
    # Digits only, no sign, no leading zero (RFC 6901 array index).
    if token.isdigit() and token.isascii() and (token[0] != "0" or token == "0"):
        return int(token)
    raise PatchConflict(index, f"{token!r} in {path!r} is not an array index", path)
