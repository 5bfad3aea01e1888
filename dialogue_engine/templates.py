"""The templates facade: every read and write of message templates (source 003).

Exposed as ``DialogueEngine.templates``. Bodies are source 003's (``name``,
``subject``, ``html``, ``text``, ``preheader``, ``amp_html``,
``template_data``, ``locale``, ``tags``), plus an optional ``project_id`` on
creation. Without a locale, a call means the engine's default locale
(``en-US`` unless configured), or the template's first locale if it lacks that
one. Times are Unix seconds; ids ``tem_…`` and ``ver_…``.

Access: a template with a ``project_id`` follows that project's permissions
(any grant inside it reads; ``project:admin`` or ``project:dialogues:write``
writes); one without is read by everyone and written by admins. What the
caller may not read is ``NotFound``, like a deleted template.

Example::

    template = engine.templates.create(
        {"name": "Welcome", "subject": "Hi {{ name }}", "text": "Welcome, {{ name }}!"}
    )
    version = template.versions[0]
    rendered = engine.templates.render(template.id, version.id, {"name": "Ann"})
    assert rendered.text == "Welcome, Ann!"
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from .domain import permissions as perms
from .domain.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from .domain.jsonvalue import dumps, loads, owned_copy
from .domain.paging import Page, PageRequest
from .domain.permissions import SYSTEM, Actor
from .domain.project import Project
from .domain.releases import TemplatePin
from .domain.templatefields import (
    DEFAULT_LOCALE,
    VERSION_MEMBERS,
    canonical_locale,
    check_locale,
    check_members,
    check_name,
    check_published,
    check_tags,
    check_version,
    template_uuid,
)
from .domain.templates import Template
from .eventstore.application import DialogueStore, UnitOfWork
from .projections.base import ViewRecorder
from .projections.templates import TemplateCatalog, version_summaries
from .rendering.pool import Renderer
from .rendering.sandbox import BoundedSandbox, RenderFailure, check_syntax

CREATE_MEMBERS = frozenset({*VERSION_MEMBERS, "locale", "tags", "project_id"})
LOCALE_MEMBERS = frozenset({*VERSION_MEMBERS, "locale"})
NEW_VERSION_MEMBERS = frozenset({*VERSION_MEMBERS, "locale", "published"})
REPLACE_VERSION_MEMBERS = frozenset({*VERSION_MEMBERS, "published"})
UPDATE_MEMBERS = frozenset({"name", "tags"})


@dataclass(frozen=True)
class VersionSummary:
    id: str
    name: str
    published: bool
    created: int
    modified: int


@dataclass(frozen=True)
class TemplateRecord:
    """A template as seen in one locale: its versions there, oldest first."""

    id: str
    name: str
    locale: str
    created: int
    tags: tuple[str, ...]
    project_id: str | None
    versions: tuple[VersionSummary, ...]


@dataclass(frozen=True)
class TemplateVersionRecord:
    """One version with its content; ``template_data`` is the caller's own copy."""

    id: str
    template_id: str
    locale: str
    name: str
    subject: str
    published: bool
    created: int
    modified: int
    html: str | None = None
    text: str | None = None
    preheader: str | None = None
    amp_html: str | None = None
    template_data: dict[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class RenderedTemplate:
    template_id: str
    version_id: str
    locale: str
    subject: str
    html: str | None
    text: str | None
    preheader: str | None
    amp_html: str | None


@dataclass(frozen=True)
class TemplateReferenceError:
    """Why a block's template reference is not usable: ``member`` is template_id or version_id."""

    member: str
    message: str


class Templates:
    def __init__(
        self,
        store: DialogueStore,
        views: ViewRecorder,
        catch_up: Callable[[], None],
        *,
        default_locale: str = DEFAULT_LOCALE,
        renderer: Renderer | None = None,
    ) -> None:
        self.store = store
        self.default_locale = check_locale(default_locale, "/default_locale")
        self.renderer = renderer or Renderer()
        self._views = views
        self._catch_up = catch_up
        self._parser = BoundedSandbox(autoescape=False)

    def close(self) -> None:
        self.renderer.close()

    # Templates

    def create(self, body: Mapping[str, Any], *, actor: Actor = SYSTEM) -> TemplateRecord:
        """A template with its first (published) version; ``locale`` defaults to the default."""
        body = check_members(dict(body) if isinstance(body, Mapping) else body, CREATE_MEMBERS)
        errors: list[FieldError] = []
        name = _collect(errors, lambda: check_name(body.get("name")))
        content = _collect(errors, lambda: self._check_content(body, name=body.get("name")))
        locale = _collect(errors, lambda: check_locale(body.get("locale", self.default_locale)))
        tags = _collect(errors, lambda: check_tags(body.get("tags", [])))
        project_id = body.get("project_id")
        if project_id is not None and type(project_id) is not str:
            errors.append(FieldError("type", "/project_id", "project_id must be a string"))
        if errors:
            raise ValidationFailed(_unique(errors))
        if project_id is not None:
            self._check_project(project_id, actor)
        if not perms.can_write_template(actor, project_id):
            raise PermissionDenied(
                "create",
                "templates" if project_id is None else f"templates of project {project_id}",
            )
        template = self.store.write(
            lambda unit: unit.add(
                Template.start(
                    name,
                    content,
                    locale=locale,
                    tags=tags,
                    project_id=project_id,
                    user_id=actor.user_id,
                )
            )
        )
        return _record(template, locale)

    def get(
        self, template_id: str, locale: str | None = None, *, actor: Actor = SYSTEM
    ) -> TemplateRecord:
        template = self._readable(template_id, actor)
        return _record(template, self._locale(template, locale))

    def list(
        self,
        *,
        actor: Actor = SYSTEM,
        name: str | None = None,
        tag: str | None = None,
        locale: str | None = None,
        page: int = 1,
        per_page: int = 30,
    ) -> Page[TemplateRecord]:
        """The templates ``actor`` may read, in creation order: ``name`` contains (any case),
        ``tag`` is one of the tags, ``locale`` is one of the locales (then shown in it)."""
        request = PageRequest(page, per_page)
        if locale is not None:
            checked = canonical_locale(locale)
            if checked is None:
                raise ValidationFailed(
                    [FieldError("format", "/locale", f"{locale!r} is not a BCP 47 locale code")],
                    "Invalid query parameters",
                )
            locale = checked
        self._catch_up()
        with self._views.datastore.transaction(commit=False) as cursor:
            rows, total = TemplateCatalog.query(
                cursor,
                visible_projects=perms.visible_projects(actor),
                name=name,
                tag=tag,
                locale=locale,
                default_locale=self.default_locale,
                offset=request.offset,
                limit=request.per_page,
            )
        items = [
            TemplateRecord(
                id=row.id,
                name=row.name,
                locale=row.locale,
                created=row.created,
                tags=tuple(row.tags),
                project_id=row.project_id,
                versions=tuple(VersionSummary(**v) for v in row.versions),
            )
            for row in rows
        ]
        return Page(items, total, request.page, request.per_page)

    def update(
        self,
        template_id: str,
        body: Mapping[str, Any],
        locale: str | None = None,
        *,
        actor: Actor = SYSTEM,
    ) -> TemplateRecord:
        """Set ``name`` and/or ``tags`` (which replace the tags; ``[]`` removes them)."""
        body = check_members(dict(body) if isinstance(body, Mapping) else body, UPDATE_MEMBERS)
        errors: list[FieldError] = []
        name = _collect(errors, lambda: check_name(body["name"])) if "name" in body else None
        tags = _collect(errors, lambda: check_tags(body["tags"])) if "tags" in body else None
        if errors:
            raise ValidationFailed(errors)

        def change(template: Template, shown: str) -> None:
            if name is not None:
                template.rename(name, user_id=actor.user_id)
            if tags is not None:
                template.retag(tags, user_id=actor.user_id)

        template, shown = self._change(template_id, locale, actor, change)
        return _record(template, shown)

    def delete(self, template_id: str, locale: str | None = None, *, actor: Actor = SYSTEM) -> None:
        """Delete the template (every locale), or only ``locale``.

        Reads then treat it as gone; its events stay in the log. Deleting a
        template's last locale deletes the template.
        """

        def change(template: Template, shown: str) -> None:
            if locale is None:
                template.delete(user_id=actor.user_id)
            else:
                template.delete_locale(shown, user_id=actor.user_id)

        self._change(template_id, locale, actor, change)

    def add_locale(
        self, template_id: str, body: Mapping[str, Any], *, actor: Actor = SYSTEM
    ) -> TemplateRecord:
        """A new locale with its first (published) version, named by the body's ``name``."""
        body = check_members(
            dict(body) if isinstance(body, Mapping) else body, LOCALE_MEMBERS, ("locale",)
        )
        errors: list[FieldError] = []
        locale = _collect(errors, lambda: check_locale(body["locale"]))
        content = _collect(errors, lambda: self._check_content(body))
        if errors:
            raise ValidationFailed(_unique(errors))

        def change(template: Template, shown: str) -> None:
            template.add_locale(locale, content, user_id=actor.user_id)

        template, _ = self._change(template_id, None, actor, change)
        return _record(template, locale)

    # Versions

    def list_versions(
        self, template_id: str, locale: str | None = None, *, actor: Actor = SYSTEM
    ) -> builtins.list[TemplateVersionRecord]:
        template = self._readable(template_id, actor)
        shown = self._locale(template, locale)
        return [_version_record(template, v, shown) for v in template.versions_of(shown)]

    def get_version(
        self,
        template_id: str,
        version_id: str,
        locale: str | None = None,
        *,
        actor: Actor = SYSTEM,
    ) -> TemplateVersionRecord:
        template = self._readable(template_id, actor)
        shown = self._locale(template, locale)
        return _version_record(template, template.get_version(shown, version_id), shown)

    def create_version(
        self,
        template_id: str,
        body: Mapping[str, Any],
        locale: str | None = None,
        *,
        actor: Actor = SYSTEM,
    ) -> TemplateVersionRecord:
        """A new version; it is published (and the previous one no longer) if ``published``.

        A ``locale`` in the body (as source 003's sample sends) must agree with the URL's.
        """
        body = check_members(dict(body) if isinstance(body, Mapping) else body, NEW_VERSION_MEMBERS)
        errors: list[FieldError] = []
        content = _collect(errors, lambda: self._check_content(body))
        published = _collect(errors, lambda: check_published(body))
        if "locale" in body:
            given = _collect(errors, lambda: check_locale(body["locale"]))
            if given is not None and locale is not None and canonical_locale(locale) != given:
                errors.append(
                    FieldError("const", "/locale", "the body's locale differs from the URL's")
                )
            locale = locale if locale is not None else given
        if errors:
            raise ValidationFailed(_unique(errors))
        created: list[str] = []

        def change(template: Template, shown: str) -> None:
            created.append(
                template.add_version(shown, content, published=published, user_id=actor.user_id)
            )

        template, shown = self._change(template_id, locale, actor, change)
        return _version_record(template, template.get_version(shown, created[0]), shown)

    def replace_version(
        self,
        template_id: str,
        version_id: str,
        body: Mapping[str, Any],
        locale: str | None = None,
        *,
        actor: Actor = SYSTEM,
    ) -> TemplateVersionRecord:
        """Replace a version's content; ``published: true`` publishes it."""
        body = check_members(
            dict(body) if isinstance(body, Mapping) else body, REPLACE_VERSION_MEMBERS
        )
        errors: list[FieldError] = []
        content = _collect(errors, lambda: self._check_content(body))
        published = _collect(errors, lambda: check_published(body))
        if errors:
            raise ValidationFailed(_unique(errors))

        def change(template: Template, shown: str) -> None:
            template.replace_version(
                shown, version_id, content, published=published, user_id=actor.user_id
            )

        template, shown = self._change(template_id, locale, actor, change)
        return _version_record(template, template.get_version(shown, version_id), shown)

    def render(
        self,
        template_id: str,
        version_id: str,
        template_data: Any = None,
        locale: str | None = None,
        *,
        actor: Actor = SYSTEM,
    ) -> RenderedTemplate:
        """A version rendered in the sandbox with ``template_data`` (default: its sample data).

        Missing variables and template errors are :class:`ValidationFailed`.
        """
        template = self._readable(template_id, actor)
        shown = self._locale(template, locale)
        version = template.get_version(shown, version_id)
        return self._render(template.public_id, version, shown, template_data)

    # Dialogues and releases

    def reference_error(
        self, template_id: str, version_id: str | None, project_id: str
    ) -> TemplateReferenceError | None:
        """Why a block of a dialogue in ``project_id`` may not reference this template.

        The template must exist (not deleted) and have no project or that
        project; a ``version_id`` must be one of its versions.
        """
        template = self._find(template_id)
        if template is None or template.project_id not in (None, project_id):
            return TemplateReferenceError("template_id", f"template {template_id} does not exist")
        if version_id is not None and template.find_version(version_id) is None:
            return TemplateReferenceError(
                "version_id", f"version {version_id} of template {template_id} does not exist"
            )
        return None

    def pin(self, template_id: str) -> TemplatePin:
        """The published version (default locale) of a live template, as of now."""
        template = self._find(template_id)
        if template is None:
            raise NotFound("Template", template_id)
        locale = template.resolve_locale(None, self.default_locale)
        return TemplatePin(template_id, template.published(locale), template.version)

    def pinned_version(self, pin: TemplatePin) -> TemplateVersionRecord:
        """The pinned version as it was when pinned (even if changed or deleted since)."""
        template = self._pinned(pin)
        version = template.versions[pin.version_id]
        return _version_record(template, version, version["locale"])

    def render_pinned(self, pin: TemplatePin, template_data: Any = None) -> RenderedTemplate:
        template = self._pinned(pin)
        version = template.versions[pin.version_id]
        return self._render(template.public_id, version, version["locale"], template_data)

    # Helpers

    def _pinned(self, pin: TemplatePin) -> Template:
        uuid = template_uuid(pin.template_id)
        if uuid is None:
            raise NotFound("Template", pin.template_id)
        return self.store.get_at(uuid, pin.template_version, Template)

    def _render(
        self, template_id: str, version: dict[str, Any], locale: str, template_data: Any
    ) -> RenderedTemplate:
        if template_data is None:
            data = version.get("template_data") or {}
        elif type(template_data) is dict:
            data = owned_copy(template_data, path="/template_data")
        else:
            raise ValidationFailed(
                [FieldError("type", "/template_data", "template_data must be an object")]
            )
        try:
            rendered = self.renderer.render(version, data)
        except RenderFailure as e:
            path = "/template_data" if e.kind == "undefined" else f"/{e.field}" if e.field else ""
            raise ValidationFailed(
                [FieldError(e.kind, path, e.message)], "The template could not be rendered"
            ) from None
        return RenderedTemplate(
            template_id=template_id,
            version_id=version["id"],
            locale=locale,
            subject=rendered["subject"],
            html=rendered["html"],
            text=rendered["text"],
            preheader=rendered["preheader"],
            amp_html=rendered["amp_html"],
        )

    def _check_content(self, body: dict[str, Any], *, name: object = None) -> dict[str, Any]:
        content = check_version(body, name=name)
        failures = check_syntax(content, self._parser)
        if failures:
            raise ValidationFailed([FieldError(f.kind, f"/{f.field}", f.message) for f in failures])
        return content

    def _check_project(self, project_id: str, actor: Actor) -> None:
        uuid = _uuid(project_id)
        exists = uuid is not None and self.store.find(uuid, Project) is not None
        if not exists or not perms.can_see_project(actor, project_id):
            raise ValidationFailed(
                [FieldError("reference", "/project_id", f"project {project_id} does not exist")]
            )

    def _find(self, template_id: str) -> Template | None:
        uuid = template_uuid(template_id)
        template = self.store.find(uuid, Template) if uuid is not None else None
        return None if template is None or template.is_deleted else template

    def _readable(self, template_id: str, actor: Actor) -> Template:
        template = self._find(template_id)
        if template is None or not perms.can_read_template(actor, template.project_id):
            raise NotFound("Template", str(template_id))
        return template

    def _locale(self, template: Template, locale: str | None) -> str:
        if locale is None:
            return template.resolve_locale(None, self.default_locale)
        checked = canonical_locale(locale)
        if checked is None:
            raise NotFound("Locale", str(locale), template_id=template.public_id)
        return template.resolve_locale(checked, self.default_locale)

    def _change(
        self,
        template_id: str,
        locale: str | None,
        actor: Actor,
        change: Callable[[Template, str], None],
    ) -> tuple[Template, str]:
        """Authorize, then apply ``change`` to a detached copy in ``locale`` and save."""
        current = self._readable(template_id, actor)
        if not perms.can_write_template(actor, current.project_id):
            raise PermissionDenied("change", f"template {template_id}")

        def command(unit: UnitOfWork) -> tuple[Template, str]:
            template = unit.get(current.id, Template)
            shown = self._locale(template, locale)
            change(template, shown)
            return template, shown

        return self.store.write(command)


def _collect(errors: list[FieldError], check: Callable[[], Any]) -> Any:
    try:
        return check()
    except ValidationFailed as e:
        errors.extend(e.errors)
        return None


def _unique(errors: list[FieldError]) -> list[FieldError]:
    return list(dict.fromkeys(errors))


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except (ValueError, TypeError, AttributeError):
        return None


def _record(template: Template, locale: str) -> TemplateRecord:
    return TemplateRecord(
        id=template.public_id,
        name=template.name,
        locale=locale,
        created=template.created,
        tags=tuple(template.tags),
        project_id=template.project_id,
        versions=tuple(VersionSummary(**v) for v in version_summaries(template, locale))
        if locale in template.locales and not template.is_deleted
        else (),
    )


def _version_record(
    template: Template, version: dict[str, Any], locale: str
) -> TemplateVersionRecord:
    data = version.get("template_data")
    published = (
        locale in template.locales and template.locales[locale]["published"] == version["id"]
    )
    return TemplateVersionRecord(
        id=version["id"],
        template_id=template.public_id,
        locale=locale,
        name=version["name"],
        subject=version["subject"],
        published=published,
        created=version["created"],
        modified=version["modified"],
        html=version.get("html"),
        text=version.get("text"),
        preheader=version.get("preheader"),
        amp_html=version.get("amp_html"),
        template_data=loads(dumps(data)) if data is not None else None,
    )
