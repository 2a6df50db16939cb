"""The working-day calendar: weekends, Kazakhstan's public holidays and the university's own exceptions."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays
from django.utils import timezone

from .models import CalendarDay


@lru_cache(maxsize=16)
def _public_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("KZ", years=year)


def is_working_day(day: date, exceptions: dict[date, bool] | None = None) -> bool:
    if exceptions is None:
        exceptions = dict(CalendarDay.objects.filter(date=day).values_list("date", "is_working"))
    if day in exceptions:
        return exceptions[day]
    return day.weekday() < 5 and day not in _public_holidays(day.year)


def add_working_days(start: datetime, days: int) -> datetime:
    """The moment `days` working days after `start`, at the same time of day (local time).

    A request made on Friday afternoon with 2 working days is due on Tuesday afternoon; one made on a
    holiday starts counting from the next working day.
    """
    local = timezone.localtime(start)
    window_end = local.date() + timedelta(days=days * 3 + 30)
    exceptions = dict(
        CalendarDay.objects.filter(date__gte=local.date(), date__lte=window_end).values_list("date", "is_working")
    )
    day = local.date()
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day, exceptions):
            remaining -= 1
    return local.replace(year=day.year, month=day.month, day=day.day)


def add_days(start: datetime, days: int, *, working: bool) -> datetime:
    return add_working_days(start, days) if working else start + timedelta(days=days)


def add_working_days_iso(days: int) -> str:
    """For BPMN timers: an ISO date-time `days` working days from now (use it in a timeDate)."""
    return add_working_days(timezone.now(), int(days)).isoformat()
