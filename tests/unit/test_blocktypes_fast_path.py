"""The fast validator decides validity; the reference one explains failures. They must agree."""

from __future__ import annotations

from typing import Any

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogue_engine.domain.blocktypes import BUILTIN_TYPES, BlockTypeRegistry

SCALARS = st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from(["", "x", "a-b", "Q1"])
KEYS = st.sampled_from(
    ["text", "choices", "value", "label", "next", "store_as", "rules", "variable", "operator",
     "subject", "body", "template_id", "version_id", "send_at", "extra"]
)  # fmt: skip
VALUES = st.recursive(
    SCALARS | st.sampled_from(["equals", "2026-11-23T05:00:00Z", "2026-13-99T99:99Z"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=10,
)
PROPERTIES = st.dictionaries(KEYS, VALUES, max_size=5)


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from([t.name for t in BUILTIN_TYPES]), properties=PROPERTIES)
def test_fast_and_reference_validators_agree(name: str, properties: dict[str, Any]) -> None:
    registry = BlockTypeRegistry()
    block_type = registry.get(name)
    assert block_type is not None
    reference = jsonschema.Draft202012Validator(block_type.schema).is_valid(properties)
    errors = registry.check_properties(name, properties)
    schema_errors = [e for e in errors if e.type != "format"]
    assert (not schema_errors) == reference


def test_invalid_properties_still_get_the_reference_validators_messages() -> None:
    errors = BlockTypeRegistry().check_properties("question", {"text": "Q?", "choices": []})
    assert [(e.type, e.path) for e in errors] == [("minItems", "/choices")]
    assert "should be non-empty" in errors[0].message or "too short" in errors[0].message
