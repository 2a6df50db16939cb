"""The Kazakh and Russian catalogs are complete and valid, and the pages really speak those languages.

The catalog checks use GNU gettext (msgattrib, msgfmt), which `make messages` needs anyway.

The pages are rendered from catalogs compiled here from the committed .po files (into a temporary
LOCALE_PATHS), so the test checks the sources, not whatever .mo a previous `make messages` left behind.
"""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.password_validation import CommonPasswordValidator, MinimumLengthValidator
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation
from django.utils.timesince import timesince

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "backend" / "locale"
TRANSLATED = ["kk", "ru"]
CATALOGS = [LOCALE / language / "LC_MESSAGES" / "django.po" for language in ["kk", "ru", "en"]]


def catalog(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "django.po"


def msgids(path: Path) -> set[str]:
    """The msgids of the live (not obsolete) entries, read with the standard library."""
    ids: set[str] = set()
    current: list[str] | None = None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith("msgid "):
            current = [line[len("msgid ") :]]
        elif current is not None and line.startswith('"'):
            current.append(line)
        elif current is not None:
            ids.add("".join(part.strip()[1:-1] for part in current))
            current = None
    ids.discard("")
    return ids


def attrib(option: str, path: Path) -> list[str]:
    result = subprocess.run(
        ["msgattrib", option, "--no-obsolete", str(path)], capture_output=True, text=True, check=True, timeout=60
    )
    return [line for line in result.stdout.splitlines() if line.startswith("msgid ") and line != 'msgid ""']


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated(language: str) -> None:
    untranslated = attrib("--untranslated", catalog(language))
    assert not untranslated, f"{language}: {len(untranslated)} untranslated, e.g. {untranslated[:5]}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_no_message_is_fuzzy(language: str) -> None:
    assert not attrib("--only-fuzzy", catalog(language))
    flags = [line for line in catalog(language).read_text(encoding="utf-8").splitlines() if line.startswith("#,")]
    assert not [line for line in flags if re.search(r"\bfuzzy\b", line)], "the header must not be fuzzy either"


@pytest.mark.parametrize("path", CATALOGS, ids=lambda path: path.parts[-3])
def test_the_catalog_passes_msgfmt_check(path: Path) -> None:
    result = subprocess.run(
        ["msgfmt", "--check", "--output-file=/dev/null", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_the_three_catalogs_hold_the_same_messages() -> None:
    english = msgids(catalog("en"))
    assert len(english) > 900
    for language in TRANSLATED:
        # The Kazakh catalog also carries a few of Django's own messages Django has no Kazakh for.
        assert not english - msgids(catalog(language)), language


def test_there_is_one_set_of_catalogs() -> None:
    stray = list((ROOT / "backend").glob("*/locale/*/LC_MESSAGES/*.po"))
    assert not stray, f"catalogs belong in backend/locale: {stray}"


# --- the pages, rendered from freshly compiled catalogs ------------------------------------------------


@pytest.fixture
def compiled_catalogs(tmp_path: Path, settings: Any) -> None:
    for language in TRANSLATED:
        target = tmp_path / language / "LC_MESSAGES"
        target.mkdir(parents=True)
        subprocess.run(
            ["msgfmt", "--check", "-o", str(target / "django.mo"), str(catalog(language))], check=True, timeout=60
        )
    # Changing LOCALE_PATHS drops Django's cached translations, so the pages read these catalogs.
    settings.LOCALE_PATHS = [tmp_path]


def page(path: str, language: str, username: str | None = None) -> str:
    client = Client()
    client.cookies["django_language"] = language
    if username:
        assert client.login(username=username, password="demo")
    response = client.get(path)
    assert response.status_code == 200, path
    html = response.content.decode()
    assert f'lang="{language}"' in html
    return html


PAGES = {
    # path, user, the English source strings, then their Kazakh and Russian translations
    "login": ("/login/", None, ["Log in to Qujat", "Username", "Password"]),
    "inbox": ("/inbox/", "registrar_staff1", ["Search by person or number", "Apply filters", "Saved filters"]),
    "transcripts": ("/transcripts/", "student1", ["My transcripts", "Request a transcript"]),
}
EXPECTED = {
    "kk": {
        "login": ["Qujat жүйесіне кіру", "Логин", "Құпиясөз"],
        "inbox": ["Кіріс жәшігі", "Адам немесе нөмір бойынша іздеу", "Сүзгілерді қолдану", "Сақталған сүзгілер"],
        "transcripts": ["Менің транскрипттерім", "Транскрипт сұрату"],
    },
    "ru": {
        "login": ["Вход в Qujat", "Логин", "Пароль"],
        "inbox": ["Входящие", "Поиск по человеку или номеру", "Применить фильтры", "Сохранённые фильтры"],
        "transcripts": ["Мои транскрипты", "Запросить транскрипт"],
    },
}


@pytest.mark.django_db
@pytest.mark.parametrize("language", TRANSLATED)
@pytest.mark.parametrize("name", list(PAGES))
def test_key_pages_speak_kazakh_and_russian(demo: None, compiled_catalogs: None, language: str, name: str) -> None:
    path, username, english = PAGES[name]
    html = page(path, language, username)
    for text in EXPECTED[language][name]:
        assert text in html, f"{name} ({language}): {text!r} missing"
    for text in english:
        assert f">{text}<" not in html, f"{name} ({language}): {text!r} left in English"
        assert f"{text}</" not in html, f"{name} ({language}): {text!r} left in English"


@pytest.mark.django_db
def test_english_pages_keep_the_source_strings(demo: None, compiled_catalogs: None) -> None:
    html = page("/transcripts/", "en", "student1")
    assert "My transcripts" in html


@pytest.mark.usefixtures("compiled_catalogs")
def test_djangos_messages_without_a_kazakh_translation_come_from_our_catalog() -> None:
    """The password rules on the activation page and the inbox's "due in 2 days" are Django's own words."""
    with translation.override("kk"):
        with pytest.raises(ValidationError) as common:
            CommonPasswordValidator().validate("password123")
        assert common.value.messages == ["Бұл құпиясөз тым кең таралған."]
        with pytest.raises(ValidationError) as short:
            MinimumLengthValidator(10).validate("qj7")
        assert short.value.messages == ["Құпиясөз тым қысқа: кемінде 10 таңба болуы керек."]
        moment = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
        assert timesince(moment - timedelta(days=2), moment) == "2\xa0күн"
