"""Shared fixtures: engines on private in-memory stores or temporary SQLite files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dialogue_engine import DialogueEngine


@pytest.fixture
def engine() -> Iterator[DialogueEngine]:
    """An engine on a private shared-cache in-memory SQLite store."""
    with DialogueEngine.open("memory://") as opened:
        yield opened


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """A SQLite file store in a fresh temporary folder."""
    return f"sqlite:///{tmp_path / 'store.db'}"
