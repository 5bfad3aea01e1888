"""Every error becomes ``{type, message, details}`` here, in one table.

:data:`STATUS` maps error classes to HTTP statuses; a class not listed takes
the status of its nearest listed ancestor (walked along the MRO), so a new
``NotFound`` subclass answers 404 with no change here. Starlette's own 404 and
405 answer in the same envelope, and anything unexpected is a bare 500
``internal_error``: never HTML, never a stack trace (the traceback goes to the
server log).
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ..domain.errors import (
    ConcurrentWrite,
    DomainError,
    InvalidParameter,
    NotFound,
    PatchConflict,
    PermissionDenied,
    SequenceInUse,
    StaleRevision,
    ValidationFailed,
)
from ..domain.runs import NotReleased, RunNotWaiting
from ..domain.user import AuthenticationFailed
from ..eventstore.application import StoreUnavailable
from ..throttle import TooManyAttempts
from .responses import JSONBytesResponse


class ParseError(DomainError):
    """The request body is not JSON; where the decoder stopped, 1-based."""

    type = "parse_error"

    def __init__(self, reason: str, line: int, column: int) -> None:
        super().__init__(
            "Invalid JSON in request body", {"reason": reason, "line": line, "column": column}
        )


class PayloadTooLarge(DomainError):
    """The body is longer than the server's limit (``DIALOGUE_ENGINE_MAX_BODY_BYTES``)."""

    type = "payload_too_large"

    def __init__(self, limit: int, content_length: int | None = None) -> None:
        details: dict[str, int] = {"limit": limit}
        if content_length is not None:
            details["content_length"] = content_length
        super().__init__(f"Request body larger than {limit} bytes", details)


class UnsupportedMediaType(DomainError):
    type = "unsupported_media_type"

    def __init__(self, given: str, expected: str) -> None:
        super().__init__(
            f"Content-Type must be {expected}", {"content_type": given, "expected": expected}
        )


class RequestTimeout(DomainError):
    """The client did not send the request (its ``part``) within ``seconds``; answered
    with ``Connection: close``, as the rest of the body may still be on its way."""

    type = "request_timeout"

    def __init__(self, part: str, seconds: int) -> None:
        super().__init__(
            f"The request {part} was not received within {seconds} s",
            {"part": part, "seconds": seconds},
        )


class PathNotFound(DomainError):
    type = "not_found"

    def __init__(self, path: str) -> None:
        super().__init__(f"Path {path} not found", {"path": path})


class MethodNotAllowed(DomainError):
    type = "method_not_allowed"

    def __init__(self, method: str, path: str, allowed: list[str]) -> None:
        super().__init__(
            f"Method {method} not allowed on {path}",
            {"method": method, "path": path, "allowed": allowed},
        )


STATUS: dict[type[BaseException], int] = {
    DomainError: 400,
    ParseError: 400,
    InvalidParameter: 400,
    AuthenticationFailed: 401,
    PermissionDenied: 403,
    NotFound: 404,
    PathNotFound: 404,
    MethodNotAllowed: 405,
    PatchConflict: 409,
    SequenceInUse: 409,
    NotReleased: 409,
    RunNotWaiting: 409,
    ConcurrentWrite: 409,
    StaleRevision: 412,
    PayloadTooLarge: 413,
    RequestTimeout: 408,
    UnsupportedMediaType: 415,
    ValidationFailed: 422,
    TooManyAttempts: 429,
    StoreUnavailable: 503,
}


def status_of(error: BaseException) -> int:
    for cls in type(error).__mro__:
        status = STATUS.get(cls)
        if status is not None:
            return status
    return 500


def envelope(type: str, message: str, details: dict[str, Any]) -> dict[str, Any]:
    return {"type": type, "message": message, "details": details}


def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthenticationFailed) else None
    if isinstance(exc, TooManyAttempts):
        headers = {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, MethodNotAllowed):
        headers = {"Allow": ", ".join(exc.details["allowed"])}
    if isinstance(exc, PayloadTooLarge):
        headers = {"Connection": "close"}  # rather than read and discard the rest of the body
    if isinstance(exc, RequestTimeout):
        headers = {"Connection": "close"}
    return JSONBytesResponse(
        envelope(exc.type, exc.message, exc.details), status_code=status_of(exc), headers=headers
    )


def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's routing errors (unknown path, wrong method) in the envelope."""
    assert isinstance(exc, HTTPException)
    path = request.url.path
    if exc.status_code == 405:
        allowed = [m.strip() for m in (exc.headers or {}).get("Allow", "").split(",") if m.strip()]
        return domain_error(request, MethodNotAllowed(request.method, path, allowed))
    if exc.status_code == 404:
        return domain_error(request, PathNotFound(path))
    return JSONBytesResponse(
        envelope("http_error", str(exc.detail), {}),
        status_code=exc.status_code,
        headers=exc.headers,
    )


def internal_error(request: Request, exc: Exception) -> Response:
    """500 with no detail: the server logs the traceback (Starlette re-raises it)."""
    return JSONBytesResponse(
        envelope("internal_error", "Internal server error", {}), status_code=500
    )


HANDLERS = {DomainError: domain_error, HTTPException: http_error, Exception: internal_error}
