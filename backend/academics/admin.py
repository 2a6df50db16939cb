from django.contrib import admin

from .models import (
    AcademicPeriod,
    Discipline,
    FinalGrade,
    GradeBand,
    GradingScale,
    Journal,
    Specialty,
    Student,
    StudyGroup,
)


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin):
    list_display = ["code", "name_kk", "name_ru", "school"]
    search_fields = ["code", "name_kk", "name_ru", "name_en"]


@admin.register(StudyGroup)
class StudyGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "specialty", "course", "study_form", "duration_years", "admission_year"]
    list_filter = ["course", "study_form", "specialty__school"]
    search_fields = ["name"]


@admin.register(Student)
class StudentAdmin(admin.ModelAdmin):
    list_display = ["student_id", "last_name", "first_name", "patronymic", "group", "status"]
    list_filter = ["status", "group"]
    search_fields = ["student_id", "iin", "last_name", "first_name"]
    raw_id_fields = ["user"]


@admin.register(AcademicPeriod)
class AcademicPeriodAdmin(admin.ModelAdmin):
    list_display = ["academic_year", "term", "starts_on", "ends_on"]


@admin.register(Discipline)
class DisciplineAdmin(admin.ModelAdmin):
    list_display = ["code", "name_kk", "name_ru", "kind", "credits", "department"]
    list_filter = ["kind", "department"]
    search_fields = ["code", "name_kk", "name_ru", "name_en"]


@admin.register(Journal)
class JournalAdmin(admin.ModelAdmin):
    list_display = ["discipline", "group", "lesson_type", "teacher", "period", "status", "closes_at"]
    list_filter = ["status", "lesson_type", "period"]
    search_fields = ["discipline__code", "discipline__name_ru", "group__name", "teacher__last_name"]
    raw_id_fields = ["teacher"]


class GradeBandInline(admin.TabularInline):
    model = GradeBand
    extra = 0


@admin.register(GradingScale)
class GradingScaleAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "min_points", "max_points", "is_default"]
    inlines = [GradeBandInline]


@admin.register(FinalGrade)
class FinalGradeAdmin(admin.ModelAdmin):
    list_display = [
        "student",
        "discipline",
        "period",
        "points",
        "letter",
        "grade_point",
        "attempt",
        "is_retake",
    ]
    list_filter = ["period", "is_retake", "letter"]
    search_fields = ["student__last_name", "student__student_id", "discipline__code"]
    raw_id_fields = ["student"]
