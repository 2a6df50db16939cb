"""factory_boy factories for records tests build themselves (the demo university covers the rest)."""

from datetime import date
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from backend.academics.models import (
    AcademicPeriod,
    Discipline,
    FinalGrade,
    Journal,
    LessonType,
    Specialty,
    Student,
    StudyForm,
    StudyGroup,
)
from backend.accounts.models import OrgUnit, RoleAssignment, Substitution, User


class OrgUnitFactory(DjangoModelFactory):
    class Meta:
        model = OrgUnit

    kind = OrgUnit.Kind.DEPARTMENT
    code = factory.Sequence(lambda n: f"unit-{n}")
    name_kk = factory.Sequence(lambda n: f"Бөлім {n}")
    name_ru = factory.Sequence(lambda n: f"Подразделение {n}")
    name_en = factory.Sequence(lambda n: f"Unit {n}")
    parent = factory.LazyFunction(lambda: OrgUnit.objects.get(code="university"))


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    last_name = "Сейітов"
    first_name = "Әлібек"
    patronymic = "Қанатұлы"
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.kz")
    password = factory.django.Password("demo")


class RoleAssignmentFactory(DjangoModelFactory):
    class Meta:
        model = RoleAssignment

    user = factory.SubFactory(UserFactory)
    role = "teacher"
    org_unit = factory.SubFactory(OrgUnitFactory)
    valid_from = date(2020, 1, 1)


class SubstitutionFactory(DjangoModelFactory):
    class Meta:
        model = Substitution

    absent = factory.SubFactory(UserFactory)
    substitute = factory.SubFactory(UserFactory)
    starts_on = date(2020, 1, 1)
    ends_on = date(2099, 1, 1)


class SpecialtyFactory(DjangoModelFactory):
    class Meta:
        model = Specialty

    code = factory.Sequence(lambda n: f"6B9{n:04d}")
    name_kk = "Мамандық"
    name_ru = "Специальность"
    name_en = "Specialty"
    school = factory.LazyFunction(lambda: OrgUnit.objects.get(code="school-medicine"))


class StudyGroupFactory(DjangoModelFactory):
    class Meta:
        model = StudyGroup

    name = factory.Sequence(lambda n: f"TG-{n}")
    specialty = factory.SubFactory(SpecialtyFactory)
    course = 2
    study_form = StudyForm.FULL_TIME
    duration_years = 5
    admission_year = 2025


class StudentFactory(DjangoModelFactory):
    class Meta:
        model = Student

    student_id = factory.Sequence(lambda n: f"T{n:06d}")
    iin = factory.Sequence(lambda n: f"{900000000000 + n}")
    last_name = "Жақыпова"
    first_name = "Әйгерім"
    patronymic = "Серікқызы"
    group = factory.SubFactory(StudyGroupFactory)


class AcademicPeriodFactory(DjangoModelFactory):
    class Meta:
        model = AcademicPeriod
        django_get_or_create = ("academic_year", "term")

    academic_year = "2030-2031"
    term = 1
    starts_on = date(2030, 9, 1)
    ends_on = date(2031, 1, 15)


class DisciplineFactory(DjangoModelFactory):
    class Meta:
        model = Discipline

    code = factory.Sequence(lambda n: f"TST {n:04d}")
    name_kk = factory.Sequence(lambda n: f"Пән {n}")
    name_ru = factory.Sequence(lambda n: f"Дисциплина {n}")
    name_en = factory.Sequence(lambda n: f"Discipline {n}")
    credits = 5
    department = factory.LazyFunction(lambda: OrgUnit.objects.get(code="dept-anatomy"))


class JournalFactory(DjangoModelFactory):
    class Meta:
        model = Journal

    discipline = factory.SubFactory(DisciplineFactory)
    group = factory.SubFactory(StudyGroupFactory)
    lesson_type = LessonType.PRACTICAL
    teacher = factory.SubFactory(UserFactory)
    period = factory.SubFactory(AcademicPeriodFactory)


class FinalGradeFactory(DjangoModelFactory):
    class Meta:
        model = FinalGrade

    student = factory.SubFactory(StudentFactory)
    discipline = factory.SubFactory(DisciplineFactory)
    period = factory.SubFactory(AcademicPeriodFactory)
    points = Decimal(80)
    letter = "B"
    grade_point = Decimal("3.00")
    credits = 5
    is_passing = True
