from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import OrgUnit, RoleAssignment, Substitution, User


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ["org_unit"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "last_name", "first_name", "patronymic", "email", "is_active"]
    search_fields = ["username", "last_name", "first_name", "email", "iin"]
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("Qujat"), {"fields": ("patronymic", "iin", "position", "language", "email_digest")}),
    )
    inlines = [RoleAssignmentInline]


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name_kk", "name_ru", "kind", "parent"]
    list_filter = ["kind"]
    search_fields = ["code", "name_kk", "name_ru", "name_en"]
    autocomplete_fields = ["parent"]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "org_unit", "is_deputy", "valid_from", "valid_to"]
    list_filter = ["role", "is_deputy", "org_unit__kind"]
    search_fields = ["user__username", "user__last_name", "org_unit__name_ru", "org_unit__code"]
    autocomplete_fields = ["user", "org_unit"]


@admin.register(Substitution)
class SubstitutionAdmin(admin.ModelAdmin):
    list_display = ["absent", "substitute", "role", "starts_on", "ends_on", "reason"]
    list_filter = ["role"]
    search_fields = ["absent__last_name", "substitute__last_name"]
    autocomplete_fields = ["absent", "substitute"]
