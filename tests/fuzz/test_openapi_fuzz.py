"""Schemathesis fuzzes every operation of ``/openapi.json`` against a real server process.

Each phase runs: the document's examples, its coverage phase (boundary and
type-violating values for every parameter and body), random fuzzing, and the
stateful phase, which follows the document's OpenAPI links (create a project,
then a dialogue in it, then patch that dialogue…). The server must answer no
5xx and nothing the document does not describe: every status code, media type,
header and body is checked against it, and so are two security properties
(an authenticated operation refuses a request without credentials; a method
the document does not list answers 405).

``make fuzz`` runs the same with many more examples (``FUZZ_EXAMPLES``) and a
random seed (``FUZZ_SEED`` to replay one). The whole run report is kept in
the test's temporary folder; its failures are printed when the test fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import running_server

pytestmark = pytest.mark.e2e

SERVER_ENV = {
    "DIALOGUE_ENGINE_ADMIN_EMAIL": "fuzz-admin@example.org",
    "DIALOGUE_ENGINE_ADMIN_PASSWORD": "a long fuzzing password",
    # GET /events streams last up to 300 s, as the document allows; generated
    # requests ask for that (or for the default). The server's cap keeps each
    # to a second, the answers unchanged in shape.
    "DIALOGUE_ENGINE_EVENTS_MAX_SECONDS": "1",
}
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "use_after_free",
    "ensure_resource_availability",
    "ignored_auth",
    "unsupported_method",
)
"""What an answer must satisfy. Left out: positive_data_acceptance and
negative_data_rejection judge how much of the server's validation the request
schemas express (a channel's provider must exist, a patch must apply), not the
answers, which the checks above hold to the document."""
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
"""Examples per operation and phase (15 yields over 5,000 requests)."""
MIN_REQUESTS = int(os.environ.get("FUZZ_MIN_REQUESTS", "5000"))
SEED = os.environ.get("FUZZ_SEED", "20261123")
"""Fixed by default so that a red run replays; ``make fuzz`` passes ``random``."""
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
RUN_TIMEOUT = float(os.environ.get("FUZZ_TIMEOUT", "1800"))


def sign_in(client: httpx.Client) -> str:
    credentials = {
        "email": SERVER_ENV["DIALOGUE_ENGINE_ADMIN_EMAIL"],
        "password": SERVER_ENV["DIALOGUE_ENGINE_ADMIN_PASSWORD"],
    }
    response = client.post("/auth/tokens", json=credentials)
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


def schemathesis_command(base_url: str, token: str, reports: Path) -> list[str]:
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{base_url}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(EXAMPLES),
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--report",
        "json",
        "--report-json-path",
        str(reports / "run.json"),
        "--no-color",
    ]
    if SEED != "random":
        command += ["--seed", SEED]
    return command


def test_every_operation_answers_as_the_openapi_document_says(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'fuzz.db'}"
    with running_server(store, tmp_path / "server.log", SERVER_ENV) as client:
        token = sign_in(client)
        command = schemathesis_command(str(client.base_url).rstrip("/"), token, tmp_path)
        finished = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            cwd=tmp_path,
        )
    output = finished.stdout + finished.stderr
    report: dict[str, Any] = json.loads((tmp_path / "run.json").read_text())
    generated = report["test_cases"]["generated"]
    print(f"schemathesis: {generated} requests generated, seed {report['seed']}")
    assert report["failures"] == [] and report["errors"] == [], output
    assert finished.returncode == 0, output
    assert generated >= MIN_REQUESTS, output
