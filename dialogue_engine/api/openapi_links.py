"""OpenAPI links: which answer's id feeds which operation's path, derived from the route table.

A client (or a stateful fuzzer) follows them as a workflow: create a project,
then read, patch or list what is under it with the id the answer gave. The
rule is structural, so a new endpoint gets its links without being listed:

- a ``POST`` on a collection (``…/things/``) whose answer has an ``id`` links
  to every operation under the item path ``…/things/{thing_id}`` whose other
  path parameters the ``POST`` already had (they are passed on unchanged);
- a few answers name their new resource by another member or carry more than
  one id (:data:`_EXTRA_IDS`), e.g. a dialogue's ``revision_id``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .routes import Endpoint

_PARAMETER = re.compile(r"{(\w+)}")

_ID_MEMBER = {"Enrolment": "participant_id"}
"""Answers whose own id is not in ``id``."""

_EXTRA_IDS: dict[str, dict[str, str]] = {
    "Dialogue": {"revision_id": "/revision_id"},
    "CreatedTemplate": {"locale": "/locale"},
    "CreatedTemplateLocale": {"locale": "/locale", "version_id": "/version_id"},
    "Submission": {"run_id": "/runs/0"},
}
"""Path parameters an answer also supplies, by response schema: JSON pointers into its body."""


def links_by_operation(endpoints: tuple[Endpoint, ...]) -> dict[tuple[str, str], dict[str, Any]]:
    """``(method, path)`` of a producing endpoint -> the OpenAPI ``links`` of its success answer."""
    links: dict[tuple[str, str], dict[str, Any]] = {}
    for producer in endpoints:
        supplied = _supplied(producer, endpoints)
        if not supplied:
            continue
        known = set(_PARAMETER.findall(producer.path)) | set(supplied)
        found = {
            operation_id(target): {
                "operationId": operation_id(target),
                "parameters": {
                    name: supplied.get(name, f"$request.path.{name}")
                    for name in _PARAMETER.findall(target.path)
                },
            }
            for target in endpoints
            if target is not producer
            and set(supplied) & set(_PARAMETER.findall(target.path))
            and set(_PARAMETER.findall(target.path)) <= known
            and _under_producer(producer, target, supplied)
        }
        if found:
            links[(producer.method, producer.path)] = found
    return links


def operation_id(item: Endpoint) -> str:
    """Unique per operation: the handler's name (the same handlers serve a template's
    default locale and a named one, so those get a suffix)."""
    return item.handler.__name__ + ("_in_locale" if "{locale}" in item.path else "")


def _supplied(producer: Endpoint, endpoints: tuple[Endpoint, ...]) -> dict[str, str]:
    """Path parameters (name -> runtime expression) the producer's success answer gives."""
    if producer.response is None or producer.array:
        return {}
    body = "$response.body#"
    supplied = {
        name: body + pointer for name, pointer in _EXTRA_IDS.get(producer.response, {}).items()
    }
    if producer.method == "POST":
        collection = producer.path.rstrip("/")
        for item in endpoints:
            match = re.fullmatch(re.escape(collection) + r"/{(\w+)}", item.path)
            if match:
                member = _ID_MEMBER.get(producer.response, "id")
                supplied[match.group(1)] = f"{body}/{member}"
                break
    return supplied


def _under_producer(producer: Endpoint, target: Endpoint, supplied: dict[str, str]) -> bool:
    """The target lives under the producer's path, or is reached by an extra id only."""
    base = producer.path.rstrip("/")
    if target.path.startswith(base + "/"):
        return True
    return any(f"{{{name}}}" in target.path for name in _EXTRA_IDS.get(producer.response or "", {}))
