"""The template catalog: what ``GET /templates`` lists, filtered by name, tag and locale.

One row per live template (a deleted template's rows are removed; its events
stay in the log), its tags, and per locale the summaries of its versions, so a
page of the list is read without loading any aggregate. Filters and paging
run in SQL; a row's ``position`` is the notification id that created it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from eventsourcing.sqlite import SQLiteCursor

from ..domain.templates import Template
from .base import Change, latest_per_aggregate


@dataclass(frozen=True)
class TemplateRow:
    id: str
    project_id: str | None
    name: str
    created: int
    tags: list[str]
    locale: str
    versions: list[dict[str, Any]]
    """``{id, name, published, created, modified}`` for each version of ``locale``."""


def version_summaries(template: Template, locale: str) -> list[dict[str, Any]]:
    published = template.published(locale)
    return [
        {
            "id": version["id"],
            "name": version["name"],
            "published": version["id"] == published,
            "created": version["created"],
            "modified": version["modified"],
        }
        for version in template.versions_of(locale)
    ]


class TemplateCatalog:
    name = "template_catalog"

    def create_statements(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS view_templates ("
            "id TEXT PRIMARY KEY, project_id TEXT, name TEXT NOT NULL, "
            "name_folded TEXT NOT NULL, created INTEGER NOT NULL, "
            "primary_locale TEXT NOT NULL, position INTEGER NOT NULL)",
            "CREATE INDEX IF NOT EXISTS view_templates_position ON view_templates (position)",
            "CREATE TABLE IF NOT EXISTS view_template_tags ("
            "template_id TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (template_id, tag))",
            "CREATE INDEX IF NOT EXISTS view_template_tags_tag ON view_template_tags (tag)",
            "CREATE TABLE IF NOT EXISTS view_template_locales ("
            "template_id TEXT NOT NULL, locale TEXT NOT NULL, versions TEXT NOT NULL, "
            "PRIMARY KEY (template_id, locale))",
            "CREATE INDEX IF NOT EXISTS view_template_locales_locale "
            "ON view_template_locales (locale)",
        ]

    def drop_statements(self) -> list[str]:
        return [
            "DROP TABLE IF EXISTS view_templates",
            "DROP TABLE IF EXISTS view_template_tags",
            "DROP TABLE IF EXISTS view_template_locales",
        ]

    def apply(self, cursor: SQLiteCursor, changes: Sequence[Change]) -> None:
        rows: list[tuple[Any, ...]] = []
        tags: list[tuple[str, str]] = []
        locales: list[tuple[str, str, str]] = []
        gone: list[tuple[str]] = []
        for change, at in latest_per_aggregate(changes):
            template = change.aggregate
            if not isinstance(template, Template):
                continue
            public_id = template.public_id
            gone.append((public_id,))
            if template.is_deleted:
                continue
            rows.append(
                (
                    public_id,
                    template.project_id,
                    template.name,
                    template.name.casefold(),
                    template.created,
                    template.primary_locale,
                    at,
                )
            )
            tags.extend((public_id, tag) for tag in template.tags)
            locales.extend(
                (public_id, locale, orjson.dumps(version_summaries(template, locale)).decode())
                for locale in template.locales
            )
        cursor.executemany("DELETE FROM view_template_tags WHERE template_id = ?", gone)
        cursor.executemany("DELETE FROM view_template_locales WHERE template_id = ?", gone)
        live = {row[0] for row in rows}
        cursor.executemany(
            "DELETE FROM view_templates WHERE id = ?", [g for g in gone if g[0] not in live]
        )
        cursor.executemany(
            "INSERT INTO view_templates (id, project_id, name, name_folded, created, "
            "primary_locale, position) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
            "name_folded = excluded.name_folded",
            rows,
        )
        cursor.executemany("INSERT INTO view_template_tags (template_id, tag) VALUES (?, ?)", tags)
        cursor.executemany(
            "INSERT INTO view_template_locales (template_id, locale, versions) VALUES (?, ?, ?)",
            locales,
        )

    @staticmethod
    def query(
        cursor: SQLiteCursor,
        *,
        visible_projects: Collection[str] | None,
        name: str | None,
        tag: str | None,
        locale: str | None,
        default_locale: str,
        offset: int,
        limit: int,
    ) -> tuple[list[TemplateRow], int]:
        """A page of the templates the caller may see, in creation order, and the total."""
        conditions: list[str] = []
        params: list[Any] = []
        if visible_projects is not None:
            visible = sorted(visible_projects)
            listed = ", ".join("?" * len(visible))
            conditions.append(
                f"(project_id IS NULL OR project_id IN ({listed}))"
                if visible
                else "project_id IS NULL"
            )
            params.extend(visible)
        if name:
            conditions.append("instr(name_folded, ?) > 0")
            params.append(name.casefold())
        if tag is not None:
            conditions.append("id IN (SELECT template_id FROM view_template_tags WHERE tag = ?)")
            params.append(tag)
        if locale is not None:
            conditions.append(
                "id IN (SELECT template_id FROM view_template_locales WHERE locale = ?)"
            )
            params.append(locale)
        clause = " AND ".join(conditions) or "1 = 1"
        cursor.execute(f"SELECT COUNT(*) FROM view_templates WHERE {clause}", params)
        total = cursor.fetchone()[0]
        cursor.execute(
            "SELECT id, project_id, name, created, primary_locale FROM view_templates "
            f"WHERE {clause} ORDER BY position LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        found = cursor.fetchall()
        if not found:
            return [], total
        ids = [r[0] for r in found]
        marks = ", ".join("?" * len(ids))
        cursor.execute(
            f"SELECT template_id, tag FROM view_template_tags WHERE template_id IN ({marks}) "
            "ORDER BY rowid",
            ids,
        )
        tags: dict[str, list[str]] = {}
        for template_id, tag_value in cursor.fetchall():
            tags.setdefault(template_id, []).append(tag_value)
        cursor.execute(
            "SELECT template_id, locale, versions FROM view_template_locales "
            f"WHERE template_id IN ({marks}) ORDER BY rowid",
            ids,
        )
        locales: dict[str, dict[str, str]] = {}
        for template_id, locale_value, versions in cursor.fetchall():
            locales.setdefault(template_id, {})[locale_value] = versions
        rows = []
        for template_id, project_id, template_name, created, primary in found:
            available = locales.get(template_id, {})
            chosen = next(
                (
                    candidate
                    for candidate in (locale, default_locale, primary, *available)
                    if candidate is not None and candidate in available
                ),
                primary,
            )
            rows.append(
                TemplateRow(
                    template_id,
                    project_id,
                    template_name,
                    created,
                    tags.get(template_id, []),
                    chosen,
                    orjson.loads(available.get(chosen, "[]")),
                )
            )
        return rows, total
