"""No password, token, API key or reset token in any log line of a real server.

The server runs with every logger at DEBUG (the root logger configured before
the CLI starts) and uvicorn's access log on, writing to one file; a full flow
goes through it (sign-ins right and wrong, edits, an API key, a new user, a
password change, a reset whose token arrives by SMTP with a login, the history
page opened with ``?access_token=``, the event feed, a request with a bad
token, a body over the size limit); then the whole log is searched for each
secret.
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from tests.api.mailserver import smtp_server, token_of

from .server import running_server

pytestmark = pytest.mark.e2e

DEBUG_LAUNCHER = (
    sys.executable,
    "-c",
    "import logging, sys\n"
    "logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)\n"
    "from dialogue_engine.cli import main\n"
    "sys.exit(main(sys.argv[1:]))",
)
ADMIN_EMAIL = "admin@example.org"
ADMIN_PASSWORD = "admin-pass-Q7xw3k"
WRONG_PASSWORD = "wrong-pass-Zr81mv"
USER_EMAIL = "writer@example.org"
USER_PASSWORD = "writer-pass-Hk27pd"
CHANGED_PASSWORD = "changed-pass-Lw55tc"
RESET_PASSWORD = "reset-pass-Vb93qa"
SMTP_PASSWORD = "smtp-secret"  # what tests/api/mailserver.py accepts
BAD_TOKEN = "not-a-token-Xq42ns"


def test_a_full_flow_leaves_no_secret_in_any_log_line(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    secrets = [ADMIN_PASSWORD, WRONG_PASSWORD, USER_PASSWORD, CHANGED_PASSWORD, RESET_PASSWORD]
    secrets += [SMTP_PASSWORD, BAD_TOKEN]
    with smtp_server(with_auth=True) as (inbox, smtp_port):
        env = {
            "DIALOGUE_ENGINE_ADMIN_EMAIL": ADMIN_EMAIL,
            "DIALOGUE_ENGINE_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "DIALOGUE_ENGINE_SMTP_HOST": "127.0.0.1",
            "DIALOGUE_ENGINE_SMTP_PORT": str(smtp_port),
            "DIALOGUE_ENGINE_SMTP_TLS": "none",
            "DIALOGUE_ENGINE_SMTP_USERNAME": "mailer",
            "DIALOGUE_ENGINE_SMTP_PASSWORD": SMTP_PASSWORD,
            "DIALOGUE_ENGINE_MAX_BODY_BYTES": "65536",
        }
        store = f"sqlite:///{tmp_path / 'store.db'}"
        with running_server(store, log, env, launcher=DEBUG_LAUNCHER, access_log=True) as client:
            wrong = client.post(
                "/auth/tokens", json={"email": ADMIN_EMAIL, "password": WRONG_PASSWORD}
            )
            assert wrong.status_code == 401
            token = sign_in(client, ADMIN_EMAIL, ADMIN_PASSWORD)
            secrets.append(token)
            admin = {"Authorization": f"Bearer {token}"}

            key = client.post("/user/api-keys", headers=admin).json()["key"]
            secrets.append(key)
            by_key = {"API-KEY": key}
            project = client.post("/projects/", json={"title": "P"}, headers=by_key).json()
            dialogue = client.post(
                f"/projects/{project['id']}/dialogues/",
                json={"title": "Survey", "sequences": []},
                headers=admin,
            ).json()
            edited = client.patch(
                dialogue["url"],
                content=b'[{"op": "replace", "path": "/title", "value": "Survey 2"}]',
                headers={**admin, "Content-Type": "application/json-patch+json"},
            )
            assert edited.status_code == 200, edited.text
            page = client.get(f"{dialogue['url']}/history?access_token={token}")
            assert page.status_code == 303
            assert client.get("/events?timeout=0&after=0", headers=by_key).status_code == 200
            assert client.get("/user", headers={"Authorization": f"Bearer {BAD_TOKEN}"}).is_error
            assert client.get("/user", headers={"API-KEY": BAD_TOKEN}).is_error
            too_big = client.post("/projects/", content=b" " * 70_000, headers=admin)
            assert too_big.status_code == 413

            created = client.post(
                "/users/", json={"email": USER_EMAIL, "password": USER_PASSWORD}, headers=admin
            )
            assert created.status_code == 201, created.text
            user = {"Authorization": f"Bearer {sign_in(client, USER_EMAIL, USER_PASSWORD)}"}
            secrets.append(user["Authorization"].split()[1])
            changed = client.post(
                "/user/password-changes/",
                json={"old_password": USER_PASSWORD, "new_password": CHANGED_PASSWORD},
                headers=user,
            )
            assert changed.status_code == 204, changed.text

            assert client.post("/password-resets/", json={"email": USER_EMAIL}).status_code == 204
            reset_token = token_of(inbox.receive())
            secrets.append(reset_token)
            confirmed = client.post(
                "/password-confirmations/", json={"token": reset_token, "password": RESET_PASSWORD}
            )
            assert confirmed.status_code == 204, confirmed.text
            secrets.append(sign_in(client, USER_EMAIL, RESET_PASSWORD))
        assert inbox.logins == [(b"mailer", SMTP_PASSWORD.encode())]

    text = log.read_text(errors="replace")
    # The log is the full one: DEBUG records, the access log, the redacted page address.
    assert "DEBUG:" in text
    assert '"POST /auth/tokens HTTP/1.1" 201' in text
    assert '"POST /password-confirmations/ HTTP/1.1" 204' in text
    assert "/history?access_token=[redacted] HTTP/1.1" in text
    leaked = [secret for secret in secrets if secret in text]
    assert leaked == [], f"secrets in the server log: {leaked}"


def sign_in(client: httpx.Client, email: str, password: str) -> str:
    response = client.post("/auth/tokens", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token
