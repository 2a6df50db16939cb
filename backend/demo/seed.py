"""The demo university: two schools, four departments, ten teachers, 60 students, two years of grades.

Every role of DOMAIN.md has a demo login named by role key and number (`teacher1`, `school_dean1`, …),
password `demo`. Deterministic: the same seed gives the same university.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from backend.academics.grading import default_scale
from backend.academics.models import (
    AcademicPeriod,
    Discipline,
    FinalGrade,
    Journal,
    JournalMark,
    LessonType,
    Specialty,
    Student,
    StudyForm,
    StudyGroup,
)
from backend.accounts.models import OrgUnit, RoleAssignment, User
from backend.accounts.roles import Role

from . import curriculum, people

DEMO_PASSWORD = "demo"  # noqa: S105 - the documented demo password, refused unless QUJAT_DEMO
DEMO_SIGNING_PASSPHRASE = "demo"  # noqa: S105 - the demo signers' signing passphrase, printed with the logins


@dataclass
class DemoLogins:
    by_role: dict[str, list[str]] = field(default_factory=dict)

    def add(self, role: str, username: str) -> None:
        self.by_role.setdefault(role, []).append(username)


UNITS = [
    (
        "university",
        OrgUnit.Kind.UNIVERSITY,
        None,
        "Qujat демо университеті",
        "Демо-университет Qujat",
        "Qujat Demo University",
    ),
    (
        "office-registrar",
        OrgUnit.Kind.OFFICE,
        "university",
        "Тіркеуші кеңсе",
        "Офис регистратора",
        "Registrar office",
    ),
    (
        "office-it",
        OrgUnit.Kind.OFFICE,
        "university",
        "Ақпараттық технологиялар департаменті",
        "Департамент информационных технологий",
        "IT department",
    ),
    (
        "school-medicine",
        OrgUnit.Kind.SCHOOL,
        "university",
        "Жалпы медицина мектебі",
        "Школа общей медицины",
        "School of General Medicine",
    ),
    (
        "school-pharmacy",
        OrgUnit.Kind.SCHOOL,
        "university",
        "Фармация мектебі",
        "Школа фармации",
        "School of Pharmacy",
    ),
    (
        "dept-anatomy",
        OrgUnit.Kind.DEPARTMENT,
        "school-medicine",
        "Анатомия кафедрасы",
        "Кафедра анатомии",
        "Department of Anatomy",
    ),
    (
        "dept-internal",
        OrgUnit.Kind.DEPARTMENT,
        "school-medicine",
        "Ішкі аурулар кафедрасы",
        "Кафедра внутренних болезней",
        "Department of Internal Diseases",
    ),
    (
        "dept-chemistry",
        OrgUnit.Kind.DEPARTMENT,
        "school-pharmacy",
        "Фармацевтикалық химия кафедрасы",
        "Кафедра фармацевтической химии",
        "Department of Pharmaceutical Chemistry",
    ),
    (
        "dept-pharmacology",
        OrgUnit.Kind.DEPARTMENT,
        "school-pharmacy",
        "Фармакология кафедрасы",
        "Кафедра фармакологии",
        "Department of Pharmacology",
    ),
]
TEACHER_DEPARTMENTS = ["dept-anatomy"] * 3 + ["dept-internal"] * 2 + ["dept-chemistry"] * 3 + ["dept-pharmacology"] * 2
HEAD_DEPARTMENTS = ["dept-anatomy", "dept-internal", "dept-chemistry", "dept-pharmacology"]
STAFF_SCOPES = {
    "dean_curation": ["school-medicine", "school-pharmacy"],
    "school_dean": ["school-medicine", "school-pharmacy"],
    "dean_office": ["school-medicine", "school-pharmacy"],
}
POSITIONS = {
    "teacher": "аға оқытушы / старший преподаватель",
    "department_head": "кафедра меңгерушісі / заведующий кафедрой",
    "dean_curation": "курация жөніндегі декан / декан по курации",
    "school_dean": "мектеп деканы / декан школы",
    "vice_rector": "академиялық қызмет жөніндегі проректор / проректор по академической деятельности",
    "registrar_inspector": "ОР аға инспекторы / старший инспектор ОР",
    "registrar_staff": "ОР маманы / специалист ОР",
    "registrar_head": "ОР басшысы / руководитель ОР",
    "it_head": "АТ департаментінің басшысы / руководитель ДИТ",
    "it_staff": "АТ департаментінің қызметкері / сотрудник ДИТ",
    "dean_office": "деканат маманы / специалист деканата",
    "auditor": "аудитор",
}
PERIODS = [
    ("2024-2025", 1, date(2024, 9, 1), date(2025, 1, 15)),
    ("2024-2025", 2, date(2025, 1, 20), date(2025, 6, 10)),
    ("2024-2025", 3, date(2025, 6, 15), date(2025, 8, 10)),
    ("2025-2026", 1, date(2025, 9, 1), date(2026, 1, 15)),
    ("2025-2026", 2, date(2026, 1, 20), date(2026, 6, 10)),
    ("2025-2026", 3, date(2026, 6, 15), date(2026, 8, 10)),
    ("2026-2027", 1, date(2026, 9, 1), date(2027, 1, 15)),
    ("2026-2027", 2, date(2027, 1, 20), date(2027, 6, 10)),
]
GROUPS = [
    # name, specialty, admission year, course, duration, language, graduated
    ("ЖМ-24-01", "6B10101", 2024, 3, 5, "kk", False),
    ("ЖМ-24-02", "6B10101", 2024, 3, 5, "ru", False),
    ("ФМ-24-01", "6B10106", 2024, 3, 5, "kk", False),
    ("ФМ-21-01", "6B10106", 2021, 5, 5, "ru", True),
]


def _is_female(surname: str) -> bool:
    return surname.endswith(("а", "қызы", "я")) or surname in {"Ыбырайқызы"}


class DemoSeeder:
    def __init__(self) -> None:
        self.random = random.Random(2026)  # noqa: S311 - demo data, not security
        self.password = make_password(DEMO_PASSWORD)  # hashed once: 100 users, one slow hash
        self.logins = DemoLogins()
        self.units: dict[str, OrgUnit] = {}
        self.users: dict[str, User] = {}
        self.today = timezone.localdate()

    def run(self) -> DemoLogins:
        self.org_units()
        self.staff()
        self.academics()
        self.certificates()
        return self.logins

    def certificates(self) -> None:
        """Signing certificates from the university CA for everyone who signs or approves documents.

        Each demo signer's key is under the signing passphrase DEMO_SIGNING_PASSPHRASE (a real holder sets
        their own on the profile's signing key page).
        """
        from backend.signatures.keyring import passphrase_initial
        from backend.signatures.services import seal_certificate_issue, signer_certificate_issue

        signers = [
            "registrar_head1",
            "school_dean1",
            "school_dean2",
            "dean_curation1",
            "dean_curation2",
            "vice_rector1",
            "it_head1",
            *[f"department_head{n}" for n in range(1, 5)],
        ]
        # The head of the Registrar office also keeps the university's e-seal (for kinds issued under it).
        self.assign(self.users["registrar_head1"], Role.SEAL_CUSTODIAN, "university")
        seal_certificate_issue(custodian=self.users["registrar_head1"])
        for username in signers:
            signer_certificate_issue(user=self.users[username])
            passphrase_initial(user=self.users[username], passphrase=DEMO_SIGNING_PASSPHRASE)

    # --- organisation and people ------------------------------------------------------------------
    def org_units(self) -> None:
        for code, kind, parent, kk, ru, en in UNITS:
            self.units[code] = OrgUnit.objects.create(
                code=code, kind=kind, parent=self.units.get(parent or ""), name_kk=kk, name_ru=ru, name_en=en
            )

    def user(self, username: str, names: tuple[str, str, str], *, role: str, language: str = "ru") -> User:
        last, first, patronymic = names
        user = User.objects.create(
            username=username,
            password=self.password,
            last_name=last,
            first_name=first,
            patronymic=patronymic,
            email=f"{username}@demo.qujat.kz",
            position=POSITIONS.get(role, ""),
            language=language,
            iin=self.iin(),
        )
        self.users[username] = user
        self.logins.add(role, username)
        return user

    def iin(self) -> str:
        return "".join(str(self.random.randint(0, 9)) for _ in range(12))

    def assign(self, user: User, role: str, unit: str, *, deputy: bool = False) -> None:
        RoleAssignment.objects.create(
            user=user, role=role, org_unit=self.units[unit], is_deputy=deputy, valid_from=date(2024, 9, 1)
        )

    def staff(self) -> None:
        for number, (names, unit) in enumerate(zip(people.TEACHERS, TEACHER_DEPARTMENTS, strict=True), start=1):
            teacher = self.user(f"teacher{number}", names, role="teacher", language="kk" if number % 2 else "ru")
            self.assign(teacher, Role.TEACHER, unit)
        for number, (names, unit) in enumerate(zip(people.DEPARTMENT_HEADS, HEAD_DEPARTMENTS, strict=True), 1):
            head = self.user(f"department_head{number}", names, role="department_head")
            self.assign(head, Role.DEPARTMENT_HEAD, unit)
            # Heads teach too: department_head1 can file a reopen request of their own (separation of duties).
            self.assign(head, Role.TEACHER, unit)
        # The anatomy department's deputy head acts when its head may not (e.g. on the head's own note).
        self.assign(self.users["teacher2"], Role.DEPARTMENT_HEAD, "dept-anatomy", deputy=True)
        for role, names_list in people.STAFF.items():
            scopes = STAFF_SCOPES.get(role, ["university"] * len(names_list))
            for number, (names, unit) in enumerate(zip(names_list, scopes, strict=True), start=1):
                person = self.user(f"{role}{number}", names, role=role)
                self.assign(person, role, unit)
        admin = User.objects.create(
            username="admin",
            password=self.password,
            first_name="Admin",
            last_name="Qujat",
            email="admin@demo.qujat.kz",
            is_staff=True,
            is_superuser=True,
        )
        self.users["admin"] = admin
        self.logins.add("administrator", "admin")
        # The registrar maintains people and records in the admin without a developer.
        from django.contrib.auth.models import Group, Permission

        registrars, _ = Group.objects.get_or_create(name="Registrar office")
        registrars.permissions.set(
            Permission.objects.filter(content_type__app_label__in=["accounts", "academics", "monitor"]).exclude(
                codename__in=["add_apitoken", "change_apitoken", "view_apitoken", "delete_apitoken"]
            )
        )
        for username in ("registrar_head1", "registrar_inspector1"):
            user = self.users[username]
            user.is_staff = True
            user.save(update_fields=["is_staff"])
            user.groups.add(registrars)

    # --- academic records -------------------------------------------------------------------------
    def academics(self) -> None:
        specialties = {
            "6B10101": Specialty.objects.create(
                code="6B10101",
                name_kk="Жалпы медицина",
                name_ru="Общая медицина",
                name_en="General Medicine",
                school=self.units["school-medicine"],
            ),
            "6B10106": Specialty.objects.create(
                code="6B10106",
                name_kk="Фармация",
                name_ru="Фармация",
                name_en="Pharmacy",
                school=self.units["school-pharmacy"],
            ),
        }
        periods = {
            (year, term): AcademicPeriod.objects.create(academic_year=year, term=term, starts_on=s, ends_on=e)
            for year, term, s, e in PERIODS
        }
        plans = {
            "6B10101": (self.disciplines(curriculum.MEDICINE), self.disciplines(curriculum.MEDICINE_CURRENT)),
            "6B10106": (self.disciplines(curriculum.PHARMACY), self.disciplines(curriculum.PHARMACY_CURRENT)),
        }
        past_terms = [("2024-2025", 1), ("2024-2025", 2), ("2025-2026", 1), ("2025-2026", 2)]
        number = 0
        for name, spec, admitted, course, duration, language, graduated in GROUPS:
            group = StudyGroup.objects.create(
                name=name,
                specialty=specialties[spec],
                course=course,
                study_form=StudyForm.FULL_TIME,
                duration_years=duration,
                language=language,
                admission_year=admitted,
            )
            students = []
            for _ in range(15):
                number += 1
                students.append(self.student(number, group, graduated=graduated))
            past, current = plans[spec]
            for index, term in enumerate(past_terms):
                for discipline in past[index * 5 : (index + 1) * 5]:
                    self.past_journal_and_grades(discipline, group, periods[term], students, periods)
            if not graduated:
                for index, discipline in enumerate(current):
                    nth = sum(d.department_id == discipline.department_id for d in current[:index])
                    self.current_journals(discipline, group, periods[("2026-2027", 1)], students, index, nth)

    def disciplines(self, rows: list[tuple[str, str, str, str, int, str]]) -> list[Discipline]:
        return [
            Discipline.objects.create(
                code=code, name_kk=kk, name_ru=ru, name_en=en, credits=credits, department=self.units[dept]
            )
            for code, kk, ru, en, credits, dept in rows
        ]

    def student(self, number: int, group: StudyGroup, *, graduated: bool) -> Student:
        surname = people.STUDENT_SURNAMES[(number - 1) % len(people.STUDENT_SURNAMES)]
        female = _is_female(surname)
        first = self.random.choice(people.FEMALE_NAMES if female else people.MALE_NAMES)
        patronymic = self.random.choice(people.FEMALE_PATRONYMICS if female else people.MALE_PATRONYMICS)
        user = self.user(f"student{number}", (surname, first, patronymic), role="student", language=group.language)
        RoleAssignment.objects.create(
            user=user,
            role=Role.STUDENT,
            org_unit=group.specialty.school,
            valid_from=date(group.admission_year, 9, 1),
        )
        return Student.objects.create(
            user=user,
            student_id=f"S{group.admission_year}{number:04d}",
            iin=user.iin or self.iin(),
            last_name=surname,
            first_name=first,
            patronymic=patronymic,
            email=user.email,
            group=group,
            status=Student.Status.GRADUATED if graduated else Student.Status.STUDYING,
            graduated_on=date(2026, 6, 30) if graduated else None,
        )

    def teacher_for(self, discipline: Discipline) -> User:
        candidates = [
            self.users[f"teacher{i}"]
            for i, unit in enumerate(TEACHER_DEPARTMENTS, 1)
            if unit == discipline.department.code
        ]
        return candidates[sum(map(ord, discipline.code)) % len(candidates)]

    def past_journal_and_grades(
        self,
        discipline: Discipline,
        group: StudyGroup,
        period: AcademicPeriod,
        students: list[Student],
        periods: dict[tuple[str, int], AcademicPeriod],
    ) -> None:
        closed = timezone.make_aware(datetime.combine(period.ends_on, time(18, 0)))
        Journal.objects.create(
            discipline=discipline,
            group=group,
            lesson_type=LessonType.PRACTICAL,
            teacher=self.teacher_for(discipline),
            period=period,
            status=Journal.Status.CLOSED,
            closes_at=closed,
            closed_at=closed,
        )
        scale = default_scale()
        summer = periods[(period.academic_year, 3)]
        grades = []
        for student in students:
            points = Decimal(min(100, max(30, int(self.random.gauss(80, 11)))))
            band = scale.grade(points)
            assert band is not None  # noqa: S101 - 30..100 is inside the default scale
            grades.append(
                FinalGrade(
                    student=student,
                    discipline=discipline,
                    period=period,
                    points=points,
                    letter=band.letter,
                    grade_point=band.grade_point,
                    is_passing=band.is_passing,
                    credits=discipline.credits,
                )
            )
            if not band.is_passing:
                retake_points = Decimal(self.random.randint(60, 85))
                retake = scale.grade(retake_points)
                assert retake is not None  # noqa: S101
                grades.append(
                    FinalGrade(
                        student=student,
                        discipline=discipline,
                        period=summer,
                        points=retake_points,
                        letter=retake.letter,
                        grade_point=retake.grade_point,
                        is_passing=True,
                        credits=discipline.credits,
                        attempt=2,
                        is_retake=True,
                    )
                )
        FinalGrade.objects.bulk_create(grades)

    def current_journals(
        self,
        discipline: Discipline,
        group: StudyGroup,
        period: AcademicPeriod,
        students: list[Student],
        index: int,
        nth: int,
    ) -> None:
        """Journals of the running semester; `nth` counts the department's earlier disciplines in the plan."""
        now = timezone.now()
        department = discipline.department.code
        teachers = [self.users[f"teacher{i}"] for i, unit in enumerate(TEACHER_DEPARTMENTS, 1) if unit == department]
        head = self.users[f"department_head{HEAD_DEPARTMENTS.index(department) + 1}"]
        # The midterm control has passed: practical and independent-work journals closed yesterday (a reopen
        # request is on time); heads' lecture journals closed yesterday or five days ago (a request would be
        # late); laboratory journals and the last discipline are still open.
        teacher_of_classes = teachers[nth % len(teachers)]
        for lesson_type, teacher in (
            (LessonType.LECTURE, head),
            (LessonType.PRACTICAL, teacher_of_classes),
            (LessonType.INDEPENDENT, teacher_of_classes),
            (LessonType.LABORATORY, teacher_of_classes),
        ):
            if index == 3 or lesson_type == LessonType.LABORATORY:
                status, closed_at = Journal.Status.OPEN, None
            elif lesson_type == LessonType.LECTURE and index % 2 == 0:
                status, closed_at = Journal.Status.CLOSED, now - timedelta(days=5)
            else:
                status, closed_at = Journal.Status.CLOSED, now - timedelta(days=1)
            journal = Journal.objects.create(
                discipline=discipline,
                group=group,
                lesson_type=lesson_type,
                teacher=teacher,
                period=period,
                status=status,
                closes_at=closed_at or now + timedelta(days=10),
                closed_at=closed_at,
            )
            lesson_dates = [period.starts_on + timedelta(days=7 * week + 1) for week in range(5)]
            JournalMark.objects.bulk_create(
                JournalMark(
                    journal=journal,
                    student=student,
                    lesson_date=day,
                    value="н/б" if self.random.random() < 0.05 else str(self.random.randint(60, 100)),
                )
                for student in students
                for day in lesson_dates
            )


@transaction.atomic
def seed_demo() -> DemoLogins:
    return DemoSeeder().run()


def demo_logins() -> DemoLogins:
    """The demo logins that exist now, by role, in the order people were created."""
    logins = DemoLogins()
    users = User.objects.filter(email__endswith="@demo.qujat.kz").order_by("pk")
    for user in users:
        role = user.username.rstrip("0123456789") or user.username
        logins.add("administrator" if user.username == "admin" else role, user.username)
    return logins
