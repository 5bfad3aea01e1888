"""``dialogue-engine``: the command line.

Each command parses its flags, calls the engine facade and maps the engine's
errors to exit codes: 0 success, 1 a domain error (printed as JSON on stderr),
2 bad usage (argparse).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence

from .domain.errors import DomainError
from .engine import DialogueEngine

Command = Callable[[argparse.Namespace], int]


class ProgressBar:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    WIDTH = 30

    def __init__(self, label: str, stream: object = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self._drawn_at = 0.0
        self.started = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - self._drawn_at < 0.1 and done < total:
            return
        self._drawn_at = now
        fraction = done / total if total else 1.0
        filled = int(self.WIDTH * fraction)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        print(
            f"\r{self.label} [{bar}] {fraction:6.1%} {done}/{total}",
            end="",
            file=self.stream,  # type: ignore[arg-type]
            flush=True,
        )

    def finish(self) -> float:
        print(file=self.stream)  # type: ignore[arg-type]
        return time.perf_counter() - self.started


def _rebuild(args: argparse.Namespace) -> int:
    with DialogueEngine.open(args.store, follow=False) as engine:
        bar = ProgressBar("rebuilding read models")
        position = engine.rebuild(progress=bar)
        seconds = bar.finish()
    print(f"rebuilt every read model from {position} notifications in {seconds:.2f}s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dialogue-engine", description="Event-sourced dialogue authoring engine."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    rebuild = commands.add_parser(
        "rebuild", help="drop every read model and rebuild it from the event log"
    )
    rebuild.add_argument("--store", help="store URL (default: $DIALOGUE_ENGINE_STORE or SQLite)")
    rebuild.set_defaults(run=_rebuild)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Command = args.run
    try:
        return run(args)
    except DomainError as e:
        print(json.dumps({"type": e.type, "message": e.message, "details": e.details}), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
