"""Slow and stuck clients against a real server, over raw sockets on 127.0.0.1.

The server runs with one-second deadlines; every wait here is bounded by a
socket timeout or a loop of bounded length, so a server that never gives up
on a client fails the test instead of hanging it.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator

import httpx
import orjson
import pytest

from .server import running_server

pytestmark = pytest.mark.e2e

TIMEOUT = 1
SHORT = {
    "DIALOGUE_ENGINE_HEADER_TIMEOUT": str(TIMEOUT),
    "DIALOGUE_ENGINE_BODY_TIMEOUT": str(TIMEOUT),
    "DIALOGUE_ENGINE_SEND_TIMEOUT": str(TIMEOUT),
    "DIALOGUE_ENGINE_ADMIN_EMAIL": "admin@example.org",
    "DIALOGUE_ENGINE_ADMIN_PASSWORD": "correct horse battery",
}
GIVE_UP = 10.0
"""How long a test waits for the server to act on a one-second deadline."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    folder = tmp_path_factory.mktemp("slow-clients")
    store = f"sqlite:///{folder / 'store.db'}"
    with running_server(store, folder / "server.log", SHORT) as client:
        yield client


def connect(client: httpx.Client, receive_buffer: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(GIVE_UP)
    sock.connect(("127.0.0.1", client.base_url.port or 80))
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends before it closes the connection (bounded by GIVE_UP)."""
    received = b""
    deadline = time.monotonic() + GIVE_UP
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"the server kept the connection open; got {received[:200]!r}")


def read_one_answer(sock: socket.socket) -> bytes:
    """One whole answer framed by its Content-Length (bounded by the socket's timeout)."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += sock.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.lower().split(b"\r\n")
        if line.startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def error_of(answer: bytes) -> tuple[str, dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n")[0].decode()
    assert b"connection: close" in head.lower(), head
    return status_line, orjson.loads(body)


def test_a_connection_left_silent_is_closed(server: httpx.Client) -> None:
    with connect(server) as sock:
        assert read_until_closed(sock) == b""
    assert server.get("/healthz").status_code == 200


def test_a_trickled_request_head_is_answered_408_and_closed(server: httpx.Client) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        answered = False
        for _ in range(int(GIVE_UP / 0.2)):  # one byte every 0.2 s, never ending the head
            readable, _, _ = select.select([sock], [], [], 0.2)
            if readable:
                answered = True
                break
            sock.sendall(b"a")
        assert answered, "the server waited for the head for ever"
        status, error = error_of(read_until_closed(sock))
    assert status == "HTTP/1.1 408 Request Timeout"
    assert error["type"] == "request_timeout"
    assert error["details"] == {"part": "head", "seconds": TIMEOUT}


def test_a_body_announced_but_never_sent_is_answered_408_and_closed(
    server: httpx.Client,
) -> None:
    with connect(server) as sock:
        sock.sendall(
            b"POST /auth/tokens HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
            b'{"email": "adm'
        )
        status, error = error_of(read_until_closed(sock))
    assert status.startswith("HTTP/1.1 408")
    assert error["type"] == "request_timeout"
    assert error["details"] == {"part": "body", "seconds": TIMEOUT}
    assert server.get("/healthz").status_code == 200


def test_a_client_that_never_reads_its_answers_is_dropped(server: httpx.Client) -> None:
    """Pipelined requests whose answers (~150 KB each) far exceed every buffer on the way."""
    requests = 100
    size = len(server.get("/openapi.json").content)
    with connect(server, receive_buffer=4096) as sock:
        sock.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * requests)
        time.sleep(TIMEOUT * 3)  # not reading: the server's send buffer stays full
        received = read_until_closed(sock)
    assert len(received) < requests * size
    assert server.get("/healthz").status_code == 200


def test_a_request_head_growing_past_the_limit_is_a_400_in_the_envelope(
    server: httpx.Client,
) -> None:
    """h11 refuses an unfinished head over 16 KiB (what a client trickling headers builds)."""
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 20_000)
        status, error = error_of(read_until_closed(sock))
    assert status == "HTTP/1.1 400 Bad Request"
    assert error["type"] == "http_error"


def test_a_prompt_client_on_a_kept_alive_connection_is_served(server: httpx.Client) -> None:
    """The deadlines leave ordinary use alone: two requests on one connection, a pause between."""
    with connect(server) as sock:
        for _ in range(2):
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            answer = read_one_answer(sock)
            assert answer.startswith(b"HTTP/1.1 200 OK"), answer
            assert answer.endswith(b"}"), answer
            time.sleep(TIMEOUT * 1.5)  # idle past the head deadline, within keep-alive
