"""``dialogue-engine``: the command line.

Each command parses its flags, calls the engine facade and maps the engine's
errors to exit codes: 0 success, 1 a domain error (printed as JSON on stderr),
2 bad usage (argparse).

- ``serve``: the REST API under uvicorn. On a store without users it first
  creates an admin from ``$DIALOGUE_ENGINE_ADMIN_EMAIL`` and
  ``$DIALOGUE_ENGINE_ADMIN_PASSWORD``, or with a random password printed once.
- ``create-user``: add a user (``--admin`` to grant admin).
- ``create-provider`` / ``create-channel``: add a provider, or a channel of one
  (``--project`` lets it serve a project at once); source 002 has no API for
  either, so these and the admin-only ``POST /providers/`` and
  ``POST /channels/`` are the ways in.
- ``migrate``: create the store's tables (once, before any server starts on
  PostgreSQL: serving processes never create tables, so that several starting
  together cannot race).
- ``project``: bring this machine's read models up to the end of the log
  (``--follow``: and keep them there), e.g. before starting servers on a new
  machine of a PostgreSQL deployment.
- ``rebuild``: drop and rebuild every read model.
- ``verify``, ``export``, ``import``, ``replay``: the auditor's commands
  (:mod:`dialogue_engine.audit_cli`; ``verify`` exits 3 when the history was altered).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence

from .domain.errors import DomainError
from .engine import DialogueEngine
from .eventstore.settings import (
    SHARED_ENV_VAR,
    STORE_ENV_VAR,
    parse_store_url,
    store_url_from_environment,
)

ADMIN_EMAIL_VAR = "DIALOGUE_ENGINE_ADMIN_EMAIL"
ADMIN_PASSWORD_VAR = "DIALOGUE_ENGINE_ADMIN_PASSWORD"

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


def _migrate(args: argparse.Namespace) -> int:
    settings = parse_store_url(store_url_from_environment(args.store))
    if settings.is_postgres:
        from .eventstore.postgres import migrate

        created = migrate(settings)
    else:
        with DialogueEngine.open(settings.url, follow=False):
            created = True  # SQLite creates what is missing, and nothing else
    print("created the store's tables" if created else "the store's tables exist already")
    return 0


def _project(args: argparse.Namespace) -> int:
    with DialogueEngine.open(args.store, follow=False) as engine:
        bar = ProgressBar("catching up read models")
        position = engine.projector.catch_up(progress=bar)
        seconds = bar.finish()
        print(f"read models are at notification {position} ({seconds:.2f}s)", flush=True)
        if not args.follow:
            return 0
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        engine.projector.start(poll_interval=args.interval)
        stop.wait()
    return 0


def _create_first_admin(engine: DialogueEngine) -> None:
    """On a store without users: the admin from the environment, or one with a random password."""
    password = os.environ.get(ADMIN_PASSWORD_VAR) or None
    created = engine.accounts.bootstrap_admin(os.environ.get(ADMIN_EMAIL_VAR) or None, password)
    if created is None:
        return
    user, chosen = created
    if password:
        print(f"created admin user {user.email}", flush=True)
    else:
        print(
            f"created admin user {user.email} with password {chosen}\n"
            "(shown this once: sign in with POST /auth/tokens and keep it safe)",
            flush=True,
        )


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .api.app import create_app, tune_garbage_collector
    from .api.connections import ClientTimeouts
    from .api.workers import serve as serve_workers

    store_url = store_url_from_environment(args.store)
    if args.workers > 1 and parse_store_url(store_url).is_memory:
        print("an in-memory store cannot be shared by several workers", file=sys.stderr)
        return 2
    options = {
        "host": args.host,
        "port": args.port,
        "access_log": not args.no_access_log,
        "log_level": args.log_level,
        **ClientTimeouts.from_environment().uvicorn_options(),
    }
    tune_garbage_collector()
    engine = DialogueEngine.open(store_url)
    try:
        _create_first_admin(engine)
        if args.workers == 1:
            uvicorn.run(create_app(engine), **options)
            return 0
    finally:
        engine.close()
    os.environ[STORE_ENV_VAR] = store_url
    os.environ[SHARED_ENV_VAR] = "1"
    serve_workers("dialogue_engine.api.app:app_from_environment", workers=args.workers, **options)
    return 0


def _create_user(args: argparse.Namespace) -> int:
    with DialogueEngine.open(args.store, follow=False) as engine:
        user = engine.accounts.register(
            args.email,
            args.password,
            first_name=args.first_name,
            last_name=args.last_name,
            admin=args.admin,
        )
    print(json.dumps({"id": user.id, "email": user.email, "admin": args.admin}))
    return 0


def _create_provider(args: argparse.Namespace) -> int:
    with DialogueEngine.open(args.store, follow=False) as engine:
        provider = engine.channels.create_provider(args.title)
    print(json.dumps({"id": provider.id, "title": provider.title}))
    return 0


def _create_channel(args: argparse.Namespace) -> int:
    with DialogueEngine.open(args.store, follow=False) as engine:
        channel = engine.channels.create_channel(
            title=args.title or args.address,
            address=args.address,
            channel_type=args.type,
            provider_id=args.provider,
            is_available=not args.unavailable,
        )
        if args.project:
            channel = engine.channels.assign_channel(channel.id, args.project)
    shown = {
        "id": channel.id,
        "title": channel.title,
        "address": channel.address,
        "type": channel.type,
        "provider_id": channel.provider.id,
        "project_id": channel.project_id,
    }
    print(json.dumps(shown))
    return 0


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


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

    migrate = commands.add_parser("migrate", help="create the store's tables (once)")
    migrate.add_argument("--store", help="store URL (default: $DIALOGUE_ENGINE_STORE or SQLite)")
    migrate.set_defaults(run=_migrate)

    project = commands.add_parser(
        "project", help="bring this machine's read models up to the end of the event log"
    )
    project.add_argument("--store", help="store URL (default: $DIALOGUE_ENGINE_STORE or SQLite)")
    project.add_argument("--follow", action="store_true", help="keep following the log")
    project.add_argument(
        "--interval", type=float, default=0.1, help="seconds between polls when following"
    )
    project.set_defaults(run=_project)

    serve = commands.add_parser("serve", help="serve the REST API under uvicorn")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--store", help="store URL (default: $DIALOGUE_ENGINE_STORE or SQLite)")
    serve.add_argument("--workers", type=_positive, default=1, help="worker processes")
    serve.add_argument("--no-access-log", action="store_true", help="do not log each request")
    serve.add_argument(
        "--log-level", default="info", choices=("critical", "error", "warning", "info", "debug")
    )
    serve.set_defaults(run=_serve)

    create_user = commands.add_parser("create-user", help="add a user")
    create_user.add_argument("--email", required=True)
    create_user.add_argument("--password", required=True)
    create_user.add_argument("--first-name", default="")
    create_user.add_argument("--last-name", default="")
    create_user.add_argument("--admin", action="store_true", help="grant the admin permission")
    create_user.add_argument(
        "--store", help="store URL (default: $DIALOGUE_ENGINE_STORE or SQLite)"
    )
    create_user.set_defaults(run=_create_user)

    store_help = "store URL (default: $DIALOGUE_ENGINE_STORE or SQLite)"
    create_provider = commands.add_parser("create-provider", help="add a channel provider")
    create_provider.add_argument("--title", required=True, help="e.g. Twitter, MTN Nigeria")
    create_provider.add_argument("--store", help=store_help)
    create_provider.set_defaults(run=_create_provider)

    create_channel = commands.add_parser("create-channel", help="add a channel of a provider")
    create_channel.add_argument("--provider", required=True, help="the provider's id")
    create_channel.add_argument("--type", required=True, help="e.g. sms, ussd, twitter")
    create_channel.add_argument("--address", required=True, help="e.g. 2233, *120*321#, @foo")
    create_channel.add_argument("--title", help="default: the address")
    create_channel.add_argument("--project", help="a project id the channel serves at once")
    create_channel.add_argument(
        "--unavailable", action="store_true", help="mark it not available for use"
    )
    create_channel.add_argument("--store", help=store_help)
    create_channel.set_defaults(run=_create_channel)

    from .audit_cli import add_audit_commands  # it imports ProgressBar from here

    add_audit_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Command = args.run
    try:
        return run(args)
    except DomainError as e:
        print(
            json.dumps({"type": e.type, "message": e.message, "details": e.details}),
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
