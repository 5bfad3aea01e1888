"""Source 003 over HTTP: every template endpoint, its locale form, and each error."""

from __future__ import annotations

import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from dialogue_engine import DialogueEngine

from .helpers import Caller, assert_error, caller, new_project

NEW = {
    "html": "<html><head></head><body><h1>NEW TEMPLATE</h1></body></html>",
    "name": "New Template",
    "subject": "This is a new template!",
    "preheader": "This is a preheader",
    "template_data": {"example": "name1", "example2": ["one", "two"]},
    "text": "some text",
    "locale": "en-US",
    "amp_html": "<html amp4email><head></head><body>NEW TEMPLATE AMPHTML</body></html>",
    "tags": ["tag1", "tag2"],
}
VERSION = {"name": "New Template Version", "subject": "New Version!", "text": "some text"}
SUCCESS = {"success": True, "status": "OK"}


def create(client: TestClient, who: Caller, **body: Any) -> dict[str, Any]:
    response = client.post("/templates", json={**NEW, **body}, headers=who.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def get(client: TestClient, who: Caller, url: str) -> Any:
    response = client.get(url, headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()


def errors(response: Any) -> list[tuple[str, str]]:
    body = assert_error(response, 422, "validation_error")
    return [(e["type"], e["path"]) for e in body["details"]["errors"]]


# Creating and reading


def test_create_answers_201_with_id_locale_and_name(client: TestClient, admin: Caller) -> None:
    response = client.post("/templates", json=NEW, headers=admin.headers)
    assert response.status_code == 201
    body = response.json()
    assert body == {"id": body["id"], "locale": "en-US", "name": "New Template"}
    assert body["id"].startswith("tem_") and len(body["id"]) == 26
    assert response.headers["location"] == f"/templates/{body['id']}"


def test_a_template_shows_its_versions_tags_and_unix_second_times(
    client: TestClient, admin: Caller
) -> None:
    before = int(time.time())
    template = create(client, admin)
    shown = get(client, admin, f"/templates/{template['id']}")
    (version,) = shown["versions"]
    assert shown == {
        "id": template["id"],
        "name": "New Template",
        "created": shown["created"],
        "locale": "en-US",
        "versions": [
            {
                "name": "New Template",
                "id": version["id"],
                "published": True,
                "created": shown["created"],
                "modified": shown["created"],
            }
        ],
        "tags": ["tag1", "tag2"],
    }
    assert before <= shown["created"] <= int(time.time())
    assert version["id"].startswith("ver_")
    assert get(client, admin, f"/templates/{template['id']}/locales/en-US") == shown


def test_a_version_shows_every_field_it_was_given(client: TestClient, admin: Caller) -> None:
    template = create(client, admin)
    versions = get(client, admin, f"/templates/{template['id']}/versions")
    (version,) = versions
    assert version == {
        "id": version["id"],
        "created": version["created"],
        "modified": version["modified"],
        "published": True,
        "name": "New Template",
        "html": NEW["html"],
        "text": "some text",
        "subject": NEW["subject"],
        "preheader": NEW["preheader"],
        "template_data": NEW["template_data"],
        "amp_html": NEW["amp_html"],
    }
    url = f"/templates/{template['id']}/versions/{version['id']}"
    assert get(client, admin, url) == version
    assert get(client, admin, f"/templates/{template['id']}/locales/en-US/versions") == versions


def test_a_version_without_html_shows_it_as_null(client: TestClient, admin: Caller) -> None:
    template = create(client, admin, html=None, amp_html=None, preheader=None, template_data=None)
    (version,) = get(client, admin, f"/templates/{template['id']}/versions")
    assert version["html"] is None and version["text"] == "some text"
    assert not {"preheader", "amp_html", "template_data"} & set(version)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"name": None}, [("required", "/name")]),
        ({"name": ""}, [("minLength", "/name")]),
        ({"subject": None}, [("required", "/subject")]),
        ({"subject": 3}, [("type", "/subject")]),
        ({"html": None, "text": None}, [("required", "")]),
        ({"tags": ["a", "b", "c", "d"]}, [("maxItems", "/tags")]),
        ({"tags": "a"}, [("type", "/tags")]),
        ({"locale": "english"}, []),
        ({"locale": "en_US"}, [("format", "/locale")]),
        ({"template_data": [1]}, [("type", "/template_data")]),
        ({"html": "{% for %}"}, [("syntax", "/html")]),
        ({"subject": "{{ unclosed"}, [("syntax", "/subject")]),
        ({"project_id": 5}, [("type", "/project_id")]),
        ({"project_id": "nope"}, [("reference", "/project_id")]),
        ({"versions": []}, [("additionalProperties", "")]),
    ],
)
def test_create_errors_are_422_with_paths(
    client: TestClient, admin: Caller, change: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    body = {k: v for k, v in {**NEW, **change}.items() if v is not None}
    response = client.post("/templates", json=body, headers=admin.headers)
    if not expected:
        assert response.status_code == 201, response.text
        return
    assert errors(response) == expected


def test_bodies_that_are_not_json_objects_are_refused(client: TestClient, admin: Caller) -> None:
    headers = {**admin.headers, "Content-Type": "application/json"}
    body = assert_error(
        client.post("/templates", content=b"{", headers=headers), 400, "parse_error"
    )
    assert body["details"]["line"] == 1
    assert errors(client.post("/templates", json=[NEW], headers=admin.headers)) == [("type", "")]
    response = client.post(
        "/templates", content=b"{}", headers={**admin.headers, "Content-Type": "text/plain"}
    )
    assert_error(response, 415, "unsupported_media_type")


def test_templates_need_authentication(client: TestClient, admin: Caller) -> None:
    template = create(client, admin)
    assert_error(client.get("/templates"), 401, "authentication_required")
    assert_error(client.get(f"/templates/{template['id']}"), 401, "authentication_required")
    assert_error(client.post("/templates", json=NEW), 401, "authentication_required")


@pytest.mark.parametrize(
    "path",
    ["/templates/tem_0000000000000000000000", "/templates/nope", "/templates/tem_",
     "/templates/tem_0000000000000000000000/versions",
     "/templates/tem_0000000000000000000000/locales/en-US"],
)  # fmt: skip
def test_unknown_templates_are_404(client: TestClient, admin: Caller, path: str) -> None:
    assert_error(client.get(path, headers=admin.headers), 404, "not_found")


def test_unknown_versions_and_locales_are_404(client: TestClient, admin: Caller) -> None:
    template = create(client, admin)
    base = f"/templates/{template['id']}"
    for path in (
        f"{base}/versions/ver_0000000000000000000000",
        f"{base}/versions/nope",
        f"{base}/locales/fr-FR",
        f"{base}/locales/not a locale",
        f"{base}/locales/fr-FR/versions",
    ):
        assert_error(client.get(path, headers=admin.headers), 404, "not_found")
    assert_error(
        client.put(f"{base}/locales/fr-FR", json={"name": "x"}, headers=admin.headers),
        404,
        "not_found",
    )


# Listing


def test_list_shows_each_template_in_the_default_locale_with_paging_headers(
    client: TestClient, admin: Caller
) -> None:
    first = create(client, admin, name="Alpha")
    second = create(client, admin, name="Beta", locale="fr-FR")
    response = client.get("/templates", headers=admin.headers)
    assert response.status_code == 200
    listed = response.json()
    assert [(t["id"], t["locale"]) for t in listed] == [
        (first["id"], "en-US"),
        (second["id"], "fr-FR"),
    ]
    assert listed[0] == get(client, admin, f"/templates/{first['id']}")
    assert response.headers["x-total-count"] == "2"
    paged = client.get("/templates?per_page=1&page=2", headers=admin.headers)
    assert [t["id"] for t in paged.json()] == [second["id"]]
    assert 'rel="prev"' in paged.headers["link"]
    assert errors(client.get("/templates?per_page=0", headers=admin.headers)) == [
        ("maximum", "/per_page")
    ]


def test_list_filters_by_name_contains_tag_and_locale(client: TestClient, admin: Caller) -> None:
    welcome = create(client, admin, name="Welcome Email", tags=["onboarding", "email"])
    reminder = create(client, admin, name="Reminder", tags=["email"])
    client.post(
        f"/templates/{reminder['id']}/locales",
        json={**VERSION, "locale": "fr-FR"},
        headers=admin.headers,
    )

    def ids(query: str) -> list[str]:
        return [t["id"] for t in get(client, admin, f"/templates?{query}")]

    assert ids("name=welcome") == [welcome["id"]]
    assert ids("name=E") == [welcome["id"], reminder["id"]]
    assert ids("name=nothing") == []
    assert ids("tag=email") == [welcome["id"], reminder["id"]]
    assert ids("tag=onboarding") == [welcome["id"]]
    assert ids("tag=onboard") == []
    assert ids("locale=fr-fr") == [reminder["id"]]
    assert ids("tag=email&name=rem&locale=fr-FR") == [reminder["id"]]
    (french,) = get(client, admin, "/templates?locale=fr-FR")
    assert french["locale"] == "fr-FR" and french["versions"][0]["name"] == VERSION["name"]
    assert errors(client.get("/templates?locale=xx_YY", headers=admin.headers)) == [
        ("format", "/locale")
    ]


def test_the_catalog_is_rebuilt_from_the_log(
    client: TestClient, admin: Caller, engine: DialogueEngine
) -> None:
    kept = create(client, admin, name="Kept", tags=["a"])
    gone = create(client, admin, name="Gone")
    client.delete(f"/templates/{gone['id']}", headers=admin.headers)
    before = get(client, admin, "/templates")
    engine.rebuild()
    assert get(client, admin, "/templates") == before
    assert [t["id"] for t in before] == [kept["id"]]


# Updating and deleting


def test_put_renames_and_replaces_tags(client: TestClient, admin: Caller) -> None:
    template = create(client, admin)
    url = f"/templates/{template['id']}"
    body = {"name": "New template name", "tags": ["tag1", "tag2", "tag3"]}
    response = client.put(url, json=body, headers=admin.headers)
    assert (response.status_code, response.json()) == (200, SUCCESS)
    shown = get(client, admin, url)
    assert (shown["name"], shown["tags"]) == ("New template name", ["tag1", "tag2", "tag3"])
    client.put(url, json={"tags": ["only"]}, headers=admin.headers)
    assert get(client, admin, url)["tags"] == ["only"]
    client.put(f"{url}/locales/en-US", json={"tags": []}, headers=admin.headers)
    assert get(client, admin, url)["tags"] == []
    assert get(client, admin, url)["name"] == "New template name"
    client.put(url, json={**shown, "name": "Sent back whole"}, headers=admin.headers)
    assert get(client, admin, url)["name"] == "Sent back whole"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"tags": ["1", "2", "3", "4"]}, [("maxItems", "/tags")]),
        ({"tags": ["a", "a"]}, [("uniqueItems", "/tags")]),
        ({"name": ""}, [("minLength", "/name")]),
        ({"subject": "s"}, [("additionalProperties", "")]),
    ],
)
def test_put_errors_are_422(
    client: TestClient, admin: Caller, body: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    template = create(client, admin)
    response = client.put(f"/templates/{template['id']}", json=body, headers=admin.headers)
    assert errors(response) == expected


def test_delete_removes_the_template_from_every_read_but_keeps_its_events(
    client: TestClient, admin: Caller, engine: DialogueEngine
) -> None:
    template = create(client, admin)
    url = f"/templates/{template['id']}"
    version_id = get(client, admin, url)["versions"][0]["id"]
    response = client.delete(url, headers=admin.headers)
    assert (response.status_code, response.json()) == (200, SUCCESS)
    for path in (url, f"{url}/versions", f"{url}/versions/{version_id}", f"{url}/locales/en-US"):
        assert_error(client.get(path, headers=admin.headers), 404, "not_found")
    assert get(client, admin, "/templates") == []
    assert_error(client.delete(url, headers=admin.headers), 404, "not_found")
    assert_error(client.put(url, json={"name": "x"}, headers=admin.headers), 404, "not_found")
    render = client.post(f"{url}/versions/{version_id}/render", json={}, headers=admin.headers)
    assert_error(render, 404, "not_found")
    from dialogue_engine.domain.templatefields import template_uuid

    uuid = template_uuid(template["id"])
    assert uuid is not None
    topics = [type(e).__name__ for e in engine.store.events_of(uuid)]
    assert topics == ["Created", "Deleted"]


def test_delete_with_a_locale_removes_only_that_locale(client: TestClient, admin: Caller) -> None:
    template = create(client, admin)
    url = f"/templates/{template['id']}"
    client.post(f"{url}/locales", json={**VERSION, "locale": "fr-FR"}, headers=admin.headers)
    response = client.delete(f"{url}/locales/fr-FR", headers=admin.headers)
    assert (response.status_code, response.json()) == (200, SUCCESS)
    assert_error(client.get(f"{url}/locales/fr-FR", headers=admin.headers), 404, "not_found")
    assert get(client, admin, url)["locale"] == "en-US"
    client.delete(f"{url}/locales/en-US", headers=admin.headers)
    assert_error(client.get(url, headers=admin.headers), 404, "not_found")


# Locales


def test_adding_a_locale_answers_its_first_version_id(client: TestClient, admin: Caller) -> None:
    template = create(client, admin, name="A New Template")
    body = {
        "html": "<html><head></head><body><h1>Nouveau modèle!</h1></body></html>",
        "name": "Published French Version",
        "subject": "Ce est un nouveau modèle!",
        "locale": "fr-FR",
        "text": "un texte",
    }
    response = client.post(f"/templates/{template['id']}/locales", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    added = response.json()
    assert added == {
        "id": template["id"],
        "locale": "fr-FR",
        "name": "A New Template",
        "version_id": added["version_id"],
    }
    assert response.headers["location"] == f"/templates/{template['id']}/locales/fr-FR"
    french = get(client, admin, f"/templates/{template['id']}/locales/fr-fr")
    assert french["locale"] == "fr-FR"
    assert french["versions"] == [
        {
            "name": "Published French Version",
            "id": added["version_id"],
            "published": True,
            "created": french["versions"][0]["created"],
            "modified": french["versions"][0]["modified"],
        }
    ]
    assert get(client, admin, f"/templates/{template['id']}")["locale"] == "en-US"
    url = f"/templates/{template['id']}/locales/fr-FR/versions/{added['version_id']}"
    assert get(client, admin, url)["text"] == "un texte"
    other_locale = f"/templates/{template['id']}/versions/{added['version_id']}"
    assert_error(client.get(other_locale, headers=admin.headers), 404, "not_found")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({**VERSION}, [("required", "")]),
        ({**VERSION, "locale": "en-US"}, [("unique", "/locale")]),
        ({**VERSION, "locale": "fr_FR"}, [("format", "/locale")]),
        ({"locale": "fr-FR", "name": "n", "subject": "s"}, [("required", "")]),
        ({**VERSION, "locale": "fr-FR", "tags": []}, [("additionalProperties", "")]),
    ],
)
def test_locale_errors_are_422(
    client: TestClient, admin: Caller, body: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    template = create(client, admin)
    url = f"/templates/{template['id']}/locales"
    assert errors(client.post(url, json=body, headers=admin.headers)) == expected


def test_the_default_locale_is_configurable() -> None:
    with DialogueEngine.open("memory://", default_locale="fr-FR") as engine:
        created = engine.templates.create({**VERSION, "name": "T"})
        assert created.locale == "fr-FR"
        engine.templates.add_locale(created.id, {**VERSION, "locale": "en-US"})
        assert engine.templates.get(created.id).locale == "fr-FR"
        assert [t.locale for t in engine.templates.list().items] == ["fr-FR"]


# Versions and publishing


def test_a_new_version_is_unpublished_unless_asked(client: TestClient, admin: Caller) -> None:
    template = create(client, admin)
    url = f"/templates/{template['id']}/versions"
    body = {**NEW, **VERSION}
    del body["tags"]
    response = client.post(url, json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    version = response.json()
    assert version == {
        "id": version["id"],
        "created": version["created"],
        "modified": version["modified"],
        "published": False,
        "name": "New Template Version",
        "html": NEW["html"],
        "text": "some text",
        "subject": "New Version!",
        "preheader": NEW["preheader"],
        "template_data": NEW["template_data"],
        "amp_html": NEW["amp_html"],
    }
    assert response.headers["location"] == f"{url}/{version['id']}"
    published = [v["published"] for v in get(client, admin, url)]
    assert published == [True, False]


def test_publishing_a_version_unpublishes_the_previous_one(
    client: TestClient, admin: Caller
) -> None:
    template = create(client, admin)
    url = f"/templates/{template['id']}/versions"
    first = get(client, admin, url)[0]["id"]
    second = client.post(url, json={**VERSION, "published": True}, headers=admin.headers).json()
    assert second["published"] is True
    assert [(v["id"], v["published"]) for v in get(client, admin, url)] == [
        (first, False),
        (second["id"], True),
    ]
    replaced = client.put(
        f"{url}/{first}", json={**VERSION, "published": True}, headers=admin.headers
    )
    assert replaced.json()["published"] is True
    assert [v["published"] for v in get(client, admin, url)] == [True, False]
    summary = get(client, admin, f"/templates/{template['id']}")["versions"]
    assert [v["published"] for v in summary] == [True, False]


def test_the_published_version_cannot_be_unpublished(client: TestClient, admin: Caller) -> None:
    template = create(client, admin)
    url = f"/templates/{template['id']}/versions"
    first = get(client, admin, url)[0]["id"]
    response = client.put(
        f"{url}/{first}", json={**VERSION, "published": False}, headers=admin.headers
    )
    assert errors(response) == [("published", "/published")]


def test_put_replaces_the_version_keeping_its_id_and_created(
    client: TestClient, admin: Caller
) -> None:
    template = create(client, admin)
    url = f"/templates/{template['id']}/versions"
    old = get(client, admin, url)[0]
    body = {
        "html": "<html><head></head><body><h1>UPDATED TEMPLATE VERSION</h1></body></html>",
        "name": "New Version",
        "subject": "Edited Subject!",
        "preheader": "Edited Preheader",
        "template_data": {"example": "name1_updated", "example2": ["one_updated", "two_updated"]},
        "text": "Updated text",
        "amp_html": "<html amp4email><head></head><body>UPDATED AMPHTML</body></html>",
    }
    response = client.put(
        f"{url}/{old['id']}", json={**body, "id": "ignored"}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        **body,
        "id": old["id"],
        "created": old["created"],
        "modified": response.json()["modified"],
        "published": True,
    }
    replaced = client.put(
        f"/templates/{template['id']}/locales/en-US/versions/{old['id']}",
        json={**VERSION},
        headers=admin.headers,
    ).json()
    assert "preheader" not in replaced and replaced["html"] is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"name": "n", "subject": "s"}, [("required", "")]),
        ({**VERSION, "published": "yes"}, [("type", "/published")]),
        ({**VERSION, "text": "{% if %}"}, [("syntax", "/text")]),
        ({**VERSION, "locale": "fr-FR"}, [("const", "/locale")]),
        ({**VERSION, "tags": ["a"]}, [("additionalProperties", "")]),
    ],
)
def test_version_errors_are_422(
    client: TestClient, admin: Caller, body: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    template = create(client, admin)
    url = f"/templates/{template['id']}/locales/en-US/versions"
    assert errors(client.post(url, json=body, headers=admin.headers)) == expected


def test_a_version_posted_with_a_body_locale_goes_to_that_locale(
    client: TestClient, admin: Caller
) -> None:
    template = create(client, admin)
    base = f"/templates/{template['id']}"
    client.post(f"{base}/locales", json={**VERSION, "locale": "fr-FR"}, headers=admin.headers)
    response = client.post(
        f"{base}/versions", json={**VERSION, "locale": "fr-FR"}, headers=admin.headers
    )
    assert response.status_code == 201
    assert len(get(client, admin, f"{base}/locales/fr-FR/versions")) == 2
    assert len(get(client, admin, f"{base}/versions")) == 1
    missing = client.post(
        f"{base}/versions", json={**VERSION, "locale": "de-DE"}, headers=admin.headers
    )
    assert_error(missing, 404, "not_found")


# Access


def test_a_project_template_follows_the_project_permissions(
    client: TestClient, admin: Caller, engine: DialogueEngine
) -> None:
    project_id = new_project(client, admin)
    template = create(client, admin, project_id=project_id)
    url = f"/templates/{template['id']}"
    assert get(client, admin, url)["project_id"] == project_id
    outsider = caller(engine)
    reader = caller(engine, ("project:dialogues:read", {"project_id": project_id}))
    writer = caller(engine, ("project:dialogues:write", {"project_id": project_id}))
    assert_error(client.get(url, headers=outsider.headers), 404, "not_found")
    assert get(client, outsider, "/templates") == []
    assert [t["id"] for t in get(client, reader, "/templates")] == [template["id"]]
    assert get(client, reader, url)["id"] == template["id"]
    assert_error(
        client.put(url, json={"name": "x"}, headers=reader.headers), 403, "authorization_error"
    )
    assert client.put(url, json={"name": "x"}, headers=writer.headers).status_code == 200
    denied = client.post(
        "/templates", json={**NEW, "project_id": project_id}, headers=reader.headers
    )
    assert_error(denied, 403, "authorization_error")
    hidden = client.post(
        "/templates", json={**NEW, "project_id": project_id}, headers=outsider.headers
    )
    assert errors(hidden) == [("reference", "/project_id")]
    assert (
        client.post(
            "/templates", json={**NEW, "project_id": project_id}, headers=writer.headers
        ).status_code
        == 201
    )


def test_a_template_without_a_project_is_read_by_all_and_written_by_admins(
    client: TestClient, admin: Caller, engine: DialogueEngine
) -> None:
    template = create(client, admin)
    url = f"/templates/{template['id']}"
    anyone = caller(engine)
    assert get(client, anyone, url)["id"] == template["id"]
    assert [t["id"] for t in get(client, anyone, "/templates")] == [template["id"]]
    for response in (
        client.put(url, json={"name": "x"}, headers=anyone.headers),
        client.delete(url, headers=anyone.headers),
        client.post(f"{url}/versions", json=VERSION, headers=anyone.headers),
        client.post("/templates", json=NEW, headers=anyone.headers),
    ):
        assert_error(response, 403, "authorization_error")
    version_id = get(client, anyone, url)["versions"][0]["id"]
    rendered = client.post(f"{url}/versions/{version_id}/render", json={}, headers=anyone.headers)
    assert rendered.status_code == 200
