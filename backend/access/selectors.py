"""Reads of login requests: who may see which request, matching accounts, journals that can be handed over."""

from __future__ import annotations

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from backend.academics.models import Journal, Student, StudyGroup
from backend.accounts.models import OrgUnit, User
from backend.accounts.roles import Role
from backend.accounts.selectors import (
    active_assignments,
    active_substitutions,
    descendants,
    units_where,
    user_has_role,
)
from backend.core.exceptions import Forbidden, NotFound
from backend.workflow.models import ProcessInstance

from .models import AccessEntry, AccessRequest, BatchProgress

# Who sees every login request and every account created.
OVERSEERS = (Role.IT_HEAD, Role.IT_STAFF, Role.AUDITOR)
LIVE = (ProcessInstance.Status.RUNNING, ProcessInstance.Status.SUSPENDED, ProcessInstance.Status.ERROR)


def oversees(user: User) -> bool:
    return user.is_superuser or user_has_role(user, *OVERSEERS)


def headed_departments(user: User) -> list[OrgUnit]:
    """Departments the user heads, or heads today as the substitute of an absent head; a deputy head acts on
    tasks when the head cannot, but files nothing in the head's name."""
    absent = active_substitutions().filter(substitute=user).filter(Q(role="") | Q(role=Role.DEPARTMENT_HEAD))
    assignments = active_assignments().filter(
        Q(user=user) | Q(user_id__in=absent.values("absent_id")),
        role=Role.DEPARTMENT_HEAD,
        is_deputy=False,
        org_unit__kind=OrgUnit.Kind.DEPARTMENT,
    )
    units = {a.org_unit.pk: a.org_unit for a in assignments.select_related("org_unit")}
    return sorted(units.values(), key=lambda u: u.code)


def dean_office_schools(user: User) -> list[OrgUnit]:
    """Schools whose dean's office the user works in."""
    units = units_where(user, Role.DEAN_OFFICE)
    return sorted({u.pk: u for u in units if u.kind == OrgUnit.Kind.SCHOOL}.values(), key=lambda u: u.code)


def requests_for(user: User) -> QuerySet[AccessRequest]:
    """Requests the user may see: IT and auditors all; heads their departments'; deans' offices their schools'."""
    requests = AccessRequest.objects.select_related(
        "instance", "requested_by", "department", "school", "group", "memo", "progress"
    )
    if oversees(user):
        return requests
    departments = descendants(units_where(user, Role.DEPARTMENT_HEAD))
    schools = descendants(units_where(user, Role.DEAN_OFFICE))
    return requests.filter(
        Q(requested_by=user)
        | Q(department_id__in=departments)
        | Q(kind=AccessRequest.Kind.STUDENTS, school_id__in=schools)
    )


def request_visible(user: User, pk: int) -> AccessRequest:
    """The request if the user may see it; a plain "not found" otherwise (no hint that it exists)."""
    request = requests_for(user).filter(pk=pk).first()
    if request is None:
        raise NotFound(_("There is no such request."))
    return request


def entries_of(request: AccessRequest) -> QuerySet[AccessEntry]:
    return request.entries.select_related("account", "match", "student").prefetch_related(
        "journals__discipline", "journals__group"
    )


def accounts_for(user: User) -> QuerySet[AccessEntry]:
    """Accounts created or reused by login requests, newest first: for IT and auditors."""
    if not oversees(user):
        raise Forbidden(_("The list of accounts is for the IT department and auditors."))
    return (
        AccessEntry.objects.filter(account__isnull=False)
        .exclude(request__kind=AccessRequest.Kind.OFFBOARDING)
        .select_related("account", "request__instance", "request__department", "request__group")
        .order_by("-request__submitted_at", "order", "pk")
    )


def account_matching(*, email: str, iin: str) -> tuple[User | None, list[str]]:
    """An existing account with this e-mail (any case) or IIN, and what matched ("email", "iin")."""
    by_email = (
        User.objects.annotate(email_lower=Lower("email")).filter(email_lower=email.strip().lower()).first()
        if email.strip()
        else None
    )
    by_iin = User.objects.filter(iin=iin).first() if iin else None
    account = by_email or by_iin
    if account is None:
        return None, []
    matched = [name for name, found in (("email", by_email), ("iin", by_iin)) if found and found.pk == account.pk]
    return account, matched


def emails_in_live_requests(emails: list[str]) -> dict[str, int]:
    """E-mails already asked for in a request still under way, with that request's case number."""
    lowered = [e.strip().lower() for e in emails if e.strip()]
    rows = (
        AccessEntry.objects.annotate(email_lower=Lower("email"))
        .filter(
            email_lower__in=lowered,
            request__instance__status__in=LIVE,
            status__in=[AccessEntry.Status.REQUESTED, AccessEntry.Status.MATCHED, AccessEntry.Status.INVITED],
        )
        .values_list("email_lower", "request__instance_id")
    )
    return dict(rows)


def live_request_for_group(group: StudyGroup) -> AccessRequest | None:
    return AccessRequest.objects.filter(group=group, instance__status__in=LIVE).first()


def live_offboarding_for(account: User) -> AccessRequest | None:
    return AccessRequest.objects.filter(
        kind=AccessRequest.Kind.OFFBOARDING, entries__account=account, instance__status__in=LIVE
    ).first()


def students_without_account(group: StudyGroup) -> QuerySet[Student]:
    """Students of the group still studying (or on leave) with no account, or with one never activated (its links
    expired and the request was closed)."""
    never_activated = Q(user__is_active=False, user__password__startswith=UNUSABLE_PASSWORD_PREFIX)
    return Student.objects.filter(
        Q(user__isnull=True) | never_activated,
        group=group,
        status__in=[Student.Status.STUDYING, Student.Status.ACADEMIC_LEAVE],
    ).order_by("last_name", "first_name", "pk")


def groups_for(user: User) -> QuerySet[StudyGroup]:
    """Groups of the schools whose dean's office the user works in."""
    schools = [s.pk for s in dean_office_schools(user)]
    return StudyGroup.objects.filter(specialty__school_id__in=schools).select_related("specialty").order_by("name")


def journals_for_handover(departments: list[OrgUnit]) -> QuerySet[Journal]:
    """Journals of these departments' disciplines that are still kept (open or reopened), for handing over."""
    return (
        Journal.objects.filter(discipline__department__in=departments)
        .exclude(status=Journal.Status.CLOSED)
        .select_related("discipline__department", "group", "period", "teacher")
        .order_by("discipline__code", "group__name", "lesson_type")
    )


def teachers_of(departments: list[OrgUnit]) -> QuerySet[User]:
    """Active people holding the teacher role in these departments (whose account a head may ask to deactivate)."""
    ids = active_assignments().filter(role=Role.TEACHER, org_unit__in=departments).values("user_id")
    return User.objects.filter(pk__in=ids, is_active=True).order_by("last_name", "first_name")


def progress_of(request: AccessRequest) -> BatchProgress | None:
    return BatchProgress.objects.filter(request=request).first()


def awaiting(*, request: AccessRequest) -> int:
    """How many account holders have not set their password yet."""
    return request.entries.filter(status=AccessEntry.Status.INVITED).count()
