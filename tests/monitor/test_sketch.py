"""The duration histograms: a merge is the histogram of all the durations, and its percentiles are within the
stated relative error of `percentile_cont` on the exact durations."""

from __future__ import annotations

import math
import random

import pytest

from backend.monitor import sketch


def percentile_cont(values: list[float], fraction: float) -> float:
    """What `percentile_cont(fraction) WITHIN GROUP (ORDER BY x)` gives on the exact values."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower, upper = ordered[math.floor(position)], ordered[math.ceil(position)]
    return lower + (upper - lower) * (position - math.floor(position))


def test_the_reference_interpolates_like_postgresql() -> None:
    ten = [float(v) for v in range(1, 11)]
    assert [percentile_cont(ten, f) for f in (0.5, 0.9, 0.95)] == pytest.approx([5.5, 9.1, 9.55])


def test_every_duration_is_within_the_error_of_its_bucket() -> None:
    for seconds in [1.001, 1.5, 59.0, 3600.0, 86400.0 * 3, 86400.0 * 400]:
        assert sketch.bucket_value(sketch.bucket(seconds)) == pytest.approx(seconds, rel=sketch.RELATIVE_ERROR)
    assert sketch.bucket_value(sketch.bucket(0.0)) == sketch.bucket_value(sketch.bucket(1.0)) == 0.0


def test_a_merge_is_the_histogram_of_all_the_durations() -> None:
    rng = random.Random(7)  # noqa: S311 - chosen test data, not secrets
    days = [[rng.lognormvariate(10, 1.2) for _ in range(rng.randint(0, 40))] for _ in range(60)]
    merged = sketch.merge(sketch.histogram(day) for day in days)
    assert merged == sketch.histogram(d for day in days for d in day)
    assert sketch.count(merged) == sum(len(day) for day in days)


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.5, 0.9, 0.95, 0.99, 1.0])
def test_percentiles_are_within_the_relative_error(fraction: float) -> None:
    rng = random.Random(17)  # noqa: S311 - chosen test data, not secrets
    durations = [rng.lognormvariate(11, 0.9) for _ in range(5000)] + [rng.uniform(1, 600) for _ in range(500)]
    [estimate] = sketch.percentiles(sketch.histogram(durations), (fraction,))
    exact = percentile_cont(durations, fraction)
    assert estimate == pytest.approx(exact, rel=sketch.RELATIVE_ERROR)


def test_an_empty_histogram_has_no_percentiles() -> None:
    assert sketch.percentiles({}, (0.5, 0.9)) == [None, None]
