"""The auditor's live pieces on a real server: the SSE feed across a reconnect, and the
history page in a real headless browser (Debian's ``chromium``)."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from .server import running_server

pytestmark = pytest.mark.e2e

ADMIN = {
    "DIALOGUE_ENGINE_ADMIN_EMAIL": "auditor@example.org",
    "DIALOGUE_ENGINE_ADMIN_PASSWORD": "correct horse battery",
}
PATCH = {"Content-Type": "application/json-patch+json"}
XSS_TITLE = "<img src=x onerror=alert(1)><script>document.title='owned'</script>Survey"
CHROMIUM_TIMEOUT = 90.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    store = f"sqlite:///{tmp_path / 'store.db'}"
    with running_server(store, tmp_path / "server.log", ADMIN) as client:
        token = client.post(
            "/auth/tokens",
            json={
                "email": ADMIN["DIALOGUE_ENGINE_ADMIN_EMAIL"],
                "password": ADMIN["DIALOGUE_ENGINE_ADMIN_PASSWORD"],
            },
        ).json()["token"]
        yield client, {"Authorization": f"Bearer {token}"}


def new_dialogue(client: httpx.Client, auth: dict[str, str], title: str = "Survey") -> str:
    project = client.post("/projects/", json={"title": "P"}, headers=auth)
    body = {
        "title": title,
        "sequences": [
            {
                "id": "start",
                "title": "Start",
                "blocks": [{"id": "hello", "type": "message", "properties": {"text": "Hi"}}],
            }
        ],
    }
    created = client.post(f"{project.headers['location']}/dialogues/", json=body, headers=auth)
    assert created.status_code == 201, created.text
    return created.headers["location"]


def retitle(client: httpx.Client, url: str, auth: dict[str, str], title: str) -> None:
    ops = [{"op": "replace", "path": "/title", "value": title}]
    response = client.patch(url, content=orjson.dumps(ops), headers={**auth, **PATCH})
    assert response.status_code == 200, response.text


def read_events(lines: Iterator[str], count: int) -> list[dict[str, Any]]:
    """The next ``count`` events of an open stream (comments and ``retry`` skipped)."""
    events: list[dict[str, Any]] = []
    fields: dict[str, str] = {}
    for line in lines:
        if line:
            if not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
            continue
        if "data" in fields:
            events.append({"id": int(fields["id"]), "event": fields["event"],
                           "data": orjson.loads(fields["data"])})  # fmt: skip
            if len(events) == count:
                return events
        fields = {}
    raise AssertionError(f"the stream ended after {len(events)} of {count} events")


def test_a_client_that_reconnects_with_last_event_id_misses_nothing_and_sees_nothing_twice(
    server: tuple[httpx.Client, dict[str, str]],
) -> None:
    client, auth = server
    url = new_dialogue(client, auth)
    seen: list[dict[str, Any]] = []
    with client.stream("GET", "/events", headers=auth) as first:
        assert first.status_code == 200
        lines = first.iter_lines()
        assert next(lines) == "retry: 1000"  # the stream is open: it starts after this point
        for title in ("one", "two", "three"):
            retitle(client, url, auth, title)
        seen += read_events(lines, 2)
    # Disconnected after two events; more is written while nobody listens.
    retitle(client, url, auth, "four")
    retitle(client, url, auth, "five")
    resume = {**auth, "Last-Event-ID": str(seen[-1]["id"])}
    with client.stream("GET", "/events", headers=resume) as second:
        seen += read_events(second.iter_lines(), 3)
    titles = [
        e["data"]["revision"]["properties"]["patch"][0]["value"]
        for e in seen
        if e["event"] == "revision"
    ]
    assert titles == ["one", "two", "three", "four", "five"]
    ids = [e["id"] for e in seen]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert [e["data"]["revision"]["number"] for e in seen] == [2, 3, 4, 5, 6]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def require_chromium() -> str:
    found = chromium()
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(
                "chromium is not installed: .ci/run must install it (apt-get install chromium)"
            )
        pytest.skip("chromium is not installed (apt-get install chromium); CI installs it")
    return found


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    command = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1280,900",
        *args,
    ]
    return subprocess.run(command, capture_output=True, timeout=CHROMIUM_TIMEOUT, check=False)


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the rows of an 8-bit RGB or RGBA PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, chunks, header = 8, [], b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and color in (2, 6), (depth, color)
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up = previous[x]
            corner = previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                pa, pb, pc = abs(guess - left), abs(guess - up), abs(guess - corner)
                best = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[x] = (line[x] + best) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, [
        bytes(b for i, b in enumerate(row) if i % channels < 3) for row in rows
    ]  # fmt: skip


def test_the_history_page_in_a_headless_browser(
    server: tuple[httpx.Client, dict[str, str]], tmp_path: Path
) -> None:
    binary = require_chromium()
    client, auth = server
    url = new_dialogue(client, auth, XSS_TITLE)
    for n in range(3):
        retitle(client, url, auth, f"{XSS_TITLE} v{n}")
    ops = [{"op": "replace", "path": "/sequences/0/blocks/0/properties/text", "value": "Changed"}]
    client.patch(url, content=orjson.dumps(ops), headers={**auth, **PATCH})
    token = auth["Authorization"].removeprefix("Bearer ")
    page = f"{client.base_url}{url}/history?revision=5&access_token={token}"

    dom = run_chromium(binary, tmp_path / "profile-dom", "--dump-dom", page)
    assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-2000:]
    html = dom.stdout.decode()
    assert "Revision 5:" in html, html[:2000]
    assert html.count('<tr class="chosen">') == 1
    assert "&lt;script&gt;document.title='owned'&lt;/script&gt;" in html
    assert "<script>" not in html and "<img src=" not in html
    assert "<title>owned</title>" not in html
    assert "Changed" in html and 'class="add"' in html and 'class="del"' in html

    shot = tmp_path / "history.png"
    taken = run_chromium(binary, tmp_path / "profile-shot", f"--screenshot={shot}", page)
    assert taken.returncode == 0 and shot.exists(), taken.stderr.decode(errors="replace")[-2000:]
    width, height, rows = png_pixels(shot.read_bytes())
    assert (width, height) == (1280, 900)
    colours = {row[x : x + 3] for row in rows[::8] for x in range(0, len(row), 24)}
    assert len(colours) > 20, f"the screenshot looks blank ({len(colours)} colours)"
    top, bottom = rows[: height // 2], rows[height // 2 :]
    assert len({r for r in top}) > 10 and len({r for r in bottom}) > 2
