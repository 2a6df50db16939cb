"""What deployment's checks cost: parsing and checking each diagram, and the share of the name check.

    .venv/bin/python bench/deployment.py [--runs 30]

For every bpmn/*.bpmn: the median time of `deployment.prepare` (parse, SpiffWorkflow spec, sandbox compile,
routing, forms, the check of every name a script, condition, timer or routing property reads) and of the
name check alone (`deployment._check_names`). Nothing is stored; no database is needed.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings.local")

import django  # noqa: E402

django.setup()

from backend.workflow import deployment  # noqa: E402


def median_ms(action: Callable[[], object], runs: int) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    print(f"{platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · {runs} runs, medians")
    print(f"{'diagram':32} {'prepare':>10} {'names':>10} {'share':>7}")
    for path in deployment.default_diagrams():
        xml = path.read_bytes()
        whole = median_ms(lambda path=path: deployment.prepare(path), runs)
        names = median_ms(lambda path=path, xml=xml: deployment._check_names(path, xml), runs)
        print(f"{path.name:32} {whole:8.1f}ms {names:8.1f}ms {names / whole:6.0%}")


if __name__ == "__main__":
    main()
