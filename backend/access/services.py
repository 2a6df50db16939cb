"""Writes of login requests: checking a request, finding existing accounts, creating and reusing accounts,
the student group's background job, the activation period, and deactivating an account.

The diagram (bpmn/login_request.bpmn) decides the order; its script tasks call the helpers in scripts.py,
which call these services for the running case. `record` appends to that case's history in the same
transaction (the engine's own chain while a step runs).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from backend.academics.models import StudyGroup
from backend.accounts.models import OrgUnit, RoleAssignment, User, iin_validator
from backend.accounts.roles import Role
from backend.accounts.selectors import role_holders
from backend.accounts.services import user_create, user_deactivate
from backend.core.exceptions import Conflict, Forbidden, ValidationFailed
from backend.workflow import services as workflow
from backend.workflow.history import history_record
from backend.workflow.models import ProcessInstance
from backend.workflow.registry import ProcessHooks, StartSpec, register_process

from . import selectors
from .activation import ACTIVATION_PERIOD, REMINDER_AFTER, token_issue, tokens_revoke
from .emails import access_added_mail_send
from .memo import memo_language
from .models import AccessEntry, AccessRequest, BatchProgress
from .usernames import unique_username

PROCESS_KEY = "login_request"
MESSAGE_ACCOUNTS_CREATED = "accounts_created"
MAX_TEACHERS = 30
# How far a start date may lie from today: a memo is filed before the academic year, sometimes a little late.
START_DATE_PAST = timedelta(days=60)
START_DATE_FUTURE = timedelta(days=366)

Record = Callable[[str, dict[str, Any]], None]
logger = logging.getLogger(__name__)


# --- checking a request --------------------------------------------------------------------------------------------


def name_in_full(value: str) -> None:
    """A surname, name or patronymic written in full: not an initial ("А.") and not empty of letters."""
    text = " ".join(value.split())
    if len(text) < 2 or "." in text or not any(c.isalpha() for c in text):
        raise DjangoValidationError(_("Write the name in full, not as an initial."), code="initial")


def _in_full(value: str) -> str:
    name_in_full(value)
    return " ".join(value.split())


class TeacherInput(serializers.Serializer):
    position = serializers.CharField(max_length=255)
    last_name = serializers.CharField(max_length=150)
    first_name = serializers.CharField(max_length=150)
    patronymic = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    email = serializers.EmailField(max_length=254)
    start_date = serializers.DateField()
    iin = serializers.CharField(max_length=12, required=False, allow_blank=True, default="", validators=[iin_validator])
    journals = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    language = serializers.ChoiceField(choices=User.Language.choices, required=False)

    def validate_last_name(self, value: str) -> str:
        return _in_full(value)

    def validate_first_name(self, value: str) -> str:
        return _in_full(value)

    def validate_patronymic(self, value: str) -> str:
        return _in_full(value) if value.strip() else ""

    def validate_start_date(self, value: date) -> date:
        today = timezone.localdate()
        if not today - START_DATE_PAST <= value <= today + START_DATE_FUTURE:
            raise serializers.ValidationError(_("The start date must lie within the coming year."))
        return value


class TeachersInput(serializers.Serializer):
    department = serializers.SlugField(max_length=50, required=False)
    teachers = serializers.ListField(child=TeacherInput(), allow_empty=False, max_length=MAX_TEACHERS)


class StudentsInput(serializers.Serializer):
    group = serializers.IntegerField()


class OffboardingInput(serializers.Serializer):
    account = serializers.CharField(max_length=150, help_text="The username of the account to deactivate.")
    reason = serializers.CharField(min_length=5, max_length=1000)


KINDS = {
    AccessRequest.Kind.TEACHERS: TeachersInput,
    AccessRequest.Kind.STUDENTS: StudentsInput,
    AccessRequest.Kind.OFFBOARDING: OffboardingInput,
}

SUBJECTS: dict[str, dict[str, str]] = {
    AccessRequest.Kind.TEACHERS: {
        "kk": "Жаңа оқытушыларға логин: {names} — {unit}",
        "ru": "Логины для новых преподавателей: {names} — {unit}",
        "en": "Logins for new teachers: {names} — {unit}",
    },
    AccessRequest.Kind.STUDENTS: {
        "kk": "{group} тобының студенттеріне логин ({count})",
        "ru": "Логины для студентов группы {group} ({count})",
        "en": "Logins for the students of group {group} ({count})",
    },
    AccessRequest.Kind.OFFBOARDING: {
        "kk": "Тіркелгіні өшіру: {names} — {unit}",
        "ru": "Отключение учётной записи: {names} — {unit}",
        "en": "Deactivate the account: {names} — {unit}",
    },
}


def _subject(kind: str, **values: Any) -> dict[str, str]:
    subject = {}
    for language, template in SUBJECTS[kind].items():
        unit = values.get("unit")
        subject[language] = template.format(
            **{**values, "unit": unit.name_in(language) if isinstance(unit, OrgUnit) else unit or ""}
        )
    return subject


def _names(people: list[dict[str, Any]]) -> str:
    shown = [f"{p['last_name']} {p['first_name'][:1]}." for p in people[:3]]
    return ", ".join(shown) + (f" +{len(people) - 3}" if len(people) > 3 else "")


def _department_of(user: User, code: str | None) -> OrgUnit:
    departments = selectors.headed_departments(user)
    if not departments:
        raise Forbidden(_("Only a head of department may ask for teachers' accounts."))
    if not code:
        if len(departments) > 1:
            raise ValidationFailed(
                _("Please correct the marked fields."),
                fields={"department": [_("You head several departments: choose one.")]},
            )
        return departments[0]
    chosen = next((d for d in departments if d.code == code), None)
    if chosen is None:
        raise Forbidden(
            _("You may ask for accounts only for a department you head."),
            fields={"department": [_("You do not head this department.")]},
        )
    return chosen


def _teachers_start(user: User, values: dict[str, Any]) -> StartSpec:
    from backend.signatures.services import signing_certificate

    department = _department_of(user, values.get("department"))
    teachers = values["teachers"]
    fields: dict[str, list[str]] = {}
    seen_emails: dict[str, int] = {}
    seen_iins: dict[str, int] = {}
    handover = {j.pk: j for j in selectors.journals_for_handover([department])}
    for index, teacher in enumerate(teachers):
        email = teacher["email"].strip().lower()
        if email in seen_emails:
            fields[f"teachers.{index}.email"] = [_("The same e-mail is given twice in this request.")]
        seen_emails.setdefault(email, index)
        if teacher["iin"]:
            if teacher["iin"] in seen_iins:
                fields[f"teachers.{index}.iin"] = [_("The same IIN is given twice in this request.")]
            seen_iins.setdefault(teacher["iin"], index)
        unknown = [str(pk) for pk in teacher["journals"] if pk not in handover]
        if unknown:
            fields[f"teachers.{index}.journals"] = [
                _("Not a journal of your department that is still kept: %(ids)s.") % {"ids": ", ".join(unknown)}
            ]
    live = selectors.emails_in_live_requests(list(seen_emails))
    for email, instance_id in live.items():
        fields.setdefault(f"teachers.{seen_emails[email]}.email", []).append(
            _("An account for this e-mail is already being requested (case No. %(number)s).") % {"number": instance_id}
        )
    if fields:
        raise ValidationFailed(_("Please correct the marked fields."), fields=fields)
    if signing_certificate(user) is None:
        raise ValidationFailed(
            _(
                "You have no valid signing certificate, and the memo must carry your digital signature. Ask the "
                "IT department to issue or register your certificate, then file the request again."
            ),
            code="no_certificate",
            fields={"non_field_errors": [_("No valid signing certificate.")]},
        )
    language = memo_language(user.language)
    people = [
        {
            "position": t["position"].strip(),
            "last_name": t["last_name"],
            "first_name": t["first_name"],
            "patronymic": t["patronymic"],
            "email": t["email"].strip(),
            "iin": t["iin"],
            "start_date": t["start_date"].isoformat(),
            "journals": list(dict.fromkeys(t["journals"])),
            "language": t.get("language") or user.language,
        }
        for t in teachers
    ]
    school = department.school()
    return StartSpec(
        data={
            "kind": AccessRequest.Kind.TEACHERS.value,
            "department": department.code,
            "school": school.code if school else "",
            "language": language,
            "teachers": people,
        },
        business_key=department.code,
        subject=_subject(AccessRequest.Kind.TEACHERS, names=_names(people), unit=department),
    )


def _students_start(user: User, values: dict[str, Any]) -> StartSpec:
    schools = selectors.dean_office_schools(user)
    if not schools:
        raise Forbidden(_("Only the dean's office may ask for students' accounts."))
    group = StudyGroup.objects.select_related("specialty__school").filter(pk=values["group"]).first()
    if group is None or group.school.pk not in {s.pk for s in schools}:
        raise Forbidden(
            _("You may ask for accounts only for the groups of your school."),
            fields={"group": [_("This group is not of your school.")]},
        )
    if selectors.live_request_for_group(group) is not None:
        raise Conflict(
            _("Accounts for this group are already being created."),
            fields={"group": [_("A request for this group is under way.")]},
        )
    count = selectors.students_without_account(group).count()
    if count == 0:
        raise ValidationFailed(
            _("Please correct the marked fields."),
            fields={"group": [_("Every student of this group already has an account.")]},
        )
    return StartSpec(
        data={
            "kind": AccessRequest.Kind.STUDENTS.value,
            "school": group.school.code,
            "group": group.name,
            "group_id": group.pk,
            "language": group.language if group.language in ("kk", "ru", "en") else "kk",
        },
        business_key=group.name,
        subject=_subject(AccessRequest.Kind.STUDENTS, group=group.name, count=count),
    )


def _offboarding_start(user: User, values: dict[str, Any]) -> StartSpec:
    departments = selectors.headed_departments(user)
    if not departments:
        raise Forbidden(_("Only a head of department may ask to deactivate a teacher's account."))
    account = User.objects.filter(username=values["account"], is_active=True).first()
    if account is None or account.pk == user.pk:
        raise ValidationFailed(
            _("Please correct the marked fields."),
            fields={"account": [_("Choose an active teacher of your department.")]},
        )
    # The department the teacher teaches in now: an ended assignment in another of the head's departments
    # does not count.
    department = next((d for d in departments if selectors.teachers_of([d]).filter(pk=account.pk).exists()), None)
    if department is None:
        raise Forbidden(
            _("You may ask to deactivate only the accounts of your department's teachers."),
            fields={"account": [_("This person is not a teacher of your department.")]},
        )
    if selectors.live_offboarding_for(account) is not None:
        raise Conflict(
            _("A deactivation of this account is already under way."),
            fields={"account": [_("Already being deactivated.")]},
        )
    return StartSpec(
        data={
            "kind": AccessRequest.Kind.OFFBOARDING.value,
            "department": department.code,
            "account": account.username,
            "reason": values["reason"].strip(),
        },
        business_key=account.username,
        subject=_subject(AccessRequest.Kind.OFFBOARDING, names=account.short_name, unit=department),
    )


def access_start_prepare(user: User, data: dict[str, Any]) -> StartSpec:
    """Check a request against the records: the kind, who asks, for whom (no change is made here)."""
    kind = data.get("kind") or AccessRequest.Kind.TEACHERS
    if kind not in KINDS:
        raise ValidationFailed(
            _("Please correct the marked fields."), fields={"kind": [_("Choose one of the offered values.")]}
        )
    given = KINDS[kind](data={k: v for k, v in data.items() if k != "kind"})
    given.is_valid(raise_exception=True)
    if kind == AccessRequest.Kind.TEACHERS:
        return _teachers_start(user, given.validated_data)
    if kind == AccessRequest.Kind.STUDENTS:
        return _students_start(user, given.validated_data)
    return _offboarding_start(user, given.validated_data)


def access_request_create(instance: ProcessInstance, start: StartSpec) -> None:
    """The domain record of a started case and its people (called inside the start transaction)."""
    data = start.data
    assert instance.started_by is not None  # noqa: S101 - a person started it
    kind = data["kind"]
    request = AccessRequest.objects.create(
        instance=instance,
        kind=kind,
        requested_by=instance.started_by,
        department=OrgUnit.objects.filter(code=data.get("department") or "").first(),
        school=OrgUnit.objects.filter(code=data.get("school") or "").first(),
        group=StudyGroup.objects.filter(pk=data.get("group_id") or 0).first(),
        language=data.get("language") or instance.started_by.language,
        reason=data.get("reason", ""),
    )
    if kind == AccessRequest.Kind.TEACHERS:
        for order, person in enumerate(data["teachers"], start=1):
            entry = AccessEntry.objects.create(
                request=request,
                order=order,
                position=person["position"],
                last_name=person["last_name"],
                first_name=person["first_name"],
                patronymic=person["patronymic"],
                email=person["email"],
                iin=person["iin"],
                start_date=date.fromisoformat(person["start_date"]),
                language=person["language"],
            )
            entry.journals.set(person["journals"])
    elif kind == AccessRequest.Kind.STUDENTS:
        assert request.group is not None  # noqa: S101 - checked by the start
        AccessEntry.objects.bulk_create(
            AccessEntry(
                request=request,
                order=order,
                last_name=student.last_name,
                first_name=student.first_name,
                patronymic=student.patronymic,
                email=student.email,
                iin=student.iin,
                language=request.group.language,
                student=student,
            )
            for order, student in enumerate(selectors.students_without_account(request.group), start=1)
        )
    else:
        account = User.objects.get(username=data["account"])
        AccessEntry.objects.create(
            request=request,
            order=1,
            position=account.position,
            last_name=account.last_name,
            first_name=account.first_name,
            patronymic=account.patronymic,
            email=account.email,
            iin=account.iin or "",
            language=account.language,
            account=account,
        )


register_process(ProcessHooks(key=PROCESS_KEY, prepare_start=access_start_prepare, after_start=access_request_create))


# --- the head of IT -------------------------------------------------------------------------------------------------


@transaction.atomic
def request_refuse(*, request: AccessRequest, reason: str, record: Record) -> str:
    request.refusal_reason = reason.strip()
    request.outcome = AccessRequest.Outcome.REFUSED
    request.save(update_fields=["refusal_reason", "outcome"])
    request.entries.filter(
        status__in=[AccessEntry.Status.REQUESTED, AccessEntry.Status.MATCHED, AccessEntry.Status.INVITED]
    ).update(status=AccessEntry.Status.REFUSED)
    record("note", {"event": "request_refused", "reason": request.refusal_reason})
    return request.outcome


# --- accounts for teachers ------------------------------------------------------------------------------------------


@transaction.atomic
def request_match(*, request: AccessRequest, record: Record) -> int:
    """Flag every person whose e-mail or IIN already has an account, for IT to decide; returns how many."""
    if request.approved_at is None:
        request.approved_at = timezone.now()
        request.save(update_fields=["approved_at"])
    found = 0
    for entry in request.entries.filter(status__in=[AccessEntry.Status.REQUESTED, AccessEntry.Status.MATCHED]):
        account, matched_by = selectors.account_matching(email=entry.email, iin=entry.iin)
        if account is None:
            continue
        entry.status = AccessEntry.Status.MATCHED
        entry.match = account
        entry.matched_by = ",".join(matched_by)
        entry.save(update_fields=["status", "match", "matched_by"])
        record(
            "note",
            {
                "event": "existing_account_found",
                "person": entry.full_name,
                "account": account.username,
                "account_name": account.full_name,
                "active": account.is_active,
                "matched_by": matched_by,
            },
        )
        found += 1
    return found


def _window(request: AccessRequest, now: datetime) -> datetime:
    """Start a new round of links: they expire after the activation period; returns when."""
    request.links_expire_at = now + ACTIVATION_PERIOD
    request.reminded_at = None
    return request.links_expire_at


def _role_grant(*, user: User, role: str, unit: OrgUnit, starts: date | None) -> bool:
    """Give the role for the unit unless the user holds it already; True when it was given."""
    today = timezone.localdate()
    held = RoleAssignment.objects.filter(user=user, role=role, org_unit=unit).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=today)
    )
    if held.exists():
        return False
    RoleAssignment.objects.create(user=user, role=role, org_unit=unit, valid_from=starts or today)
    return True


def _journals_hand_over(entry: AccessEntry, user: User, record: Record) -> None:
    for journal in entry.journals.select_for_update(of=("self",)).select_related("teacher", "discipline", "group"):
        previous = journal.teacher
        if previous.pk == user.pk:
            continue
        journal.teacher = user
        journal.save(update_fields=["teacher", "updated_at"])
        record(
            "note",
            {
                "event": "journal_handed_over",
                "journal": journal.pk,
                "title": f"{journal.discipline.code} {journal.group.name} {journal.lesson_type}",
                "from": previous.username,
                "to": user.username,
            },
        )


def _account_new(entry: AccessEntry, *, role: str, unit: OrgUnit, starts: date | None) -> User:
    username = unique_username(
        first_name=entry.first_name,
        last_name=entry.last_name,
        taken=lambda name: User.objects.filter(username__iexact=name).exists(),
    )
    user = user_create(
        username=username,
        last_name=entry.last_name,
        first_name=entry.first_name,
        patronymic=entry.patronymic,
        email=entry.email,
        iin=entry.iin or None,
        position=entry.position,
        language=entry.language if entry.language in User.Language.values else User.Language.RUSSIAN,
    )
    _role_grant(user=user, role=role, unit=unit, starts=starts)
    return user


def _teacher_create(entry: AccessEntry, request: AccessRequest, expires_at: datetime, record: Record) -> None:
    assert request.department is not None  # noqa: S101 - a teachers' request names its department
    try:
        with transaction.atomic():
            user = _account_new(entry, role=Role.TEACHER, unit=request.department, starts=entry.start_date)
    except DjangoValidationError as error:
        # An account with this e-mail or IIN appeared after the check (or the data is refused): never silently.
        entry.status = AccessEntry.Status.REFUSED
        entry.note = _("The account could not be created: %(error)s") % {"error": "; ".join(error.messages)}
        entry.save(update_fields=["status", "note"])
        record("note", {"event": "account_not_created", "person": entry.full_name, "reason": error.messages})
        return
    entry.account = user
    entry.account_created = True
    entry.status = AccessEntry.Status.INVITED
    entry.save(update_fields=["account", "account_created", "status"])
    _journals_hand_over(entry, user, record)
    token_issue(entry=entry, expires_at=expires_at)
    record("note", {"event": "account_created", "person": entry.full_name, "username": user.username})


def _teacher_reuse(entry: AccessEntry, request: AccessRequest, expires_at: datetime, record: Record) -> None:
    assert request.department is not None  # noqa: S101 - a teachers' request names its department
    assert entry.match is not None  # noqa: S101 - only matched entries are reused
    account = entry.match
    granted = _role_grant(user=account, role=Role.TEACHER, unit=request.department, starts=entry.start_date)
    entry.account = account
    _journals_hand_over(entry, account, record)
    if account.is_active and account.has_usable_password():
        entry.status = AccessEntry.Status.ACTIVE
        entry.activated_at = timezone.now()
        transaction.on_commit(partial(access_added_mail_send, entry_id=entry.pk))
    else:
        # A switched-off account, or one never activated: its holder sets a password through a fresh link.
        entry.status = AccessEntry.Status.INVITED
    entry.save(update_fields=["account", "status", "activated_at"])
    if entry.status == AccessEntry.Status.INVITED:
        token_issue(entry=entry, expires_at=expires_at)
    record(
        "note",
        {"event": "account_reused", "person": entry.full_name, "username": account.username, "role_added": granted},
    )


@transaction.atomic
def request_provision(*, request: AccessRequest, duplicates: dict[str, Any], record: Record) -> int:
    """Create (or reuse, as IT decided) the accounts and mail the links; returns how many must still activate."""
    now = timezone.now()
    until = _window(request, now)
    request.provisioned_at = now
    request.save(update_fields=["provisioned_at", "links_expire_at", "reminded_at"])
    decision = duplicates.get("decision", "")
    for entry in request.entries.select_for_update(of=("self",)).select_related("match").order_by("order", "pk"):
        if entry.status == AccessEntry.Status.MATCHED:
            if decision == "reuse":
                _teacher_reuse(entry, request, until, record)
                continue
            entry.status = AccessEntry.Status.REFUSED
            entry.note = duplicates.get("comment") or _("An account with this e-mail or IIN already exists.")
            entry.save(update_fields=["status", "note"])
            record(
                "note",
                {
                    "event": "existing_account_refused",
                    "person": entry.full_name,
                    "account": entry.match.username if entry.match else "",
                    "comment": duplicates.get("comment", ""),
                },
            )
        elif entry.status == AccessEntry.Status.REQUESTED:
            _teacher_create(entry, request, until, record)
    return awaiting(request=request)


# --- accounts for a student group -----------------------------------------------------------------------------------


@transaction.atomic
def batch_start(*, request: AccessRequest, record: Record) -> BatchProgress:
    """Queue the creation of the group's accounts (a Celery job); the page follows its progress."""
    from .tasks import create_group_accounts

    _window(request, timezone.now())
    request.save(update_fields=["links_expire_at", "reminded_at"])
    total = request.entries.filter(status=AccessEntry.Status.REQUESTED).count()
    progress, _created = BatchProgress.objects.update_or_create(
        request=request, defaults={"total": total, "state": BatchProgress.State.QUEUED}
    )
    record("note", {"event": "group_accounts_queued", "students": total})
    request_id = request.pk
    transaction.on_commit(lambda: create_group_accounts.delay(request_id))
    return progress


def _student_create(entry: AccessEntry, request: AccessRequest) -> bool:
    """One student's account, linked to their record; False (with the reason noted) when it is not created."""
    from backend.academics.models import Student

    assert request.school is not None  # noqa: S101 - a group's request names its school
    assert request.links_expire_at is not None  # noqa: S101 - set when the job was queued
    student = Student.objects.select_for_update(of=("self",)).select_related("user").get(pk=entry.student_id or 0)
    previous = student.user
    if previous is not None and not previous.is_active and not previous.has_usable_password():
        # An account a closed request created and nobody activated: the student gets a fresh link for it.
        entry.account = previous
        entry.status = AccessEntry.Status.INVITED
        entry.note = _("The account created earlier was never activated; a fresh link was sent.")
        entry.save(update_fields=["account", "status", "note"])
        token_issue(entry=entry, expires_at=request.links_expire_at)
        return True
    reason = ""
    account, matched_by = selectors.account_matching(email=student.email, iin=student.iin)
    if student.user_id is not None:
        reason = _("The student already has an account.")
    elif not student.email:
        reason = _("The student's record has no e-mail address to send the link to.")
    elif account is not None:
        entry.match = account
        entry.matched_by = ",".join(matched_by)
        reason = _("An account with this e-mail or IIN exists (%(username)s); the IT department can link it.") % {
            "username": account.username
        }
    if reason:
        entry.status = AccessEntry.Status.SKIPPED
        entry.note = reason
        entry.save(update_fields=["status", "note", "match", "matched_by"])
        return False
    entry.email = student.email
    try:
        with transaction.atomic():
            user = _account_new(entry, role=Role.STUDENT, unit=request.school, starts=None)
    except DjangoValidationError as error:
        entry.status = AccessEntry.Status.SKIPPED
        entry.note = "; ".join(error.messages)[:500]
        entry.save(update_fields=["status", "note", "email"])
        return False
    student.user = user
    student.save(update_fields=["user", "updated_at"])
    entry.account = user
    entry.account_created = True
    entry.status = AccessEntry.Status.INVITED
    entry.save(update_fields=["account", "account_created", "status", "email"])
    token_issue(entry=entry, expires_at=request.links_expire_at)
    return True


def group_accounts_create(*, request_id: int) -> int:
    """The background job: one account per student, each in its own transaction, counting as it goes.

    Idempotent: people already handled are skipped, so a retry picks up where a failed run stopped.
    """
    request = AccessRequest.objects.select_related("instance", "school").get(pk=request_id)
    progress = BatchProgress.objects.get(request=request)
    BatchProgress.objects.filter(pk=progress.pk).update(
        state=BatchProgress.State.RUNNING, started_at=progress.started_at or timezone.now(), error=""
    )
    created = 0
    try:
        pending = request.entries.filter(status=AccessEntry.Status.REQUESTED).order_by("order", "pk")
        for entry_id in list(pending.values_list("pk", flat=True)):
            with transaction.atomic():
                entry = AccessEntry.objects.select_for_update().get(pk=entry_id)
                if entry.status != AccessEntry.Status.REQUESTED:
                    continue
                made = _student_create(entry, request)
                counter = "done" if made else "skipped"
                BatchProgress.objects.filter(pk=progress.pk).update(**{counter: F(counter) + 1})
                created += made
    except Exception as error:
        BatchProgress.objects.filter(pk=progress.pk).update(state=BatchProgress.State.FAILED, error=str(error)[:2000])
        raise
    with transaction.atomic():
        now = timezone.now()
        BatchProgress.objects.filter(pk=progress.pk).update(state=BatchProgress.State.FINISHED, finished_at=now)
        AccessRequest.objects.filter(pk=request.pk, provisioned_at__isnull=True).update(provisioned_at=now)
        entries = request.entries.all()
        history_record(
            instance=request.instance,
            kind="note",
            payload={
                "event": "group_accounts_created",
                "accounts": list(
                    entries.filter(account_created=True).values_list("account__username", flat=True).order_by("order")
                ),
                "skipped": [
                    {"person": e.full_name, "reason": e.note}
                    for e in entries.filter(status=AccessEntry.Status.SKIPPED).order_by("order")
                ],
            },
        )
        workflow.instance_message(
            instance_id=request.instance_id, name=MESSAGE_ACCOUNTS_CREATED, payload={"created": created}
        )
    return created


# --- the activation period ------------------------------------------------------------------------------------------


def awaiting(*, request: AccessRequest) -> int:
    """How many account holders have not set their password yet."""
    return request.entries.filter(status=AccessEntry.Status.INVITED).count()


def expires_at(*, request: AccessRequest) -> datetime:
    """When the current round of links expires."""
    assert request.links_expire_at is not None  # noqa: S101 - set when the links went out
    return request.links_expire_at


def remind_at(*, request: AccessRequest) -> datetime:
    """When to remind: 48 hours into the round; once reminded, only after the round has ended (never)."""
    end = expires_at(request=request)
    if request.reminded_at is not None:
        return end + timedelta(days=1)
    return end - ACTIVATION_PERIOD + REMINDER_AFTER


@transaction.atomic
def request_remind(*, request: AccessRequest, record: Record) -> int:
    """Mail a fresh link (ending with the round) to everyone still to activate; the older links stop working."""
    assert request.links_expire_at is not None  # noqa: S101 - set when the links went out
    reminded = 0
    for entry in request.entries.filter(status=AccessEntry.Status.INVITED).select_related("account"):
        token_issue(entry=entry, expires_at=request.links_expire_at, reminder=True)
        reminded += 1
    request.reminded_at = timezone.now()
    request.save(update_fields=["reminded_at"])
    record("note", {"event": "activation_reminded", "people": reminded})
    return reminded


@transaction.atomic
def request_resend(*, request: AccessRequest, record: Record) -> int:
    """A new 72-hour round with fresh links for everyone still to activate."""
    until = _window(request, timezone.now())
    request.save(update_fields=["links_expire_at", "reminded_at"])
    people = 0
    for entry in request.entries.filter(status=AccessEntry.Status.INVITED).select_related("account"):
        token_issue(entry=entry, expires_at=until)
        people += 1
    record("note", {"event": "activation_links_resent", "people": people, "until": until})
    return people


@transaction.atomic
def request_close(*, request: AccessRequest, record: Record) -> str:
    """Stop waiting: links stop working and accounts this request created but nobody activated are switched off."""
    closed = []
    for entry in request.entries.filter(status=AccessEntry.Status.INVITED).select_related("account"):
        tokens_revoke(entry=entry)
        entry.status = AccessEntry.Status.CLOSED
        entry.save(update_fields=["status"])
        account = entry.account
        if account is not None and entry.account_created and not account.has_usable_password():
            account.is_active = False
            account.save(update_fields=["is_active"])
        closed.append(account.username if account else entry.full_name)
    request.outcome = AccessRequest.Outcome.CLOSED
    request.save(update_fields=["outcome"])
    record("note", {"event": "request_closed", "not_activated": closed})
    return request.outcome


@transaction.atomic
def request_finish(*, request: AccessRequest) -> str:
    active = request.entries.filter(status=AccessEntry.Status.ACTIVE).exists()
    request.outcome = AccessRequest.Outcome.COMPLETED if active else AccessRequest.Outcome.REFUSED
    request.save(update_fields=["outcome"])
    return request.outcome


# --- deactivation ---------------------------------------------------------------------------------------------------


def _department_head(request: AccessRequest, user: User) -> User:
    assert request.department is not None  # noqa: S101 - a deactivation names its department
    holders = role_holders(role=Role.DEPARTMENT_HEAD, org_unit=request.department, exclude={user.pk})
    return holders[0].user if holders else request.requested_by


@transaction.atomic
def account_deactivate(*, request: AccessRequest, actor: User | None, record: Record) -> str:
    """Switch the teacher's account off at once: sessions and API tokens revoked, roles ended, open tasks to
    the head of department."""
    entry = request.entries.select_related("account").get()
    user = User.objects.select_for_update().get(pk=entry.account_id or 0)
    tokens, sessions = user_deactivate(user=user)
    today = timezone.localdate()
    ended = 0
    for assignment in RoleAssignment.objects.filter(user=user).filter(Q(valid_to__isnull=True) | Q(valid_to__gt=today)):
        assignment.valid_to = max(today, assignment.valid_from)
        assignment.save(update_fields=["valid_to", "updated_at"])
        ended += 1
    head = _department_head(request, user)
    moved = workflow.tasks_hand_over(
        from_user=user, to_user=head, actor=actor, reason="account_deactivated", skip_instance=request.instance_id
    )
    entry.status = AccessEntry.Status.DEACTIVATED
    entry.note = request.reason[:500]
    entry.save(update_fields=["status", "note"])
    request.outcome = AccessRequest.Outcome.DEACTIVATED
    request.save(update_fields=["outcome"])
    record(
        "note",
        {
            "event": "account_deactivated",
            "username": user.username,
            "api_tokens_revoked": tokens,
            "sessions_ended": sessions,
            "roles_ended": ended,
            "tasks_moved": moved,
            "tasks_to": head.username,
        },
    )
    return request.outcome
