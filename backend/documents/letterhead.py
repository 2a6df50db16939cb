"""What every official form prints in its head: the university, the city, the date, the AIS's name."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from backend.accounts.models import OrgUnit


def format_date(value: date | datetime | None) -> str:
    """Dates on documents: 23.11.2026 (datetimes in the university's time zone)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    return value.strftime("%d.%m.%Y")


def format_datetime(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%d.%m.%Y %H:%M") if value else ""


def letterhead(language: str, *, on: date | None = None) -> dict[str, Any]:
    root = OrgUnit.objects.filter(parent__isnull=True).first()
    return {
        "university": {
            "name": root.name_in(language) if root else "",
            "city": settings.QUJAT_UNIVERSITY_CITY_EN if language == "en" else settings.QUJAT_UNIVERSITY_CITY,
        },
        "date": format_date(on or timezone.localdate()),
        "ais_name": settings.QUJAT_AIS_NAME,
        "number": "",
    }
