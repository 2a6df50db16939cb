"""Mergeable duration histograms: how a year of per-day summaries gives percentiles without reading every task.

A duration of d seconds falls into bucket ⌈log_γ d⌉ (γ = (1 + α)/(1 − α), α = 2 %), and a bucket stands for
the value 2γᵏ/(γ + 1), which lies within α of every duration in it (the DDSketch mapping); a second or less
is bucket 0 and counts as nothing. A histogram is a dict {bucket: count} (keys are strings, as JSON keeps them);
histograms of any days, units or steps are merged by adding counts, so the percentile of a merge is that of
all the durations, within the same bound.

Percentiles interpolate between the two nearest ranks like `percentile_cont` (position = fraction × (n − 1)):
each of the two values is within α of the exact one, so the result is within α of what `percentile_cont`
gives on the exact durations (or within a second of it when it is a second or less).

The buckets are stored in the summaries: a change of α needs them rebuilt (a migration that resets the facts,
as 0002 does).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping

RELATIVE_ERROR = 0.02  # a month row of a busy step holds about a hundred buckets: merging them is the cost
GAMMA = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR)
_LOG_GAMMA = math.log(GAMMA)

Histogram = dict[str, int]


def bucket(seconds: float) -> int:
    """The bucket of a duration; 0 for a second or less."""
    if seconds <= 1:
        return 0
    return max(1, math.ceil(math.log(seconds) / _LOG_GAMMA))


def bucket_value(key: int) -> float:
    """The duration a bucket stands for."""
    if key <= 0:
        return 0.0
    return 2 * GAMMA**key / (GAMMA + 1)


def histogram(durations: Iterable[float | None]) -> Histogram:
    """The histogram of some durations (None ignored)."""
    counts = Counter(str(bucket(d)) for d in durations if d is not None)
    return dict(counts)


def merge(histograms: Iterable[Mapping[str, int] | None]) -> Histogram:
    """The histogram of all the durations behind `histograms`."""
    total: Counter[str] = Counter()
    for one in histograms:
        if one:
            total.update(one)
    return dict(total)


def count(hist: Mapping[str, int]) -> int:
    return sum(hist.values())


def percentiles(hist: Mapping[str, int], fractions: Iterable[float]) -> list[float | None]:
    """`percentile_cont(fraction)` of the durations behind `hist`, for each fraction (None when empty)."""
    ordered = sorted((int(k), n) for k, n in hist.items() if n > 0)
    total = sum(n for _k, n in ordered)
    results: list[float | None] = []
    for fraction in fractions:
        if not total:
            results.append(None)
            continue
        position = fraction * (total - 1)
        lower = _value_at(ordered, math.floor(position))
        upper = _value_at(ordered, math.ceil(position))
        results.append(lower + (upper - lower) * (position - math.floor(position)))
    return results


def _value_at(ordered: list[tuple[int, int]], rank: int) -> float:
    seen = 0
    for key, n in ordered:
        seen += n
        if rank < seen:
            return bucket_value(key)
    return bucket_value(ordered[-1][0])
