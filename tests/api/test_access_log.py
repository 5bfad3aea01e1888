"""The access log shows no secret from a query string (the real server: tests/e2e)."""

from __future__ import annotations

import logging

import pytest

from dialogue_engine.api.accesslog import RedactQuerySecrets, redact_access_log, redact_query


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/healthz", "/healthz"),
        ("/p?page=2", "/p?page=2"),
        ("/h?access_token=s3cr3t", "/h?access_token=[redacted]"),
        (
            "/h?revision=2&access_token=s3cr3t&page=1",
            "/h?revision=2&access_token=[redacted]&page=1",
        ),
        ("/h?ACCESS_TOKEN=s3cr3t", "/h?ACCESS_TOKEN=[redacted]"),
        ("/h?access%5Ftoken=s3cr3t", "/h?access%5Ftoken=[redacted]"),
        (
            "/h?token=a&api_key=b&password=c",
            "/h?token=[redacted]&api_key=[redacted]&password=[redacted]",
        ),
        ("/h?tokens=kept", "/h?tokens=kept"),
    ],
)
def test_secret_query_parameters_are_redacted(path: str, expected: str) -> None:
    assert redact_query(path) == expected


def test_the_filter_rewrites_uvicorns_arguments_and_is_installed_once() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/h?access_token=s3cr3t", "1.1", 303),
        None,
    )
    assert RedactQuerySecrets().filter(record)
    assert "s3cr3t" not in record.getMessage()
    assert "access_token=[redacted]" in record.getMessage()
    name = "tests.access-log-redaction"
    redact_access_log(name)
    redact_access_log(name)
    assert sum(isinstance(f, RedactQuerySecrets) for f in logging.getLogger(name).filters) == 1
