"""The template aggregate and its fields: ids, locales, tags, versions and publishing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from dialogue_engine.domain.errors import NotFound, ValidationFailed
from dialogue_engine.domain.releases import ReleaseLog, TemplatePin
from dialogue_engine.domain.templatefields import (
    canonical_locale,
    check_members,
    check_tags,
    check_version,
    decode_id,
    encode_id,
    template_uuid,
)
from dialogue_engine.domain.templates import Template

CONTENT = {"name": "First", "subject": "Hello", "html": "<p>Hi</p>"}


def new_template(**extra: Any) -> Template:
    template = Template.start(
        "Welcome",
        dict(CONTENT),
        locale=extra.pop("locale", "en-US"),
        tags=extra.pop("tags", []),
        project_id=extra.pop("project_id", None),
        user_id="u1",
        now=extra.pop("now", 1_000),
    )
    return template


def replayed(template: Template) -> Template:
    rebuilt: Any = None
    for event in template.collect_events():
        rebuilt = event.mutate(rebuilt)
    assert isinstance(rebuilt, Template)
    return rebuilt


def errors_of(caught: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[str, str]]:
    return [(e.type, e.path) for e in caught.value.errors]


# Ids


@pytest.mark.parametrize("value", [uuid.UUID(int=0), uuid.UUID(int=2**128 - 1), uuid.uuid4()])
def test_ids_are_a_prefix_and_22_base62_digits_that_turn_back_into_the_uuid(
    value: uuid.UUID,
) -> None:
    encoded = encode_id("tem_", value)
    assert len(encoded) == 26 and encoded.startswith("tem_") and encoded[4:].isalnum()
    assert decode_id("tem_", encoded) == value


@pytest.mark.parametrize(
    "value",
    ["", "tem_", "ver_hQf1VnmCNrPjBdYQPOpLZ9", "tem_hQf1VnmCNrPjBdYQPOpLZ",
     "tem_!Qf1VnmCNrPjBdYQPOpLZ9", "tem_zzzzzzzzzzzzzzzzzzzzzz", None, 7],
)  # fmt: skip
def test_anything_else_is_no_template_id(value: Any) -> None:
    assert template_uuid(value) is None


# Locales


@pytest.mark.parametrize(
    ("given", "canonical"),
    [("en-US", "en-US"), ("en-us", "en-US"), ("FR-fr", "fr-FR"), ("fr", "fr"),
     ("zh-hant-tw", "zh-Hant-TW"), ("es-419", "es-419"), ("de-CH-1901", "de-CH-1901"),
     ("en-US-x-twain", "en-US-x-twain"), ("sr-Latn-RS", "sr-Latn-RS")],
)  # fmt: skip
def test_locales_are_bcp47_codes_in_canonical_casing(given: str, canonical: str) -> None:
    assert canonical_locale(given) == canonical


@pytest.mark.parametrize(
    "given", ["", "e", "en_US", "en-", "englishes-US", "en-USA-", "i-klingon", "x-private", 12,
              None, "en US", "é-FR"]
)  # fmt: skip
def test_anything_else_is_no_locale(given: Any) -> None:
    assert canonical_locale(given) is None


# Fields


def test_at_most_three_distinct_non_empty_tags() -> None:
    assert check_tags([]) == []
    assert check_tags(["a", "b", "c"]) == ["a", "b", "c"]
    with pytest.raises(ValidationFailed) as caught:
        check_tags(["a", "b", "c", "d"])
    assert errors_of(caught) == [("maxItems", "/tags")]
    with pytest.raises(ValidationFailed) as caught:
        check_tags(["a", "a"])
    assert errors_of(caught) == [("uniqueItems", "/tags")]
    with pytest.raises(ValidationFailed) as caught:
        check_tags(["a", 3, ""])
    assert errors_of(caught) == [("type", "/tags/1"), ("minLength", "/tags/2")]
    with pytest.raises(ValidationFailed) as caught:
        check_tags("a")
    assert errors_of(caught) == [("type", "/tags")]


def test_a_version_needs_name_subject_and_html_or_text() -> None:
    assert check_version({"name": "n", "subject": "s", "text": "t"}) == {
        "name": "n",
        "subject": "s",
        "text": "t",
    }
    with pytest.raises(ValidationFailed) as caught:
        check_version({})
    assert errors_of(caught) == [("required", "/name"), ("required", "/subject"), ("required", "")]
    with pytest.raises(ValidationFailed) as caught:
        check_version({"name": " ", "subject": 3, "html": None, "text": 4, "template_data": []})
    assert errors_of(caught) == [
        ("minLength", "/name"),
        ("type", "/subject"),
        ("type", "/text"),
        ("required", ""),
        ("type", "/template_data"),
    ]


def test_optional_version_fields_are_kept_and_sample_data_is_copied() -> None:
    data = {"example": ["one", {"two": 2}]}
    content = check_version(
        {"name": "n", "subject": "s", "html": "h", "preheader": "p", "amp_html": "a",
         "template_data": data}
    )  # fmt: skip
    assert content["template_data"] == data and content["template_data"] is not data
    assert {k: content[k] for k in ("preheader", "amp_html", "html")} == {
        "preheader": "p",
        "amp_html": "a",
        "html": "h",
    }


def test_unknown_members_and_missing_required_ones_are_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_members({"x": 1}, frozenset({"a"}), ("a",))
    assert errors_of(caught) == [("required", ""), ("additionalProperties", "")]
    with pytest.raises(ValidationFailed):
        check_members([], frozenset())


# The aggregate


def test_a_new_template_has_its_first_version_published_in_its_locale() -> None:
    template = new_template(tags=["t1"], locale="fr-FR")
    assert template.public_id.startswith("tem_") and template_uuid(template.public_id) == (
        template.id
    )
    (version,) = template.versions_of("fr-FR")
    assert version["id"].startswith("ver_")
    assert (version["name"], version["created"], version["modified"]) == ("First", 1_000, 1_000)
    assert template.published("fr-FR") == version["id"]
    assert (template.name, template.tags, template.created) == ("Welcome", ["t1"], 1_000)


def test_a_new_version_is_published_only_when_asked_and_unpublishes_the_previous() -> None:
    template = new_template()
    first = template.published("en-US")
    second = template.add_version("en-US", CONTENT, published=None, user_id="u1")
    assert template.published("en-US") == first
    third = template.add_version("en-US", CONTENT, published=True, user_id="u1")
    assert template.published("en-US") == third
    assert [v["id"] for v in template.versions_of("en-US")] == [first, second, third]
    assert len({first, second, third}) == 3


def test_updating_a_version_with_published_true_publishes_it() -> None:
    template = new_template()
    first = template.published("en-US")
    second = template.add_version("en-US", CONTENT, published=False, user_id="u1")
    template.replace_version(
        "en-US", second, {**CONTENT, "text": "t"}, published=True, user_id="u1", now=2_000
    )
    assert template.published("en-US") == second
    updated = template.get_version("en-US", second)
    assert (updated["text"], updated["modified"], updated["created"] != 2_000) == ("t", 2_000, True)
    assert template.get_version("en-US", first)["id"] == first


def test_the_published_version_cannot_be_unpublished_by_itself() -> None:
    template = new_template()
    first = template.published("en-US")
    with pytest.raises(ValidationFailed) as caught:
        template.replace_version("en-US", first, CONTENT, published=False, user_id="u1")
    assert errors_of(caught) == [("published", "/published")]


def test_replacing_a_version_with_the_same_content_records_nothing() -> None:
    template = new_template()
    template.collect_events()
    first = template.published("en-US")
    template.replace_version("en-US", first, dict(CONTENT), published=True, user_id="u1")
    assert template.collect_events() == []


def test_each_locale_has_its_own_versions_and_published_version() -> None:
    template = new_template()
    french = template.add_locale("fr-FR", {**CONTENT, "name": "FR"}, user_id="u1")
    assert template.published("fr-FR") == french
    assert template.published("en-US") != french
    with pytest.raises(NotFound):
        template.get_version("en-US", french)
    with pytest.raises(ValidationFailed) as caught:
        template.add_locale("fr-FR", CONTENT, user_id="u1")
    assert errors_of(caught) == [("unique", "/locale")]


def test_without_a_locale_the_default_is_used_else_the_first_locale() -> None:
    template = new_template(locale="fr-FR")
    assert template.resolve_locale(None, "en-US") == "fr-FR"
    template.add_locale("en-US", CONTENT, user_id="u1")
    assert template.resolve_locale(None, "en-US") == "en-US"
    assert template.resolve_locale(None, "de-DE") == "fr-FR"
    with pytest.raises(NotFound):
        template.resolve_locale("de-DE", "en-US")


def test_deleting_a_locale_removes_its_versions_and_the_last_one_deletes_the_template() -> None:
    template = new_template()
    french = template.add_locale("fr-FR", CONTENT, user_id="u1")
    template.delete_locale("fr-FR", user_id="u1")
    assert list(template.locales) == ["en-US"] and template.find_version(french) is None
    again = template.add_locale("fr-FR", CONTENT, user_id="u1")
    assert again != french and template.versions_of("fr-FR")[0]["id"] == again
    template.delete_locale("fr-FR", user_id="u1")
    template.delete_locale("en-US", user_id="u1")
    assert template.is_deleted
    with pytest.raises(NotFound):
        template.resolve_locale(None, "en-US")
    with pytest.raises(NotFound):
        template.rename("x", user_id="u1")


def test_renaming_and_retagging_record_only_changes() -> None:
    template = new_template(tags=["a"])
    template.collect_events()
    template.rename("Welcome", user_id="u1")
    template.retag(["a"], user_id="u1")
    assert template.collect_events() == []
    template.rename("Hello", user_id="u1")
    template.retag([], user_id="u1")
    assert [type(e).__name__ for e in template.collect_events()] == ["Renamed", "Retagged"]
    assert (template.name, template.tags) == ("Hello", [])


def test_replaying_the_events_rebuilds_the_same_template() -> None:
    template = new_template(tags=["x"])
    template.add_locale("fr-FR", CONTENT, user_id="u1")
    second = template.add_version("en-US", CONTENT, published=True, user_id="u1")
    template.replace_version("en-US", second, {**CONTENT, "text": "t"}, published=None, user_id="u")
    template.delete_locale("fr-FR", user_id="u1")
    template.rename("R", user_id="u1")
    rebuilt = replayed(template)
    for name in ("name", "tags", "locales", "versions", "version_count", "is_deleted", "version"):
        assert getattr(rebuilt, name) == getattr(template, name), name


def test_a_detached_copy_never_changes_what_readers_hold() -> None:
    template = new_template()
    template.collect_events()
    locales_before = {k: dict(v) for k, v in template.locales.items()}
    copy = template.detached_copy()
    copy.add_version("en-US", CONTENT, published=True, user_id="u1")
    copy.add_locale("fr-FR", CONTENT, user_id="u1")
    assert template.locales == locales_before and len(template.versions) == 1


# Releases pin template versions


def test_a_release_records_its_template_pins() -> None:
    log = ReleaseLog(dialogue_id=str(uuid.uuid4()), project_id="p")
    pins = (TemplatePin("tem_a", "ver_a", 3),)
    release = log.release(1, latest_revision=1, user_id="u1", pins=pins)
    assert release.templates == {"tem_a": "ver_a"} and release.pins == pins
    rebuilt: Any = None
    for event in log.collect_events():
        rebuilt = event.mutate(rebuilt)
    assert rebuilt.all() == log.all()


def test_a_stored_v1_release_event_reads_with_no_templates() -> None:
    state: dict[str, Any] = {"revision_number": 1, "created": 5, "user_id": "u1"}
    ReleaseLog.Released.upcast_v1_v2(state)
    assert state["templates"] == {}
    snapshot_state = {"releases": [{"revision_number": 1, "created": 5, "user_id": "u1"}]}
    ReleaseLog.upcast_v1_v2(snapshot_state)
    assert snapshot_state["releases"][0]["templates"] == {}
