"""``dialogue-engine create-provider`` and ``create-channel``."""

from __future__ import annotations

import json

import pytest

from dialogue_engine import DialogueEngine
from dialogue_engine.cli import main


def test_a_provider_and_a_channel_serving_a_project_from_the_shell(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with DialogueEngine.open(store_url, follow=False) as engine:
        project = engine.create_project("Maternal Health ZA")
    assert main(["create-provider", "--title", "Twitter", "--store", store_url]) == 0
    provider = json.loads(capsys.readouterr().out)
    argv = ["create-channel", "--provider", provider["id"], "--type", "twitter"]
    assert main([*argv, "--address", "@foo", "--project", project.id, "--store", store_url]) == 0
    channel = json.loads(capsys.readouterr().out)
    assert channel["title"] == "@foo" and channel["project_id"] == project.id
    with DialogueEngine.open(store_url, follow=False) as engine:
        (listed,) = engine.channels.project_channels(project.id)
        assert (listed.id, listed.provider.title) == (channel["id"], "Twitter")
        detail = engine.channels.get_provider(provider["id"])
        assert [c.address for c in detail.channels] == ["@foo"]


def test_create_channel_refuses_an_unknown_provider_and_a_duplicate_address(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    unknown = ["create-channel", "--provider", "nope", "--type", "sms", "--address", "2233"]
    assert main([*unknown, "--store", store_url]) == 1
    assert json.loads(capsys.readouterr().err)["details"]["errors"][0]["path"] == "/provider"
    assert main(["create-provider", "--title", "SMS Co", "--store", store_url]) == 0
    provider = json.loads(capsys.readouterr().out)["id"]
    argv = ["create-channel", "--provider", provider, "--type", "sms", "--address", "2233"]
    assert main([*argv, "--store", store_url]) == 0
    capsys.readouterr()
    assert main([*argv, "--store", store_url]) == 1
    error = json.loads(capsys.readouterr().err)
    assert error["details"]["errors"][0]["type"] == "unique"
