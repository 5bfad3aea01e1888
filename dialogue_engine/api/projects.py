"""``/projects/`` and ``/projects/{project_id}``."""

from __future__ import annotations

from starlette.responses import Response

from ..engine import DialogueSummary, ProjectRecord, check_project_fields
from . import shapes
from .pagination import paged
from .requests import Call, drop_read_only, reject_read_only
from .responses import JSONBytesResponse

DIALOGUES_PER_READ = 100


def list_projects(call: Call) -> Response:
    page = call.engine.list_projects(actor=call.actor, **call.page())
    return paged(call.request.url, page, shapes.project_summary)


def create_project(call: Call) -> Response:
    body = reject_read_only(call.json(), shapes.PROJECT_READ_ONLY)
    fields = check_project_fields(body)
    project = call.engine.create_project(**fields, actor=call.actor)
    url = shapes.project_url(project.id)
    return JSONBytesResponse(shapes.project(project, []), 201, headers={"Location": url})


def get_project(call: Call) -> Response:
    return _project(call, call.engine.get_project(call.project_id, actor=call.actor))


def replace_project(call: Call) -> Response:
    body = drop_read_only(call.json(), shapes.PROJECT_READ_ONLY)
    fields = check_project_fields(body)
    return _project(call, call.engine.replace_project(call.project_id, **fields, actor=call.actor))


def patch_project(call: Call) -> Response:
    patch = call.patch(shapes.PROJECT_READ_ONLY)
    return _project(call, call.engine.patch_project(call.project_id, patch, actor=call.actor))


def _project(call: Call, project: ProjectRecord) -> Response:
    return JSONBytesResponse(shapes.project(project, _all_dialogues(call, project.id)))


def _all_dialogues(call: Call, project_id: str) -> list[DialogueSummary]:
    """Every dialogue of the project the caller may see (the project body lists them all)."""
    found: list[DialogueSummary] = []
    page_number = 1
    while True:
        page = call.engine.list_dialogues(
            project_id, actor=call.actor, page=page_number, per_page=DIALOGUES_PER_READ
        )
        found.extend(page.items)
        if page_number >= page.last_page:
            return found
        page_number += 1
