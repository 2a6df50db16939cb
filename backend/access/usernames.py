"""Logins for new accounts: the first name's initial and the surname in Latin letters, made unique by a number."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

from .transliteration import transliterate

MAX_SURNAME = 40  # Django allows 150; a login people can type stays short
FALLBACK = "user"
# An initial is the first Latin letter of the name, but these letters keep their digraph (Шолпан → sh.).
DIGRAPH_INITIALS = {"ш": "sh", "щ": "sh", "ч": "ch", "ц": "ts"}


def _clean(text: str) -> str:
    """Latin letters, digits and single hyphens: "Иванова-Үсенова" → "ivanova-usenova"."""
    latin = transliterate(text.strip())
    latin = re.sub(r"[\s_]+", "-", latin)
    latin = re.sub(r"[^a-z0-9-]", "", latin)
    return re.sub(r"-{2,}", "-", latin).strip("-")


def username_base(*, first_name: str, last_name: str) -> str:
    """ "Гүлнұр", "Әбдіғалиева" → "g.abdigaliyeva"; "Шолпан", "Әбенова" → "sh.abenova"."""
    surname = _clean(last_name)[:MAX_SURNAME].strip("-") or FALLBACK
    first = _clean(first_name)
    if not first:
        return surname
    initial = DIGRAPH_INITIALS.get(first_name.strip()[:1].lower(), first[:1])
    return f"{initial}.{surname}"


def unique_username(
    *,
    first_name: str,
    last_name: str,
    taken: Callable[[str], bool],
    reserved: Collection[str] = (),
) -> str:
    """The base login, or the base with the smallest number from 2 up that is neither taken nor reserved.

    `taken` asks the accounts (case-insensitively); `reserved` holds logins given out in the same batch.
    """
    base = username_base(first_name=first_name, last_name=last_name)
    lowered = {name.lower() for name in reserved}
    candidate, number = base, 1
    while candidate.lower() in lowered or taken(candidate):
        number += 1
        candidate = f"{base}{number}"
    return candidate
