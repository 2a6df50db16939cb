"""Logins from Kazakh and Russian names: the transliteration table and unique usernames."""

from __future__ import annotations

import pytest

from backend.access.transliteration import LETTERS, transliterate
from backend.access.usernames import unique_username, username_base
from backend.accounts.models import User

KAZAKH_ALPHABET = "аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя"


def test_every_letter_of_the_kazakh_alphabet_has_a_plain_latin_spelling() -> None:
    assert set(KAZAKH_ALPHABET) == set(LETTERS)
    for letter in KAZAKH_ALPHABET:
        assert transliterate(f"б{letter}").isascii(), letter


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        # The Kazakh letters: ә ғ қ ң ө ұ ү һ і
        ("Әбдіғалиева", "abdigaliyeva"),
        ("Гүлнұр", "gulnur"),
        ("Қуанышұлы", "quanyshuly"),
        ("Өмірзақов", "omirzaqov"),
        ("Жаңабай", "janabai"),
        ("Һәкім", "hakim"),
        ("Ұлжан Үсенова", "uljan usenova"),
        # Russian letters, the iotated vowels after a vowel, ъ/ь or at a word's start, and after a consonant
        ("Щербаков Юрий Фёдорович", "shcherbakov yurii fiodorovich"),
        ("Ерлан", "yerlan"),
        ("Любовь", "liubov"),
        ("Дарья Ильинична", "darya ilinichna"),
        ("Объезжаев", "obyezjayev"),
        ("Цой Чингиз Эльвира", "tsoi chingiz elvira"),
        ("Ёлкина Хабибуллина", "yolkina habibullina"),
        # Latin names keep their letters without accents; other marks are kept for the caller to clean.
        ("Zoë O'Brien", "zoe o'brien"),
    ],
)
def test_transliteration(cyrillic: str, latin: str) -> None:
    assert transliterate(cyrillic) == latin


@pytest.mark.parametrize(
    ("first", "last", "username"),
    [
        ("Гүлнұр", "Әбдіғалиева", "g.abdigaliyeva"),
        ("Шолпан", "Әбенова", "sh.abenova"),
        ("Чингиз", "Айтматов", "ch.aitmatov"),
        ("Ольга", "Иванова-Үсенова", "o.ivanova-usenova"),
        ("Айжан", "Абу Бакр", "a.abu-bakr"),
        ("Ерлан", "Ғабдуллин", "y.gabdullin"),
        ("", "Қасымов", "qasymov"),
        ("Анна", "???", "a.user"),
    ],
)
def test_username_base(first: str, last: str, username: str) -> None:
    assert username_base(first_name=first, last_name=last) == username


def test_collisions_get_the_smallest_free_number() -> None:
    taken = {"g.abdigaliyeva", "g.abdigaliyeva2"}
    assert (
        unique_username(first_name="Гаухар", last_name="Әбдіғалиева", taken=lambda name: name in taken)
        == "g.abdigaliyeva3"
    )
    # Logins given out earlier in the same batch count as taken, whatever their case.
    assert (
        unique_username(
            first_name="Гүлнұр", last_name="Әбдіғалиева", taken=lambda name: False, reserved=["G.Abdigaliyeva"]
        )
        == "g.abdigaliyeva2"
    )


@pytest.mark.django_db
def test_collisions_with_existing_accounts_ignore_case(demo: None) -> None:
    User.objects.create(username="Sh.Abenova")
    username = unique_username(
        first_name="Шырын",
        last_name="Әбенова",
        taken=lambda name: User.objects.filter(username__iexact=name).exists(),
    )
    assert username == "sh.abenova2"
