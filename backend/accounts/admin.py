"""People, roles and substitutions in /admin/.

The Registrar office (staff, not superusers) keeps people's names and contacts, their roles and
substitutions; nothing here lets them grant themselves or anyone more: only a superuser sees or changes
`is_superuser`, `is_staff`, groups and permissions, sets another person's password, touches a superuser or
another administrator's account, or hands out the administrator role.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from .models import OrgUnit, RoleAssignment, Substitution, User
from .roles import Role

# What the Registrar office may edit on a person: names and contacts, nothing about access.
PERSON_FIELDS = ("username", "last_name", "first_name", "patronymic", "email", "iin", "position", "language")


def _privileged(user: Any) -> bool:
    """An account only a superuser may change: a superuser's, or anyone's who can open the admin."""
    return bool(user is not None and (user.is_superuser or user.is_staff))


def _may_change_assignment(request: HttpRequest, assignment: RoleAssignment | None) -> bool:
    if request.user.is_superuser or assignment is None:
        return True
    return (
        assignment.role != Role.ADMINISTRATOR
        and assignment.user_id != request.user.pk
        and not _privileged(assignment.user)
    )


class RoleAssignmentForm(forms.ModelForm):
    """For non-superusers: no administrator role, not for themselves, not for privileged accounts."""

    request: HttpRequest

    class Meta:
        model = RoleAssignment
        fields = ("user", "role", "org_unit", "is_deputy", "valid_from", "valid_to")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.request.user.is_superuser:
            user = data.get("user") or getattr(self.instance, "user", None)
            if data.get("role") == Role.ADMINISTRATOR:
                self.add_error("role", _("Only a superuser may give the administrator role."))
            if user is not None and (user.pk == self.request.user.pk or _privileged(user)):
                raise forms.ValidationError(_("Only a superuser may change the roles of this account."))
        return data


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    form = RoleAssignmentForm
    extra = 0
    autocomplete_fields = ["org_unit"]

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.request = request  # type: ignore[attr-defined]
        return formset

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and (
            request.user.is_superuser or obj is None or not (obj.pk == request.user.pk or _privileged(obj))
        )

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "last_name", "first_name", "patronymic", "email", "is_active"]
    search_fields = ["username", "last_name", "first_name", "email", "iin"]
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("Qujat"), {"fields": ("patronymic", "iin", "position", "language", "email_digest")}),
    )
    inlines = [RoleAssignmentInline]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        if obj is None:
            return ((None, {"fields": ("username", "password1", "password2")}),)
        return ((_("Person"), {"fields": PERSON_FIELDS}), (_("Status"), {"fields": ("is_active",)}))

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if not request.user.is_superuser:
            # Only the shown fields are taken from a POST: a forged "is_superuser=on" is ignored.
            kwargs["fields"] = [f for _name, group in self.get_fieldsets(request, obj) for f in group["fields"]]
        return super().get_form(request, obj, change=change, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not request.user.is_superuser and _privileged(obj) and obj.pk != request.user.pk:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not request.user.is_superuser and _privileged(obj):
            return False
        return super().has_delete_permission(request, obj)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        # Setting another person's password is a superuser's act; the others set their own (password_change).
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name_kk", "name_ru", "kind", "parent"]
    list_filter = ["kind"]
    search_fields = ["code", "name_kk", "name_ru", "name_en"]
    autocomplete_fields = ["parent"]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    form = RoleAssignmentForm

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        form.request = request  # type: ignore[attr-defined]
        return form

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and _may_change_assignment(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and _may_change_assignment(request, obj)

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
