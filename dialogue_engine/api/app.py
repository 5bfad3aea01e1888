"""The Starlette application: ``create_app(engine)`` builds it, nothing at import time.

Errors are turned into responses by the handlers of :mod:`.errors` only;
routes come from the table in :mod:`.routes`. ``app_from_environment`` is the
factory uvicorn's worker processes call when the server runs several of them.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.routing import Router
from starlette.types import ASGIApp

from .accesslog import redact_access_log
from .cache import BodyCache
from .errors import HANDLERS
from .openapi import openapi_document
from .routes import build_routes
from .security import SecurityHeaders, cors_middleware, security_headers
from .settings import HttpSettings
from .threads import WorkerPool

if TYPE_CHECKING:
    from ..engine import DialogueEngine

THREADS = 16
"""Handler threads: engine writes are serialised anyway; reads share the GIL."""


class App(Starlette):
    """Starlette with :class:`~.security.SecurityHeaders` outside everything.

    Starlette puts its 500 handler (``ServerErrorMiddleware``) outside the
    user middleware, so a middleware given the usual way would miss 500s.
    """

    def __init__(self, *, headers: dict[str, str], **options: Any) -> None:
        super().__init__(**options)
        self.security_headers = headers

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack(), self.security_headers)


def create_app(
    engine: DialogueEngine,
    *,
    close_engine: bool = False,
    threads: int = THREADS,
    settings: HttpSettings | None = None,
) -> Starlette:
    """The REST application over ``engine`` (closed on shutdown if ``close_engine``).

    Handlers run in a pool of ``threads`` threads owned by the app. Limits,
    CORS and HSTS come from ``settings``, by default from the environment
    (:meth:`~.settings.HttpSettings.from_environment`).
    """
    settings = HttpSettings.from_environment() if settings is None else settings
    redact_access_log()
    workers = WorkerPool(threads, "dialogue-engine")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        workers.shutdown()
        if close_engine:
            engine.close()

    app = App(
        headers=security_headers(settings),
        routes=build_routes(),
        middleware=cors_middleware(settings),
        exception_handlers=HANDLERS,
        lifespan=lifespan,
    )
    assert isinstance(app.router, Router)
    app.router.redirect_slashes = False
    app.state.engine = engine
    app.state.workers = workers
    app.state.limits = settings.limits
    app.state.events_max_seconds = settings.events_max_seconds
    app.state.bodies = BodyCache()
    app.state.openapi = openapi_document()
    return app


def app_from_environment() -> Starlette:
    """An app over the store named by ``$DIALOGUE_ENGINE_STORE`` (for uvicorn workers)."""
    from ..engine import DialogueEngine

    # Each worker is a fresh interpreter (spawned): the server's tuning is not inherited.
    tune_garbage_collector()
    return create_app(DialogueEngine.open(), close_engine=True)


GC_THRESHOLD = 20_000


def tune_garbage_collector() -> None:
    """Collect the youngest generation less often than Python's default (every 700 objects).

    A server keeps large long-lived trees (cached dialogues); each request
    allocates a few hundred objects, so the default thresholds run a
    collection every request or two and a full one far too often (~10% of a
    request's CPU time for a cached 1,000-block dialogue).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 20, 20)
