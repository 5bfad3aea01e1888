"""Slow and stuck clients: how long a connection may keep the server waiting.

uvicorn closes idle keep-alive connections but has no deadline of its own for
a request that arrives slowly or a response that is never read, so a client
could hold a connection (its socket, buffers and an asyncio task) forever:

- **head**: a request line and headers trickled a byte at a time, or a
  connection opened and left silent. :class:`GuardedH11Protocol` closes it
  when the head is not complete ``header_timeout`` seconds after the
  connection opened or after the head's first byte arrived (answering
  ``408 request_timeout`` if any of it arrived);
- **body**: a ``Content-Length`` announced but the body never (or too slowly)
  sent. Reading the body raises :class:`~.errors.RequestTimeout` when it is
  not all there ``body_timeout`` seconds after the head: ``408
  request_timeout`` and the connection is closed;
- **response**: a client that stops reading. When the server's send buffer
  stays full for ``send_timeout`` seconds the connection is dropped.

Handler threads are never held by any of these: bodies are read on the event
loop before a handler runs, and responses are written by the loop after it
returned. The settings come from ``DIALOGUE_ENGINE_*`` variables
(:meth:`ClientTimeouts.from_environment`), read by every worker process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import h11
import orjson
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from ..envsettings import env_int
from .errors import RequestTimeout, envelope
from .security import HEADERS

logger = logging.getLogger("uvicorn.error")

HEADER_TIMEOUT = 10
BODY_TIMEOUT = 30
SEND_TIMEOUT = 30
KEEP_ALIVE_TIMEOUT = 5
MAX_HEAD_BYTES = 16 * 1024
"""Request line and headers together (h11's own default); more is a 400."""


@dataclass(frozen=True)
class ClientTimeouts:
    """Seconds a client may take; see the module docstring for what each bounds."""

    header_timeout: int = HEADER_TIMEOUT
    body_timeout: int = BODY_TIMEOUT
    send_timeout: int = SEND_TIMEOUT
    keep_alive_timeout: int = KEEP_ALIVE_TIMEOUT
    max_head_bytes: int = MAX_HEAD_BYTES

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> ClientTimeouts:
        env = os.environ if env is None else env
        return cls(
            header_timeout=env_int(env, "DIALOGUE_ENGINE_HEADER_TIMEOUT", HEADER_TIMEOUT),
            body_timeout=env_int(env, "DIALOGUE_ENGINE_BODY_TIMEOUT", BODY_TIMEOUT),
            send_timeout=env_int(env, "DIALOGUE_ENGINE_SEND_TIMEOUT", SEND_TIMEOUT),
            keep_alive_timeout=env_int(
                env, "DIALOGUE_ENGINE_KEEP_ALIVE_TIMEOUT", KEEP_ALIVE_TIMEOUT
            ),
            max_head_bytes=env_int(env, "DIALOGUE_ENGINE_MAX_HEAD_BYTES", MAX_HEAD_BYTES),
        )

    def uvicorn_options(self) -> dict[str, Any]:
        """What ``uvicorn.run`` needs to apply these (the protocol re-reads the environment)."""
        return {
            "http": GuardedH11Protocol,
            "timeout_keep_alive": self.keep_alive_timeout,
            "h11_max_incomplete_event_size": self.max_head_bytes,
        }


def raw_answer(
    status: str, error_type: str, message: str, details: dict[str, Any] | None = None
) -> bytes:
    """A complete HTTP/1.1 answer in the error envelope that closes the connection.

    For answers given before h11 has seen a whole request (it cannot frame a
    response then), and for malformed requests.
    """
    body = orjson.dumps(envelope(error_type, message, details or {}))
    headers = {
        **HEADERS,
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        "Connection": "close",
    }
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode("latin-1") + b"\r\n" + body


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with deadlines for the request head, the body and the response."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.timeouts = ClientTimeouts.from_environment()
        self._awaiting_head = True
        self._head_started = False
        self._head_timer: asyncio.TimerHandle | None = None
        self._send_timer: asyncio.TimerHandle | None = None
        self.app = self._guarded(self.app)

    def _guarded(self, app: Any) -> Any:
        """``app``, told when a head is complete, with a deadline on reading the body."""

        async def guarded(scope: Any, receive: Any, send: Any) -> None:
            self._head_complete()
            await app(scope, self._body_within(receive, self.timeouts.body_timeout), send)

        return guarded

    def _body_within(self, receive: Any, seconds: int) -> Any:
        deadline = self.loop.time() + seconds
        complete = False

        async def receive_in_time() -> Any:
            nonlocal complete
            if complete:  # later calls wait for a disconnect (streams): no deadline
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), deadline - self.loop.time())
            except TimeoutError:
                logger.info("%s: request body not received within %s s", self._peer(), seconds)
                raise RequestTimeout("body", seconds) from None
            complete = message["type"] != "http.request" or not message.get("more_body")
            return message

        return receive_in_time

    # The request head

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        _no_delay(transport)
        super().connection_made(transport)
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # Armed only while a head is incomplete after the bytes at hand: a
        # head that arrives whole (nearly every request) costs no timer.
        if self._awaiting_head and self.conn.their_state is h11.IDLE:
            self._head_started = True
            if self._head_timer is None and not self.transport.is_closing():
                self._arm_head_timer()

    def on_response_complete(self) -> None:
        # Idle until the next request's first byte: the keep-alive timeout's business.
        self._awaiting_head, self._head_started = True, False
        super().on_response_complete()

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.timeouts.header_timeout, self._head_late)

    def _head_complete(self) -> None:
        self._awaiting_head = False
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        if not self._awaiting_head or self.transport.is_closing():
            return
        seconds = self.timeouts.header_timeout
        if self._head_started:
            logger.info("%s: request head not received within %s s", self._peer(), seconds)
            late = RequestTimeout("head", seconds)
            answer = raw_answer("408 Request Timeout", late.type, late.message, late.details)
            self.transport.write(answer)
        self.transport.close()

    # The response

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._send_timer is None:
            self._send_timer = self.loop.call_later(self.timeouts.send_timeout, self._send_stuck)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None

    def _send_stuck(self) -> None:
        self._send_timer = None
        seconds = self.timeouts.send_timeout
        logger.info("%s: response not read for %s s, connection dropped", self._peer(), seconds)
        self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._head_timer, self._send_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._send_timer = None
        super().connection_lost(exc)

    # Malformed requests

    def send_400_response(self, msg: str) -> None:
        """Malformed HTTP (or a head over ``max_head_bytes``) in the envelope, not plain text."""
        self.transport.write(raw_answer("400 Bad Request", "http_error", msg, {"reason": msg}))
        self.transport.close()

    def _peer(self) -> str:
        return f"{self.client[0]}:{self.client[1]}" if self.client else "client"


def _no_delay(transport: asyncio.Transport) -> None:
    """Send small writes at once (no Nagle).

    asyncio sets TCP_NODELAY only on sockets whose protocol number says TCP;
    under ``serve --workers`` uvicorn shares a listening socket made with
    protocol 0, so accepted connections keep Nagle's algorithm, and an
    answer's body, written after its head, waits for the client's delayed
    ACK: about 40 ms on every request.
    """
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
