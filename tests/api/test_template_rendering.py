"""Rendering versions in the sandbox: data, escaping, and hostile templates failing safely."""

from __future__ import annotations

import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from dialogue_engine import DialogueEngine

from .helpers import Caller, assert_error


def version_url(client: TestClient, who: Caller, **content: Any) -> str:
    body = {"name": "T", "subject": "Hello {{ name }}", "text": "Hi {{ name }}", **content}
    body = {k: v for k, v in body.items() if v is not None}
    response = client.post("/templates", json=body, headers=who.headers)
    assert response.status_code == 201, response.text
    template_id = response.json()["id"]
    shown = client.get(f"/templates/{template_id}", headers=who.headers).json()
    return f"/templates/{template_id}/versions/{shown['versions'][0]['id']}"


def render(client: TestClient, who: Caller, url: str, data: Any = None, **extra: Any) -> Any:
    body = {} if data is None else {"template_data": data}
    return client.post(f"{url}/render", json={**body, **extra}, headers=who.headers)


def failure(response: Any) -> tuple[str, str]:
    body = assert_error(response, 422, "validation_error")
    (error,) = body["details"]["errors"]
    return error["type"], error["path"]


def test_render_fills_subject_html_and_text(client: TestClient, admin: Caller) -> None:
    url = version_url(
        client,
        admin,
        html="<p>{{ name }} has {{ items|length }} items</p>",
        text="{% for i in items %}{{ i }};{% endfor %}",
    )
    response = render(client, admin, url, {"name": "Ann", "items": ["a", "b"]})
    assert response.status_code == 200, response.text
    template_id, version_id = url.split("/")[2], url.split("/")[4]
    assert response.json() == {
        "template_id": template_id,
        "version_id": version_id,
        "locale": "en-US",
        "subject": "Hello Ann",
        "html": "<p>Ann has 2 items</p>",
        "text": "a;b;",
    }


def test_html_escapes_data_and_text_does_not(client: TestClient, admin: Caller) -> None:
    url = version_url(client, admin, html="<b>{{ name }}</b>", preheader="Pre {{ name }}")
    rendered = render(client, admin, url, {"name": "<script>x</script>"}).json()
    assert rendered["html"] == "<b>&lt;script&gt;x&lt;/script&gt;</b>"
    assert rendered["text"] == "Hi <script>x</script>"
    assert rendered["preheader"] == "Pre <script>x</script>"


def test_without_data_the_versions_sample_data_is_used(client: TestClient, admin: Caller) -> None:
    url = version_url(client, admin, template_data={"name": "Sample"})
    assert render(client, admin, url).json()["text"] == "Hi Sample"
    empty = client.post(f"{url}/render", headers=admin.headers)
    assert empty.json()["subject"] == "Hello Sample"


def test_the_locale_form_renders_that_locales_version(client: TestClient, admin: Caller) -> None:
    url = version_url(client, admin)
    template_id = url.split("/")[2]
    added = client.post(
        f"/templates/{template_id}/locales",
        json={"name": "FR", "subject": "Bonjour {{ name }}", "text": "Salut", "locale": "fr-FR"},
        headers=admin.headers,
    ).json()
    french = f"/templates/{template_id}/locales/fr-FR/versions/{added['version_id']}"
    rendered = render(client, admin, french, {"name": "Léa"}).json()
    assert (rendered["subject"], rendered["locale"]) == ("Bonjour Léa", "fr-FR")


def test_a_missing_variable_is_422_at_template_data(client: TestClient, admin: Caller) -> None:
    url = version_url(client, admin)
    response = render(client, admin, url, {})
    assert failure(response) == ("undefined", "/template_data")
    assert "'name' is undefined" in response.json()["details"]["errors"][0]["message"]


@pytest.mark.parametrize(
    ("body", "path"),
    [({"template_data": [1]}, "/template_data"), ({"data": {}}, ""), ([], "")],
)
def test_render_body_errors_are_422(
    client: TestClient, admin: Caller, body: Any, path: str
) -> None:
    url = version_url(client, admin)
    response = client.post(f"{url}/render", json=body, headers=admin.headers)
    assert failure(response)[1] == path


HOSTILE = [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''|attr('__class__') }}",
    "{{ ''['__class__'] }}",
    "{{ '{0.__class__}'.format('') }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ self.__dict__ }}",
    "{{ namespace.__init__.__globals__['os'] }}",
    "{{ range.__self__ }}",
    "{% include '/etc/passwd' %}",
    "{% import '/etc/passwd' as p %}{{ p }}",
    "{% extends '/etc/passwd' %}",
    "{{ 'x' * 1000000000 }}",
    "{{ 9 ** 9999999 }}",
    "{{ '%0999999999d' % 1 }}",
    "{{ '%0999999999d'|format(1) }}",
    "{% for i in range(10**9) %}x{% endfor %}",
    "{% for i in range(99999) %}{{ 'abcdefghijklmnop' }}{% endfor %}",
    "{{ lipsum(1000000) }}",
    "{{ 1 / 0 }}",
    "{{ name.upper.__globals__ }}",
    "{{ config }}",
]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_templates_fail_safely_with_422(
    client: TestClient, admin: Caller, source: str
) -> None:
    url = version_url(client, admin, text=source)
    response = render(client, admin, url, {"name": "Ann"})
    _, path = failure(response)
    assert path in ("/text", "/template_data"), response.text
    assert b"Traceback" not in response.content
    assert b"root:" not in response.content  # nothing of /etc/passwd


def test_a_template_that_never_ends_is_stopped_at_the_deadline(
    client: TestClient, admin: Caller, engine: DialogueEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine.templates.renderer, "timeout", 0.5)
    url = version_url(
        client,
        admin,
        text="{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}",
    )
    started = time.monotonic()
    assert failure(render(client, admin, url, {"name": "x"})) == ("timeout", "")
    assert time.monotonic() - started < 5
    healthy = version_url(client, admin)
    assert render(client, admin, healthy, {"name": "Ann"}).json()["text"] == "Hi Ann"


def test_a_template_that_exhausts_memory_is_stopped(
    client: TestClient, admin: Caller, engine: DialogueEngine
) -> None:
    doubling = (
        "{% set s = namespace(v='x') %}{% for i in range(64) %}{% set s.v = s.v ~ s.v %}"
        "{% endfor %}{{ s.v|length }}"
    )
    url = version_url(client, admin, text=doubling)
    kind, _ = failure(render(client, admin, url, {"name": "x"}))
    assert kind in ("too_large", "crashed", "timeout")
    healthy = version_url(client, admin)
    assert render(client, admin, healthy, {"name": "Ann"}).json()["text"] == "Hi Ann"


def test_template_data_cannot_smuggle_callables_or_reach_internals(
    client: TestClient, admin: Caller
) -> None:
    url = version_url(client, admin, text="{{ name.__class__ }}{{ name }}")
    assert failure(render(client, admin, url, {"name": {"__class__": "x"}}))[0] == "security"
