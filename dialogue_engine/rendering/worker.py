"""A rendering worker process: JSON lines in, JSON lines out.

Started by :class:`~.pool.Renderer` as ``python -m dialogue_engine.rendering.worker
MEMORY_BYTES``. It limits its own address space, says it is ready, then answers each request line
``{"content": {...}, "data": {...}}`` with ``{"rendered": {...}}`` or
``{"failure": {"kind", "field", "message"}}``. It exits at the end of its input,
and after running out of memory (its state may then be damaged).
"""

from __future__ import annotations

import sys
from typing import Any, BinaryIO

import orjson

from . import READY
from .sandbox import RenderFailure, environments, render


def limit_memory(limit: int) -> None:
    try:
        import resource
    except ImportError:  # not on this platform: the parent's deadline still applies
        return
    if limit > 0:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def serve(requests: BinaryIO, answers: BinaryIO) -> None:
    sandboxes = environments()
    answers.write(READY)
    answers.flush()
    for line in requests:
        exit_after = False
        answer: dict[str, Any]
        try:
            request = orjson.loads(line)
            answer = {"rendered": render(request["content"], request["data"], sandboxes)}
        except RenderFailure as e:
            answer = {"failure": {"kind": e.kind, "field": e.field, "message": e.message}}
        except MemoryError:
            answer = {
                "failure": {"kind": "too_large", "field": "", "message": "out of memory"},
                "exiting": True,
            }
            exit_after = True
        answers.write(orjson.dumps(answer) + b"\n")
        answers.flush()
        if exit_after:
            return


def main() -> None:
    limit_memory(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    serve(sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    main()
