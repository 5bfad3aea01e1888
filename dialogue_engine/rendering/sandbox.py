"""The sandboxed template language: Jinja2's ``SandboxedEnvironment`` with strict undefineds.

What a template can reach is what ``template_data`` holds (plain JSON values)
and Jinja's own harmless globals: attributes starting with ``_`` and Python
internals are refused (``{{ ''.__class__ }}`` is a :class:`SecurityError`),
there is no loader (``include``, ``import`` and ``extends`` find nothing, so
nothing is read from the file system), and a missing variable is an error
rather than an empty string.

Cheap guards make the usual bombs fail fast: ranges above 100,000 items (the
sandbox's own), ``*``, ``+``, ``**`` and ``%`` whose result would be huge,
``lipsum`` removed, and output per field capped while it is generated. What
no guard catches (a nested loop that runs for hours) is bounded by the worker
process that renders (:mod:`.pool`), which is killed at its deadline and
limited in memory.

Pure functions: nothing here starts a process or touches a file.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from typing import Any

from jinja2 import BaseLoader, StrictUndefined, TemplateNotFound
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from ..domain.templatefields import VERSION_TEXTS

MAX_OUTPUT = 1_000_000
"""Characters one rendered field may have."""
MAX_INT_BITS = 4_096
MAX_MESSAGE = 500
_HTML_FIELDS = frozenset({"html", "amp_html"})
_WIDE_FORMAT = re.compile(r"%[-+ #0]*(?:\*|\d{5,})|%[-+ #0]*\d*\.(?:\*|\d{5,})")


class RenderFailure(Exception):
    """Why a field did not render: ``kind`` is undefined, security, syntax, too_large,
    timeout, crashed or error; ``field`` the version field (``""``: the whole render)."""

    def __init__(self, kind: str, field: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.field = field
        self.message = message


class _NoLoader(BaseLoader):
    def get_source(self, environment: Any, template: str) -> Any:
        raise TemplateNotFound(template)


class BoundedSandbox(SandboxedEnvironment):
    """A sandbox whose operators refuse results that would exhaust memory or time."""

    intercepted_binops = frozenset({"*", "+", "**", "%"})

    def __init__(self, *, autoescape: bool) -> None:
        super().__init__(
            autoescape=autoescape,
            undefined=StrictUndefined,
            loader=_NoLoader(),
            auto_reload=False,
            cache_size=0,
        )
        self.globals.pop("lipsum", None)
        self.filters["format"] = _bounded_format

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _check_binop(operator, left, right)
        return self.binop_table[operator](left, right)


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, str | list | tuple) else None


def _check_binop(op: str, left: Any, right: Any) -> None:
    if _too_large(op, left, right):
        raise SecurityError(f"the result of {op} would be too large")
    if op == "%" and isinstance(left, str) and _WIDE_FORMAT.search(left):
        raise SecurityError("format widths above 9999 are refused")


def _too_large(op: str, left: Any, right: Any) -> bool:
    both_ints = type(left) is int and type(right) is int
    if op == "*":
        if both_ints:
            return bool(left.bit_length() + right.bit_length() > MAX_INT_BITS)
        for sized, count in ((left, right), (right, left)):
            size = _size(sized)
            if size is not None and type(count) is int and size * count > MAX_OUTPUT:
                return True
        return False
    if op == "+":
        sizes = (_size(left), _size(right))
        return None not in sizes and sum(sizes) > MAX_OUTPUT  # type: ignore[arg-type]
    if op == "**" and both_ints and abs(left) > 1:
        return bool(right > MAX_INT_BITS or left.bit_length() * right > MAX_INT_BITS)
    return False


def _bounded_format(value: Any, *args: Any, **kwargs: Any) -> str:
    text = str(value)
    if _WIDE_FORMAT.search(text):
        raise SecurityError("format widths above 9999 are refused")
    if args and kwargs:
        raise TypeError("format takes either positional or keyword arguments")
    result: str = operator.mod(text, kwargs or args)
    return result


def environments() -> dict[bool, BoundedSandbox]:
    """One sandbox escaping HTML (for html and amp_html), one not (subject, text…)."""
    return {True: BoundedSandbox(autoescape=True), False: BoundedSandbox(autoescape=False)}


def check_syntax(content: Mapping[str, Any], sandbox: BoundedSandbox) -> list[RenderFailure]:
    """Syntax errors in a version's templated fields (parsing only: nothing is run)."""
    failures = []
    for field in VERSION_TEXTS:
        source = content.get(field)
        if type(source) is not str:
            continue
        try:
            sandbox.parse(source)
        except TemplateSyntaxError as e:
            failures.append(RenderFailure("syntax", field, _message(e, e.lineno)))
        except RecursionError:
            failures.append(RenderFailure("syntax", field, "the template is nested too deeply"))
    return failures


def render(
    content: Mapping[str, Any], data: Mapping[str, Any], sandboxes: Mapping[bool, BoundedSandbox]
) -> dict[str, str | None]:
    """Each templated field of ``content`` rendered with ``data``; raises :class:`RenderFailure`.

    Fields the version does not have are ``None``.
    """
    rendered: dict[str, str | None] = {}
    for field in VERSION_TEXTS:
        source = content.get(field)
        rendered[field] = (
            None if type(source) is not str else _render_field(field, source, data, sandboxes)
        )
    return rendered


def _render_field(
    field: str, source: str, data: Mapping[str, Any], sandboxes: Mapping[bool, BoundedSandbox]
) -> str:
    sandbox = sandboxes[field in _HTML_FIELDS]
    try:
        template = sandbox.from_string(source)
        parts: list[str] = []
        size = 0
        for part in template.generate(dict(data)):
            size += len(part)
            if size > MAX_OUTPUT:
                raise RenderFailure(
                    "too_large", field, f"the rendered {field} is longer than {MAX_OUTPUT}"
                )
            parts.append(part)
        return "".join(parts)
    except RenderFailure:
        raise
    except UndefinedError as e:
        raise RenderFailure("undefined", field, _message(e)) from None
    except SecurityError as e:
        raise RenderFailure("security", field, _message(e)) from None
    except TemplateNotFound as e:
        message = f"{e.name!r} not found: templates cannot include, import or extend others"
        raise RenderFailure("security", field, message[:MAX_MESSAGE]) from None
    except TemplateSyntaxError as e:
        raise RenderFailure("syntax", field, _message(e, e.lineno)) from None
    except TemplateError as e:
        raise RenderFailure("error", field, _message(e)) from None
    except RecursionError:
        raise RenderFailure("error", field, "the template recursed too deeply") from None
    except MemoryError:
        raise
    except Exception as e:
        raise RenderFailure("error", field, _message(e, name=type(e).__name__)) from None


def _message(error: BaseException, line: int | None = None, name: str | None = None) -> str:
    text = str(error) or type(error).__name__
    if name:
        text = f"{name}: {text}"
    if line:
        text = f"{text} (line {line})"
    return text[:MAX_MESSAGE]
