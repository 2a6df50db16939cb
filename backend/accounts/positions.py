"""A person's position in one language, for documents whose every line is in that language.

Positions are often kept bilingual, "кафедра меңгерушісі / заведующий кафедрой" (Kazakh / Russian, sometimes
English too): a Kazakh document shows the Kazakh part, a Russian one the Russian part.
"""

from __future__ import annotations

import re

_KAZAKH_LETTERS = re.compile(r"[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
_CYRILLIC = re.compile(r"[А-Яа-яЁё]")
_LATIN = re.compile(r"[A-Za-z]")
_SEPARATOR = re.compile(r"\s+/\s+|\s*\|\s*")


def _by_language(parts: list[str]) -> dict[str, str]:
    by_language: dict[str, str] = {}
    cyrillic = [part for part in parts if _CYRILLIC.search(part) or _KAZAKH_LETTERS.search(part)]
    kazakh = [part for part in cyrillic if _KAZAKH_LETTERS.search(part)]
    if cyrillic:
        # Kazakh has letters of its own; where neither part uses one, the state language comes first ("kk / ru").
        by_language["kk"] = kazakh[0] if kazakh else cyrillic[0]
        others = [part for part in cyrillic if part != by_language["kk"]]
        if others:
            by_language["ru"] = others[0]
    latin = [part for part in parts if part not in cyrillic and _LATIN.search(part)]
    if latin:
        by_language["en"] = latin[0]
    return by_language


def position_in(position: str, language: str) -> str:
    """The part of a (possibly multilingual) position written in `language`.

    A single-language position is returned as it is. A document in a language the position lacks shows the
    Russian part (English documents of a university whose positions are kept in Kazakh and Russian).
    """
    parts = [part.strip() for part in _SEPARATOR.split(position.strip()) if part.strip()]
    if len(parts) < 2:
        return position.strip()
    by_language = _by_language(parts)
    return by_language.get(language) or by_language.get("ru") or parts[-1]
