"""Org units, people, scoped role assignments and substitutions."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from backend.core.models import TimeStampedModel, TranslatedNameModel

from .roles import Role

iin_validator = RegexValidator(r"^\d{12}$", _("An IIN is exactly 12 digits."))


class OrgUnit(TranslatedNameModel):
    class Kind(models.TextChoices):
        UNIVERSITY = "university", _("University")
        SCHOOL = "school", _("School / faculty")
        DEPARTMENT = "department", _("Department / course")
        OFFICE = "office", _("Office")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    code = models.SlugField(_("code"), max_length=50, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        ordering = ["kind", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="university") | Q(parent__isnull=False), name="orgunit_parent_unless_root"
            )
        ]

    def lineage(self) -> list[OrgUnit]:
        """This unit, then its parent, up to the university."""
        units: list[OrgUnit] = []
        unit: OrgUnit | None = self
        while unit is not None and len(units) < 20:
            units.append(unit)
            unit = unit.parent
        return units

    def school(self) -> OrgUnit | None:
        return next((u for u in self.lineage() if u.kind == OrgUnit.Kind.SCHOOL), None)


class User(AbstractUser):
    class Language(models.TextChoices):
        KAZAKH = "kk", "Қазақша"
        RUSSIAN = "ru", "Русский"
        ENGLISH = "en", "English"

    patronymic = models.CharField(_("patronymic"), max_length=150, blank=True)
    iin = models.CharField(_("IIN"), max_length=12, unique=True, null=True, blank=True, validators=[iin_validator])
    position = models.CharField(_("position"), max_length=255, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.RUSSIAN)
    email_digest = models.BooleanField(_("daily digest instead of one e-mail per task"), default=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(Lower("email"), condition=~Q(email=""), name="user_email_unique_ci")]

    @property
    def full_name(self) -> str:
        """Surname, name and patronymic as written on documents."""
        return " ".join(part for part in (self.last_name, self.first_name, self.patronymic) if part) or self.username

    @property
    def short_name(self) -> str:
        """Surname and initials: "Иванова А.Б."."""
        initials = "".join(f"{part[0]}." for part in (self.first_name, self.patronymic) if part)
        return f"{self.last_name} {initials}".strip() or self.username

    def __str__(self) -> str:
        return self.short_name


class RoleAssignment(TimeStampedModel):
    """A person holds a role for an org unit (and the units below it) for a period."""

    user = models.ForeignKey(User, verbose_name=_("person"), on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("role"), max_length=40, choices=Role.choices, db_index=True)
    org_unit = models.ForeignKey(OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT)
    is_deputy = models.BooleanField(
        _("deputy"),
        default=False,
        help_text=_("A deputy acts only when no principal holder can (absent or excluded by separation of duties)."),
    )
    valid_from = models.DateField(_("valid from"), default=date.today)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        indexes = [models.Index(fields=["role", "org_unit"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="roleassignment_period_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} ({self.org_unit})"


class Substitution(TimeStampedModel):
    """An acting head: the substitute holds the absent person's roles for a date range."""

    absent = models.ForeignKey(
        User, verbose_name=_("absent person"), on_delete=models.CASCADE, related_name="substituted_by"
    )
    substitute = models.ForeignKey(
        User, verbose_name=_("substitute"), on_delete=models.CASCADE, related_name="substitutes_for"
    )
    role = models.CharField(
        _("role"),
        max_length=40,
        choices=Role.choices,
        blank=True,
        help_text=_("Leave empty to cover every role of the absent person."),
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    reason = models.CharField(_("reason"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("substitution")
        verbose_name_plural = _("substitutions")
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="substitution_period_order"),
            models.CheckConstraint(condition=~Q(absent=models.F("substitute")), name="substitution_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.substitute} → {self.absent} ({self.starts_on}–{self.ends_on})"


class ApiToken(models.Model):
    """An API token; only its SHA-256 is stored, the key is shown once when issued."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text=_("The first characters, to tell tokens apart."))
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.user} {self.prefix}…"
