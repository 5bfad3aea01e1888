"""``GET /projects/{p}/dialogues/{d}/history``: a dialogue's revision history as an HTML page.

The page lists the revisions (newest first, paged like the JSON lists:
``page``, ``per_page``) with number, author, time (UTC), edit type and
details, and shows one revision (``?revision=N``, default the newest) side by
side with the revision before it: the changed lines of both descriptions,
pretty-printed, with three lines of context.

Everything that comes from data is escaped (:func:`html.escape`), and the
page carries a Content-Security-Policy that allows no script at all and only
its own inline stylesheet (by hash), so a title such as
``<script>…</script>`` is shown as text and could not run anyway.

Authentication is the API's (``Authorization: Bearer`` or ``API-KEY``). A
browser cannot send those headers from an address bar, so this endpoint
alone also takes a bearer token as an RFC 6750 ``access_token`` query
parameter: it answers with a redirect to the same address without it,
setting the token in an ``HttpOnly``, ``SameSite=Strict`` cookie scoped to
``/projects/``, which this endpoint (and no other) accepts afterwards. The
risk: a token in an address can land in browser history and proxy logs
before the redirect removes it; the cookie could be replayed by anyone who
reads the browser's storage. Mitigations: the redirect happens at once,
responses send ``Referrer-Policy: no-referrer`` and ``Cache-Control:
no-store`` (as every answer does, see :mod:`.security`), this server's access
log shows the parameter redacted (:mod:`.accesslog`), the cookie is
``Secure`` over HTTPS, and only this read-only GET honours it (so cross-site
requests can change nothing). Prefer the headers
where a client can send them, and short-lived tokens.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
from datetime import UTC, datetime
from html import escape
from itertools import zip_longest
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..audit import RevisionChange
from ..domain.dialogue import Revision
from ..domain.errors import FieldError, ValidationFailed
from ..domain.paging import Page
from .auth import TOKEN_COOKIE, TOKEN_QUERY, uses_header_credentials
from .requests import Call

CONTEXT = 3
TOKEN_COOKIE_SECONDS = 3600
STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1d2330;background:#fbfbfd}
h1{font-size:1.4rem;margin:0 0 .2rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
.muted{color:#5b6478}table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid #d8dce6;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#e9edf5}tr.chosen td{background:#fff4c2}
.diff td{font:12px/1.35 ui-monospace,monospace;white-space:pre-wrap;word-break:break-all}
.diff td.n{color:#8a93a6;text-align:right;width:3rem;user-select:none}
.diff td.del{background:#ffd9d9}.diff td.add{background:#d4f5d4}
.diff tr.hunk td{background:#dfe6f3;color:#44506a}
nav a{margin-right:1rem}code{font:12px ui-monospace,monospace}
""".strip()
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
}
"""The page's own policy (its stylesheet by hash); ``Referrer-Policy``,
``Cache-Control: no-store`` and the rest come from :mod:`.security`."""


def history_page(call: Call) -> Response:
    if TOKEN_QUERY in call.request.query_params:
        return _move_token_to_cookie(call)
    number = _revision_number(call)
    revisions = call.engine.list_revisions(
        call.project_id, call.dialogue_id, actor=call.actor, ordering=["-number"], **call.page()
    )
    change = call.engine.audit.revision_change(
        call.project_id, call.dialogue_id, number, actor=call.actor
    )
    title = call.engine.get_dialogue(call.project_id, call.dialogue_id, actor=call.actor).title
    body = render(call.request.url.path, title, call.dialogue_id, revisions, change)
    return HTMLResponse(body, headers=HEADERS)


def _move_token_to_cookie(call: Call) -> Response:
    """The token (already authenticated) moves from the address into a cookie.

    When a header authenticated the request the query's token was never checked
    (it may be anything, even unencodable in a cookie): it is dropped, not kept.
    """
    kept = [(k, v) for k, v in call.request.query_params.multi_items() if k != TOKEN_QUERY]
    target = call.request.url.path + (f"?{urlencode(kept)}" if kept else "")
    response = RedirectResponse(target, status_code=303, headers=HEADERS)
    if uses_header_credentials(call.request.headers):
        return response
    response.set_cookie(
        TOKEN_COOKIE,
        call.request.query_params[TOKEN_QUERY],
        max_age=TOKEN_COOKIE_SECONDS,
        path="/projects/",
        httponly=True,
        samesite="strict",
        secure=call.request.url.scheme == "https",
    )
    return response


def _revision_number(call: Call) -> int | None:
    raw = call.request.query_params.get("revision")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValidationFailed(
            [FieldError("type", "/revision", "revision must be a revision number")],
            "Invalid query parameters",
        ) from None


def render(
    path: str, title: str, dialogue_id: str, revisions: Page[Revision], change: RevisionChange
) -> str:
    chosen = change.revision.number
    rows = "".join(_revision_row(path, r, revisions, r.number == chosen) for r in revisions.items)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>History of {escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>History of {escape(title)}</h1>"
        f"<p class='muted'>Dialogue <code>{escape(dialogue_id)}</code>: "
        f"{revisions.total} revisions</p>"
        "<table class='revisions'><thead><tr><th>#</th><th>Author</th><th>Time (UTC)</th>"
        f"<th>Edit type</th><th>Details</th></tr></thead><tbody>{rows}</tbody></table>"
        f"{_pages(path, revisions, chosen)}{_change(change)}</body></html>"
    )


def _revision_row(path: str, revision: Revision, page: Page[Revision], chosen: bool) -> str:
    link = _url(path, revision=revision.number, page=page.page, per_page=page.per_page)
    details = orjson.dumps(revision.details).decode()
    if len(details) > 300:
        details = details[:299] + "…"
    marked = " class='chosen'" if chosen else ""
    return (
        f"<tr{marked}>"
        f"<td><a href='{escape(link)}'>{revision.number}</a></td>"
        f"<td>{escape(revision.user_id)}</td><td>{escape(_time(revision.created))}</td>"
        f"<td>{escape(_edit_type(revision))}</td><td><code>{escape(details)}</code></td></tr>"
    )


def _pages(path: str, page: Page[Revision], chosen: int) -> str:
    links = []
    if page.page > 1:
        links.append(("newer", page.page - 1))
    if page.page * page.per_page < page.total:
        links.append(("older", page.page + 1))
    anchors = "".join(
        f"<a href='{escape(_url(path, revision=chosen, page=n, per_page=page.per_page))}'>"
        f"{label}</a>"
        for label, n in links
    )
    return f"<nav>{anchors}</nav>" if anchors else ""


def _change(change: RevisionChange) -> str:
    revision = change.revision
    before = f"revision {revision.number - 1}" if change.before is not None else "nothing"
    ops = "".join(
        f"<li><code>{escape(str(op.get('op')))} {escape(str(op.get('path')))}</code></li>"
        for op in _patch(revision)[:50]
    )
    return (
        f"<h2>Revision {revision.number}: {escape(_edit_type(revision))} by "
        f"{escape(revision.user_id)} at {escape(_time(revision.created))}</h2>"
        f"<p class='muted'>Left: {before}. Right: revision {revision.number}.</p>"
        f"{_side_by_side(change.before, change.after)}"
        f"<h2>Operations</h2><ul>{ops or '<li>a revert (see the diff above)</li>'}</ul>"
    )


def _side_by_side(before: Any, after: Any) -> str:
    left = _pretty(before) if before is not None else []
    right = _pretty(after)
    rows = []
    for group in _grouped(left, right):
        _, i, _, j, _ = group[0]
        rows.append(f"<tr class='hunk'><td colspan='4'>@@ lines {i + 1} / {j + 1} @@</td></tr>")
        for tag, i1, i2, j1, j2 in group:
            pairs = zip_longest(range(i1, i2), range(j1, j2))
            for i, j in pairs:
                rows.append(_diff_row(tag, left, right, i, j))
    if not rows:
        rows.append("<tr><td colspan='4'>No change in the description.</td></tr>")
    return (
        "<table class='diff'><thead><tr><th colspan='2'>Before</th><th colspan='2'>After</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _diff_row(tag: str, left: list[str], right: list[str], i: int | None, j: int | None) -> str:
    changed = tag != "equal"
    cells = []
    for lines, index, mark in ((left, i, "del"), (right, j, "add")):
        if index is None:
            cells.append("<td class='n'></td><td></td>")
        else:
            css = f" class='{mark}'" if changed else ""
            cells.append(f"<td class='n'>{index + 1}</td><td{css}>{escape(lines[index])}</td>")
    return f"<tr>{''.join(cells)}</tr>"


def _grouped(left: list[str], right: list[str]) -> list[list[Opcode]]:
    """difflib's grouped opcodes, with the common head and tail matched first (cheaply)."""
    head = 0
    limit = min(len(left), len(right))
    while head < limit and left[head] == right[head]:
        head += 1
    tail = 0
    while tail < limit - head and left[-1 - tail] == right[-1 - tail]:
        tail += 1
    middle = difflib.SequenceMatcher(
        None, left[head : len(left) - tail], right[head : len(right) - tail], autojunk=False
    )
    opcodes = [("equal", 0, head, 0, head)] if head else []
    opcodes += [
        (tag, i1 + head, i2 + head, j1 + head, j2 + head)
        for tag, i1, i2, j1, j2 in middle.get_opcodes()
    ]
    if tail:
        opcodes.append(("equal", len(left) - tail, len(left), len(right) - tail, len(right)))
    if all(tag == "equal" for tag, *_ in opcodes):
        return []
    return _groups(opcodes, CONTEXT)


Opcode = tuple[str, int, int, int, int]


def _groups(opcodes: list[Opcode], context: int) -> list[list[Opcode]]:
    """Hunks of changes with ``context`` equal lines around each (as ``difflib`` groups them)."""
    codes = list(opcodes)
    tag, i1, i2, j1, j2 = codes[0]
    if tag == "equal":
        codes[0] = (tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2)
    tag, i1, i2, j1, j2 = codes[-1]
    if tag == "equal":
        codes[-1] = (tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context))
    groups: list[list[Opcode]] = []
    group: list[Opcode] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > 2 * context:
            group.append((tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)))
            groups.append(group)
            group = []
            i1, j1 = max(i1, i2 - context), max(j1, j2 - context)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return groups


def _pretty(description: Any) -> list[str]:
    return orjson.dumps(description, option=orjson.OPT_INDENT_2).decode().splitlines()


def _patch(revision: Revision) -> list[dict[str, Any]]:
    patch = revision.properties.get("patch")
    return [op for op in patch if type(op) is dict] if type(patch) is list else []


def _edit_type(revision: Revision) -> str:
    if revision.type == "revert":
        return f"revert to {revision.properties.get('revision_id')}"
    return str(revision.properties.get("edit_type", revision.type))


def _time(created: int) -> str:
    try:
        moment = datetime.fromtimestamp(created / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return f"{created} ms"
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _url(path: str, **query: Any) -> str:
    return f"{path}?{urlencode(query)}"
