"""Several server processes, each accepting connections on a listening socket of its own.

uvicorn's ``--workers`` shares one listening socket among its workers, and
whichever is awake first accepts every connection waiting (asyncio accepts up
to its backlog at once). When clients open their connections in a burst, as a
load balancer's pool or a benchmark does, one or two workers get them all
while the others idle. Measured here with 64 connections on 4 workers: most
runs left one worker with none, and the busiest, with twice its share, set
the pace.

On Linux, ``SO_REUSEPORT`` lets each worker listen on a socket of its own
bound to the same address, and the kernel spreads new connections over them
by a hash of the client's address and port. The parent binds the address
first (a taken port fails before any worker starts, and port 0 picks one
port for all) but never listens on it, so no connection waits there.

What it costs: a worker's share does not follow its load (a stuck worker gets
its share until uvicorn's supervisor replaces it), and connections still
waiting to be accepted by a worker that dies are reset. Where
``SO_REUSEPORT`` does not spread connections (macOS, Windows), the shared
socket is used.
"""

from __future__ import annotations

import contextlib
import socket
import sys
from typing import Any

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess

SPREADS_CONNECTIONS = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def serve(app: str, workers: int, **options: Any) -> None:
    """``uvicorn.run(app, factory=True, workers=workers, **options)``, a socket per worker."""
    if not SPREADS_CONNECTIONS:
        uvicorn.run(app, factory=True, workers=workers, **options)
        return
    config = uvicorn.Config(app, factory=True, workers=workers, **options)
    address = (config.host, config.port)
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    with contextlib.suppress(KeyboardInterrupt):  # as uvicorn.run: Ctrl-C stops quietly
        Multiprocess(config, sockets=[_bind(family, address, SocketPerWorker)]).run()


class SocketPerWorker(socket.socket):
    """A bound socket that reaches each worker as a new socket of its own on the same address.

    Workers are spawned, and their sockets are pickled to them: this class
    pickles as "bind another socket to my address" rather than as a
    duplicate of this one (multiprocessing's reducer for sockets matches
    ``socket.socket`` exactly, not its subclasses).
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_bind, (self.family, self.getsockname(), socket.socket))


def _bind(
    family: int, address: tuple[Any, ...], cls: type[socket.socket] = socket.socket
) -> socket.socket:
    sock = cls(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    return sock
