"""The library facade: every write and read of dialogue-engine goes through here.

The REST layer, the CLI and embedding applications all call
:class:`DialogueEngine`, so authorization, events and projections stay in one
place. Each command authorizes the :class:`~dialogue_engine.domain.permissions.Actor`,
loads the aggregate, applies the domain rule and saves atomically. Results are
frozen dataclasses holding copies, never aggregates.

Errors are the engine's own (:mod:`dialogue_engine.domain.errors`):
``NotFound`` (also for what the actor may not see), ``ValidationFailed`` (with
its list of ``{type, path, message}``), ``PatchConflict``, ``StaleRevision``,
``ConcurrentWrite``, ``PermissionDenied`` and ``StoreUnavailable``.

Example::

    from dialogue_engine import DialogueEngine

    with DialogueEngine.open("memory://") as engine:
        project = engine.create_project("Maternal Health ZA")
        dialogue = engine.create_dialogue(project.id, {"title": "Survey", "sequences": []})
        dialogue = engine.edit_dialogue(
            project.id,
            dialogue.id,
            [{"op": "add", "path": "/sequences/-",
              "value": {"id": "start", "title": "Start", "blocks": []}}],
        )
        assert dialogue.revision_number == 2
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import LRUCache
from eventsourcing.sqlite import SQLiteCursor

from .accounts import Accounts
from .audit import Audit
from .channels import Channels
from .domain import permissions as perms
from .domain.aggregates import check_title
from .domain.blocktypes import BlockType, BlockTypeRegistry
from .domain.description import changed_template_references, template_references
from .domain.dialogue import Dialogue, Revision, revision_from_event, revision_id
from .domain.errors import (
    DomainError,
    FieldError,
    NotFound,
    PermissionDenied,
    StaleRevision,
    ValidationFailed,
    unexpected_members,
)
from .domain.jsonvalue import JSON, canonical_bytes, loads
from .domain.paging import Page, PageRequest
from .domain.patching import apply_patch, check_patch
from .domain.permissions import SYSTEM, Actor
from .domain.project import Project
from .domain.releases import Release, ReleaseLog, TemplatePin, release_log_id
from .domain.revisions import EditRequest, RevertRequest, RevisionRequest, parse_revisions
from .domain.templatefields import DEFAULT_LOCALE
from .encoding import DescriptionEncoder
from .eventstore.application import DialogueStore, UnitOfWork
from .eventstore.postgres import LogListener, SharedThrottle, check_migrated, migrate
from .eventstore.settings import (
    SHARED_ENV_VAR,
    StoreSettings,
    parse_store_url,
    store_url_from_environment,
)
from .eventstore.sqlite import view_datastore
from .mail import MailSettings, Postman
from .participants import Participants
from .passwords import PasswordResets, reset_ttl_ms
from .projections.base import ViewRecorder
from .projections.channels import ChannelSummaries
from .projections.lease import Lease
from .projections.participants import ParticipantView
from .projections.projector import Progress, Projector
from .projections.runs import OutboxView
from .projections.sequences import SequenceView
from .projections.summaries import DialogueSummaries, ProjectSummaries
from .projections.templates import TemplateCatalog
from .projections.users import UserSummaries
from .rendering.pool import DEFAULT_TIMEOUT, Renderer
from .runs import Runs
from .sequences import Sequences
from .templates import RenderedTemplate, Templates, TemplateVersionRecord

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_LOCALE_VAR = "DIALOGUE_ENGINE_DEFAULT_LOCALE"

REVISION_ORDERINGS = ("number", "-number", "created", "-created")


@dataclass(frozen=True)
class ProjectRecord:
    id: str
    title: str
    is_archived: bool


@dataclass(frozen=True)
class DialogueSummary:
    id: str
    project_id: str
    title: str
    revision_id: str
    is_archived: bool
    is_published: bool
    has_changes: bool
    can_view: bool
    can_edit: bool


class Document:
    """A description and its canonical JSON, encoded once, on demand.

    Encoding a 1,000-block description costs ~0.1-0.3 ms, so a write does not
    pay for it; the first read that needs the bytes does, and later reads
    share them. Once encoded the tree is let go: cached bytes cost the garbage
    collector nothing, while a cached tree of ~20,000 objects slows every full
    collection.

    A *private* tree (freshly loaded, referenced by nothing else) is handed to
    the first caller of :meth:`fresh_tree` instead of being copied, after its
    bytes are taken for everyone else: one copy of ~0.5 ms saved per
    historical read.
    """

    __slots__ = ("_encoded", "_encoder", "_handed_over", "_lock", "_private", "_tree")

    def __init__(
        self, tree: JSON, *, encoder: DescriptionEncoder | None = None, private: bool = False
    ) -> None:
        self._tree = tree
        self._encoder = encoder
        self._private = private
        self._encoded: bytes | None = None
        self._handed_over: JSON = None
        self._lock = threading.Lock()

    @property
    def encoded(self) -> bytes:
        with self._lock:
            encoded = self._encode()
            # Bytes are what this caller wanted: no tree is kept for a handover.
            self._private = False
            self._handed_over = None
            return encoded

    def fresh_tree(self) -> JSON:
        """A description the caller owns and may change."""
        with self._lock:
            encoded = self._encode()
            if self._private:
                self._private = False
                tree, self._handed_over = self._handed_over, None
                return tree
        return loads(encoded)

    def _encode(self) -> bytes:
        if self._encoded is None:
            # A private tree is a one-off (a historical read): remembering its
            # sequences' encodings would only keep them alive for the collector.
            encoder = None if self._private else self._encoder
            self._encoded = encoder.encode(self._tree) if encoder else canonical_bytes(self._tree)
            # Keep a private tree only until it is handed over.
            self._handed_over = self._tree if self._private else None
            self._tree = None
        return self._encoded

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Document) and self.encoded == other.encoded

    def __hash__(self) -> int:
        return hash(self.encoded)


@dataclass(frozen=True)
class DialogueRecord:
    """A dialogue's description at one revision, with its flags for the caller.

    ``document`` is the description's canonical JSON; ``description`` parses a
    fresh copy on each access, so callers can change what they get.
    """

    id: str
    project_id: str
    revision_id: str
    revision_number: int
    is_published: bool
    has_changes: bool
    can_view: bool
    can_edit: bool
    content: Document = field(repr=False)

    @property
    def document(self) -> bytes:
        return self.content.encoded

    @property
    def description(self) -> dict[str, Any]:
        value: dict[str, Any] = self.content.fresh_tree()
        return value

    @cached_property
    def _head(self) -> dict[str, Any]:
        return self.description

    @property
    def title(self) -> str:
        return str(self._head["title"])

    @property
    def is_archived(self) -> bool:
        return bool(self._head["is_archived"])


@dataclass(frozen=True)
class ReleaseRecord:
    id: str
    number: int
    revision_id: str
    revision_number: int
    created: int
    user_id: str
    templates: dict[str, str] = field(default_factory=dict, compare=False)
    """``{template_id: version_id}``: the template versions the release pinned."""


class DialogueEngine:
    """Projects, dialogues, revisions and releases over one event store."""

    def __init__(
        self,
        store: DialogueStore,
        recorder: ViewRecorder,
        block_types: BlockTypeRegistry,
        *,
        default_locale: str = DEFAULT_LOCALE,
        renderer: Renderer | None = None,
        lease: Lease | None = None,
    ) -> None:
        self.store = store
        self.block_types = block_types
        self.projector = Projector(store, recorder, lease)
        self._listener: LogListener | None = None
        self._views = recorder
        self._documents: LRUCache[tuple[UUID, int], Document] = LRUCache(maxsize=64)
        self._encoder = DescriptionEncoder()
        """Remembers sequence encodings across this engine's revisions (see :mod:`.encoding`)."""
        self._revision_ids: LRUCache[UUID, dict[str, int]] = LRUCache(maxsize=1000)
        self.accounts = Accounts(store, read_views=self._read_views)
        """Users, grants, tokens and API keys (see :mod:`dialogue_engine.accounts`)."""
        self.channels = Channels(store, self._read_views)
        """Providers and channels (see :mod:`dialogue_engine.channels`)."""
        self.mail = MailSettings()
        self.password_resets = PasswordResets(
            self.accounts,
            Postman(self.mail.mailer()),
            sender=self.mail.sender,
            ttl_ms=reset_ttl_ms(),
        )
        """Reset requests answered alike for every email (see :mod:`dialogue_engine.passwords`)."""
        self.templates = Templates(
            store, recorder, self._catch_up, default_locale=default_locale, renderer=renderer
        )
        """Message templates, versions and locales (see :mod:`dialogue_engine.templates`)."""
        self.sequences = Sequences(self)
        """Sequence and block sub-resources and search (see :mod:`dialogue_engine.sequences`)."""
        self.participants = Participants(self)
        """End users of a project and their enrolments (see :mod:`dialogue_engine.participants`)."""
        self.runs = Runs(self)
        """Submitting sequences and answering runs (see :mod:`dialogue_engine.runs`)."""
        self.audit = Audit(self)
        """Verify, diff, blame, time travel, replay, export/import, feed
        (:mod:`dialogue_engine.audit`)."""

    @classmethod
    def open(
        cls,
        store_url: str | None = None,
        *,
        block_types: Sequence[BlockType] = (),
        follow: bool = True,
        cache_size: int = 500,
        mail: MailSettings | None = None,
        default_locale: str | None = None,
        render_timeout: float = DEFAULT_TIMEOUT,
        create_tables: bool | None = None,
        shared: bool | None = None,
        views: str | Path | None = None,
    ) -> DialogueEngine:
        """Open (creating if needed) the store at ``store_url``.

        ``store_url`` defaults to ``$DIALOGUE_ENGINE_STORE``, then to
        ``sqlite:///var/dialogue-engine.db``. ``block_types`` are registered
        beside the built-ins. With ``follow`` a background thread keeps the
        read models current; without it they catch up when a list is read.
        ``default_locale`` (templates) defaults to
        ``$DIALOGUE_ENGINE_DEFAULT_LOCALE``, then ``en-US``; a template render
        taking longer than ``render_timeout`` seconds is stopped.

        On PostgreSQL (``postgresql://…``) the tables must exist (``dialogue-engine
        migrate``) unless ``create_tables``; the read models live in a SQLite
        file on this machine, in the folder ``views`` (default
        ``$DIALOGUE_ENGINE_VIEWS``, then ``var/views``), shared by the
        machine's processes. ``shared`` says other processes write to the
        store too (default: on PostgreSQL).
        """
        settings = parse_store_url(store_url_from_environment(store_url))
        if create_tables is None:
            create_tables = not settings.is_postgres
        if settings.is_postgres:
            if create_tables:  # also the tables beyond the library's (the throttle)
                migrate(settings)
            else:
                check_migrated(settings)
        store = DialogueStore(
            settings.with_create_table(create_tables and not settings.is_postgres).env,
            cache_size=cache_size,
            shared=settings.is_postgres or os.environ.get(SHARED_ENV_VAR) == "1"
            if shared is None
            else shared,
        )
        registry = BlockTypeRegistry()
        for block_type in block_types:
            registry.register(block_type)
        if settings.is_memory:
            # Shared-cache memory databases lock whole tables: one pool only.
            datastore = store.factory.datastore  # type: ignore[attr-defined]
        elif settings.is_postgres:
            path = settings.views_file(views)
            path.parent.mkdir(parents=True, exist_ok=True)
            datastore = view_datastore(str(path), lock_timeout=10)
        else:
            datastore = view_datastore(settings.env["SQLITE_DBNAME"], settings.lock_timeout)
        recorder = ViewRecorder(
            datastore,
            [
                ProjectSummaries(),
                DialogueSummaries(),
                UserSummaries(),
                ChannelSummaries(),
                TemplateCatalog(),
                SequenceView(),
                ParticipantView(),
                OutboxView(),
            ],
        )
        recorder.create_table()
        if max(recorder.positions().values()) > store.max_notification_id():
            # Views ahead of the log: the store was restored from an older
            # backup (or the file belongs to another store). Start again.
            logger.warning("read models are ahead of the event store: rebuilding them")
            recorder.drop()
        locale = default_locale or os.environ.get(DEFAULT_LOCALE_VAR) or DEFAULT_LOCALE
        views_file = None if settings.is_memory else Path(datastore.pool.db_name)
        engine = cls(
            store,
            recorder,
            registry,
            default_locale=locale,
            renderer=Renderer(timeout=render_timeout),
            # One process per views file applies the log in the background.
            lease=Lease(views_file.with_name(f"{views_file.name}.follower"))
            if views_file
            else None,
        )
        data_dir = settings.path.parent if settings.path is not None else None
        if views_file is not None and settings.is_postgres:
            data_dir = views_file.parent
            engine.share_throttles(settings)
        engine.use_mail(mail or MailSettings.from_environment(data_dir))
        if follow:
            # Other processes' writes reach this one's caches and views by this
            # polling; PostgreSQL stores are shared by design, so poll often,
            # and listen for the notification each commit sends.
            engine.projector.start(poll_interval=0.1 if settings.is_postgres else 0.5)
            if settings.is_postgres:
                channel = store.recorder.channel_name  # type: ignore[attr-defined]
                projector = engine.projector
                engine._listener = LogListener(
                    settings,
                    channel,
                    projector.poke,
                    wanted=projector.lease.held,
                    pause=projector.MIN_INTERVAL,
                )
        return engine

    def share_throttles(self, settings: StoreSettings) -> None:
        """Count failed sign-ins and reset mails in the PostgreSQL store, across processes."""
        accounts = self.accounts
        accounts.login_throttle = SharedThrottle.replacing(
            accounts.login_throttle, "login", self.store, settings
        )
        resets = self.password_resets
        resets.throttle = SharedThrottle.replacing(
            resets.throttle, "reset-mail", self.store, settings
        )

    def close(self) -> None:
        if self._listener is not None:
            self._listener.stop()
        self.projector.stop()
        self.password_resets.close()
        self.templates.close()
        if self._views.datastore is not getattr(self.store.factory, "datastore", None):
            self._views.datastore.close()
        self.store.close()

    def use_mail(self, settings: MailSettings) -> None:
        """Send mail as ``settings`` say: SMTP, an outbox folder, or memory.

        ``open`` calls it with ``mail`` or the ``DIALOGUE_ENGINE_SMTP_*``
        settings (the outbox folder beside a SQLite file by default).
        """
        self.mail = settings
        self.password_resets.postman.mailer = settings.mailer()
        self.password_resets.sender = settings.sender

    def __enter__(self) -> DialogueEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Projects

    def create_project(
        self, title: str, *, actor: Actor = SYSTEM, is_archived: bool = False
    ) -> ProjectRecord:
        """Create a project. Needs ``admin`` or ``projects:create``.

        The creating user gets ``project:admin`` on it in the same save.
        """
        if not perms.can_create_project(actor):
            raise PermissionDenied("create", "projects")

        def command(unit: UnitOfWork) -> Project:
            project = unit.add(Project.start(title, is_archived=is_archived, user_id=actor.user_id))
            self.accounts.grant_in(unit, actor, perms.PROJECT_ADMIN, project_id=str(project.id))
            return project

        return _project_record(self.store.write(command))

    def get_project(self, project_id: str, *, actor: Actor = SYSTEM) -> ProjectRecord:
        return _project_record(self._visible_project(project_id, actor))

    def list_projects(
        self, *, actor: Actor = SYSTEM, page: int = 1, per_page: int = 30
    ) -> Page[ProjectRecord]:
        """The projects ``actor`` can see, in creation order."""
        request = PageRequest(page, per_page)
        self._catch_up()
        with self._views.datastore.transaction(commit=False) as cursor:
            rows, total = ProjectSummaries.query(
                cursor, perms.visible_projects(actor), request.offset, request.per_page
            )
        items = [ProjectRecord(r.id, r.title, r.is_archived) for r in rows]
        return Page(items, total, request.page, request.per_page)

    def rename_project(
        self,
        project_id: str,
        title: str,
        *,
        actor: Actor = SYSTEM,
        expected_version: int | None = None,
    ) -> ProjectRecord:
        return self._change_project(
            project_id, actor, lambda p: p.rename(title, user_id=actor.user_id), expected_version
        )

    def archive_project(
        self,
        project_id: str,
        is_archived: bool = True,
        *,
        actor: Actor = SYSTEM,
        expected_version: int | None = None,
    ) -> ProjectRecord:
        return self._change_project(
            project_id,
            actor,
            lambda p: p.set_archived(is_archived, user_id=actor.user_id),
            expected_version,
        )

    def replace_project(
        self,
        project_id: str,
        title: str,
        is_archived: bool = False,
        *,
        actor: Actor = SYSTEM,
        expected_version: int | None = None,
    ) -> ProjectRecord:
        """Set title and archived flag together (one save, an event per change)."""
        checked = check_project_fields({"title": title, "is_archived": is_archived})
        return self._change_project(
            project_id, actor, lambda p: _set_fields(p, checked, actor), expected_version
        )

    def patch_project(
        self,
        project_id: str,
        patch: JSON,
        *,
        actor: Actor = SYSTEM,
        expected_version: int | None = None,
    ) -> ProjectRecord:
        """Apply an RFC 6902 patch to ``{title, is_archived}``, all or nothing."""
        errors = check_patch(patch)
        if errors:
            raise ValidationFailed(errors, "Invalid JSON patch")

        def change(project: Project) -> None:
            current = {"title": project.title, "is_archived": project.is_archived}
            _set_fields(project, check_project_fields(apply_patch(current, patch)), actor)

        return self._change_project(project_id, actor, change, expected_version)

    def _change_project(
        self,
        project_id: str,
        actor: Actor,
        change: Callable[[Project], None],
        expected_version: int | None = None,
    ) -> ProjectRecord:
        """Authorize, then apply ``change`` to the project (stale ``expected_version``: refused)."""
        self._visible_project(project_id, actor)
        if not perms.can_admin_project(actor, project_id):
            raise PermissionDenied("change", f"project {project_id}")

        def command(unit: UnitOfWork) -> Project:
            project = unit.get(_id(project_id, "Project"), Project)
            if expected_version is not None and expected_version != project.version:
                raise StaleRevision(str(expected_version), str(project.version))
            change(project)
            return project

        return _project_record(self.store.write(command))

    def _visible_project(self, project_id: str, actor: Actor) -> Project:
        if not perms.can_see_project(actor, project_id):
            raise NotFound("Project", project_id)
        return self._get(_id(project_id, "Project"), Project, project_id)

    # Dialogues

    def create_dialogue(
        self,
        project_id: str,
        description: JSON,
        *,
        actor: Actor = SYSTEM,
        created: int | None = None,
        details: JSON = None,
    ) -> DialogueRecord:
        """Create a dialogue (its revision 1). Needs ``project:admin`` on the project."""
        self._visible_project(project_id, actor)
        if not perms.can_admin_project(actor, project_id):
            raise PermissionDenied("create dialogues in", f"project {project_id}")

        def command(unit: UnitOfWork) -> Dialogue:
            dialogue = Dialogue.start(
                project_id,
                description,
                registry=self.block_types,
                user_id=actor.user_id,
                created=created,
                details=details,
            )
            self._check_templates(dialogue.description, None, project_id)
            return unit.add(dialogue)

        return self._record(self.store.write(command), actor)

    def get_dialogue(
        self, project_id: str, dialogue_id: str, *, actor: Actor = SYSTEM
    ) -> DialogueRecord:
        return self._record(self._readable(project_id, dialogue_id, actor), actor)

    def list_dialogues(
        self,
        project_id: str,
        *,
        actor: Actor = SYSTEM,
        is_archived: bool | None = None,
        is_published: bool | None = None,
        has_changes: bool | None = None,
        can_view: bool | None = None,
        can_edit: bool | None = None,
        page: int = 1,
        per_page: int = 30,
    ) -> Page[DialogueSummary]:
        """Summaries of the project's dialogues ``actor`` may read, in creation order."""
        request = PageRequest(page, per_page)
        self._visible_project(project_id, actor)
        self._catch_up()
        readable = perms.readable_dialogues(actor, project_id)
        writable = perms.writable_dialogues(actor, project_id)
        filters = {
            "is_archived": is_archived,
            "is_published": is_published,
            "has_changes": has_changes,
            "can_view": can_view,
            "can_edit": can_edit,
        }
        with self._views.datastore.transaction(commit=False) as cursor:
            rows, total = DialogueSummaries.query(
                cursor,
                project_id,
                readable=readable,
                writable=writable,
                filters=filters,
                offset=request.offset,
                limit=request.per_page,
            )
        items = [
            DialogueSummary(
                id=r.id,
                project_id=r.project_id,
                title=r.title,
                revision_id=revision_id(UUID(r.id), r.revision_number),
                is_archived=r.is_archived,
                is_published=r.is_published,
                has_changes=r.has_changes,
                can_view=True,
                can_edit=writable is None or r.id in writable,
            )
            for r in rows
        ]
        return Page(items, total, request.page, request.per_page)

    def edit_dialogue(
        self,
        project_id: str,
        dialogue_id: str,
        patch: JSON,
        *,
        actor: Actor = SYSTEM,
        edit_type: str = "edit",
        details: JSON = None,
        created: int | None = None,
        expected_revision: int | str | None = None,
    ) -> DialogueRecord:
        """Apply an RFC 6902 patch as one edit revision (none if nothing changes)."""
        request = EditRequest(patch, edit_type, details or {}, created)
        dialogue, _ = self._revise(project_id, dialogue_id, [request], actor, expected_revision)
        return self._record(dialogue, actor)

    def replace_dialogue(
        self,
        project_id: str,
        dialogue_id: str,
        description: JSON,
        *,
        actor: Actor = SYSTEM,
        edit_type: str = "replace_dialogue",
        details: JSON = None,
        created: int | None = None,
        expected_revision: int | str | None = None,
    ) -> DialogueRecord:
        """Replace the description: one edit revision carrying the computed patch."""
        may_archive = perms.can_admin_project(actor, project_id)

        def command(unit: UnitOfWork) -> Dialogue:
            dialogue = self._writable(unit, project_id, dialogue_id, actor, expected_revision)
            before = dialogue.description
            dialogue.replace(
                description,
                registry=self.block_types,
                user_id=actor.user_id,
                edit_type=edit_type,
                details=details,
                created=created,
                may_archive=may_archive,
            )
            self._check_templates(dialogue.description, before, project_id)
            return dialogue

        return self._record(self.store.write(command), actor)

    def revert_dialogue(
        self,
        project_id: str,
        dialogue_id: str,
        to_revision_id: str,
        *,
        actor: Actor = SYSTEM,
        details: JSON = None,
        created: int | None = None,
        expected_revision: int | str | None = None,
    ) -> DialogueRecord:
        """Restore the description of an earlier revision, as one revert revision."""
        request = RevertRequest(to_revision_id, details or {}, created)
        dialogue, _ = self._revise(project_id, dialogue_id, [request], actor, expected_revision)
        return self._record(dialogue, actor)

    def add_revisions(
        self,
        project_id: str,
        dialogue_id: str,
        body: JSON,
        *,
        actor: Actor = SYSTEM,
        expected_revision: int | str | None = None,
    ) -> list[Revision]:
        """Create revisions from the contract's revision object, or an array of them.

        All or nothing: if one fails, none is recorded. Returns the revisions
        recorded (one that would change nothing is not recorded).
        """
        requests = parse_revisions(body)
        dialogue, start = self._revise(
            project_id, dialogue_id, requests, actor, expected_revision, bulk=type(body) is list
        )
        events = self.store.events_of(dialogue.id, gt=start, lte=dialogue.version)
        return [_copy_revision(revision_from_event(e)) for e in events]

    def _revise(
        self,
        project_id: str,
        dialogue_id: str,
        requests: Sequence[RevisionRequest],
        actor: Actor,
        expected_revision: int | str | None,
        *,
        bulk: bool = False,
    ) -> tuple[Dialogue, int]:
        """Apply ``requests`` in order on one dialogue, saved together; (dialogue, old version)."""
        may_archive = perms.can_admin_project(actor, project_id)

        def command(unit: UnitOfWork) -> tuple[Dialogue, int]:
            dialogue = self._writable(unit, project_id, dialogue_id, actor, expected_revision)
            start = dialogue.version
            in_this_bulk: dict[int, JSON] = {}
            for index, request in enumerate(requests):
                prefix = f"/{index}" if bulk else ""
                try:
                    before = dialogue.description
                    self._apply_request(dialogue, request, actor, may_archive, in_this_bulk)
                    self._check_templates(dialogue.description, before, project_id)
                except ValidationFailed as e:
                    raise ValidationFailed(
                        [err.under(prefix) for err in e.errors], e.message
                    ) from e
                except DomainError as e:
                    if bulk:
                        e.details["revision_index"] = index
                    raise
                in_this_bulk[dialogue.version] = dialogue.description
            return dialogue, start

        return self.store.write(command)

    def _apply_request(
        self,
        dialogue: Dialogue,
        request: RevisionRequest,
        actor: Actor,
        may_archive: bool,
        in_this_bulk: dict[int, JSON],
    ) -> None:
        if isinstance(request, EditRequest):
            dialogue.edit(
                request.patch,
                registry=self.block_types,
                user_id=actor.user_id,
                edit_type=request.edit_type,
                details=request.details,
                created=request.created,
                may_archive=may_archive,
            )
            return
        number = self._revision_number(dialogue, request.revision_id)
        if number is None:
            raise ValidationFailed(
                [
                    FieldError(
                        "unknown",
                        "/properties/revision_id",
                        f"revision {request.revision_id} does not exist",
                    )
                ]
            )
        target = in_this_bulk.get(number)
        if target is None:
            target = self.store.get_at(dialogue.id, number, Dialogue).description
        dialogue.revert(
            number,
            target,
            registry=self.block_types,
            user_id=actor.user_id,
            details=request.details,
            created=request.created,
            may_archive=may_archive,
        )

    def _check_templates(self, description: JSON, before: JSON, project_id: str) -> None:
        """Blocks new or changed since ``before`` reference only usable templates (else 422)."""
        errors = []
        for at, template_id, version_id in changed_template_references(description, before):
            problem = self.templates.reference_error(template_id, version_id, project_id)
            if problem is not None:
                path = f"{at}/properties/{problem.member}"
                errors.append(FieldError("reference", path, problem.message))
        if errors:
            raise ValidationFailed(errors)

    def _readable(self, project_id: str, dialogue_id: str, actor: Actor) -> Dialogue:
        if not perms.can_read_dialogue(actor, project_id, dialogue_id):
            self._visible_project(project_id, actor)
            raise NotFound("Dialogue", dialogue_id)
        dialogue = self._get(_id(dialogue_id, "Dialogue"), Dialogue, dialogue_id)
        if dialogue.project_id != project_id:
            raise NotFound("Dialogue", dialogue_id)
        return dialogue

    def _writable(
        self,
        unit: UnitOfWork,
        project_id: str,
        dialogue_id: str,
        actor: Actor,
        expected_revision: int | str | None,
    ) -> Dialogue:
        self._readable(project_id, dialogue_id, actor)
        if not perms.can_write_dialogue(actor, project_id, dialogue_id):
            raise PermissionDenied("change", f"dialogue {dialogue_id}")
        dialogue = unit.get(_id(dialogue_id, "Dialogue"), Dialogue)
        _check_expected(dialogue, expected_revision)
        return dialogue

    # Revisions

    def list_revisions(
        self,
        project_id: str,
        dialogue_id: str,
        *,
        actor: Actor = SYSTEM,
        ordering: Sequence[str] = ("-number",),
        page: int = 1,
        per_page: int = 30,
    ) -> Page[Revision]:
        """A page of revisions, sorted by each ordering key in turn (default ``-number``).

        Orderings led by ``number`` read just the page; those led by ``created``
        read the dialogue's whole history to sort it.
        """
        request = PageRequest(page, per_page)
        keys = _check_ordering(ordering)
        dialogue = self._readable(project_id, dialogue_id, actor)
        total = dialogue.version
        if keys[0] in ("number", "-number"):
            if keys[0] == "number":
                low = request.offset + 1
                high = min(total, request.offset + request.per_page)
            else:
                high = total - request.offset
                low = max(1, high - request.per_page + 1)
            events = self.store.events_of(dialogue.id, gt=low - 1, lte=high) if low <= high else []
            revisions = [revision_from_event(e) for e in events]
            if keys[0] == "-number":
                revisions.reverse()
        else:
            everything = [revision_from_event(e) for e in self.store.events_of(dialogue.id)]
            revisions = _sorted(everything, keys)[
                request.offset : request.offset + request.per_page
            ]
        return Page([_copy_revision(r) for r in revisions], total, request.page, request.per_page)

    def get_revision(
        self, project_id: str, dialogue_id: str, revision: str, *, actor: Actor = SYSTEM
    ) -> Revision:
        dialogue = self._readable(project_id, dialogue_id, actor)
        number = self._existing_revision(dialogue, revision)
        (event,) = self.store.events_of(dialogue.id, gt=number - 1, lte=number)
        return _copy_revision(revision_from_event(event))

    def get_revision_dialogue(
        self, project_id: str, dialogue_id: str, revision: str, *, actor: Actor = SYSTEM
    ) -> DialogueRecord:
        """The description as it was right after ``revision`` was recorded."""
        dialogue = self._readable(project_id, dialogue_id, actor)
        number = self._existing_revision(dialogue, revision)
        return self._record(dialogue, actor, number)

    def _existing_revision(self, dialogue: Dialogue, revision: str) -> int:
        number = self._revision_number(dialogue, revision)
        if number is None:
            raise NotFound("Revision", revision, dialogue_id=str(dialogue.id))
        return number

    def _revision_number(self, dialogue: Dialogue, revision: str) -> int | None:
        """The number of the revision with id ``revision`` (ids are derived, so memoised)."""
        if type(revision) is not str:
            return None
        try:
            known = self._revision_ids.get(dialogue.id)
        except KeyError:
            known = {}
            self._revision_ids.put(dialogue.id, known)
        for number in range(len(known) + 1, dialogue.version + 1):
            known[revision_id(dialogue.id, number)] = number
        found = known.get(revision)
        return found if found is not None and found <= dialogue.version else None

    # Releases

    def create_release(
        self,
        project_id: str,
        dialogue_id: str,
        to_revision_id: str,
        *,
        actor: Actor = SYSTEM,
        created: int | None = None,
        expected_revision: int | str | None = None,
    ) -> ReleaseRecord:
        """Publish a revision. Needs ``project:admin`` (publish access)."""
        dialogue = self._readable(project_id, dialogue_id, actor)
        if not perms.can_admin_project(actor, project_id):
            raise PermissionDenied("release", f"dialogue {dialogue_id}")
        number = (
            self._revision_number(dialogue, to_revision_id) if type(to_revision_id) is str else None
        )
        if number is None:
            raise ValidationFailed(
                [FieldError("unknown", "/revision_id", f"revision {to_revision_id} does not exist")]
            )

        def command(unit: UnitOfWork) -> Release:
            log_id = release_log_id(dialogue.id)
            log = unit.find(log_id, ReleaseLog) or unit.add(
                ReleaseLog(dialogue_id=str(dialogue.id), project_id=project_id)
            )
            current = unit.get(dialogue.id, Dialogue)
            _check_expected(current, expected_revision)
            return log.release(
                number,
                latest_revision=current.version,
                user_id=actor.user_id,
                created=created,
                pins=self._pins(dialogue.id, number, project_id),
            )

        return _release_record(dialogue.id, self.store.write(command))

    def _pins(self, dialogue_id: UUID, number: int, project_id: str) -> tuple[TemplatePin, ...]:
        """The published version of every template revision ``number`` references, now."""
        if not 1 <= number <= self.store.get(dialogue_id, Dialogue).version:
            return ()
        description = self.store.get_at(dialogue_id, number, Dialogue).description
        pins: dict[str, TemplatePin] = {}
        errors = []
        for (template_id, _), at in template_references(description).items():
            if template_id in pins:
                continue
            problem = self.templates.reference_error(template_id, None, project_id)
            if problem is not None:
                path = f"{at}/properties/{problem.member}"
                errors.append(FieldError("reference", path, problem.message))
                continue
            pins[template_id] = self.templates.pin(template_id)
        if errors:
            raise ValidationFailed(errors, "A template this revision references cannot be pinned")
        return tuple(pins[key] for key in sorted(pins))

    def list_releases(
        self,
        project_id: str,
        dialogue_id: str,
        *,
        actor: Actor = SYSTEM,
        ordering: Sequence[str] = ("-number",),
        page: int = 1,
        per_page: int = 30,
    ) -> Page[ReleaseRecord]:
        request = PageRequest(page, per_page)
        keys = _check_ordering(ordering)
        dialogue = self._readable(project_id, dialogue_id, actor)
        releases = self._releases(dialogue)
        ordered = _sorted(releases, keys)[request.offset : request.offset + request.per_page]
        items = [_release_record(dialogue.id, r) for r in ordered]
        return Page(items, len(releases), request.page, request.per_page)

    def get_release(
        self, project_id: str, dialogue_id: str, release: str, *, actor: Actor = SYSTEM
    ) -> ReleaseRecord:
        """One release by id; ``"latest"`` names the newest."""
        dialogue = self._readable(project_id, dialogue_id, actor)
        return _release_record(dialogue.id, self._find_release(dialogue, release, dialogue_id))

    def get_release_dialogue(
        self, project_id: str, dialogue_id: str, release: str = "latest", *, actor: Actor = SYSTEM
    ) -> DialogueRecord:
        """The description a release pinned; ``"latest"`` is what end users meet."""
        dialogue = self._readable(project_id, dialogue_id, actor)
        found = self._find_release(dialogue, release, dialogue_id)
        return self._record(dialogue, actor, found.revision_number)

    def get_release_template(
        self,
        project_id: str,
        dialogue_id: str,
        release: str,
        template_id: str,
        *,
        actor: Actor = SYSTEM,
    ) -> TemplateVersionRecord:
        """The template version a release pinned, as it was when released."""
        dialogue = self._readable(project_id, dialogue_id, actor)
        pin = self._pin_of(self._find_release(dialogue, release, dialogue_id), template_id)
        return self.templates.pinned_version(pin)

    def render_release_template(
        self,
        project_id: str,
        dialogue_id: str,
        release: str,
        template_id: str,
        template_data: JSON = None,
        *,
        actor: Actor = SYSTEM,
    ) -> RenderedTemplate:
        """The pinned version, as released, rendered with ``template_data``."""
        dialogue = self._readable(project_id, dialogue_id, actor)
        pin = self._pin_of(self._find_release(dialogue, release, dialogue_id), template_id)
        return self.templates.render_pinned(pin, template_data)

    @staticmethod
    def _pin_of(release: Release, template_id: str) -> TemplatePin:
        for pin in release.pins:
            if pin.template_id == template_id:
                return pin
        raise NotFound("Template", str(template_id), release_id=release.id)

    def _releases(self, dialogue: Dialogue) -> list[Release]:
        log = self.store.find(release_log_id(dialogue.id), ReleaseLog)
        return log.all() if log is not None else []

    def _find_release(self, dialogue: Dialogue, release: str, dialogue_id: str) -> Release:
        releases = self._releases(dialogue)
        if release == "latest" and releases:
            return releases[-1]
        for candidate in releases:
            if candidate.id == release:
                return candidate
        raise NotFound("Release", release, dialogue_id=dialogue_id)

    # Read models

    def rebuild(self, progress: Progress | None = None) -> int:
        """Drop every read model and rebuild it from the log; the last notification applied."""
        return self.projector.rebuild(progress)

    def _catch_up(self) -> None:
        self.projector.ensure(self.store.last_notification_id)

    def _read_views(self, query: Callable[[SQLiteCursor], T]) -> T:
        """Run ``query`` on the read models once they hold this process's own writes."""
        self._catch_up()
        with self._views.datastore.transaction(commit=False) as cursor:
            return query(cursor)

    # Helpers

    def _get(self, aggregate_id: UUID, cls: type[T], shown_id: str) -> T:
        try:
            return self.store.get(aggregate_id, cls)  # type: ignore[type-var]
        except NotFound:
            raise NotFound(cls.__name__, shown_id) from None

    def _record(
        self, dialogue: Dialogue, actor: Actor, number: int | None = None
    ) -> DialogueRecord:
        """``dialogue`` at revision ``number`` (default: the version given) as a record.

        Descriptions are cached as encoded bytes per (dialogue, revision), so a
        revision read again is neither replayed nor kept as a tree.
        """
        is_current = number is None
        number = dialogue.version if number is None else number
        key = (dialogue.id, number)
        try:
            document = self._documents.get(key)
        except KeyError:
            if number == dialogue.version:
                document = Document(dialogue.description, encoder=self._encoder)
            else:
                loaded = self.store.load_at(dialogue.id, number, Dialogue)
                document = Document(loaded.description, private=True)
            self._documents.put(key, document)
        latest = self._latest_release_revision(dialogue)
        current = None if is_current else self.store.find(dialogue.id, Dialogue)
        current_version = current.version if current is not None else dialogue.version
        project_id = dialogue.project_id
        return DialogueRecord(
            id=str(dialogue.id),
            project_id=project_id,
            revision_id=revision_id(dialogue.id, number),
            revision_number=number,
            is_published=latest is not None,
            has_changes=latest is not None and latest != current_version,
            can_view=True,
            can_edit=perms.can_write_dialogue(actor, project_id, str(dialogue.id)),
            content=document,
        )

    def _latest_release_revision(self, dialogue: Dialogue) -> int | None:
        log = self.store.find(release_log_id(dialogue.id), ReleaseLog)
        latest = log.latest if log is not None else None
        return latest.revision_number if latest else None


def _check_expected(dialogue: Dialogue, expected: int | str | None) -> None:
    """``expected`` (a revision number or id) must name the current revision."""
    if expected is None or expected == dialogue.version:
        return
    current = revision_id(dialogue.id, dialogue.version)
    if expected != current:
        raise StaleRevision(str(expected), current)


def _id(value: str, kind: str) -> UUID:
    parsed = _parse_uuid(value) if type(value) is str else None
    if parsed is None:
        raise NotFound(kind, str(value))
    return parsed


@lru_cache(maxsize=65_536)
def _parse_uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


def check_project_fields(fields: JSON) -> dict[str, Any]:
    """A project's changeable fields, ``{title, is_archived}``, checked."""
    if type(fields) is not dict:
        raise ValidationFailed([FieldError("type", "", "a project is an object")])
    unexpected = unexpected_members(fields, {"title", "is_archived"})
    if unexpected:
        raise ValidationFailed(unexpected)
    if "title" not in fields:
        raise ValidationFailed([FieldError("required", "", "'title' is a required property")])
    is_archived = fields.get("is_archived", False)
    if type(is_archived) is not bool:
        raise ValidationFailed(
            [FieldError("type", "/is_archived", "is_archived must be a boolean")]
        )
    return {"title": check_title(fields["title"]), "is_archived": is_archived}


def _set_fields(project: Project, fields: dict[str, Any], actor: Actor) -> None:
    project.rename(fields["title"], user_id=actor.user_id)
    project.set_archived(fields["is_archived"], user_id=actor.user_id)


def _project_record(project: Project) -> ProjectRecord:
    return ProjectRecord(str(project.id), project.title, project.is_archived)


def _release_record(dialogue_id: UUID, release: Release) -> ReleaseRecord:
    return ReleaseRecord(
        id=release.id,
        number=release.number,
        revision_id=revision_id(dialogue_id, release.revision_number),
        revision_number=release.revision_number,
        created=release.created,
        user_id=release.user_id,
        templates=release.templates,
    )


def _copy_revision(revision: Revision) -> Revision:
    return Revision(
        id=revision.id,
        number=revision.number,
        user_id=revision.user_id,
        created=revision.created,
        type=revision.type,
        details=loads(canonical_bytes(revision.details)),
        properties=loads(canonical_bytes(revision.properties)),
    )


def _check_ordering(ordering: Sequence[str] | str) -> list[str]:
    if type(ordering) is str:
        ordering = [ordering]
    given: list[object] = list(ordering) if isinstance(ordering, list | tuple) else [ordering]
    keys = [k for k in given if type(k) is str and k in REVISION_ORDERINGS] or ["-number"]
    bad = [k for k in given if type(k) is not str or k not in REVISION_ORDERINGS]
    if bad:
        raise ValidationFailed(
            [
                FieldError(
                    "enum", "/ordering", f"ordering must be one of {', '.join(REVISION_ORDERINGS)}"
                )
            ],
            "Invalid query parameters",
        )
    return keys


def _sorted(items: list[T], keys: list[str]) -> list[T]:
    """Stable multi-key sort: apply the least significant key first."""
    result = list(items)
    for key in reversed(keys):
        name = key.lstrip("-")
        result.sort(key=lambda item: getattr(item, name), reverse=key.startswith("-"))
    return result
