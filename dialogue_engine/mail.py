"""Outgoing mail: SMTP when configured, an outbox folder otherwise, sent off the request path.

Settings come from the environment (:meth:`MailSettings.from_environment`):

- ``DIALOGUE_ENGINE_SMTP_HOST``: the SMTP server. Unset, messages are written
  as ``.eml`` files to the outbox folder instead, so a server runs (``make
  run``) with no mail server at all.
- ``DIALOGUE_ENGINE_SMTP_PORT``: default 587 with STARTTLS, 465 with SSL, 25 without.
- ``DIALOGUE_ENGINE_SMTP_TLS``: ``starttls`` (default), ``ssl`` or ``none``.
- ``DIALOGUE_ENGINE_SMTP_USERNAME`` / ``DIALOGUE_ENGINE_SMTP_PASSWORD``: log in when set.
- ``DIALOGUE_ENGINE_SMTP_SENDER``: the From address (default ``dialogue-engine@localhost``).
- ``DIALOGUE_ENGINE_SMTP_TIMEOUT``: seconds per SMTP conversation (default 10).
- ``DIALOGUE_ENGINE_MAIL_OUTBOX``: the outbox folder (default ``outbox/`` beside the
  SQLite file, e.g. ``var/outbox/``; an in-memory store keeps messages in memory).

:class:`Postman` delivers on its own thread, so a request never waits for a
mail server and no message is sent inside the store's write transaction (the
job that prepares a message saves first, then the message goes out). A
delivery that fails for a temporary reason (connection refused or dropped,
timeouts, 4xx replies) is retried after :data:`RETRY_DELAYS`; a permanent
refusal (5xx) is not. What is still queued when the process stops is lost:
messages carry secrets that are never stored, so they cannot be rebuilt from
the log; the user asks again.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from .envsettings import env_choice, env_int

logger = logging.getLogger(__name__)

PREFIX = "DIALOGUE_ENGINE_"
SECURITY = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
DEFAULT_SENDER = "dialogue-engine@localhost"
RETRY_DELAYS = (2.0, 10.0)
"""Seconds to wait before the second and the third (last) delivery attempt."""
QUEUE_LIMIT = 1_000
"""Jobs waiting at most; beyond it new ones are dropped (logged), requests still answer."""

Job = Callable[[], EmailMessage | None]
"""Prepares one message on the postman's thread (None: nothing to send)."""


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` or raise (``OSError``/``smtplib.SMTPException``)."""
        ...


@dataclass(frozen=True)
class MailSettings:
    host: str | None = None
    port: int = 587
    security: str = "starttls"
    username: str | None = None
    password: str | None = None
    sender: str = DEFAULT_SENDER
    timeout: float = 10.0
    outbox: Path | None = None
    """Where messages are written when no ``host`` is set (None: kept in memory)."""

    def __repr__(self) -> str:
        # Never show the SMTP password (settings end up in logs and tracebacks).
        shown = "***" if self.password else None
        return (
            f"MailSettings(host={self.host!r}, port={self.port}, security={self.security!r}, "
            f"username={self.username!r}, password={shown!r}, sender={self.sender!r}, "
            f"outbox={self.outbox!r})"
        )

    @classmethod
    def from_environment(
        cls, data_dir: Path | None = None, environ: Mapping[str, str] | None = None
    ) -> MailSettings:
        env = os.environ if environ is None else environ
        security = env_choice(env, PREFIX + "SMTP_TLS", "starttls", SECURITY)
        outbox = env.get(PREFIX + "MAIL_OUTBOX", "").strip()
        return cls(
            host=env.get(PREFIX + "SMTP_HOST", "").strip() or None,
            port=env_int(env, PREFIX + "SMTP_PORT", DEFAULT_PORTS[security]),
            security=security,
            username=env.get(PREFIX + "SMTP_USERNAME") or None,
            password=env.get(PREFIX + "SMTP_PASSWORD") or None,
            sender=env.get(PREFIX + "SMTP_SENDER", "").strip() or DEFAULT_SENDER,
            timeout=float(env_int(env, PREFIX + "SMTP_TIMEOUT", 10)),
            outbox=Path(outbox) if outbox else (data_dir / "outbox" if data_dir else None),
        )

    def mailer(self) -> Mailer:
        if self.host:
            return SMTPMailer(self)
        if self.outbox is not None:
            return OutboxMailer(self.outbox)
        return MemoryMailer()


class SMTPMailer:
    """One SMTP conversation per message: (STARTTLS or SSL), (login), send, quit."""

    def __init__(self, settings: MailSettings) -> None:
        if not settings.host:
            raise ValueError("an SMTP mailer needs a host")
        self.settings = settings

    def send(self, message: EmailMessage) -> None:
        s = self.settings
        assert s.host is not None
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.security == "ssl":
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        with smtp:
            if s.security == "starttls":
                smtp.starttls(context=context)
            if s.username:
                smtp.login(s.username, s.password or "")
            smtp.send_message(message)


class OutboxMailer:
    """Writes each message to ``folder`` as ``<UTC time>-<random>.eml`` (readable by the owner
    only: reset messages carry secrets), atomically, so a reader never sees half a file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        target = self.folder / f"{stamp}-{uuid.uuid4().hex[:12]}.eml"
        descriptor, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as output:
                output.write(message.as_bytes())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


class MemoryMailer:
    """Keeps the last messages in memory (stores without a data folder, embedding, tests)."""

    def __init__(self, keep: int = 100) -> None:
        self.messages: deque[EmailMessage] = deque(maxlen=keep)

    def send(self, message: EmailMessage) -> None:
        self.messages.append(message)


def is_temporary(error: BaseException) -> bool:
    """Whether a failed delivery may succeed later (worth retrying)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    return isinstance(error, OSError)  # refused, reset, timed out, disconnected


class Postman:
    """Prepares and delivers messages one at a time on a thread of its own.

    :meth:`post` only queues (it never blocks on I/O), which is what lets a
    request answer before, and independently of, what the job finds.
    """

    def __init__(
        self,
        mailer: Mailer,
        *,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        limit: int = QUEUE_LIMIT,
    ) -> None:
        self.mailer = mailer
        self.retry_delays = retry_delays
        self.limit = limit
        self.delivered = 0
        self.failed = 0
        self._jobs: deque[Job] = deque()
        self._pending = 0
        self._condition = threading.Condition()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def post(self, job: Job) -> bool:
        """Queue ``job``; False if the queue is full or the postman closed (logged)."""
        with self._condition:
            if self._stopping.is_set() or self._pending >= self.limit:
                logger.warning("mail queue full or closed: a message was dropped")
                return False
            self._jobs.append(job)
            self._pending += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="postman", daemon=True)
                self._thread.start()
            self._condition.notify_all()
            return True

    def drain(self, timeout: float) -> bool:
        """Wait until every queued job is done (delivered, dropped or given up); False on
        timeout."""
        with self._condition:
            return self._condition.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Let queued jobs finish for up to ``timeout`` seconds, then stop."""
        self.drain(timeout)
        with self._condition:
            self._stopping.set()
            self._condition.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._jobs or self._stopping.is_set())
                if not self._jobs:
                    return
                job = self._jobs.popleft()
            try:
                self._handle(job)
            finally:
                with self._condition:
                    self._pending -= 1
                    self._condition.notify_all()

    def _handle(self, job: Job) -> None:
        try:
            message = job()
        except Exception:
            logger.exception("preparing a message failed")
            return
        if message is None:
            return
        for attempt in range(len(self.retry_delays) + 1):
            if attempt and self._stopping.wait(self.retry_delays[attempt - 1]):
                break  # closing: no more waiting
            try:
                self.mailer.send(message)
            except Exception as error:
                retry = is_temporary(error) and attempt < len(self.retry_delays)
                logger.warning(
                    "sending mail failed (attempt %d): %s: %s%s",
                    attempt + 1,
                    type(error).__name__,
                    error,
                    "; will retry" if retry else "; giving up",
                )
                if not retry:
                    break
            else:
                self.delivered += 1
                return
        self.failed += 1
