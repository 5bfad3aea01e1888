"""Mail settings from ``DIALOGUE_ENGINE_SMTP_*`` and which mailer they make."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialogue_engine.envsettings import SettingError
from dialogue_engine.mail import MailSettings, MemoryMailer, OutboxMailer, SMTPMailer, is_temporary


def test_smtp_settings_come_from_the_environment() -> None:
    env = {
        "DIALOGUE_ENGINE_SMTP_HOST": "mail.example.org",
        "DIALOGUE_ENGINE_SMTP_TLS": "ssl",
        "DIALOGUE_ENGINE_SMTP_USERNAME": "mailer",
        "DIALOGUE_ENGINE_SMTP_PASSWORD": "secret",
        "DIALOGUE_ENGINE_SMTP_SENDER": "noreply@example.org",
    }
    settings = MailSettings.from_environment(Path("/data"), env)
    assert (settings.host, settings.port, settings.security) == ("mail.example.org", 465, "ssl")
    assert (settings.username, settings.sender) == ("mailer", "noreply@example.org")
    assert isinstance(settings.mailer(), SMTPMailer)
    assert "secret" not in repr(settings)


def test_without_a_host_mail_goes_to_the_outbox_or_memory(tmp_path: Path) -> None:
    beside_store = MailSettings.from_environment(tmp_path, {})
    assert beside_store.outbox == tmp_path / "outbox"
    assert isinstance(beside_store.mailer(), OutboxMailer)
    chosen = MailSettings.from_environment(tmp_path, {"DIALOGUE_ENGINE_MAIL_OUTBOX": "/srv/mail"})
    assert chosen.outbox == Path("/srv/mail")
    assert isinstance(MailSettings.from_environment(None, {}).mailer(), MemoryMailer)


@pytest.mark.parametrize(
    "env",
    [{"DIALOGUE_ENGINE_SMTP_TLS": "maybe"}, {"DIALOGUE_ENGINE_SMTP_PORT": "smtp"}],
)
def test_malformed_settings_are_configuration_errors(env: dict[str, str]) -> None:
    with pytest.raises(SettingError):
        MailSettings.from_environment(None, env)


def test_only_temporary_failures_are_worth_retrying() -> None:
    import smtplib

    assert is_temporary(ConnectionRefusedError())
    assert is_temporary(smtplib.SMTPDataError(451, b"later"))
    assert not is_temporary(smtplib.SMTPDataError(554, b"no"))
    assert not is_temporary(smtplib.SMTPRecipientsRefused({"a@b.c": (550, b"unknown")}))
    assert not is_temporary(ValueError("bug"))
