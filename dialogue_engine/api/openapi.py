"""The OpenAPI 3.1 document, generated from the route table.

Every endpoint of :data:`~dialogue_engine.api.routes.ENDPOINTS` appears with
its parameters, request body, success response (with ``Location``, ``ETag``,
``Link`` and ``X-Total-Count`` headers where they are sent) and the error
responses it can give, all in the ``{type, message, details}`` envelope.
"""

from __future__ import annotations

import re
from typing import Any

from ..domain.paging import MAX_PAGE
from . import audit_schemas, participant_schemas, sequence_schemas
from .directory_schemas import (
    DIRECTORY_SCHEMAS,
    ERRORS_BY_PERMISSION,
    PERMISSION_FIELDS,
    RATE_LIMITED,
)
from .openapi_links import links_by_operation, operation_id
from .requests import BODY_METHODS
from .routes import ENDPOINTS, Endpoint

_STRING = {"type": "string"}
_BOOLEAN = {"type": "boolean"}
_MS = {"type": "integer", "description": "Milliseconds since the Unix epoch."}
_SYMBOL = {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"}
_DETAILS = {"type": "object", "description": "Display details of the revision."}
_READ_ONLY = {"readOnly": True}


def _object(properties: dict[str, Any], required: tuple[str, ...] = (), **extra: Any) -> Any:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
        **extra,
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_SECONDS = {"type": "integer", "description": "Unix seconds."}
_VERSION_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "minLength": 1},
    "subject": {"type": "string", "minLength": 1},
    "preheader": _STRING,
    "html": _STRING,
    "text": _STRING,
    "amp_html": _STRING,
    "template_data": {"type": "object", "description": "Sample data for rendering."},
}
_NEEDS_BODY = {"anyOf": [{"required": ["html"]}, {"required": ["text"]}]}
_LOCALE = {"type": "string", "description": "A BCP 47 code, e.g. en-US."}
_TAGS = {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 3}
TEMPLATE_SCHEMAS: dict[str, Any] = {
    "Success": _object(
        {"success": {"const": True}, "status": {"const": "OK"}}, ("success", "status")
    ),
    "Template": _object(
        {
            "id": _STRING,
            "name": _STRING,
            "created": _SECONDS,
            "locale": _LOCALE,
            "versions": {
                "type": "array",
                "items": _object(
                    {
                        "name": _STRING,
                        "id": _STRING,
                        "published": _BOOLEAN,
                        "created": _SECONDS,
                        "modified": _SECONDS,
                    }
                ),
            },
            "tags": _TAGS,
            "project_id": _STRING,
        },
        ("id", "name", "created", "locale", "versions", "tags"),
    ),
    "NewTemplate": {
        **_object(
            {**_VERSION_FIELDS, "locale": _LOCALE, "tags": _TAGS, "project_id": _STRING},
            ("name", "subject"),
        ),
        **_NEEDS_BODY,
    },
    "CreatedTemplate": _object(
        {"id": _STRING, "locale": _LOCALE, "name": _STRING}, ("id", "locale", "name")
    ),
    "TemplateUpdate": {
        "description": "Read-only members (id, created, locale, versions) are ignored.",
        **_object({"name": {"type": "string", "minLength": 1}, "tags": _TAGS}),
    },
    "NewTemplateLocale": {
        **_object({**_VERSION_FIELDS, "locale": _LOCALE}, ("name", "subject", "locale")),
        **_NEEDS_BODY,
    },
    "CreatedTemplateLocale": _object(
        {"id": _STRING, "locale": _LOCALE, "name": _STRING, "version_id": _STRING},
        ("id", "locale", "name", "version_id"),
    ),
    "TemplateVersion": _object(
        {
            "id": _STRING,
            "created": _SECONDS,
            "modified": _SECONDS,
            "published": _BOOLEAN,
            **_VERSION_FIELDS,
            "html": {"type": ["string", "null"]},
            "text": {"type": ["string", "null"]},
        },
        ("id", "created", "modified", "published", "name", "subject", "html", "text"),
    ),
    "NewTemplateVersion": {
        **_object(
            {**_VERSION_FIELDS, "locale": _LOCALE, "published": _BOOLEAN}, ("name", "subject")
        ),
        **_NEEDS_BODY,
    },
    "TemplateVersionReplacement": {
        "description": "Replaces the version; read-only members (id, created, modified) "
        "are ignored.",
        **_object(
            {
                **_VERSION_FIELDS,
                "published": _BOOLEAN,
                "id": _STRING,
                "created": _SECONDS,
                "modified": _SECONDS,
            },
            ("name", "subject"),
        ),
        **_NEEDS_BODY,
    },
    "RenderRequest": _object(
        {"template_data": {"type": "object", "description": "Default: the version's sample."}}
    ),
    "RenderedTemplate": _object(
        {
            "template_id": _STRING,
            "version_id": _STRING,
            "locale": _LOCALE,
            "subject": _STRING,
            "html": {"type": ["string", "null"]},
            "text": {"type": ["string", "null"]},
            "preheader": _STRING,
            "amp_html": _STRING,
        },
        ("subject", "html", "text"),
    ),
}

_DIALOGUE_FLAGS = {
    "id": {**_STRING, **_READ_ONLY},
    "url": {**_STRING, **_READ_ONLY},
    "revision_id": {**_STRING, **_READ_ONLY},
    "is_published": {**_BOOLEAN, **_READ_ONLY},
    "has_changes": {**_BOOLEAN, **_READ_ONLY},
    "can_view": {**_BOOLEAN, **_READ_ONLY},
    "can_edit": {**_BOOLEAN, **_READ_ONLY},
}
_DESCRIPTION = {
    "title": {"type": "string", "minLength": 1},
    "sequences": {"type": "array", "items": _ref("Sequence")},
    "is_archived": {"type": "boolean", "default": False},
}
_REVISION_INPUT = _object(
    {
        "type": {"enum": ["edit", "revert"]},
        "created": _MS,
        "details": _DETAILS,
        "properties": {
            "type": "object",
            "description": "edit: {edit_type, patch}; revert: {revision_id}.",
            "properties": {
                "edit_type": _STRING,
                "patch": _ref("JsonPatch"),
                "revision_id": _STRING,
            },
            "additionalProperties": False,
        },
    },
    ("type", "properties"),
)
_CREDENTIAL = {
    "id": _STRING,
    "url": _STRING,
    "created": _MS,
    "expires": {"type": ["integer", "null"], "description": "ms since the epoch; null: never"},
    "is_revoked": _BOOLEAN,
}

SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {"type": _STRING, "message": _STRING, "details": {"type": "object"}},
        ("type", "message", "details"),
    ),
    "Health": _object({"status": _STRING, "notification_id": {"type": "integer"}}),
    "OpenAPIDocument": {"type": "object"},
    "Credentials": _object({"email": _STRING, "password": _STRING}, ("email", "password")),
    "Token": _object(_CREDENTIAL),
    "IssuedToken": _object(
        {**_CREDENTIAL, "token": {**_STRING, "description": "Shown once."}}, ("token", "expires")
    ),
    "NewApiKey": _object({"name": _STRING}),
    "ApiKey": _object({**_CREDENTIAL, "name": _STRING}),
    "IssuedApiKey": _object(
        {**_CREDENTIAL, "name": _STRING, "key": {**_STRING, "description": "Shown once."}},
        ("key",),
    ),
    "Permission": _object(
        {"id": _STRING, **PERMISSION_FIELDS},
        ("id", "type"),
    ),
    "User": _object(
        {
            "id": _STRING,
            "url": _STRING,
            "email": {"type": "string", "format": "email"},
            "first_name": _STRING,
            "last_name": _STRING,
            "permissions": {"type": "array", "items": _ref("Permission")},
        }
    ),
    "BlockType": _object(
        {"type": _SYMBOL, "description": _STRING, "schema": {"type": "object"}},
        ("type", "schema"),
    ),
    "ProjectSummary": _object(
        {"id": _STRING, "url": _STRING, "title": _STRING, "is_archived": _BOOLEAN}
    ),
    "Project": _object(
        {
            "id": _STRING,
            "url": _STRING,
            "title": _STRING,
            "is_archived": _BOOLEAN,
            "dialogues": {"type": "array", "items": _ref("DialogueSummary")},
        }
    ),
    "NewProject": _object({"title": _STRING, "is_archived": _BOOLEAN}, ("title",)),
    "ProjectReplacement": {
        "description": "Read-only members (id, url, dialogues) are accepted and ignored.",
        **_object(
            {
                "title": _STRING,
                "is_archived": _BOOLEAN,
                "id": _STRING,
                "url": _STRING,
                "dialogues": {"type": "array"},
            },
            ("title",),
        ),
    },
    "JsonPatch": {
        "type": "array",
        "description": "RFC 6902 operations, applied atomically.",
        "items": _object(
            {
                "op": {"enum": ["add", "remove", "replace", "move", "copy", "test"]},
                "path": _STRING,
                "from": _STRING,
                "value": {},
            },
            ("op", "path"),
        ),
    },
    "Block": _object(
        {
            "id": _SYMBOL,
            "type": _SYMBOL,
            "title": _STRING,
            "properties": {"type": "object", "description": "Fits the block type's schema."},
        },
        ("id", "type"),
    ),
    "Sequence": _object(
        {
            "id": _SYMBOL,
            "title": _STRING,
            "description": _STRING,
            "visibility": {"enum": ["private", "public"]},
            "blocks": {"type": "array", "items": _ref("Block")},
        },
        ("id", "title", "blocks"),
    ),
    "NewDialogue": _object(_DESCRIPTION, ("title", "sequences")),
    "DialogueReplacement": {
        "description": "Read-only members are accepted and ignored.",
        **_object({**_DESCRIPTION, **_DIALOGUE_FLAGS}, ("title", "sequences")),
    },
    "Dialogue": _object({**_DIALOGUE_FLAGS, **_DESCRIPTION}),
    "DialogueSummary": _object({**_DIALOGUE_FLAGS, "title": _STRING, "is_archived": _BOOLEAN}),
    "NewRevision": _REVISION_INPUT,
    "NewRevisions": {
        "oneOf": [
            _ref("NewRevision"),
            {"type": "array", "minItems": 1, "items": _ref("NewRevision")},
        ]
    },
    "Revision": _object(
        {
            "id": _STRING,
            "url": _STRING,
            "number": {"type": "integer", "minimum": 1},
            "user_id": _STRING,
            "created": _MS,
            "type": {"enum": ["edit", "revert"]},
            "details": _DETAILS,
            "properties": {"type": "object"},
        }
    ),
    "RevisionOrRevisions": {
        "oneOf": [_ref("Revision"), {"type": "array", "items": _ref("Revision")}]
    },
    "NewRelease": _object({"revision_id": _STRING}, ("revision_id",)),
    "Release": _object(
        {
            "id": _STRING,
            "url": _STRING,
            "number": {"type": "integer", "minimum": 1},
            "revision_id": _STRING,
            "created": _MS,
            "templates": {
                "type": "object",
                "additionalProperties": _STRING,
                "description": "template_id -> the version_id the release pinned.",
            },
        }
    ),
    **TEMPLATE_SCHEMAS,
}
SCHEMAS.update(sequence_schemas.SCHEMAS)
SCHEMAS.update(DIRECTORY_SCHEMAS)
SCHEMAS.update(audit_schemas.SCHEMAS)
SCHEMAS.update(participant_schemas.SCHEMAS)

_QUERY: dict[str, dict[str, Any]] = {
    "page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
    "per_page": {"type": "integer", "minimum": 1, "maximum": 100, "default": 30},
    "ordering": {
        "type": "array",
        "items": {"enum": ["number", "-number", "created", "-created"]},
        "default": ["-number"],
    },
    "name": {"type": "string", "description": "Templates whose name contains it (any case)."},
    "tag": {"type": "string", "description": "Templates with this tag."},
    "locale": {"type": "string", "description": "Templates with this locale (shown in it)."},
    "is_archived": _BOOLEAN,
    "is_published": _BOOLEAN,
    "has_changes": _BOOLEAN,
    "can_view": _BOOLEAN,
    "can_edit": _BOOLEAN,
}
_QUERY.update(audit_schemas.QUERY)
_QUERY.update(participant_schemas.QUERY)

_ERRORS_BY_PERMISSION = {
    "public": (),
    "user": ("401",),
    "projects:create": ("401", "403"),
    "project:read": ("401", "404"),
    **ERRORS_BY_PERMISSION,
    **participant_schemas.ERRORS_BY_PERMISSION,
    "template:create": ("401", "403"),
    "template:read": ("401", "404"),
}
_ERROR_TEXT = {
    "400": "parse_error: the body is not JSON (the search: invalid_parameter)",
    "401": "authentication_required",
    "403": "authorization_error",
    "404": "not_found",
    "409": "patch_conflict",
    "412": "precondition_failed: If-Match names another revision",
    "413": "payload_too_large: the body is longer than the server's limit "
    "(DIALOGUE_ENGINE_MAX_BODY_BYTES, 4 MiB by default); details.limit",
    "415": "unsupported_media_type",
    "422": "validation_error",
    "429": "rate_limited: too many failed attempts for this email (Retry-After)",
}
_HEADER = {"schema": _STRING}


def openapi_document(endpoints: tuple[Endpoint, ...] = ENDPOINTS) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    links = links_by_operation(endpoints)
    for item in endpoints:
        operation = _operation(item)
        if (item.method, item.path) in links:
            operation["responses"][str(item.status)]["links"] = links[(item.method, item.path)]
        paths.setdefault(item.path, {})[item.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "dialogue-engine",
            "version": "1",
            "description": "Event-sourced dialogue authoring: projects, dialogues, "
            "revisions and releases. Errors are {type, message, details}.",
        },
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "API-KEY"},
            },
        },
    }


def _operation(item: Endpoint) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": operation_id(item),
        "summary": item.summary,
        "parameters": _parameters(item),
        "responses": _responses(item),
    }
    if item.permission != "public":
        operation["security"] = [{"bearer": []}, {"apiKey": []}]
        operation["description"] = f"Needs: {item.permission}."
    if item.request is not None:
        operation["requestBody"] = {
            "required": item.request not in ("NewApiKey", "RenderRequest"),
            "content": {item.media_type: {"schema": _ref(item.request)}},
        }
    return operation


def _parameters(item: Endpoint) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": _STRING}
        for name in re.findall(r"{(\w+)}", item.path)
    ]
    parameters += [
        {
            "name": name,
            "in": "query",
            "required": False,
            "schema": sequence_schemas.query_schema(item.path, name) or _QUERY[name],
        }
        | ({"explode": True} if name == "ordering" else {})
        for name in item.query
    ]
    if _takes_if_match(item):
        parameters.append(
            {
                "name": "If-Match",
                "in": "header",
                "required": False,
                "schema": _STRING,
                "description": "The ETag (revision id) the change expects; else 412.",
            }
        )
    return parameters


def _takes_if_match(item: Endpoint) -> bool:
    """PUT and PATCH of a dialogue, revision POSTs, and writes of its sequences and blocks."""
    if sequence_schemas.takes_if_match(item.method, item.path):
        return True
    if item.path.endswith("{dialogue_id}"):
        return item.method in ("PUT", "PATCH")
    return item.path.endswith("/revisions/") and item.method == "POST"


def _responses(item: Endpoint) -> dict[str, Any]:
    success: dict[str, Any] = {"description": item.summary}
    if item.response is not None:
        schema: dict[str, Any] = _ref(item.response)
        if item.array:
            schema = {"type": "array", "items": schema}
        success["content"] = {item.produces: {"schema": schema}}
    headers: dict[str, Any] = {}
    if item.status == 201:
        headers["Location"] = _HEADER
    if item.response in ("Dialogue", "RevisionOrRevisions", *sequence_schemas.WITH_ETAG):
        headers["ETag"] = _HEADER
    if "page" in item.query and item.path != sequence_schemas.SEARCH_PATH:
        headers["Link"] = _HEADER
        headers["X-Total-Count"] = {"schema": {"type": "integer"}}
    if headers:
        success["headers"] = headers
    responses: dict[str, Any] = {str(item.status): success}
    if item.response == "RevisionOrRevisions":
        responses["204"] = {
            "description": "The revision changed nothing and was not recorded.",
            "headers": {"ETag": _HEADER},
        }
    if item.browser:
        responses["303"] = {
            "description": "access_token moved from the address into a cookie (or dropped "
            "when a header authenticated the request)",
            "headers": {"Location": _HEADER},
        }
    for code in _error_codes(item):
        responses[code] = {
            "description": _ERROR_TEXT[code],
            "content": {"application/json": {"schema": _ref("Error")}},
        }
    return responses


def _error_codes(item: Endpoint) -> list[str]:
    codes = set(_ERRORS_BY_PERMISSION.get(item.permission, ("401", "403", "404")))
    if "{" in item.path:
        codes.add("404")  # whatever the permission, an id in the path may name nothing
    if item.request is not None:
        codes |= {"400", "415", "422"}
    if item.method in BODY_METHODS:
        codes.add("413")
    if item.query:
        codes.add("422")
    if item.media_type != "application/json" or item.request in ("NewRevisions",):
        codes.add("409")
    if _takes_if_match(item):
        codes.add("412")
    if item.path.startswith("/auth/tokens") and item.method == "POST":
        codes.add("401")
    if (item.method, item.path) in RATE_LIMITED:
        codes.add("429")
    return sorted(sequence_schemas.error_codes(item.method, item.path, codes))
