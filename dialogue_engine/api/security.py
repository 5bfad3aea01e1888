"""Security headers on every answer, and CORS only where configured.

:class:`SecurityHeaders` is a plain ASGI middleware (not Starlette's
``BaseHTTPMiddleware``, which costs a task per request and buffers
streaming bodies such as ``GET /events``): it only adds headers to the
``http.response.start`` message, leaving the body untouched. It wraps the
whole application, Starlette's 500 handler included, so errors, unknown paths
and the HTML history page carry the same headers as any other answer.

A header the response already has wins: the history page sends its own
``Content-Security-Policy`` (its inline stylesheet allowed by hash) and the
event stream its own ``Cache-Control``. Everything else is JSON, for which
``default-src 'none'`` allows nothing at all, and is per caller, so it is
``no-store`` (credentials in token and key answers must never sit in a cache).
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .settings import HttpSettings

JSON_CSP = "default-src 'none'; frame-ancestors 'none'"
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": JSON_CSP,
    "Cache-Control": "no-store",
}
CORS_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
CORS_REQUEST_HEADERS = ("Authorization", "API-KEY", "Content-Type", "If-Match", "Last-Event-ID")
CORS_EXPOSED_HEADERS = ("ETag", "Location", "Link", "X-Total-Count", "Retry-After")


def security_headers(settings: HttpSettings) -> dict[str, str]:
    """The headers every answer gets (unless it sets its own)."""
    headers = dict(HEADERS)
    if settings.hsts_max_age > 0:
        headers["Strict-Transport-Security"] = f"max-age={settings.hsts_max_age}"
    return headers


class SecurityHeaders:
    """Adds ``headers`` to every HTTP response that does not already carry them."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
        self.names = frozenset(name for name, _ in self.headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                # Starlette lower-cases the names it sends; most answers set
                # none of ours, and then all are added without a second look.
                own = [name for name, _ in headers if name in self.names]
                if own:
                    headers += [h for h in self.headers if h[0] not in own]
                else:
                    headers += self.headers
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def cors_middleware(settings: HttpSettings) -> list[Middleware]:
    """Starlette's CORS middleware for the configured origins; none (CORS off) by default.

    No credentials mode: the API authenticates with headers, never cookies,
    so a browser origin allowed here still needs the caller's token.
    """
    if not settings.cors_origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=CORS_METHODS,
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
        )
    ]
