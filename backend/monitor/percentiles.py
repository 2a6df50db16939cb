"""`percentile_cont` in the database: PostgreSQL's own, and the same function registered on SQLite.

Both interpolate linearly between the two nearest ranks (position = fraction × (n − 1)), so a figure is the
same number whichever database computed it.
"""

from __future__ import annotations

import math
from typing import Any

from django.db.models import Aggregate, FloatField


class Percentile(Aggregate):
    """The continuous percentile of an expression over the group, e.g. `Percentile("wait_seconds", 0.9)`."""

    function = "percentile_cont"
    name = "Percentile"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        fraction = float(fraction)
        if not 0.0 <= fraction <= 1.0 or math.isnan(fraction):
            raise ValueError("a percentile's fraction lies between 0 and 1")
        # A float the code chose, never user input: written into the SQL as a literal.
        super().__init__(expression, fraction=repr(fraction), **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        # The registered aggregate takes the fraction as its first argument; FILTER (WHERE …) wraps either form.
        clone = self.copy()
        clone.template = "%(function)s(%(fraction)s, %(expressions)s)"
        return super(Percentile, clone).as_sql(compiler, connection, **extra_context)


def percentile_cont(values: list[float], fraction: float) -> float | None:
    """What `percentile_cont(fraction) WITHIN GROUP (ORDER BY x)` returns for `values` (nulls ignored)."""
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = math.ceil(position)
    if lower == upper:
        return float(ordered[lower])
    return float(ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower))


class _SqlitePercentile:
    def __init__(self) -> None:
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, fraction: float, value: float | None) -> None:
        self.fraction = fraction
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return percentile_cont(self.values, self.fraction)


def register_sqlite_aggregates(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("percentile_cont", 2, _SqlitePercentile)
