"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, for mail tests."""

from __future__ import annotations

import queue
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

RECEIVE_TIMEOUT = 10.0
TOKEN = re.compile(r"^Token: (\S+)", re.M)


@dataclass
class Inbox:
    """What the server received; ``refuse`` answers the next DATA commands with these replies."""

    messages: queue.Queue[EmailMessage] = field(default_factory=queue.Queue)
    refuse: list[str] = field(default_factory=list)
    attempts: int = 0
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        if self.refuse:
            return self.refuse.pop(0)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.put(parsed)
        return "250 OK"

    def receive(self, timeout: float = RECEIVE_TIMEOUT) -> EmailMessage:
        return self.messages.get(timeout=timeout)

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"smtp-secret")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def smtp_server(*, with_auth: bool = False) -> Iterator[tuple[Inbox, int]]:
    """An SMTP server on a free 127.0.0.1 port: (its inbox, the port)."""
    inbox = Inbox()
    port = free_port()
    options: dict[str, Any] = {}
    if with_auth:
        options = {"authenticator": inbox.authenticate, "auth_require_tls": False}
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def token_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    found = TOKEN.search(body.get_content())
    assert found, "the message carries a token"
    return found.group(1)
