"""The pure walk of a run: what is sent, where it waits, how it ends."""

from __future__ import annotations

from typing import Any

from dialogue_engine.domain.runs import FINISHED, INACTIVE, WAITING, answer, walk


def block(block_id: str, type_: str, **properties: Any) -> dict[str, Any]:
    return {"id": block_id, "type": type_, "properties": properties}


QUESTION = block(
    "q",
    "question",
    text="Pick",
    choices=[{"value": "a", "label": "Apple", "next": "two"}, {"value": "b", "label": "Banana"}],
)
SEQUENCES = [
    {"id": "one", "blocks": [block("m", "message", text="Hi"), QUESTION, block("e", "end")]},
    {"id": "two", "blocks": [block("f", "freetext", text="Why?", store_as="why")]},
    {
        "id": "three",
        "blocks": [
            block(
                "r",
                "route",
                rules=[{"variable": "why", "operator": "contains", "value": "x", "next": "one"}],
            ),
            block("custom", "poll"),
            block("last", "message", text="Bye"),
        ],
    },
]


def ids(step: Any) -> list[str]:
    return [sent["block"]["id"] for sent in step.sent]


def test_a_walk_sends_until_a_question_and_waits_there() -> None:
    step = walk(SEQUENCES, "one", 0, {})
    assert (step.status, ids(step)) == (WAITING, ["m", "q"])
    assert step.position == {"sequence_id": "one", "block_id": "q", "index": 1}


def test_a_choice_moves_to_its_next_sequence_and_a_number_or_label_names_it() -> None:
    waiting = walk(SEQUENCES, "one", 0, {}).position
    assert waiting is not None
    for text in ("a", " APPLE ", "1"):
        step = answer(SEQUENCES, waiting, text, {}, False)
        assert (step.status, ids(step)) == (WAITING, ["f"])
        assert step.variables == {"q": "a"}
        assert step.answer == {"sequence_id": "one", "block_id": "q", "text": text, "value": "a"}


def test_a_choice_without_next_goes_on_and_end_finishes() -> None:
    waiting = walk(SEQUENCES, "one", 0, {}).position
    assert waiting is not None
    step = answer(SEQUENCES, waiting, "b", {}, False)
    assert (step.status, step.position, ids(step)) == (FINISHED, None, [])


def test_an_unmatched_answer_repeats_the_question_once_then_ends_inactive() -> None:
    waiting = walk(SEQUENCES, "one", 0, {}).position
    assert waiting is not None
    again = answer(SEQUENCES, waiting, "c", {}, False)
    assert (again.status, again.position, ids(again), again.repeated) == (
        WAITING,
        waiting,
        ["q"],
        True,
    )
    ended = answer(SEQUENCES, waiting, "c", {}, True)
    assert (ended.status, ended.position) == (INACTIVE, None)


def test_past_a_sequence_the_walk_goes_on_and_the_last_block_finishes() -> None:
    waiting = {"sequence_id": "two", "block_id": "f", "index": 0}
    step = answer(SEQUENCES, waiting, "no reason", {}, False)
    assert (step.status, ids(step), step.variables) == (FINISHED, ["last"], {"why": "no reason"})


def test_a_route_moves_on_its_first_matching_rule() -> None:
    waiting = {"sequence_id": "two", "block_id": "f", "index": 0}
    step = answer(SEQUENCES, waiting, "xyz", {}, False)
    assert (step.status, ids(step)) == (WAITING, ["m", "q"])


def test_a_route_cycle_without_a_wait_ends_inactive() -> None:
    loop = [{"id": "a", "blocks": [block("r", "route", rules=[], next="a")]}]
    assert walk(loop, "a", 0, {}).status == INACTIVE
