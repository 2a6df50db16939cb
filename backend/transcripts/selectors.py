"""Reads of transcript issuance: requests a person may see, the registry journal, periods to choose from."""

from __future__ import annotations

from django.db.models import QuerySet

from backend.academics.models import AcademicPeriod, Student
from backend.accounts.models import User
from backend.accounts.roles import Role
from backend.accounts.selectors import descendants, units_where, user_has_role
from backend.signatures.models import PublishedDocument
from backend.signatures.selectors import may_download

from .models import Notice, RegistryEntry, TranscriptRequest

STAFF = (Role.REGISTRAR_STAFF, Role.REGISTRAR_HEAD, Role.REGISTRAR_INSPECTOR, Role.AUDITOR)


def is_staff(user: User) -> bool:
    return user.is_superuser or user_has_role(user, *STAFF)


def requests_for(user: User) -> QuerySet[TranscriptRequest]:
    """A student sees their own; the Registrar office and auditors all; deans their school's students'."""
    requests = TranscriptRequest.objects.select_related(
        "student__group", "kind", "instance", "document", "student__user"
    )
    if is_staff(user):
        return requests
    schools = descendants(units_where(user, Role.SCHOOL_DEAN, Role.DEAN_OFFICE))
    if schools:
        return requests.filter(student__group__specialty__school_id__in=schools) | requests.filter(student__user=user)
    return requests.filter(student__user=user)


def student_of(user: User) -> Student | None:
    return Student.objects.select_related("group__specialty__school").filter(user=user).first()


def periods_of(student: Student) -> list[AcademicPeriod]:
    """The periods the student has final grades for, oldest first."""
    return list(AcademicPeriod.objects.filter(finalgrade__student=student).distinct().order_by("starts_on"))


# The years the registry journal can be asked for.
REGISTRY_YEARS = (2000, 2100)


def registry(*, year: int | None = None) -> QuerySet[RegistryEntry]:
    entries = RegistryEntry.objects.select_related("issued_by", "signed_by", "handed_over_by")
    if year:
        entries = entries.filter(issued_on__year=year)
    return entries.order_by("issued_on", "sequence")


def unread_notices(user: User) -> QuerySet[Notice]:
    return Notice.objects.filter(user=user, read_at__isnull=True)


def signed_pdf_for(request: TranscriptRequest, user: User) -> PublishedDocument | None:
    """The issued, signed transcript if this person may download it (its holder, the Registrar office)."""
    publication = getattr(request.document, "publication", None) if request.document else None
    if publication is None or not publication.signed_pdf or not may_download(publication, user):
        return None
    return publication
