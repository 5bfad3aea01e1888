"""The auditor's commands: ``verify``, ``export``, ``import`` and ``replay``.

Each draws a progress bar on stderr and ends with a one-paragraph summary;
the results themselves (a description, a report) go to stdout. Exit codes
follow :mod:`dialogue_engine.cli` (0 success, 1 an engine error printed as
JSON on stderr, 2 bad usage), plus :data:`TAMPERED` when ``verify`` finds a
broken chain or missing events: a script can tell "the history was altered"
from "the command failed".
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from .cli import ProgressBar
from .engine import DialogueEngine
from .eventstore.ledger import LogCheck

TAMPERED = 3
STORE_HELP = "store URL (default: $DIALOGUE_ENGINE_STORE or SQLite)"


def add_audit_commands(commands: Any) -> None:
    """Register the commands on the ``dialogue-engine`` sub-parser set."""
    verify = commands.add_parser(
        "verify", help="recompute every hash chain; report the first broken link"
    )
    verify.add_argument("--store", help=STORE_HELP)
    verify.set_defaults(run=_verify)

    export = commands.add_parser("export", help="write the event log as JSON Lines")
    export.add_argument("--out", required=True, type=Path, help="the file to write")
    export.add_argument("--project", help="only this project's aggregates")
    export.add_argument("--store", help=STORE_HELP)
    export.set_defaults(run=_export)

    load = commands.add_parser(
        "import", help="load an export into an empty store (refused unless every chain verifies)"
    )
    load.add_argument("file", type=Path, help="a file written by export")
    load.add_argument("--store", help=STORE_HELP)
    load.set_defaults(run=_import)

    replay = commands.add_parser(
        "replay", help="print a dialogue's description as of a revision, replayed from its events"
    )
    replay.add_argument("--dialogue", required=True, help="the dialogue id")
    replay.add_argument("--to", type=int, help="the revision number (default: the latest)")
    replay.add_argument("--store", help=STORE_HELP)
    replay.set_defaults(run=_replay)


def _verify(args: argparse.Namespace) -> int:
    with DialogueEngine.open(args.store, follow=False) as engine:
        bar = ProgressBar("verifying")
        try:
            check = engine.audit.verify(progress=bar)
        finally:
            seconds = bar.finish()
    print(_verify_report(check, seconds))
    return 0 if check.intact else TAMPERED


def _verify_report(check: LogCheck, seconds: float) -> str:
    rate = check.events / seconds if seconds > 0 else 0.0
    lines = [
        f"checked {check.events} events of {check.aggregates} aggregates "
        f"in {seconds:.2f}s ({rate:,.0f} events/s)"
    ]
    broken = check.broken
    if broken is not None:
        kind = (check.topic or "?").partition(":")[2].partition(".")[0] or "aggregate"
        position = (
            f"revision {broken.version}" if kind == "Dialogue" else f"version {broken.version}"
        )
        lines += [
            f"BROKEN LINK: {kind} {broken.aggregate_id}, {position} "
            f"(notification {broken.notification_id}, {check.topic})",
            f"  expected hash: {broken.expected}",
            f"  found hash:    {broken.found}",
            "the stored event differs from what was written, or its predecessor does",
        ]
    if check.gap is not None:
        first, last = check.gap
        lines.append(f"MISSING EVENTS: notifications {first}..{last} are not in the log")
    if check.intact:
        lines.append("every hash chain is intact")
    return "\n".join(lines)


def _export(args: argparse.Namespace) -> int:
    out: Path = args.out
    partial = out.with_name(out.name + ".partial")
    with DialogueEngine.open(args.store, follow=False) as engine:
        bar = ProgressBar("exporting")
        try:
            with partial.open("wb") as stream:
                summary = engine.audit.export(stream, project_id=args.project, progress=bar)
        except BaseException:
            bar.finish()
            with contextlib.suppress(OSError):
                partial.unlink()
            raise
        seconds = bar.finish()
    os.replace(partial, out)
    scope = f"project {summary.project_id}" if summary.project_id else "the whole store"
    print(
        f"exported {summary.events} events of {summary.aggregates} aggregates ({scope}) "
        f"to {out} in {seconds:.2f}s; last notification {summary.last_notification_id}"
    )
    return 0


class _Stages:
    """One progress bar per stage of an import."""

    def __init__(self) -> None:
        self.bar: ProgressBar | None = None
        self.stage = ""
        self.started = time.perf_counter()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.finish()
            self.stage, self.bar = stage, ProgressBar(stage)
        assert self.bar is not None
        self.bar(done, total)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.finish()
            self.bar = None


def _import(args: argparse.Namespace) -> int:
    with DialogueEngine.open(args.store, follow=False) as engine:
        stages = _Stages()
        try:
            summary = engine.audit.import_file(args.file, progress=stages)
        finally:
            stages.finish()
    seconds = time.perf_counter() - stages.started
    print(
        f"imported {summary.events} events of {summary.aggregates} aggregates from {args.file} "
        f"in {seconds:.2f}s: every hash chain verified, {summary.snapshots} snapshots taken, "
        f"read models rebuilt; last notification {summary.last_notification_id}"
    )
    return 0


def _replay(args: argparse.Namespace) -> int:
    with DialogueEngine.open(args.store, follow=False) as engine:
        bar = ProgressBar("replaying")
        try:
            replayed = engine.audit.replay(args.dialogue, to=args.to, progress=bar)
        finally:
            seconds = bar.finish()
    sys.stdout.buffer.write(orjson.dumps(replayed.description, option=orjson.OPT_INDENT_2))
    sys.stdout.buffer.write(b"\n")
    sys.stdout.flush()
    print(
        f"replayed revisions 1..{replayed.revision_number} of dialogue {replayed.dialogue_id} "
        f"(project {replayed.project_id}) from the stored events in {seconds:.2f}s; "
        f"every hash verified, last {replayed.head}; revision id {replayed.revision_id}",
        file=sys.stderr,
    )
    return 0
