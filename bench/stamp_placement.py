"""What finding a blank place for the signature stamp costs per signature (signing.placement.free_box).

    .venv/bin/python bench/stamp_placement.py FILE.pdf [--runs 15]

Prints the median and p95 over the runs, and where the stamp goes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from signing.placement import free_box
from signing.stamp import STAMP_HEIGHT, STAMP_WIDTH


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("pdf", type=Path)
    parser.add_argument("--runs", type=int, default=15)
    options = parser.parse_args()
    pdf = options.pdf.read_bytes()
    times = []
    placed = None
    for _ in range(options.runs):
        start = time.perf_counter()
        placed = free_box(pdf, width=STAMP_WIDTH, height=STAMP_HEIGHT)
        times.append(time.perf_counter() - start)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print(
        f"placement: median {statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms over {options.runs} runs"
    )
    print(f"stamp at page {placed[0] + 1 if placed else '-'}, box {placed[1] if placed else '-'}")


if __name__ == "__main__":
    main()
