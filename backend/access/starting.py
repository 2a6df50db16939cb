"""Starting a login request: the start form's values (bpmn/forms/login_request/start.json, already validated
and typed) checked against the records — who asks, for which department or group, for whom — and the
request's records made in the start transaction.

The diagram (bpmn/login_request.bpmn) decides what happens next; its script tasks call the helpers in
scripts.py, which call decisions.py, provisioning.py, group_accounts.py, activation_period.py and
deactivation.py for the running case.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from backend.academics.models import StudyGroup
from backend.accounts.models import OrgUnit, User
from backend.core.exceptions import Conflict, Forbidden, ValidationFailed
from backend.workflow.models import ProcessInstance
from backend.workflow.registry import ProcessHooks, StartSpec, register_process

from . import selectors
from .memo import memo_language
from .models import AccessEntry, AccessRequest

PROCESS_KEY = "login_request"
MAX_TEACHERS = 30
# The start form's fields each kind of request takes (besides `kind`).
KIND_FIELDS: dict[str, set[str]] = {
    AccessRequest.Kind.TEACHERS: {"department", "teachers"},
    AccessRequest.Kind.STUDENTS: {"group"},
    AccessRequest.Kind.OFFBOARDING: {"account", "reason"},
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


def _teachers_start(user: User, *, department_code: str | None, teachers: list[dict[str, Any]]) -> StartSpec:
    from backend.signatures.services import signing_certificate

    department = _department_of(user, department_code)
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
            "last_name": " ".join(t["last_name"].split()),
            "first_name": " ".join(t["first_name"].split()),
            "patronymic": " ".join(t["patronymic"].split()),
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


def _students_start(user: User, *, group_id: int) -> StartSpec:
    schools = selectors.dean_office_schools(user)
    if not schools:
        raise Forbidden(_("Only the dean's office may ask for students' accounts."))
    group = StudyGroup.objects.select_related("specialty__school").filter(pk=group_id).first()
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


def _offboarding_start(user: User, *, username: str, reason: str) -> StartSpec:
    departments = selectors.headed_departments(user)
    if not departments:
        raise Forbidden(_("Only a head of department may ask to deactivate a teacher's account."))
    account = User.objects.filter(username=username, is_active=True).first()
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
            "reason": reason.strip(),
        },
        business_key=account.username,
        subject=_subject(AccessRequest.Kind.OFFBOARDING, names=account.short_name, unit=department),
    )


def access_start_prepare(
    *,
    user: User,
    kind: str = AccessRequest.Kind.TEACHERS,
    department: str | None = None,
    teachers: list[dict[str, Any]] | None = None,
    group: int | None = None,
    account: str | None = None,
    reason: str | None = None,
) -> StartSpec:
    """Check a request against the records: the kind, who asks, for whom (no change is made here)."""
    given = {"department": department, "teachers": teachers, "group": group, "account": account, "reason": reason}
    foreign = sorted(name for name, value in given.items() if value is not None and name not in KIND_FIELDS[kind])
    if foreign:
        raise ValidationFailed(
            _("Please correct the marked fields."),
            fields={name: [_("This kind of request has no such field.")] for name in foreign},
        )
    if kind == AccessRequest.Kind.TEACHERS:
        # The start form requires each kind's fields, so none of these is missing here.
        return _teachers_start(user, department_code=department, teachers=teachers or [])
    if kind == AccessRequest.Kind.STUDENTS:
        return _students_start(user, group_id=group or 0)
    return _offboarding_start(user, username=account or "", reason=reason or "")


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
