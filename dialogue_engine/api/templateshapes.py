"""Template records shaped as source 003 shows them (Unix-second times, ``tem_``/``ver_`` ids).

Where source 003's own samples disagree with each other (a version list showing
``tem_`` ids for versions), its field descriptions win: versions have ``ver_`` ids.
A version always shows ``html`` and ``text`` (``null`` when it has none) and its
optional fields (``preheader``, ``amp_html``, ``template_data``) when it has them.
A template with a project shows its ``project_id``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..templates import RenderedTemplate, TemplateRecord, TemplateVersionRecord

SUCCESS = {"success": True, "status": "OK"}
TEMPLATE_READ_ONLY = frozenset({"id", "created", "locale", "versions", "project_id"})
VERSION_READ_ONLY = frozenset({"id", "created", "modified"})


def template_url(template_id: str, locale: str | None = None) -> str:
    base = f"/templates/{template_id}"
    return base if locale is None else f"{base}/locales/{locale}"


def version_url(template_id: str, version_id: str, locale: str | None = None) -> str:
    return f"{template_url(template_id, locale)}/versions/{version_id}"


def template(record: TemplateRecord) -> dict[str, Any]:
    shaped: dict[str, Any] = {
        "id": record.id,
        "name": record.name,
        "created": record.created,
        "locale": record.locale,
        "versions": [
            {
                "name": v.name,
                "id": v.id,
                "published": v.published,
                "created": v.created,
                "modified": v.modified,
            }
            for v in record.versions
        ],
        "tags": list(record.tags),
    }
    if record.project_id is not None:
        shaped["project_id"] = record.project_id
    return shaped


def created_template(record: TemplateRecord) -> dict[str, Any]:
    return {"id": record.id, "locale": record.locale, "name": record.name}


def created_locale(record: TemplateRecord) -> dict[str, Any]:
    return {**created_template(record), "version_id": record.versions[0].id}


def version(record: TemplateVersionRecord) -> dict[str, Any]:
    shaped: dict[str, Any] = {
        "id": record.id,
        "created": record.created,
        "modified": record.modified,
        "published": record.published,
        "name": record.name,
        "html": record.html,
        "text": record.text,
        "subject": record.subject,
    }
    for key in ("preheader", "template_data", "amp_html"):
        value = getattr(record, key)
        if value is not None:
            shaped[key] = value
    return shaped


def rendered(record: RenderedTemplate) -> dict[str, Any]:
    shaped: dict[str, Any] = {
        "template_id": record.template_id,
        "version_id": record.version_id,
        "locale": record.locale,
        "subject": record.subject,
        "html": record.html,
        "text": record.text,
    }
    for key in ("preheader", "amp_html"):
        value = getattr(record, key)
        if value is not None:
            shaped[key] = value
    return shaped
