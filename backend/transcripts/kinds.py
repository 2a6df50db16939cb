"""The transcript kinds a university starts with; the Registrar office edits them in the admin."""

from typing import Any

DEFAULT_KINDS = [
    # code, kk, ru, en, signer role (each is signed by its signer in their task; the e-seal is set in the admin)
    ("standard", "Транскрипт", "Транскрипт", "Transcript", "registrar_head"),
    (
        "school",
        "Мектеп деканы қол қойған транскрипт",
        "Транскрипт за подписью декана школы",
        "Transcript signed by the school's dean",
        "school_dean",
    ),
]


def install_default_kinds(kind_model: Any = None) -> None:
    if kind_model is None:
        from .models import TranscriptKind as kind_model
    for code, kk, ru, en, role in DEFAULT_KINDS:
        kind_model.objects.get_or_create(
            code=code,
            defaults={"name_kk": kk, "name_ru": ru, "name_en": en, "signer_role": role},
        )
