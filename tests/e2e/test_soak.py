"""A short soak in CI (``make soak`` runs the long one): mixed reads and writes from
several client threads against a real server, no error answer, memory flat.

The p99 latency is printed, not asserted: tests do not time things.
"""

from __future__ import annotations

import pytest

from bench.soak import soak

pytestmark = pytest.mark.e2e

SECONDS = 40
THREADS = 4
MAX_RSS_GROWTH = 0.10


def test_a_short_soak_answers_every_request_and_keeps_memory_flat() -> None:
    result = soak(SECONDS, THREADS)
    print(result.report())
    assert result.requests > 100, "the soak hardly ran"
    assert result.errors == []
    assert result.rss_growth < MAX_RSS_GROWTH, result.report()
