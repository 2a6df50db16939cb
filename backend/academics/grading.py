"""The grading scale as configuration: points → letter, grade points, pass/fail; GPA."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _

from backend.core.exceptions import ValidationFailed

from .models import GradeBand, GradingScale

# Kazakhstan's credit-system letter scale (order No. 152): installed as the default, editable in the admin.
DEFAULT_BANDS: list[tuple[str, int, int, str, bool]] = [
    ("A", 95, 100, "4.00", True),
    ("A-", 90, 94, "3.67", True),
    ("B+", 85, 89, "3.33", True),
    ("B", 80, 84, "3.00", True),
    ("B-", 75, 79, "2.67", True),
    ("C+", 70, 74, "2.33", True),
    ("C", 65, 69, "2.00", True),
    ("C-", 60, 64, "1.67", True),
    ("D+", 55, 59, "1.33", True),
    ("D", 50, 54, "1.00", True),
    ("FX", 25, 49, "0.00", False),
    ("F", 0, 24, "0.00", False),
]


def install_default_scale(scale_model: Any = GradingScale, band_model: Any = GradeBand) -> None:
    """Install the order No. 152 scale unless a default exists (also called by a data migration)."""
    if scale_model.objects.filter(is_default=True).exists():
        return
    scale = scale_model.objects.create(code="kz-152", name="Order No. 152 (0–100)", is_default=True)
    band_model.objects.bulk_create(
        band_model(scale=scale, letter=letter, min_points=low, max_points=high, grade_point=Decimal(gp), is_passing=ok)
        for letter, low, high, gp, ok in DEFAULT_BANDS
    )


@dataclass(frozen=True)
class Grade:
    letter: str
    grade_point: Decimal
    is_passing: bool


@dataclass(frozen=True)
class Scale:
    min_points: Decimal
    max_points: Decimal
    bands: tuple[GradeBand, ...]
    journal_marks: tuple[str, ...] = ()

    def grade(self, points: Decimal) -> Grade | None:
        """The band holding `points`, or None when the points are outside the scale."""
        if not (self.min_points <= points <= self.max_points):
            return None
        # Bands are sorted from the top; 94.5 belongs to the highest band whose floor it reaches.
        band = next((b for b in self.bands if b.min_points <= points), None)
        return Grade(band.letter, band.grade_point, band.is_passing) if band else None


def default_scale() -> Scale:
    scale = GradingScale.objects.filter(is_default=True).first()
    if scale is None:
        raise ValidationFailed(_("No default grading scale is configured."), code="no_scale")
    marks = tuple(mark.strip() for mark in scale.journal_marks.split(",") if mark.strip())
    return Scale(scale.min_points, scale.max_points, tuple(scale.bands.order_by("-min_points")), marks)


def grade_for(points: Decimal, scale: Scale | None = None) -> Grade:
    grade = (scale or default_scale()).grade(points)
    if grade is None:
        raise ValidationFailed(
            _("%(points)s points are outside the grading scale.") % {"points": points},
            fields={"points": [_("Points must be within the grading scale.")]},
        )
    return grade


def gpa(weighted: Iterable[tuple[int, Decimal]]) -> Decimal:
    """GPA = Σ(credits × grade points) / Σ(credits), rounded half up to two decimals."""
    total_credits = 0
    total = Decimal(0)
    for credits, grade_point in weighted:
        total_credits += credits
        total += credits * grade_point
    if not total_credits:
        return Decimal("0.00")
    return (total / total_credits).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
