"""Every benchmark module imports: the benchmarks run outside the test suite, so
a name they use that the engine drops would otherwise surface only in `make bench`."""

from __future__ import annotations

import importlib

import pytest

from bench.__main__ import MODULES


@pytest.mark.parametrize("name", [*MODULES, "bench.soak"])
def test_the_benchmark_module_imports(name: str) -> None:
    assert hasattr(importlib.import_module(name), "__file__")
