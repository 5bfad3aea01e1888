"""Template ids, locale codes and the fields of template versions, checked.

Pure functions of request values: each returns the checked value or raises
:class:`ValidationFailed` with every error's JSON pointer into the request.

- Ids are ``tem_`` / ``ver_`` followed by 22 base-62 digits: a UUID's 128
  bits, so a template id turns back into its aggregate's UUID without an index.
- Locales are BCP 47 language tags (RFC 5646, without the grandfathered
  forms), matched without regard to case and kept in their canonical casing:
  ``en-us`` is ``en-US``, ``zh-hant-tw`` is ``zh-Hant-TW``.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from .errors import FieldError, ValidationFailed, unexpected_members
from .jsonvalue import owned_copy

TEMPLATE_PREFIX = "tem_"
VERSION_PREFIX = "ver_"
_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_VALUES = {c: i for i, c in enumerate(_DIGITS)}
ID_LENGTH = 22
"""62**22 > 2**128: every UUID fits in 22 base-62 digits."""

DEFAULT_LOCALE = "en-US"
MAX_TAGS = 3
MAX_TAG_LENGTH = 100
MAX_NAME_LENGTH = 1_000
MAX_SUBJECT_LENGTH = 2_000
MAX_BODY_LENGTH = 1_000_000
"""Characters in one of html, text, amp_html (before rendering)."""
MAX_LOCALE_LENGTH = 64

VERSION_TEXTS = ("subject", "preheader", "html", "text", "amp_html")
"""The fields of a version rendered as templates, in rendering order."""
VERSION_MEMBERS = frozenset({"name", *VERSION_TEXTS, "template_data"})

_LOCALE = re.compile(
    r"(?P<language>[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})"
    r"(?:-(?P<script>[a-z]{4}))?"
    r"(?:-(?P<region>[a-z]{2}|[0-9]{3}))?"
    r"(?P<rest>(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"
    r"(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*"
    r"(?:-x(?:-[a-z0-9]{1,8})+)?)"
)


def encode_id(prefix: str, value: UUID) -> str:
    number = value.int
    digits = []
    for _ in range(ID_LENGTH):
        number, digit = divmod(number, 62)
        digits.append(_DIGITS[digit])
    return prefix + "".join(reversed(digits))


def decode_id(prefix: str, value: object) -> UUID | None:
    """The UUID inside ``prefix`` + 22 base-62 digits; None for anything else."""
    if type(value) is not str or len(value) != len(prefix) + ID_LENGTH:
        return None
    if not value.startswith(prefix):
        return None
    number = 0
    for char in value[len(prefix) :]:
        digit = _VALUES.get(char)
        if digit is None:
            return None
        number = number * 62 + digit
    return UUID(int=number) if number < 2**128 else None


def template_id(value: UUID) -> str:
    return encode_id(TEMPLATE_PREFIX, value)


def template_uuid(value: object) -> UUID | None:
    return decode_id(TEMPLATE_PREFIX, value)


def canonical_locale(value: object) -> str | None:
    """The canonical casing of a BCP 47 tag, or None if ``value`` is not one."""
    if type(value) is not str or not 2 <= len(value) <= MAX_LOCALE_LENGTH or not value.isascii():
        return None
    found = _LOCALE.fullmatch(value.lower())
    if found is None:
        return None
    parts = [found["language"]]
    if found["script"]:
        parts.append(found["script"].title())
    if found["region"]:
        parts.append(found["region"].upper())
    return "-".join(parts) + found["rest"]


def check_locale(value: object, at: str = "/locale") -> str:
    locale = canonical_locale(value)
    if locale is None:
        raise ValidationFailed(
            [FieldError("format", at, f"{value!r} is not a BCP 47 locale code (e.g. en-US)")]
        )
    return locale


def check_name(value: object, at: str = "/name") -> str:
    errors = _text_errors(value, at, "name", MAX_NAME_LENGTH, required=True)
    if errors:
        raise ValidationFailed(errors)
    assert type(value) is str
    return value


def check_tags(value: object, at: str = "/tags") -> list[str]:
    """At most three distinct, non-empty strings; ``[]`` means no tags."""
    if type(value) is not list:
        raise ValidationFailed([FieldError("type", at, "tags must be an array of strings")])
    errors = []
    if len(value) > MAX_TAGS:
        errors.append(FieldError("maxItems", at, f"at most {MAX_TAGS} tags"))
    for index, tag in enumerate(value):
        errors += _text_errors(tag, f"{at}/{index}", "a tag", MAX_TAG_LENGTH, required=True)
    if not errors and len(set(value)) != len(value):
        errors.append(FieldError("uniqueItems", at, "tags must be distinct"))
    if errors:
        raise ValidationFailed(errors)
    return list(value)


def check_members(
    body: object, allowed: frozenset[str], required: tuple[str, ...] = (), at: str = ""
) -> dict[str, Any]:
    """``body`` is an object with only ``allowed`` members and every ``required`` one."""
    if type(body) is not dict:
        raise ValidationFailed([FieldError("type", at, "the body must be an object")])
    errors = [
        FieldError("required", at, f"'{key}' is a required property")
        for key in required
        if key not in body
    ]
    errors += unexpected_members(body, allowed, at)
    if errors:
        raise ValidationFailed(errors)
    return body


def check_version(body: dict[str, Any], *, name: object = None) -> dict[str, Any]:
    """A version's content from a request body: the fields of source 003, checked.

    ``name`` (the version's name) and ``subject`` are required; at least one of
    ``html`` and ``text``; ``preheader``, ``amp_html`` and ``template_data``
    (an object of sample data) are optional. ``name`` overrides the body's
    (a new template's first version takes the template's name).
    """
    errors: list[FieldError] = []
    content: dict[str, Any] = {}
    given_name = body.get("name") if name is None else name
    errors += _text_errors(given_name, "/name", "name", MAX_NAME_LENGTH, required=True)
    content["name"] = given_name
    errors += _text_errors(
        body.get("subject"), "/subject", "subject", MAX_SUBJECT_LENGTH, required=True
    )
    content["subject"] = body.get("subject")
    for key in ("preheader", "html", "text", "amp_html"):
        if key in body and body[key] is not None:
            limit = MAX_SUBJECT_LENGTH if key == "preheader" else MAX_BODY_LENGTH
            errors += _text_errors(body[key], f"/{key}", key, limit, required=False)
            content[key] = body[key]
    if not any(type(body.get(key)) is str for key in ("html", "text")):
        errors.append(FieldError("required", "", "at least one of 'html' and 'text' is required"))
    data = body.get("template_data")
    if data is not None:
        if type(data) is not dict:
            errors.append(FieldError("type", "/template_data", "template_data must be an object"))
        else:
            try:
                content["template_data"] = owned_copy(data, path="/template_data")
            except ValidationFailed as e:
                errors += e.errors
    if errors:
        raise ValidationFailed(errors)
    return content


def check_published(body: dict[str, Any]) -> bool | None:
    value = body.get("published")
    if value is not None and type(value) is not bool:
        raise ValidationFailed([FieldError("type", "/published", "published must be a boolean")])
    return value


def _text_errors(
    value: object, at: str, what: str, limit: int, *, required: bool
) -> list[FieldError]:
    if value is None and required:
        return [FieldError("required", at, f"{what} is required")]
    if type(value) is not str:
        return [FieldError("type", at, f"{what} must be a string")]
    if required and not value.strip():
        return [FieldError("minLength", at, f"{what} must not be empty")]
    if len(value) > limit:
        return [FieldError("maxLength", at, f"{what} is longer than {limit}")]
    return []
