"""Every store test runs on SQLite and on PostgreSQL (one parametrised suite).

PostgreSQL stores are throw-away schemas (see :mod:`tests.pg`); their read
models go to the test's own folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dialogue_engine import DialogueEngine
from dialogue_engine.eventstore.settings import VIEWS_ENV_VAR

from ..pg import fresh_store
from .backends import Backend


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A new, empty store: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    monkeypatch.setenv(VIEWS_ENV_VAR, str(tmp_path / "views"))
    with fresh_store() as url:
        yield url


@pytest.fixture
def other_store_url(store_url: str, tmp_path: Path) -> Iterator[str]:
    """A second empty store of the same kind (an import target, say)."""
    if store_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'other.db'}"
        return
    with fresh_store() as url:
        yield url


@pytest.fixture
def backend(store_url: str) -> Backend:
    return Backend(store_url)


@pytest.fixture(params=["memory", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DialogueEngine]:
    """An engine on a private in-memory store, or on a PostgreSQL schema."""
    if request.param == "memory":
        with DialogueEngine.open("memory://") as opened:
            yield opened
        return
    monkeypatch.setenv(VIEWS_ENV_VAR, str(tmp_path / "views"))
    with fresh_store() as url, DialogueEngine.open(url) as opened:
        yield opened
