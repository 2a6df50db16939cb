"""percentile_cont: PostgreSQL's and the aggregate registered on SQLite give the same numbers."""

from __future__ import annotations

import sqlite3

import pytest

from backend.monitor.percentiles import _SqlitePercentile, percentile_cont


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5, 5.5),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9, 9.1),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95, 9.55),
        ([7], 0.9, 7.0),
        ([3, 1, 2], 0.5, 2.0),
        ([], 0.5, None),
    ],
)
def test_linear_interpolation_between_ranks(values: list[float], fraction: float, expected: float | None) -> None:
    result = percentile_cont(values, fraction)
    assert result == pytest.approx(expected) if expected is not None else result is None


def test_the_sqlite_aggregate_ignores_nulls_and_groups() -> None:
    db = sqlite3.connect(":memory:")
    db.create_aggregate("percentile_cont", 2, _SqlitePercentile)
    db.execute("create table t (g text, x real)")
    db.executemany("insert into t values (?, ?)", [("a", v) for v in range(1, 11)] + [("a", None), ("b", 4.0)])
    rows = dict(db.execute("select g, percentile_cont(0.9, x) from t group by g").fetchall())
    assert rows == {"a": pytest.approx(9.1), "b": 4.0}
