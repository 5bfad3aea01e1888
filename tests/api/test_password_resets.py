"""Password resets over HTTP with real mail: a real SMTP server on 127.0.0.1 receives the
message, the test takes the token from it and completes the reset."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from uuid import UUID

import pytest
from starlette.testclient import TestClient

from dialogue_engine import DialogueEngine, ValidationFailed
from dialogue_engine.api.app import create_app
from dialogue_engine.domain.permissions import Actor
from dialogue_engine.mail import MailSettings, MemoryMailer, Postman
from dialogue_engine.passwords import ANONYMOUS_USER, RESETS_PER_HOUR, PasswordResets

from .conftest import CHEAP_HASHER
from .helpers import assert_error
from .mailserver import Inbox, smtp_server, token_of

EMAIL = "joan@example.org"


@pytest.fixture
def inbox_and_engine() -> Iterator[tuple[Inbox, DialogueEngine]]:
    with smtp_server() as (inbox, port):
        mail = MailSettings(host="127.0.0.1", port=port, security="none", sender="de@example.org")
        with DialogueEngine.open("memory://", mail=mail) as engine:
            engine.accounts.hasher = CHEAP_HASHER
            engine.password_resets.postman.retry_delays = (0.05, 0.05)
            yield inbox, engine


@pytest.fixture
def inbox(inbox_and_engine: tuple[Inbox, DialogueEngine]) -> Inbox:
    return inbox_and_engine[0]


@pytest.fixture
def smtp_engine(inbox_and_engine: tuple[Inbox, DialogueEngine]) -> DialogueEngine:
    return inbox_and_engine[1]


@pytest.fixture
def http(smtp_engine: DialogueEngine) -> Iterator[TestClient]:
    with TestClient(create_app(smtp_engine), raise_server_exceptions=False) as client:
        yield client


def request_reset(http: TestClient, email: str = EMAIL) -> None:
    response = http.post("/password-resets/", json={"email": email})
    assert response.status_code == 204, response.text
    assert response.content == b""


def sign_in(http: TestClient, password: str) -> int:
    return http.post("/auth/tokens", json={"email": EMAIL, "password": password}).status_code


def test_the_whole_reset_flow_over_smtp(
    http: TestClient, smtp_engine: DialogueEngine, inbox: Inbox
) -> None:
    user = smtp_engine.accounts.register(EMAIL, "password-1")
    request_reset(http)
    message = inbox.receive()
    assert message["To"] == EMAIL
    assert message["From"] == "de@example.org"
    assert "password" in message["Subject"].lower()
    token = token_of(message)

    response = http.post(
        "/password-confirmations/", json={"token": token, "password": "new-pass-9"}
    )
    assert response.status_code == 204, response.text
    assert sign_in(http, "password-1") == 401
    assert sign_in(http, "new-pass-9") == 201

    again = http.post("/password-confirmations/", json={"token": token, "password": "other-pass"})
    body = assert_error(again, 422, "validation_error")
    assert body["details"]["errors"][0]["path"] == "/token"
    assert body["details"]["errors"][0]["type"] == "used"

    topics = [type(e).__name__ for e in smtp_engine.store.events_of(UUID(user.id))]
    assert topics[-1] == "PasswordReset"


def test_a_reset_ends_the_users_tokens_but_not_its_api_keys(
    http: TestClient, smtp_engine: DialogueEngine, inbox: Inbox
) -> None:
    user = smtp_engine.accounts.register(EMAIL, "password-1")
    token = smtp_engine.accounts.sign_in(EMAIL, "password-1").secret
    key = smtp_engine.accounts.create_api_key(actor=Actor(user.id)).secret
    bearer = {"Authorization": f"Bearer {token}"}
    assert http.get("/user", headers=bearer).status_code == 200

    request_reset(http)
    reset = token_of(inbox.receive())
    assert http.get("/user", headers=bearer).status_code == 200, "asking alone changes nothing"
    confirmed = http.post(
        "/password-confirmations/", json={"token": reset, "password": "new-pass-9"}
    )
    assert confirmed.status_code == 204

    assert_error(http.get("/user", headers=bearer), 401, "authentication_required")
    assert http.get("/user", headers={"API-KEY": key}).status_code == 200
    fresh = http.post("/auth/tokens", json={"email": EMAIL, "password": "new-pass-9"}).json()
    assert http.get("/user", headers={"Authorization": f"Bearer {fresh['token']}"}).is_success


def test_known_and_unknown_emails_get_the_same_answer(
    http: TestClient, smtp_engine: DialogueEngine, inbox: Inbox
) -> None:
    smtp_engine.accounts.register(EMAIL, "password-1")
    answers = []
    for email in (EMAIL, "nobody@example.org"):
        response = http.post("/password-resets/", json={"email": email})
        headers = {k: v for k, v in response.headers.items() if k.lower() != "date"}
        answers.append((response.status_code, headers, response.content))
    assert answers[0] == answers[1]
    assert answers[0][0] == 204
    assert inbox.receive()["To"] == EMAIL
    assert smtp_engine.password_resets.postman.drain(10)
    assert inbox.messages.empty(), "the unknown email got nothing"


def test_a_request_is_answered_before_any_lookup_or_write(smtp_engine: DialogueEngine) -> None:
    """Nothing on the request path depends on the email: it only queues a job."""

    class Holding(Postman):
        def __init__(self) -> None:
            super().__init__(MemoryMailer())
            self.held: list[object] = []

        def post(self, job: object) -> bool:  # type: ignore[override]
            self.held.append(job)
            return True

    smtp_engine.accounts.register(EMAIL, "password-1")
    postman = Holding()
    resets = PasswordResets(smtp_engine.accounts, postman, sender="x@example.org")
    before = smtp_engine.store.max_notification_id()
    lookups: list[object] = []
    original = smtp_engine.accounts._user_by_email
    smtp_engine.accounts._user_by_email = lambda e: lookups.append(e) or original(e)  # type: ignore[method-assign]
    resets.request(EMAIL)
    resets.request("nobody@example.org")
    assert lookups == [] and smtp_engine.store.max_notification_id() == before
    messages = [job() for job in postman.held]  # type: ignore[operator]
    assert [m is not None for m in messages] == [True, False]
    assert smtp_engine.store.max_notification_id() == before + 1


def test_not_an_email_address_is_a_validation_error_whoever_asks(http: TestClient) -> None:
    for body in ({"email": "not-an-address"}, {"email": 12}, {}, {"email": EMAIL, "x": 1}):
        assert_error(http.post("/password-resets/", json=body), 422, "validation_error")
    assert_error(
        http.post("/password-resets/", content=b"{", headers={"Content-Type": "application/json"}),
        400,
        "parse_error",
    )


def test_unknown_and_malformed_tokens_are_422_on_token(http: TestClient) -> None:
    body = assert_error(
        http.post("/password-confirmations/", json={"token": "123abc", "password": "new-pass-9"}),
        422,
        "validation_error",
    )
    assert body["details"]["errors"] == [
        {"type": "unknown", "path": "/token", "message": "this is not a password reset token"}
    ]
    for bad in ({"token": 5, "password": "new-pass-9"}, {"password": "new-pass-9"}):
        assert_error(http.post("/password-confirmations/", json=bad), 422, "validation_error")


def test_a_short_new_password_is_refused_and_leaves_the_token_usable(
    http: TestClient, smtp_engine: DialogueEngine, inbox: Inbox
) -> None:
    smtp_engine.accounts.register(EMAIL, "password-1")
    request_reset(http)
    token = token_of(inbox.receive())
    short = http.post("/password-confirmations/", json={"token": token, "password": "short"})
    assert assert_error(short, 422, "validation_error")["details"]["errors"][0]["path"] == (
        "/password"
    )
    ok = http.post("/password-confirmations/", json={"token": token, "password": "long-enough"})
    assert ok.status_code == 204


def test_a_token_expires_after_an_hour(
    http: TestClient, smtp_engine: DialogueEngine, inbox: Inbox
) -> None:
    smtp_engine.accounts.register(EMAIL, "password-1")
    request_reset(http)
    token = token_of(inbox.receive())
    issued_at = smtp_engine.accounts.clock()
    smtp_engine.accounts.clock = lambda: issued_at + 60 * 60 * 1000 + 1
    response = http.post("/password-confirmations/", json={"token": token, "password": "new-pass"})
    assert assert_error(response, 422, "validation_error")["details"]["errors"][0]["type"] == (
        "expired"
    )
    assert sign_in(http, "password-1") == 201


def test_a_password_change_voids_outstanding_reset_tokens(
    http: TestClient, smtp_engine: DialogueEngine, inbox: Inbox
) -> None:
    user = smtp_engine.accounts.register(EMAIL, "password-1")
    request_reset(http)
    token = token_of(inbox.receive())
    smtp_engine.accounts.change_password("password-1", "password-2", actor=Actor(user.id))
    response = http.post("/password-confirmations/", json={"token": token, "password": "new-pass"})
    errors = assert_error(response, 422, "validation_error")["details"]["errors"]
    assert errors[0]["type"] == "superseded"


def test_two_confirmations_of_one_token_at_once_succeed_once(
    smtp_engine: DialogueEngine,
) -> None:
    smtp_engine.accounts.register(EMAIL, "password-1")
    issued = smtp_engine.password_resets.issue(EMAIL)
    assert issued is not None
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def confirm(i: int) -> None:
        barrier.wait()
        try:
            smtp_engine.password_resets.confirm(issued.secret, f"new-password-{i}")
            outcomes.append("ok")
        except ValidationFailed as e:
            outcomes.append(e.errors[0].type)

    threads = [threading.Thread(target=confirm, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert outcomes.count("ok") == 1
    assert set(outcomes) - {"ok"} <= {"used", "superseded"}


def test_reset_events_name_the_acting_user(
    http: TestClient, smtp_engine: DialogueEngine, inbox: Inbox
) -> None:
    user = smtp_engine.accounts.register(EMAIL, "password-1")
    before = smtp_engine.store.max_notification_id()
    request_reset(http)
    token = token_of(inbox.receive())
    http.post("/password-confirmations/", json={"token": token, "password": "new-pass-9"})
    saved = smtp_engine.store.notifications(before, 100)
    events = [smtp_engine.store.mapper.to_domain_event(n) for n in saved]
    named = {(type(e).__qualname__, e.user_id) for e in events}
    assert ("PasswordReset.Created", ANONYMOUS_USER) in named
    assert ("PasswordReset.Used", user.id) in named
    assert ("User.PasswordReset", user.id) in named
    for notification in saved:
        assert b"new-pass-9" not in notification.state
        assert token.encode() not in notification.state


def test_reset_mails_per_email_are_limited_silently(
    http: TestClient, smtp_engine: DialogueEngine, inbox: Inbox
) -> None:
    smtp_engine.accounts.register(EMAIL, "password-1")
    for _ in range(RESETS_PER_HOUR + 2):
        request_reset(http)
    assert smtp_engine.password_resets.postman.drain(10)
    assert inbox.messages.qsize() == RESETS_PER_HOUR


def test_a_temporary_smtp_failure_is_retried(
    http: TestClient, smtp_engine: DialogueEngine, inbox: Inbox
) -> None:
    smtp_engine.accounts.register(EMAIL, "password-1")
    inbox.refuse = ["451 4.3.0 try again later"]
    request_reset(http)
    assert inbox.receive()["To"] == EMAIL
    assert smtp_engine.password_resets.postman.drain(10)
    assert inbox.attempts == 2
    assert smtp_engine.password_resets.postman.delivered == 1


def test_a_permanent_smtp_refusal_is_not_retried(
    http: TestClient, smtp_engine: DialogueEngine, inbox: Inbox
) -> None:
    smtp_engine.accounts.register(EMAIL, "password-1")
    inbox.refuse = ["554 5.7.1 rejected"]
    request_reset(http)
    postman = smtp_engine.password_resets.postman
    assert postman.drain(10)
    assert (inbox.attempts, postman.failed, postman.delivered) == (1, 1, 0)
    assert inbox.messages.empty()


def test_smtp_credentials_from_settings_are_used_to_log_in() -> None:
    with smtp_server(with_auth=True) as (inbox, port):
        settings = MailSettings(
            host="127.0.0.1",
            port=port,
            security="none",
            username="mailer",
            password="smtp-secret",
        )
        message = EmailMessage()
        message["To"], message["From"], message["Subject"] = EMAIL, "x@example.org", "hi"
        message.set_content("hello")
        settings.mailer().send(message)
        assert inbox.receive()["Subject"] == "hi"
        assert inbox.logins == [(b"mailer", b"smtp-secret")]
        assert "smtp-secret" not in repr(settings)


def test_without_an_smtp_host_messages_go_to_the_outbox_beside_the_store(
    tmp_path: Path,
) -> None:
    store = tmp_path / "data" / "store.db"
    with DialogueEngine.open(f"sqlite:///{store}", follow=False) as engine:
        engine.accounts.hasher = CHEAP_HASHER
        assert engine.mail.outbox == tmp_path / "data" / "outbox"
        engine.accounts.register(EMAIL, "password-1")
        engine.password_resets.request(EMAIL)
        assert engine.password_resets.postman.drain(10)
    (written,) = (tmp_path / "data" / "outbox").glob("*.eml")
    assert written.stat().st_mode & 0o077 == 0, "only the owner reads a message with a secret"
    assert b"Token: " in written.read_bytes() and EMAIL.encode() in written.read_bytes()
