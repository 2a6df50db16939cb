"""A bilingual position shows only the part in the document's language."""

from __future__ import annotations

import pytest

from backend.accounts.positions import position_in


@pytest.mark.parametrize(
    ("position", "language", "shown"),
    [
        ("ОР басшысы / руководитель ОР", "kk", "ОР басшысы"),
        ("ОР басшысы / руководитель ОР", "ru", "руководитель ОР"),
        ("ОР басшысы / руководитель ОР", "en", "руководитель ОР"),
        ("кафедра меңгерушісі / заведующий кафедрой / Head of department", "en", "Head of department"),
        ("кафедра меңгерушісі | заведующий кафедрой", "ru", "заведующий кафедрой"),
        ("аудитор", "kk", "аудитор"),
        ("  заведующий кафедрой  ", "kk", "заведующий кафедрой"),
        # Kazakh and Russian parts that share their letters: the Kazakh document takes the first part.
        ("аудитор / аудитор", "kk", "аудитор"),
        ("", "ru", ""),
    ],
)
def test_position_in_one_language(position: str, language: str, shown: str) -> None:
    assert position_in(position, language) == shown
