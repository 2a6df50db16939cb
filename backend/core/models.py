"""Base model pieces shared by every app."""

from collections.abc import Callable

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


def pick_language(values: dict[str, str], language: str | None = None) -> str:
    """The value in the requested (or active) language, falling back to Russian, Kazakh, English."""
    lang = (language or get_language() or "kk")[:2]
    for candidate in (lang, "ru", "kk", "en"):
        if values.get(candidate):
            return values[candidate]
    return ""


class TranslatedNameModel(models.Model):
    """A name kept in Kazakh, Russian and English; `name` answers in the active language."""

    name_kk = models.CharField(max_length=255)
    name_ru = models.CharField(max_length=255)
    name_en = models.CharField(max_length=255, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_in(None)

    def name_in(self, language: str | None) -> str:
        return pick_language({"kk": self.name_kk, "ru": self.name_ru, "en": self.name_en}, language)


class CalendarDay(models.Model):
    """A university's own exception to the public calendar: a day off, or a working Saturday."""

    date = models.DateField(_("date"), unique=True)
    is_working = models.BooleanField(
        _("working day"), default=False, help_text=_("Tick for a working day that would otherwise be off.")
    )
    description = models.CharField(_("description"), max_length=255)

    class Meta:
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date}: {self.description}"


def in_each_language(make: Callable[[str], object]) -> dict[str, str]:
    """A text in every language of the product, each made under that language's translations."""
    from django.conf import settings
    from django.utils.translation import override

    texts = {}
    for code, _name in settings.LANGUAGES:
        with override(code):
            texts[code] = str(make(code))
    return texts
