"""The registry of document kinds: which templates exist, in which languages, and how they are numbered."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from backend.core.exceptions import ValidationFailed
from backend.core.models import pick_language


class Language(models.TextChoices):
    KAZAKH = "kk", _("Kazakh")
    RUSSIAN = "ru", _("Russian")
    ENGLISH = "en", _("English")


@dataclass(frozen=True)
class DocumentKind:
    code: str
    languages: tuple[str, ...]
    title: dict[str, str]
    # Printed in outgoing numbers: «ТР-2026/000154». One prefix per kind whatever the language, because
    # the sequence is per kind and year.
    number_prefix: str

    def title_in(self, language: str | None = None) -> str:
        return pick_language(self.title, language) or self.code


KK_RU = ("kk", "ru")
KK_RU_EN = ("kk", "ru", "en")

KINDS: dict[str, DocumentKind] = {
    kind.code: kind
    for kind in (
        DocumentKind(
            code="explanatory_note",
            languages=KK_RU,
            title={
                "kk": "Электрондық журналды толтыру қатесі туралы түсініктеме",
                "ru": "Объяснительная об ошибке заполнения электронного журнала",
                "en": "Explanatory note on an electronic journal error",
            },
            number_prefix="ОБ",
        ),
        DocumentKind(
            code="login_request",
            languages=KK_RU,
            title={
                "kk": "Логин мен құпиясөз беру туралы қызметтік хат",
                "ru": "Служебная записка о выдаче логина и пароля",
                "en": "Memo requesting a login and password",
            },
            number_prefix="СЗ",
        ),
        DocumentKind(
            code="calendar_plan",
            languages=KK_RU,
            title={
                "kk": "Күнтізбелік-тақырыптық жоспар",
                "ru": "Календарно-тематический план",
                "en": "Calendar and thematic plan",
            },
            number_prefix="КТП",
        ),
        DocumentKind(
            code="transcript",
            languages=KK_RU_EN,
            title={"kk": "Транскрипт", "ru": "Транскрипт", "en": "Transcript"},
            number_prefix="ТР",
        ),
        DocumentKind(
            code="grade_sheet",
            languages=KK_RU,
            title={"kk": "Жеке ведомость", "ru": "Индивидуальная ведомость", "en": "Individual grade sheet"},
            number_prefix="ВД",
        ),
        DocumentKind(
            code="disciplinary_proposal",
            languages=KK_RU,
            title={
                "kk": "Тәртіптік жаза шараларын қолдану туралы ұсыныс",
                "ru": "Представление о применении мер дисциплинарного взыскания",
                "en": "Proposal on disciplinary measures",
            },
            number_prefix="ПР",
        ),
        DocumentKind(
            code="approval_sheet",
            languages=KK_RU_EN,
            title={
                "kk": "Келісу және қол қою парағы",
                "ru": "Лист согласования и подписания",
                "en": "Approval and signing sheet",
            },
            number_prefix="ЛС",
        ),
    )
}


def kind_get(code: str) -> DocumentKind:
    """The registered kind, or a refusal naming the kinds that exist."""
    try:
        return KINDS[code]
    except KeyError:
        raise ValidationFailed(
            _("Unknown document kind “%(kind)s”; known kinds: %(known)s.")
            % {"kind": code, "known": ", ".join(sorted(KINDS))},
            fields={"kind": [str(_("Unknown document kind."))]},
        ) from None


def kind_language_check(kind: DocumentKind, language: str) -> None:
    if language not in kind.languages:
        raise ValidationFailed(
            _("The %(kind)s template exists in %(languages)s, not in “%(language)s”.")
            % {"kind": kind.code, "languages": ", ".join(kind.languages), "language": language},
            fields={"language": [str(_("No template in this language."))]},
        )


def kind_choices() -> list[tuple[str, str]]:
    """Choices for forms and the admin, titled in the active language."""
    return [(kind.code, kind.title_in()) for kind in KINDS.values()]
