"""RFC 6902 over HTTP: the json-patch-tests suite, sent through ``PATCH`` on a dialogue.

The cases are those of the json-patch-tests suite (``spec_tests.json``, the
RFC's appendix A, and ``tests.json``), written as data and moved inside a
dialogue: each case's document becomes the ``doc`` member of a block's
``properties`` (a block type that takes any object), and every ``path`` and
``from`` is prefixed with that location, so ``""`` (the suite's whole
document) is the block's ``doc``. What must go to the dialogue's own root or
title (``remove ""``, a pointer through the title string…) has cases of its own.

Each case either succeeds with the suite's expected document, or is refused:
409 ``patch_conflict`` (the operation cannot apply to this document), 422
``validation_error`` (the patch is malformed), or 400 ``parse_error`` for the
one case that is not valid JSON text (a member given twice). A refusal changes
nothing: same revision, same description, no event recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from dialogue_engine import BlockType, DialogueEngine
from dialogue_engine.api.app import create_app

from .helpers import JSON_PATCH, Caller, caller

DOC = "/sequences/0/blocks/0/properties/doc"
"""Where each case's document lives inside the dialogue."""
SCRATCH = BlockType("scratch", {"type": "object"})
"""A block type whose properties may hold any JSON object."""


@dataclass(frozen=True)
class Refused:
    """The expected answer to a patch that must change nothing."""

    status: int
    type: str


CONFLICT = Refused(409, "patch_conflict")
MALFORMED = Refused(422, "validation_error")
NOT_JSON = Refused(400, "parse_error")

Case = tuple[str, Any, list[dict[str, Any]], Any]
"""(comment, document, patch, expected document or the status of the refusal)."""

SPEC_TESTS: list[Case] = [
    ("4.1. add with missing object", {"q": {"bar": 2}},
     [{"op": "add", "path": "/a/b", "value": 1}], CONFLICT),
    ("A.1. Adding an Object Member", {"foo": "bar"},
     [{"op": "add", "path": "/baz", "value": "qux"}], {"baz": "qux", "foo": "bar"}),
    ("A.2. Adding an Array Element", {"foo": ["bar", "baz"]},
     [{"op": "add", "path": "/foo/1", "value": "qux"}], {"foo": ["bar", "qux", "baz"]}),
    ("A.3. Removing an Object Member", {"baz": "qux", "foo": "bar"},
     [{"op": "remove", "path": "/baz"}], {"foo": "bar"}),
    ("A.4. Removing an Array Element", {"foo": ["bar", "qux", "baz"]},
     [{"op": "remove", "path": "/foo/1"}], {"foo": ["bar", "baz"]}),
    ("A.5. Replacing a Value", {"baz": "qux", "foo": "bar"},
     [{"op": "replace", "path": "/baz", "value": "boo"}], {"baz": "boo", "foo": "bar"}),
    ("A.6. Moving a Value", {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
     [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
     {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}}),
    ("A.7. Moving an Array Element", {"foo": ["all", "grass", "cows", "eat"]},
     [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
     {"foo": ["all", "cows", "eat", "grass"]}),
    ("A.8. Testing a Value: Success", {"baz": "qux", "foo": ["a", 2, "c"]},
     [{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}],
     {"baz": "qux", "foo": ["a", 2, "c"]}),
    ("A.9. Testing a Value: Error", {"baz": "qux"},
     [{"op": "test", "path": "/baz", "value": "bar"}], CONFLICT),
    ("A.10. Adding a nested Member Object", {"foo": "bar"},
     [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
     {"foo": "bar", "child": {"grandchild": {}}}),
    ("A.11. Ignoring Unrecognized Elements", {"foo": "bar"},
     [{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}], {"foo": "bar", "baz": "qux"}),
    ("A.12. Adding to a Non-existent Target", {"foo": "bar"},
     [{"op": "add", "path": "/baz/bat", "value": "qux"}], CONFLICT),
    ("A.14. ~ Escape Ordering", {"/": 9, "~1": 10},
     [{"op": "test", "path": "/~01", "value": 10}], {"/": 9, "~1": 10}),
    ("A.15. Comparing Strings and Numbers", {"/": 9, "~1": 10},
     [{"op": "test", "path": "/~01", "value": "10"}], CONFLICT),
    ("A.16. Adding an Array Value", {"foo": ["bar"]},
     [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}],
     {"foo": ["bar", ["abc", "def"]]}),
]  # fmt: skip

SUITE_TESTS: list[Case] = [
    ("empty list, empty docs", {}, [], {}),
    ("empty patch list", {"foo": 1}, [], {"foo": 1}),
    ("rearrangements OK?", {"foo": 1, "bar": 2}, [], {"bar": 2, "foo": 1}),
    ("rearrangements OK? How about one level down ... array", [{"foo": 1, "bar": 2}], [],
     [{"bar": 2, "foo": 1}]),
    ("rearrangements OK? How about one level down...", {"foo": {"foo": 1, "bar": 2}}, [],
     {"foo": {"bar": 2, "foo": 1}}),
    ("add replaces any existing field", {"foo": None},
     [{"op": "add", "path": "/foo", "value": 1}], {"foo": 1}),
    ("toplevel array", [], [{"op": "add", "path": "/0", "value": "foo"}], ["foo"]),
    ("toplevel array, no change", ["foo"], [], ["foo"]),
    ("toplevel object, numeric string", {}, [{"op": "add", "path": "/foo", "value": "1"}],
     {"foo": "1"}),
    ("toplevel object, integer", {}, [{"op": "add", "path": "/foo", "value": 1}], {"foo": 1}),
    ("Toplevel scalar values OK?", "foo", [{"op": "replace", "path": "", "value": "bar"}], "bar"),
    ("replace object document with array document?", {},
     [{"op": "add", "path": "", "value": []}], []),
    ("replace array document with object document?", [],
     [{"op": "add", "path": "", "value": {}}], {}),
    ("append to root array document?", [], [{"op": "add", "path": "/-", "value": "hi"}], ["hi"]),
    ("Add, / target", {}, [{"op": "add", "path": "/", "value": 1}], {"": 1}),
    ("Add, /foo/ deep target (trailing slash)", {"foo": {}},
     [{"op": "add", "path": "/foo/", "value": 1}], {"foo": {"": 1}}),
    ("Add composite value at top level", {"foo": 1},
     [{"op": "add", "path": "/bar", "value": [1, 2]}], {"foo": 1, "bar": [1, 2]}),
    ("Add into composite value", {"foo": 1, "baz": [{"qux": "hello"}]},
     [{"op": "add", "path": "/baz/0/foo", "value": "world"}],
     {"foo": 1, "baz": [{"qux": "hello", "foo": "world"}]}),
    ("Out of bounds (upper)", {"bar": [1, 2]},
     [{"op": "add", "path": "/bar/8", "value": "5"}], CONFLICT),
    ("Out of bounds (lower)", {"bar": [1, 2]},
     [{"op": "add", "path": "/bar/-1", "value": "5"}], CONFLICT),
    ("add true", {"foo": 1}, [{"op": "add", "path": "/bar", "value": True}],
     {"foo": 1, "bar": True}),
    ("add false", {"foo": 1}, [{"op": "add", "path": "/bar", "value": False}],
     {"foo": 1, "bar": False}),
    ("add null", {"foo": 1}, [{"op": "add", "path": "/bar", "value": None}],
     {"foo": 1, "bar": None}),
    ("0 can be an array index or object element name", {"foo": 1},
     [{"op": "add", "path": "/0", "value": "bar"}], {"foo": 1, "0": "bar"}),
    ("add at the end by index", ["foo"], [{"op": "add", "path": "/1", "value": "bar"}],
     ["foo", "bar"]),
    ("add in the middle", ["foo", "sil"], [{"op": "add", "path": "/1", "value": "bar"}],
     ["foo", "bar", "sil"]),
    ("add at the start", ["foo", "sil"], [{"op": "add", "path": "/0", "value": "bar"}],
     ["bar", "foo", "sil"]),
    ("push item to array via last index + 1", ["foo", "sil"],
     [{"op": "add", "path": "/2", "value": "bar"}], ["foo", "sil", "bar"]),
    ("add item to array at index > length should fail", ["foo", "sil"],
     [{"op": "add", "path": "/3", "value": "bar"}], CONFLICT),
    ("test against implementation-specific numeric parsing", {"1e0": "foo"},
     [{"op": "test", "path": "/1e0", "value": "foo"}], {"1e0": "foo"}),
    ("test with bad number should fail", ["foo", "bar"],
     [{"op": "test", "path": "/1e0", "value": "bar"}], CONFLICT),
    ("Object operation on array target", ["foo", "sil"],
     [{"op": "add", "path": "/bar", "value": 42}], CONFLICT),
    ("value in array add not flattened", ["foo", "sil"],
     [{"op": "add", "path": "/1", "value": ["bar", "baz"]}], ["foo", ["bar", "baz"], "sil"]),
    ("remove an object member holding an array", {"foo": 1, "bar": [1, 2, 3, 4]},
     [{"op": "remove", "path": "/bar"}], {"foo": 1}),
    ("remove deep", {"foo": 1, "baz": [{"qux": "hello"}]},
     [{"op": "remove", "path": "/baz/0/qux"}], {"foo": 1, "baz": [{}]}),
    ("replace with an array", {"foo": 1, "baz": [{"qux": "hello"}]},
     [{"op": "replace", "path": "/foo", "value": [1, 2, 3, 4]}],
     {"foo": [1, 2, 3, 4], "baz": [{"qux": "hello"}]}),
    ("replace deep", {"foo": [1, 2, 3, 4], "baz": [{"qux": "hello"}]},
     [{"op": "replace", "path": "/baz/0/qux", "value": "world"}],
     {"foo": [1, 2, 3, 4], "baz": [{"qux": "world"}]}),
    ("replace an array element", ["foo"], [{"op": "replace", "path": "/0", "value": "bar"}],
     ["bar"]),
    ("replace with 0", [""], [{"op": "replace", "path": "/0", "value": 0}], [0]),
    ("replace with true", [""], [{"op": "replace", "path": "/0", "value": True}], [True]),
    ("replace with false", [""], [{"op": "replace", "path": "/0", "value": False}], [False]),
    ("replace with null", [""], [{"op": "replace", "path": "/0", "value": None}], [None]),
    ("value in array replace not flattened", ["foo", "sil"],
     [{"op": "replace", "path": "/1", "value": ["bar", "baz"]}], ["foo", ["bar", "baz"]]),
    ("replace whole document", {"foo": "bar"},
     [{"op": "replace", "path": "", "value": {"baz": "qux"}}], {"baz": "qux"}),
    ("test replace with missing parent key should fail", {"bar": "baz"},
     [{"op": "replace", "path": "/foo/bar", "value": False}], CONFLICT),
    ("spurious patch properties", {"foo": 1},
     [{"op": "test", "path": "/foo", "value": 1, "spurious": 1}], {"foo": 1}),
    ("null value should be valid obj property", {"foo": None},
     [{"op": "test", "path": "/foo", "value": None}], {"foo": None}),
    ("null value should be valid obj property to be replaced with something truthy",
     {"foo": None}, [{"op": "replace", "path": "/foo", "value": "truthy"}], {"foo": "truthy"}),
    ("null value should be valid obj property to be moved", {"foo": None},
     [{"op": "move", "from": "/foo", "path": "/bar"}], {"bar": None}),
    ("null value should be valid obj property to be copied", {"foo": None},
     [{"op": "copy", "from": "/foo", "path": "/bar"}], {"foo": None, "bar": None}),
    ("null value should be valid obj property to be removed", {"foo": None},
     [{"op": "remove", "path": "/foo"}], {}),
    ("null value should still be valid obj property replace other value", {"foo": "bar"},
     [{"op": "replace", "path": "/foo", "value": None}], {"foo": None}),
    ("test should pass - no error", {"foo": {"bar": [1, 2, 5, 4]}},
     [{"op": "test", "path": "/foo", "value": {"bar": [1, 2, 5, 4]}}],
     {"foo": {"bar": [1, 2, 5, 4]}}),
    ("test op should fail", {"foo": {"bar": [1, 2, 5, 4]}},
     [{"op": "test", "path": "/foo", "value": [1, 2]}], CONFLICT),
    ("Whole document", {"foo": 1}, [{"op": "test", "path": "", "value": {"foo": 1}}],
     {"foo": 1}),
    ("Empty-string element", {"": 1}, [{"op": "test", "path": "/", "value": 1}], {"": 1}),
    ("every pointer character", {"foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3,
     "g|h": 4, "i\\j": 5, 'k"l': 6, " ": 7, "m~n": 8},
     [{"op": "test", "path": "/foo", "value": ["bar", "baz"]},
      {"op": "test", "path": "/foo/0", "value": "bar"},
      {"op": "test", "path": "/", "value": 0},
      {"op": "test", "path": "/a~1b", "value": 1},
      {"op": "test", "path": "/c%d", "value": 2},
      {"op": "test", "path": "/e^f", "value": 3},
      {"op": "test", "path": "/g|h", "value": 4},
      {"op": "test", "path": "/i\\j", "value": 5},
      {"op": "test", "path": '/k"l', "value": 6},
      {"op": "test", "path": "/ ", "value": 7},
      {"op": "test", "path": "/m~0n", "value": 8}],
     {"foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4, "i\\j": 5,
      'k"l': 6, " ": 7, "m~n": 8}),
    ("Move to same location has no effect", {"foo": 1},
     [{"op": "move", "from": "/foo", "path": "/foo"}], {"foo": 1}),
    ("move a member", {"foo": 1, "baz": [{"qux": "hello"}]},
     [{"op": "move", "from": "/foo", "path": "/bar"}], {"baz": [{"qux": "hello"}], "bar": 1}),
    ("move out of an object into an array", {"baz": [{"qux": "hello"}], "bar": 1},
     [{"op": "move", "from": "/baz/0/qux", "path": "/baz/1"}],
     {"baz": [{}, "hello"], "bar": 1}),
    ("copy an object", {"baz": [{"qux": "hello"}], "bar": 1},
     [{"op": "copy", "from": "/baz/0", "path": "/boo"}],
     {"baz": [{"qux": "hello"}], "bar": 1, "boo": {"qux": "hello"}}),
    ("replacing the root of the document is possible with add", {"foo": "bar"},
     [{"op": "add", "path": "", "value": {"baz": "qux"}}], {"baz": "qux"}),
    ('Adding to "/-" adds to the end of the array', [1, 2],
     [{"op": "add", "path": "/-", "value": {"foo": ["bar", "baz"]}}],
     [1, 2, {"foo": ["bar", "baz"]}]),
    ('Adding to "/-" adds to the end of the array, even n levels down', [1, 2, [3, [4, 5]]],
     [{"op": "add", "path": "/2/1/-", "value": {"foo": ["bar", "baz"]}}],
     [1, 2, [3, [4, 5, {"foo": ["bar", "baz"]}]]]),
    ("test remove with bad number should fail", {"foo": 1, "baz": [{"qux": "hello"}]},
     [{"op": "remove", "path": "/baz/1e0"}], CONFLICT),
    ("test remove on array", [1, 2, 3, 4], [{"op": "remove", "path": "/0"}], [2, 3, 4]),
    ("test repeated removes", [1, 2, 3, 4],
     [{"op": "remove", "path": "/1"}, {"op": "remove", "path": "/2"}], [1, 3]),
    ("test remove with bad index should fail", [1, 2, 3, 4],
     [{"op": "remove", "path": "/1e0"}], CONFLICT),
    ("test replace with bad number should fail", [""],
     [{"op": "replace", "path": "/1e0", "value": False}], CONFLICT),
    ("test copy with bad number should fail", {"baz": [1, 2, 3], "bar": 1},
     [{"op": "copy", "from": "/baz/1e0", "path": "/boo"}], CONFLICT),
    ("test move with bad number should fail", {"foo": 1, "baz": [1, 2, 3, 4]},
     [{"op": "move", "from": "/baz/1e0", "path": "/foo"}], CONFLICT),
    ("test add with bad number should fail", ["foo", "sil"],
     [{"op": "add", "path": "/1e0", "value": "bar"}], CONFLICT),
    ("missing 'path' parameter", {}, [{"op": "add", "value": "bar"}], MALFORMED),
    ("'path' parameter with null value", {}, [{"op": "add", "path": None, "value": "bar"}],
     MALFORMED),
    ("invalid JSON Pointer token", {}, [{"op": "add", "path": "foo", "value": "bar"}],
     MALFORMED),
    ("missing 'value' parameter to add", [1], [{"op": "add", "path": "/-"}], MALFORMED),
    ("missing 'value' parameter to replace", [1], [{"op": "replace", "path": "/0"}], MALFORMED),
    ("missing 'value' parameter to test", [None], [{"op": "test", "path": "/0"}], MALFORMED),
    ("missing value parameter to test - where undef is falsy", [False],
     [{"op": "test", "path": "/0"}], MALFORMED),
    ("missing from parameter to copy", [1], [{"op": "copy", "path": "/-"}], MALFORMED),
    ("missing from location to copy", {"foo": 1},
     [{"op": "copy", "from": "/bar", "path": "/foo"}], CONFLICT),
    ("missing from parameter to move", {"foo": 1}, [{"op": "move", "path": ""}], MALFORMED),
    ("missing from location to move", {"foo": 1},
     [{"op": "move", "from": "/bar", "path": "/foo"}], CONFLICT),
    ("unrecognized op should fail", {"foo": 1},
     [{"op": "spam", "path": "/foo", "value": 1}], MALFORMED),
    ("test with bad array number that has leading zeros", ["foo", "bar"],
     [{"op": "test", "path": "/00", "value": "foo"}], CONFLICT),
    ("test with bad array number that has leading zeros", ["foo", "bar"],
     [{"op": "test", "path": "/01", "value": "bar"}], CONFLICT),
    ("Removing nonexistent field", {"foo": "bar"}, [{"op": "remove", "path": "/baz"}], CONFLICT),
    ("Removing deep nonexistent path", {"foo": "bar"},
     [{"op": "remove", "path": "/missing1/missing2"}], CONFLICT),
    ("Removing nonexistent index", ["foo", "bar"], [{"op": "remove", "path": "/2"}], CONFLICT),
    ("Patch with different capitalisation than doc", {"foo": "bar"},
     [{"op": "add", "path": "/FOO", "value": "BAR"}], {"foo": "bar", "FOO": "BAR"}),
]  # fmt: skip

MORE_TESTS: list[Case] = [
    # RFC 6902 4.6: numbers are equal when their values are, whatever their spelling.
    ("test: 1 equals 1.0", {"n": 1}, [{"op": "test", "path": "/n", "value": 1.0}], {"n": 1}),
    ("test: 1.0 equals 1 deep inside", {"a": [{"n": 1.0}]},
     [{"op": "test", "path": "/a", "value": [{"n": 1}]}], {"a": [{"n": 1.0}]}),
    ("test: true is not 1", {"b": True}, [{"op": "test", "path": "/b", "value": 1}], CONFLICT),
    ("test: 0 is not false", {"n": 0}, [{"op": "test", "path": "/n", "value": False}], CONFLICT),
    ("test: null is not 0", {"n": None}, [{"op": "test", "path": "/n", "value": 0}], CONFLICT),
    ("test: objects equal whatever the member order", {"o": {"x": 1, "y": [2, 3]}},
     [{"op": "test", "path": "/o", "value": {"y": [2, 3], "x": 1}}], {"o": {"x": 1, "y": [2, 3]}}),
    ("test: an object with a member more differs", {"o": {"x": 1}},
     [{"op": "test", "path": "/o", "value": {"x": 1, "y": 2}}], CONFLICT),
    ("test: array order matters", {"a": [1, 2]},
     [{"op": "test", "path": "/a", "value": [2, 1]}], CONFLICT),
    ("test: arrays of different lengths differ", {"a": [1, 2]},
     [{"op": "test", "path": "/a", "value": [1, 2, 2]}], CONFLICT),
    ("test: a missing path fails", {}, [{"op": "test", "path": "/x", "value": None}], CONFLICT),
    ("test: '-' names no element", {"a": [1]}, [{"op": "test", "path": "/a/-", "value": 1}],
     CONFLICT),
    ("remove '-' names no element", {"a": [1]}, [{"op": "remove", "path": "/a/-"}], CONFLICT),
    ("replace '-' names no element", {"a": [1]},
     [{"op": "replace", "path": "/a/-", "value": 2}], CONFLICT),
    ("'-' is a plain member name in an object", {"a": {}},
     [{"op": "add", "path": "/a/-", "value": 1}], {"a": {"-": 1}}),
    ("copy from '-' fails", {"a": [1]}, [{"op": "copy", "from": "/a/-", "path": "/b"}], CONFLICT),
    ("add at index 0 of an empty array", {"a": []}, [{"op": "add", "path": "/a/0", "value": 1}],
     {"a": [1]}),
    ("index with a sign", {"a": [1, 2]}, [{"op": "remove", "path": "/a/+1"}], CONFLICT),
    ("non-ASCII digits are no index", {"a": [1, 2]}, [{"op": "remove", "path": "/a/\u0661"}],
     CONFLICT),
    ("~1 unescapes to '/'", {"a/b": 1}, [{"op": "replace", "path": "/a~1b", "value": 2}],
     {"a/b": 2}),
    ("~0 unescapes to '~'", {"m~n": 1}, [{"op": "remove", "path": "/m~0n"}], {}),
    ("~01 is '~1', not '/'", {"~1": 1, "/": 2}, [{"op": "remove", "path": "/~01"}], {"/": 2}),
    ("an unescaped '~' is malformed", {"a~b": 1}, [{"op": "remove", "path": "/a~b"}], MALFORMED),
    ("'~2' is malformed", {}, [{"op": "add", "path": "/~2", "value": 1}], MALFORMED),
    ("a trailing '~' is malformed", {}, [{"op": "add", "path": "/a~", "value": 1}], MALFORMED),
    ("move into its own child fails", {"a": {"b": {}}},
     [{"op": "move", "from": "/a", "path": "/a/b/c"}], CONFLICT),
    ("move the whole document into itself fails", {"a": {}},
     [{"op": "move", "from": "", "path": "/a/b"}], CONFLICT),
    ("move to a sibling whose name starts alike", {"a": 1},
     [{"op": "move", "from": "/a", "path": "/ab"}], {"ab": 1}),
    ("move within an array, backwards", {"a": [1, 2, 3]},
     [{"op": "move", "from": "/a/2", "path": "/a/0"}], {"a": [3, 1, 2]}),
    ("move to the end with '-'", {"a": [1, 2, 3]},
     [{"op": "move", "from": "/a/0", "path": "/a/-"}], {"a": [2, 3, 1]}),
    ("copy is a copy: changing it leaves the source", {"a": {"x": [1]}},
     [{"op": "copy", "from": "/a", "path": "/b"}, {"op": "add", "path": "/b/x/-", "value": 2}],
     {"a": {"x": [1]}, "b": {"x": [1, 2]}}),
    ("copy into its own child", {"a": {"x": 1}},
     [{"op": "copy", "from": "/a", "path": "/a/y"}], {"a": {"x": 1, "y": {"x": 1}}}),
    ("a later failing op undoes the earlier ones", {"a": 1},
     [{"op": "replace", "path": "/a", "value": 2}, {"op": "remove", "path": "/b"}], CONFLICT),
    ("a failing test undoes the earlier ones", {"a": 1},
     [{"op": "add", "path": "/b", "value": 2}, {"op": "test", "path": "/a", "value": 2}],
     CONFLICT),
    ("'from' that is not a string", {"a": 1}, [{"op": "move", "from": 1, "path": "/b"}],
     MALFORMED),
    ("'op' that is not a string", {"a": 1}, [{"op": None, "path": "/a"}], MALFORMED),
    ("'op' missing", {"a": 1}, [{"path": "/a", "value": 1}], MALFORMED),
    ("an operation that is not an object", {"a": 1}, ["remove /a"], MALFORMED),
    ("a patch that is not an array", {"a": 1}, {"op": "remove", "path": "/a"}, MALFORMED),
    ("'from' in a remove is ignored", {"a": 1},
     [{"op": "remove", "path": "/a", "from": "/nowhere"}], {}),
]  # fmt: skip


def _prefixed(pointer: Any) -> Any:
    """The case's pointer moved inside the dialogue (malformed ones are kept as they are)."""
    if type(pointer) is not str or (pointer and not pointer.startswith("/")):
        return pointer
    return DOC + pointer


def _inside_dialogue(patch: Any) -> Any:
    if type(patch) is not list:
        return patch
    moved = []
    for op in patch:
        if type(op) is dict:
            op = {**op, **{m: _prefixed(op[m]) for m in ("path", "from") if m in op}}
        moved.append(op)
    return moved


@dataclass(frozen=True)
class Api:
    """An app whose engine knows the ``scratch`` block type, and an admin calling it."""

    client: TestClient
    admin: Caller


@pytest.fixture
def api() -> Iterator[Api]:
    with (
        DialogueEngine.open("memory://", block_types=[SCRATCH]) as engine,
        TestClient(create_app(engine), raise_server_exceptions=False) as client,
    ):
        yield Api(client, caller(engine, ("admin", {})))


def _dialogue_holding(api: Api, document: Any) -> str:
    who, client = api.admin, api.client
    project = client.post("/projects/", json={"title": "RFC 6902"}, headers=who.headers)
    assert project.status_code == 201, project.text
    block = {"id": "b", "type": "scratch", "properties": {"doc": document}}
    body = {"title": "Patching", "sequences": [{"id": "s", "title": "S", "blocks": [block]}]}
    created = client.post(
        f"{project.headers['location']}/dialogues/", json=body, headers=who.headers
    )
    assert created.status_code == 201, created.text
    url: str = created.headers["location"]
    return url


def _state(api: Api, url: str) -> tuple[Any, str, int, int]:
    """(description, revision id, number of revisions, last event's notification id)."""
    client, headers = api.client, api.admin.headers
    dialogue = client.get(url, headers=headers)
    revisions = client.get(f"{url}/revisions/", headers=headers)
    position = client.get("/healthz").json()["notification_id"]
    return (
        dialogue.json(),
        dialogue.headers["etag"],
        int(revisions.headers["x-total-count"]),
        position,
    )


def _send(api: Api, url: str, patch: Any) -> Any:
    return api.client.patch(
        url, content=orjson.dumps(patch), headers={**api.admin.headers, **JSON_PATCH}
    )


def _check_case(api: Api, document: Any, patch: Any, expected: Any) -> None:
    url = _dialogue_holding(api, document)
    before = _state(api, url)
    response = _send(api, url, _inside_dialogue(patch))
    if isinstance(expected, Refused):
        assert (response.status_code, response.json()["type"]) == (
            expected.status,
            expected.type,
        ), response.text
        assert _state(api, url) == before, "a refused patch changed something"
        return
    assert response.status_code == 200, response.text
    block = response.json()["sequences"][0]["blocks"][0]
    assert block["properties"]["doc"] == expected
    assert _exact(block["properties"]["doc"]) == _exact(expected)
    description, etag, revisions, position = _state(api, url)
    assert description == response.json()
    changed = _exact(expected) != _exact(document)
    assert (revisions, position > before[3]) == (before[2] + changed, changed)
    assert (etag != before[1]) == changed


def _exact(value: Any) -> bytes:
    """Canonical bytes: tells 1 from 1.0 and True, which == does not."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


@pytest.mark.parametrize(
    ("document", "patch", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in SPEC_TESTS + SUITE_TESTS + MORE_TESTS],
)
def test_a_patch_applies_as_rfc_6902_says_or_changes_nothing(
    api: Api, document: Any, patch: Any, expected: Any
) -> None:
    _check_case(api, document, patch, expected)


def test_a_member_given_twice_is_not_json_and_changes_nothing(api: Api) -> None:
    """Suite A.13 (``"op"`` twice): parsers differ on which wins, so the text is refused."""
    url = _dialogue_holding(api, {"foo": "bar"})
    before = _state(api, url)
    body = f'[{{"op": "add", "path": "{DOC}/baz", "value": "qux", "op": "remove"}}]'
    response = api.client.patch(url, content=body, headers={**api.admin.headers, **JSON_PATCH})
    assert (response.status_code, response.json()["type"]) == (400, "parse_error")
    assert _state(api, url) == before


EMPTY = {"title": "", "sequences": [], "is_archived": False}
ROOT_CASES: list[Case] = [
    ("the dialogue's root cannot be removed", None, [{"op": "remove", "path": ""}], CONFLICT),
    ("replacing the root with a valid description", None,
     [{"op": "replace", "path": "", "value": {**EMPTY, "title": "New"}}],
     {"title": "New", "sequences": []}),
    ("adding at the root replaces it too", None,
     [{"op": "add", "path": "", "value": {**EMPTY, "title": "Added"}}],
     {"title": "Added", "sequences": []}),
    ("a root that is no description is invalid", None,
     [{"op": "replace", "path": "", "value": [1, 2]}], MALFORMED),
    ("replace the title", None, [{"op": "replace", "path": "/title", "value": "Renamed"}],
     {"title": "Renamed"}),
    ("test the title", None, [{"op": "test", "path": "/title", "value": "Patching"}],
     {"title": "Patching"}),
    ("a pointer through the title string", None,
     [{"op": "add", "path": "/title/0", "value": "x"}], CONFLICT),
    ("replace a missing member of the root", None,
     [{"op": "replace", "path": "/nothing", "value": 1}], CONFLICT),
    ("a title that breaks the description schema", None,
     [{"op": "replace", "path": "/title", "value": 42}], MALFORMED),
    ("removing the title breaks the description schema", None,
     [{"op": "remove", "path": "/title"}], MALFORMED),
    ("move the title into a block's properties", None,
     [{"op": "move", "from": "/title", "path": "/sequences/0/blocks/0/properties/title"}],
     MALFORMED),
    ("copy the title into a block's properties", None,
     [{"op": "copy", "from": "/title", "path": "/sequences/0/blocks/0/properties/title"}],
     {"title": "Patching"}),
    ("add at /sequences replaces the array (and must still be valid)", None,
     [{"op": "add", "path": "/sequences", "value": {"id": "x", "title": "X", "blocks": []}}],
     MALFORMED),
    ("'/sequences/title' is no member of an array", None,
     [{"op": "replace", "path": "/sequences/title", "value": "X"}], CONFLICT),
]  # fmt: skip


@pytest.mark.parametrize(
    ("patch", "expected"), [pytest.param(*case[2:], id=case[0]) for case in ROOT_CASES]
)
def test_a_patch_of_the_dialogue_itself_applies_or_changes_nothing(
    api: Api, patch: Any, expected: Any
) -> None:
    url = _dialogue_holding(api, {"kept": True})
    before = _state(api, url)
    response = _send(api, url, patch)
    if isinstance(expected, Refused):
        assert (response.status_code, response.json()["type"]) == (
            expected.status,
            expected.type,
        ), response.text
        assert _state(api, url) == before
        return
    assert response.status_code == 200, response.text
    body = response.json()
    assert {key: body[key] for key in expected} == expected
    description, _, revisions, _ = _state(api, url)
    assert description == body
    assert revisions == before[2] + (description != before[0])
