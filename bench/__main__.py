"""``python -m bench [--quick]``: run every benchmark, print ratios, write bench/results.json."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

MODULES = [
    "bench.bench_core",
    "bench.bench_http",
    "bench.bench_audit",
    "bench.bench_sequences",
    "bench.bench_workers",
]
RESULTS = Path(__file__).with_name("results.json")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs (under a minute)")
    parser.add_argument("--only", help="run only the modules whose name contains this")
    args = parser.parse_args()
    results: dict[str, Any] = (
        json.loads(RESULTS.read_text()) if args.only and RESULTS.exists() else {}
    )
    for name in MODULES:
        if args.only and args.only not in name:
            continue
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:
                continue
            raise
        print(f"== {name}", flush=True)
        figures = module.run(quick=args.quick)
        results.update(figures)
        for key, value in figures.items():
            mark = "met" if value["met"] else "MISSED"
            print(f"{key}: ratio {value['ratio']} (target {value['target']}, {mark})", flush=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
