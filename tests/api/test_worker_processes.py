"""What each server worker process gets: a listening socket of its own, a tuned collector."""

from __future__ import annotations

import gc
import socket
from collections.abc import Iterator
from multiprocessing.reduction import ForkingPickler
from pathlib import Path

import pytest

from dialogue_engine.api import workers
from dialogue_engine.api.app import GC_THRESHOLD, app_from_environment
from dialogue_engine.eventstore.settings import STORE_ENV_VAR


@pytest.mark.skipif(
    not workers.SPREADS_CONNECTIONS, reason="SO_REUSEPORT spreads connections on Linux only"
)
def test_a_worker_gets_a_new_socket_on_the_parents_address() -> None:
    parent = workers._bind(socket.AF_INET, ("127.0.0.1", 0), workers.SocketPerWorker)
    with parent:
        # As multiprocessing hands sockets to a spawned worker.
        child = ForkingPickler.loads(ForkingPickler.dumps(parent))
        with child:
            assert type(child) is socket.socket
            assert child.fileno() != parent.fileno()
            assert child.getsockname() == parent.getsockname()
            assert child.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
            # Each worker listens on its own socket; the parent's never does.
            child.listen()
            assert parent.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 0


@pytest.fixture
def default_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_a_worker_process_tunes_its_garbage_collector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, default_collector: None
) -> None:
    """Workers are spawned: nothing the serving process set is inherited."""
    monkeypatch.setenv(STORE_ENV_VAR, f"sqlite:///{tmp_path / 'store.db'}")
    gc.set_threshold(700, 10, 10)
    app = app_from_environment()
    app.state.workers.shutdown()
    app.state.engine.close()
    assert gc.get_threshold()[0] == GC_THRESHOLD
