"""API fixtures: an app over an in-memory engine, and callers holding chosen grants."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from dialogue_engine import DialogueEngine
from dialogue_engine.api.app import create_app
from dialogue_engine.rendering.pool import Renderer

from .helpers import Caller, caller

# Argon2id with the smallest cost: the real parameters take ~0.1 s per hash.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(scope="session")
def shared_renderer() -> Iterator[Renderer]:
    """One pool of rendering workers for every test (starting one costs ~0.2 s)."""
    renderer = Renderer()
    yield renderer
    renderer.close()


@pytest.fixture
def engine(shared_renderer: Renderer) -> Iterator[DialogueEngine]:
    with DialogueEngine.open("memory://") as opened:
        opened.accounts.hasher = CHEAP_HASHER
        own, opened.templates.renderer = opened.templates.renderer, shared_renderer
        yield opened
        opened.templates.renderer = own


@pytest.fixture
def client(engine: DialogueEngine) -> Iterator[TestClient]:
    with TestClient(create_app(engine), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def admin(engine: DialogueEngine) -> Caller:
    return caller(engine, ("admin", {}))
