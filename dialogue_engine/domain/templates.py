"""The template aggregate: a named, tagged message template with versions per locale.

One aggregate per template. Each locale holds an ordered list of versions
(subject, html, text… see :func:`~.templatefields.check_version`) and exactly
one published version: a locale's first version is published, and a version
created or updated with ``published: true`` takes over from the previous one.
A published version cannot be unpublished by itself; publishing another one
unpublishes it.

Deleting a template (or one of its locales) records an event: every read then
treats it as gone, while its history stays in the log for auditors and for
the releases that pinned one of its versions.

Each command checks and derives (ids, Unix-second timestamps) before its
event; event bodies only assign, replacing nested dicts rather than changing
them, since detached copies share them with committed readers.
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event
from eventsourcing.domain import Snapshot as BaseSnapshot

from .aggregates import EngineAggregate, derived_id
from .errors import FieldError, NotFound, ValidationFailed
from .templatefields import VERSION_PREFIX, encode_id, template_id


def now_s() -> int:
    """Source 003 writes times in Unix seconds."""
    return int(time.time())


def version_id(template: UUID, number: int) -> str:
    """The id of the ``number``-th version created in a template (across its locales)."""
    return encode_id(VERSION_PREFIX, derived_id(template, f"version-{number}"))


class Template(EngineAggregate):
    TOPIC = "dialogue_engine:Template"

    class Created(Aggregate.Created):
        TOPIC = "dialogue_engine:Template.Created"
        name: str
        project_id: str | None
        tags: list[str]
        locale: str
        first_version: dict[str, Any]
        user_id: str
        created: int

    class Snapshot(BaseSnapshot):
        TOPIC = "dialogue_engine:Template.Snapshot"

    @event(Created)
    def __init__(
        self,
        name: str,
        project_id: str | None,
        tags: list[str],
        locale: str,
        first_version: dict[str, Any],
        user_id: str,
        created: int,
    ) -> None:
        self.name = name
        self.project_id = project_id
        self.tags = tags
        self.created = created
        self.primary_locale = locale
        self.is_deleted = False
        self.version_count = 0
        self.locales: dict[str, dict[str, Any]] = {}
        """locale -> ``{"versions": [version ids, oldest first], "published": version id}``."""
        self.versions: dict[str, dict[str, Any]] = {}
        """version id -> its content, ``locale``, ``created`` and ``modified``."""
        self._add_version(locale, first_version, True)

    @classmethod
    def start(
        cls,
        name: str,
        content: dict[str, Any],
        *,
        locale: str,
        tags: list[str],
        project_id: str | None,
        user_id: str,
        now: int | None = None,
    ) -> Template:
        """A new template whose first (published) version is ``content`` in ``locale``."""
        new_id = uuid4()
        created = now_s() if now is None else now
        first = {**content, "id": version_id(new_id, 1), "created": created, "modified": created}
        return cls._create(
            cls.Created,
            id=new_id,
            name=name,
            project_id=project_id,
            tags=tags,
            locale=locale,
            first_version=first,
            user_id=user_id,
            created=created,
        )

    @property
    def public_id(self) -> str:
        return template_id(self.id)

    # Commands

    def rename(self, name: str, *, user_id: str) -> None:
        self._check_live()
        if name != self.name:
            self._renamed(name=name, user_id=user_id)

    def retag(self, tags: list[str], *, user_id: str) -> None:
        """Replace the tags (``[]`` removes them all)."""
        self._check_live()
        if tags != self.tags:
            self._retagged(tags=list(tags), user_id=user_id)

    def add_locale(
        self, locale: str, content: dict[str, Any], *, user_id: str, now: int | None = None
    ) -> str:
        """A new locale with its first (published) version; that version's id."""
        self._check_live()
        if locale in self.locales:
            raise ValidationFailed(
                [FieldError("unique", "/locale", f"the template already has locale {locale}")]
            )
        version = self._new_version(content, now)
        self._locale_added(locale=locale, version=version, user_id=user_id)
        return str(version["id"])

    def add_version(
        self,
        locale: str,
        content: dict[str, Any],
        *,
        published: bool | None,
        user_id: str,
        now: int | None = None,
    ) -> str:
        """A new version of ``locale``, published only if asked to be; its id."""
        self.require_locale(locale)
        version = self._new_version(content, now)
        self._version_added(
            locale=locale, version=version, published=bool(published), user_id=user_id
        )
        return str(version["id"])

    def replace_version(
        self,
        locale: str,
        version_id: str,
        content: dict[str, Any],
        *,
        published: bool | None,
        user_id: str,
        now: int | None = None,
    ) -> None:
        """Replace a version's content (its id and ``created`` stay).

        ``published: true`` publishes it; ``false`` on the published version is
        refused (a locale always has one: publish another version instead).
        """
        old = self.get_version(locale, version_id)
        is_published = self.locales[locale]["published"] == version_id
        if published is False and is_published:
            raise ValidationFailed(
                [
                    FieldError(
                        "published",
                        "/published",
                        "the published version cannot be unpublished: publish another version",
                    )
                ]
            )
        modified = now_s() if now is None else now
        version = {**content, "id": version_id, "created": old["created"], "modified": modified}
        if {**old, "modified": modified} == {**version, "locale": locale} and (
            is_published or not published
        ):
            return
        self._version_replaced(
            locale=locale, version=version, published=bool(published), user_id=user_id
        )

    def delete_locale(self, locale: str, *, user_id: str) -> None:
        """Remove a locale and its versions; removing the last one deletes the template."""
        self.require_locale(locale)
        if len(self.locales) == 1:
            self.delete(user_id=user_id)
        else:
            self._locale_deleted(locale=locale, user_id=user_id)

    def delete(self, *, user_id: str) -> None:
        self._check_live()
        self._deleted(user_id=user_id)

    # Reads

    def require_locale(self, locale: str) -> None:
        self._check_live()
        if locale not in self.locales:
            raise NotFound("Locale", locale, template_id=self.public_id)

    def resolve_locale(self, locale: str | None, default: str) -> str:
        """``locale``, or without one ``default`` if the template has it, else its first locale."""
        self._check_live()
        if locale is None:
            if default in self.locales:
                return default
            if self.primary_locale in self.locales:
                return self.primary_locale
            return next(iter(self.locales))
        self.require_locale(locale)
        return locale

    def get_version(self, locale: str, version_id: str) -> dict[str, Any]:
        """A version of ``locale`` (shared: never change it)."""
        self.require_locale(locale)
        found = self.versions.get(version_id) if type(version_id) is str else None
        if found is None or found["locale"] != locale:
            raise NotFound("Version", str(version_id), template_id=self.public_id)
        return found

    def find_version(self, version_id: str) -> dict[str, Any] | None:
        """A version in any live locale, or None."""
        if self.is_deleted or type(version_id) is not str:
            return None
        found = self.versions.get(version_id)
        return found if found is not None and found["locale"] in self.locales else None

    def versions_of(self, locale: str) -> list[dict[str, Any]]:
        self.require_locale(locale)
        return [self.versions[v] for v in self.locales[locale]["versions"]]

    def published(self, locale: str) -> str:
        self.require_locale(locale)
        return str(self.locales[locale]["published"])

    def _check_live(self) -> None:
        if self.is_deleted:
            raise NotFound("Template", self.public_id)

    def _new_version(self, content: dict[str, Any], now: int | None) -> dict[str, Any]:
        created = now_s() if now is None else now
        number = self.version_count + 1
        return {
            **content,
            "id": version_id(self.id, number),
            "created": created,
            "modified": created,
        }

    # Events: assignments only

    def _add_version(self, locale: str, version: dict[str, Any], published: bool) -> None:
        self.version_count += 1
        self.versions[version["id"]] = {**version, "locale": locale}
        entry = self.locales.get(locale)
        versions = [*entry["versions"], version["id"]] if entry else [version["id"]]
        current = entry["published"] if entry else version["id"]
        self.locales[locale] = {
            "versions": versions,
            "published": version["id"] if published else current,
        }

    @event("Renamed", topic="dialogue_engine:Template.Renamed")
    def _renamed(self, name: str, user_id: str) -> None:
        self.name = name

    @event("Retagged", topic="dialogue_engine:Template.Retagged")
    def _retagged(self, tags: list[str], user_id: str) -> None:
        self.tags = tags

    @event("LocaleAdded", topic="dialogue_engine:Template.LocaleAdded")
    def _locale_added(self, locale: str, version: dict[str, Any], user_id: str) -> None:
        self._add_version(locale, version, True)

    @event("VersionAdded", topic="dialogue_engine:Template.VersionAdded")
    def _version_added(
        self, locale: str, version: dict[str, Any], published: bool, user_id: str
    ) -> None:
        self._add_version(locale, version, published)

    @event("VersionReplaced", topic="dialogue_engine:Template.VersionReplaced")
    def _version_replaced(
        self, locale: str, version: dict[str, Any], published: bool, user_id: str
    ) -> None:
        self.versions[version["id"]] = {**version, "locale": locale}
        if published:
            self.locales[locale] = {**self.locales[locale], "published": version["id"]}

    @event("LocaleDeleted", topic="dialogue_engine:Template.LocaleDeleted")
    def _locale_deleted(self, locale: str, user_id: str) -> None:
        del self.locales[locale]
        self.versions = {k: v for k, v in self.versions.items() if v["locale"] != locale}

    @event("Deleted", topic="dialogue_engine:Template.Deleted")
    def _deleted(self, user_id: str) -> None:
        self.is_deleted = True
