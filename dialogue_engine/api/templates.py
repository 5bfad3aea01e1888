"""``/templates``: source 003's templates, versions and locales, and rendering.

Every path without ``/locales/{locale}`` means the default locale. Handlers
parse, call ``engine.templates`` and shape the answer; the rules live there.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ..domain.errors import FieldError, ValidationFailed, unexpected_members
from . import templateshapes as shapes
from .pagination import paged
from .requests import Call, drop_read_only
from .responses import JSONBytesResponse

LIST_FILTERS = ("name", "tag", "locale")


def _locale(call: Call) -> str | None:
    locale: str | None = call.request.path_params.get("locale")
    return locale


def _template_id(call: Call) -> str:
    return call.param("template_id")


def list_templates(call: Call) -> Response:
    query = call.request.query_params
    page = call.engine.templates.list(
        actor=call.actor,
        name=query.get("name"),
        tag=query.get("tag"),
        locale=query.get("locale"),
        **call.page(),
    )
    return paged(call.request.url, page, shapes.template)


def create_template(call: Call) -> Response:
    record = call.engine.templates.create(call.json(), actor=call.actor)
    return JSONBytesResponse(
        shapes.created_template(record), 201, headers={"Location": shapes.template_url(record.id)}
    )


def get_template(call: Call) -> Response:
    record = call.engine.templates.get(_template_id(call), _locale(call), actor=call.actor)
    return JSONBytesResponse(shapes.template(record))


def update_template(call: Call) -> Response:
    body = drop_read_only(call.json(), shapes.TEMPLATE_READ_ONLY)
    call.engine.templates.update(_template_id(call), body, _locale(call), actor=call.actor)
    return JSONBytesResponse(shapes.SUCCESS)


def delete_template(call: Call) -> Response:
    call.engine.templates.delete(_template_id(call), _locale(call), actor=call.actor)
    return JSONBytesResponse(shapes.SUCCESS)


def add_locale(call: Call) -> Response:
    record = call.engine.templates.add_locale(_template_id(call), call.json(), actor=call.actor)
    url = shapes.template_url(record.id, record.locale)
    return JSONBytesResponse(shapes.created_locale(record), 201, headers={"Location": url})


def list_versions(call: Call) -> Response:
    versions = call.engine.templates.list_versions(
        _template_id(call), _locale(call), actor=call.actor
    )
    return JSONBytesResponse([shapes.version(v) for v in versions])


def get_version(call: Call) -> Response:
    record = call.engine.templates.get_version(
        _template_id(call), call.param("version_id"), _locale(call), actor=call.actor
    )
    return JSONBytesResponse(shapes.version(record))


def create_version(call: Call) -> Response:
    locale = _locale(call)
    record = call.engine.templates.create_version(
        _template_id(call), call.json(), locale, actor=call.actor
    )
    url = shapes.version_url(record.template_id, record.id, locale)
    return JSONBytesResponse(shapes.version(record), 201, headers={"Location": url})


def replace_version(call: Call) -> Response:
    body = drop_read_only(call.json(), shapes.VERSION_READ_ONLY)
    record = call.engine.templates.replace_version(
        _template_id(call), call.param("version_id"), body, _locale(call), actor=call.actor
    )
    return JSONBytesResponse(shapes.version(record))


def render_version(call: Call) -> Response:
    rendered = call.engine.templates.render(
        _template_id(call),
        call.param("version_id"),
        render_data(call),
        _locale(call),
        actor=call.actor,
    )
    return JSONBytesResponse(shapes.rendered(rendered))


def get_release_template(call: Call) -> Response:
    record = call.engine.get_release_template(
        call.project_id,
        call.dialogue_id,
        call.param("release_id"),
        _template_id(call),
        actor=call.actor,
    )
    return JSONBytesResponse(shapes.version(record))


def render_release_template(call: Call) -> Response:
    rendered = call.engine.render_release_template(
        call.project_id,
        call.dialogue_id,
        call.param("release_id"),
        _template_id(call),
        render_data(call),
        actor=call.actor,
    )
    return JSONBytesResponse(shapes.rendered(rendered))


def render_data(call: Call) -> Any:
    """``{"template_data": {...}}`` (an empty body: the version's sample data)."""
    body = call.json(optional=True)
    if type(body) is not dict:
        raise ValidationFailed([FieldError("type", "", "the body must be an object")])
    errors = unexpected_members(body, {"template_data"})
    if errors:
        raise ValidationFailed(errors)
    return body.get("template_data")
