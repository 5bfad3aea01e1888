"""What a handler gets: a :class:`Call` with the caller, parsed bodies and query values.

Routes stay 3-8 lines because everything about reading a request lives here:
JSON bodies within the app's limits (see :mod:`.jsonbody`: 413 when too long,
400 ``parse_error`` with the decoder's reason, line and column, 422 for
oversized strings, arrays and patches), media types (415), read-only
members (ignored on PUT, 422 on POST and PATCH), ``If-Match``, paging,
boolean filters and orderings (422 when malformed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from starlette.requests import Request
from starlette.responses import Response

from ..domain.errors import FieldError, ValidationFailed, unexpected_members
from ..domain.patching import parse_pointer
from ..domain.permissions import Actor
from ..eventstore.application import WouldBlock, memory_only
from .auth import ANONYMOUS, authenticate, authenticate_browser
from .errors import UnsupportedMediaType
from .jsonbody import parse_json, read_body
from .threads import WorkerPool

if TYPE_CHECKING:
    from ..engine import DialogueEngine
    from .settings import Limits

JSON_PATCH = "application/json-patch+json"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_TRUE = ("true", "1")
_FALSE = ("false", "0")


class PageArgs(TypedDict):
    page: int
    per_page: int


@dataclass(frozen=True)
class Call:
    """One request as a handler sees it: engine, authenticated actor, raw body."""

    request: Request
    engine: DialogueEngine
    actor: Actor
    body: bytes

    def param(self, name: str) -> str:
        value: str = self.request.path_params[name]
        return value

    @property
    def project_id(self) -> str:
        return self.param("project_id")

    @property
    def dialogue_id(self) -> str:
        return self.param("dialogue_id")

    def json(self, *, optional: bool = False) -> Any:
        """The body as JSON (``application/json``, or no Content-Type at all)."""
        media_type = self._media_type()
        if media_type and media_type != "application/json" and not media_type.endswith("+json"):
            raise UnsupportedMediaType(media_type, "application/json")
        if optional and not self.body.strip():
            return {}
        return parse_json(self.body, self.limits)

    def patch(self, read_only: Collection[str] = ()) -> Any:
        """An RFC 6902 patch body; operations on ``read_only`` members are a 422,
        and so are more operations than ``max_patch_operations``."""
        media_type = self._media_type()
        if media_type != JSON_PATCH:
            raise UnsupportedMediaType(media_type, JSON_PATCH)
        patch = parse_json(self.body, self.limits)
        self._check_operation_count(patch, "")
        reject_read_only_ops(patch, read_only)
        return patch

    def revisions(self) -> Any:
        """A revision POST's body (one revision or a bulk), each edit's patch within
        ``max_patch_operations`` (the engine checks the rest of its shape)."""
        body = self.json()
        if type(body) is dict:
            self._check_operation_count(_edit_patch(body), "/properties/patch")
        elif type(body) is list:
            for index, item in enumerate(body):
                self._check_operation_count(_edit_patch(item), f"/{index}/properties/patch")
        return body

    @property
    def limits(self) -> Limits:
        limits: Limits = self.request.app.state.limits
        return limits

    def _check_operation_count(self, patch: Any, at: str) -> None:
        most = self.limits.max_patch_operations
        if type(patch) is list and len(patch) > most:
            message = f"a patch has at most {most} operations"
            raise ValidationFailed([FieldError("maxItems", at, message)], "Patch too large")

    def if_match(self) -> list[str] | None:
        """The entity tags of ``If-Match`` (quotes and ``W/`` removed); None if absent or ``*``."""
        header = self.request.headers.get("if-match")
        if header is None or header.strip() == "*":
            return None
        tags = [t.strip().removeprefix("W/").strip('"') for t in header.split(",")]
        return [t for t in tags if t]

    def expected_revision(self) -> str | None:
        """The revision ``If-Match`` requires of this dialogue, for the engine to check.

        Of several tags, the current revision if listed (the engine re-checks it
        atomically), else the first (which then fails as stale).
        """
        tags = self.if_match()
        if tags is None or len(tags) == 1:
            return tags[0] if tags else None
        if not tags:
            return ""
        current = self.engine.get_dialogue(self.project_id, self.dialogue_id, actor=self.actor)
        return current.revision_id if current.revision_id in tags else tags[0]

    def page(self) -> PageArgs:
        """``page`` and ``per_page`` as integers (their range is the engine's to check)."""
        return {"page": self._integer("page", 1), "per_page": self._integer("per_page", 30)}

    def integer(self, name: str) -> int | None:
        """An integer query parameter; None when absent (422 when it is not an integer)."""
        if name not in self.request.query_params:
            return None
        return self._integer(name, 0)

    def flag(self, name: str) -> bool | None:
        """A boolean query parameter (``true``/``false``, ``1``/``0``); None when absent."""
        return self._boolean(name)

    def ordering(self) -> list[str]:
        """Every ``ordering`` value, repeated or comma-separated, in the order given."""
        values = self.request.query_params.getlist("ordering")
        return [key.strip() for value in values for key in value.split(",") if key.strip()]

    def _media_type(self) -> str:
        return self.request.headers.get("content-type", "").split(";")[0].strip().lower()

    def _integer(self, name: str, default: int) -> int:
        raw = self.request.query_params.get(name)
        if raw is None:
            return default
        try:
            return int(raw)
        except ValueError:
            raise _query_error("type", name, f"{name} must be an integer") from None

    def _boolean(self, name: str) -> bool | None:
        raw = self.request.query_params.get(name)
        if raw is None:
            return None
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise _query_error("type", name, f"{name} must be true or false")


Handler = Callable[[Call], Response]


def endpoint(
    handler: Handler, *, public: bool = False, cached_read: bool = False, browser: bool = False
) -> Callable[[Request], Awaitable[Response]]:
    """An ASGI endpoint that reads the body, then runs ``handler`` in the app's threadpool.

    Engine calls block (SQLite, hashing), so authentication and the handler
    run off the event loop, in the app's :class:`~.threads.WorkerPool`
    (``app.state.workers``); only the body is read on the loop.

    A ``cached_read`` handler (a read with no side effect) is first tried on
    the loop in :func:`~dialogue_engine.eventstore.application.memory_only`
    mode: answered from the caches it skips the thread handover (~60 µs of
    CPU); if it would read the database it is run again on a thread.

    A ``browser`` handler (an HTML page) also accepts a token from a query
    parameter or a cookie (see :func:`~.auth.authenticate_browser`).
    """

    async def run(request: Request) -> Response:
        body = b""
        if request.method in BODY_METHODS:
            body = await read_body(request, request.app.state.limits.max_body_bytes)
        if cached_read:
            try:
                with memory_only():
                    return _run(handler, request, body, public, browser)
            except WouldBlock:
                pass
        workers: WorkerPool = request.app.state.workers
        return await workers.run(_run, handler, request, body, public, browser)

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


def _run(
    handler: Handler, request: Request, body: bytes, public: bool, browser: bool = False
) -> Response:
    engine: DialogueEngine = request.app.state.engine
    if public:
        actor = ANONYMOUS
    elif browser:
        actor = authenticate_browser(engine, request)
    else:
        actor = authenticate(engine, request.headers)
    return handler(Call(request, engine, actor, body))


def drop_read_only(body: Any, read_only: Collection[str]) -> Any:
    """PUT: read-only members sent back with a description are ignored."""
    if type(body) is not dict:
        return body
    return {key: value for key, value in body.items() if key not in read_only}


def reject_read_only(body: Any, read_only: Collection[str]) -> Any:
    """POST: a read-only member in the body is most likely a client error (422)."""
    if type(body) is dict:
        errors = unexpected_members({key for key in body if key in read_only}, ())
        if errors:
            raise ValidationFailed(errors)
    return body


def reject_read_only_ops(patch: Any, read_only: Collection[str]) -> None:
    """PATCH: an operation whose ``path`` or ``from`` starts at a read-only member is a 422."""
    if type(patch) is not list:
        return
    errors = []
    for index, op in enumerate(patch):
        if type(op) is not dict:
            continue
        for member in ("path", "from"):
            pointer = op.get(member)
            if type(pointer) is str and pointer.startswith("/"):
                first = parse_pointer(pointer)[0]
                if first in read_only:
                    errors.append(
                        FieldError("readOnly", f"/{index}/{member}", f"{first!r} is read-only")
                    )
    if errors:
        raise ValidationFailed(errors, "Invalid JSON patch")


def _edit_patch(revision: Any) -> Any:
    properties = revision.get("properties") if type(revision) is dict else None
    return properties.get("patch") if type(properties) is dict else None


def _query_error(type: str, name: str, message: str) -> ValidationFailed:
    return ValidationFailed([FieldError(type, f"/{name}", message)], "Invalid query parameters")
