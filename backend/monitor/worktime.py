"""Durations on the working-day calendar the due dates are counted on (backend/core/workdays.py).

A working day counts whole (24 hours) and a non-working day not at all, in local time: a task created on
Friday at 15:00 with two working days is due on Tuesday at 15:00, and finishing it exactly then took 48
working hours — the same arithmetic as `add_working_days`. Time a case spent suspended is left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from backend.core.models import CalendarDay
from backend.core.workdays import is_working_day

DAY = 86400.0
Interval = tuple[datetime, datetime]


class WorkCalendar:
    """Working days loaded once for a range of dates (exceptions from the admin, holidays, weekends)."""

    def __init__(self, first: date, last: date) -> None:
        self.exceptions = dict(
            CalendarDay.objects.filter(date__gte=first - timedelta(days=1), date__lte=last + timedelta(days=1))
            .values_list("date", "is_working")
            .order_by()
        )
        self._working: dict[date, bool] = {}

    def is_working(self, day: date) -> bool:
        known = self._working.get(day)
        if known is None:
            known = self._working[day] = is_working_day(day, self.exceptions)
        return known

    def seconds(self, start: datetime, end: datetime) -> float:
        """Working seconds between two moments."""
        if end <= start:
            return 0.0
        zone = timezone.get_current_timezone()
        local_start, local_end = timezone.localtime(start, zone), timezone.localtime(end, zone)
        total = 0.0
        day = local_start.date()
        while day <= local_end.date():
            if self.is_working(day):
                day_start = datetime.combine(day, time.min, tzinfo=zone)
                lower = max(local_start, day_start)
                upper = min(local_end, day_start + timedelta(days=1))
                total += max(0.0, (upper - lower).total_seconds())
            day += timedelta(days=1)
        return total

    def seconds_excluding(self, start: datetime, end: datetime, gaps: Iterable[Interval]) -> float:
        """Working seconds between two moments, less those inside `gaps` (the case's suspensions)."""
        total = self.seconds(start, end)
        for gap_start, gap_end in gaps:
            total -= self.seconds(max(start, gap_start), min(end, gap_end))
        return max(0.0, total)

    def add_seconds(self, moment: datetime, seconds: float) -> datetime:
        """The moment `seconds` working seconds after `moment` (the inverse of `seconds`)."""
        zone = timezone.get_current_timezone()
        local = timezone.localtime(moment, zone)
        left = seconds
        day = local.date()
        while True:
            day_start = datetime.combine(day, time.min, tzinfo=zone)
            if self.is_working(day):
                lower = max(local, day_start)
                room = (day_start + timedelta(days=1) - lower).total_seconds()
                if left <= room:
                    return lower + timedelta(seconds=left)
                left -= room
            day += timedelta(days=1)

    def subtract_days(self, moment: datetime, days: int) -> datetime:
        """The moment `days` working days before `moment` (the inverse of `add_working_days`)."""
        local = timezone.localtime(moment)
        day = local.date()
        remaining = days
        while remaining > 0:
            day -= timedelta(days=1)
            if self.is_working(day):
                remaining -= 1
        return local.replace(year=day.year, month=day.month, day=day.day)
