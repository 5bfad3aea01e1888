"""``dialogue-engine create-user``."""

from __future__ import annotations

import json

import pytest

from dialogue_engine import DialogueEngine
from dialogue_engine.cli import main


def test_create_user_adds_a_user_who_can_sign_in(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["create-user", "--email", "joan@example.org", "--password", "password-1"]
    assert main([*argv, "--admin", "--first-name", "Joan", "--store", store_url]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["email"] == "joan@example.org" and printed["admin"] is True
    with DialogueEngine.open(store_url, follow=False) as engine:
        actor = engine.accounts.authenticate_token(
            engine.accounts.sign_in("joan@example.org", "password-1").secret
        )
        assert actor.is_admin
        assert engine.accounts.get_user(actor.user_id, actor=actor).first_name == "Joan"


def test_create_user_refuses_a_taken_email(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["create-user", "--email", "joan@example.org", "--password", "password-1"]
    assert main([*argv, "--store", store_url]) == 0
    capsys.readouterr()
    upper = ["create-user", "--email", "JOAN@example.org", "--password", "password-1"]
    assert main([*upper, "--store", store_url]) == 1
    error = json.loads(capsys.readouterr().err)
    assert error["type"] == "validation_error"
    assert error["details"]["errors"][0]["type"] == "unique"


def test_create_user_refuses_a_short_password(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["create-user", "--email", "a@example.org", "--password", "1337", "--store", store_url]
    assert main(argv) == 1
    assert json.loads(capsys.readouterr().err)["details"]["errors"][0]["path"] == "/password"
