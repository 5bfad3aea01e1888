"""The access log never shows a secret from a query string.

One endpoint takes a secret in its address: the history page's RFC 6750
``access_token`` (a browser cannot send headers from its address bar, see
:mod:`.history`). uvicorn logs every request's path with its query string, so
:class:`RedactQuerySecrets` replaces the value of any query parameter whose
name is in :data:`SECRET_PARAMETERS` with ``[redacted]`` before a record is
formatted. Names are compared percent-decoded and case-insensitively, as
Starlette reads them, so ``access%5Ftoken=`` is redacted too.
"""

from __future__ import annotations

import logging
from urllib.parse import unquote_plus

ACCESS_LOGGER = "uvicorn.access"
SECRET_PARAMETERS = frozenset({"access_token", "token", "api_key", "api-key", "key", "password"})
REDACTED = "[redacted]"


def redact_query(path: str) -> str:
    """``path`` with the value of each secret query parameter replaced by ``[redacted]``."""
    head, question, query = path.partition("?")
    if not question or "=" not in query:
        return path
    pairs = []
    for pair in query.split("&"):
        name, equals, _value = pair.partition("=")
        if equals and unquote_plus(name).strip().lower() in SECRET_PARAMETERS:
            pair = f"{name}={REDACTED}"
        pairs.append(pair)
    return f"{head}?{'&'.join(pairs)}"


class RedactQuerySecrets(logging.Filter):
    """Redacts the string arguments of a record (uvicorn passes the path as one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_query(arg) if isinstance(arg, str) and "?" in arg else arg
                for arg in record.args
            )
        return True


def redact_access_log(logger_name: str = ACCESS_LOGGER) -> None:
    """Install the filter on uvicorn's access logger, once per process.

    A logger's filters survive uvicorn's ``dictConfig`` (which replaces
    handlers, not filters), so this works before or after uvicorn starts.
    """
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactQuerySecrets) for f in logger.filters):
        logger.addFilter(RedactQuerySecrets())
