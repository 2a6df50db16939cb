"""Kazakh and Russian Cyrillic to plain Latin letters, for logins.

The table follows Kazakhstan's Latin alphabet of 2021 (Decree No. 637 as amended) where its letter is plain
ASCII (қ → q, ж → j, х/һ → h, ы → y, и/й/і → i), and drops the diacritics of the others, since a login is
typed on any keyboard: ә → a, ғ → g, ң → n, ө → o, ұ/ү → u. The letters that need a digraph are written as
the passport service writes them (ш → sh, ч → ch, щ → shch, ц → ts). The Russian-only letters follow the
same rules. As in passports, е/ё/ю/я after a vowel, after ъ/ь or at the start of a word are written with a
leading y (Ерлан → yerlan, Әбдіғалиева → abdigaliyeva, Юлия → yuliya); after a consonant they are e/io/iu/ia
(Любовь → liubov). Other Latin letters lose their accents; everything else is dropped.
"""

from __future__ import annotations

import unicodedata

# Every letter of the Kazakh Cyrillic alphabet (which includes all 33 Russian letters), lower case.
LETTERS: dict[str, str] = {
    "а": "a",
    "ә": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "ғ": "g",
    "д": "d",
    "е": "e",
    "ё": "io",
    "ж": "j",
    "з": "z",
    "и": "i",
    "й": "i",
    "к": "k",
    "қ": "q",
    "л": "l",
    "м": "m",
    "н": "n",
    "ң": "n",
    "о": "o",
    "ө": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ұ": "u",
    "ү": "u",
    "ф": "f",
    "х": "h",
    "һ": "h",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "і": "i",
    "ь": "",
    "э": "e",
    "ю": "iu",
    "я": "ia",
}
# Written with a leading y at the start of a word, after a vowel and after ъ/ь.
IOTATED: dict[str, str] = {"е": "ye", "ё": "yo", "ю": "yu", "я": "ya"}
VOWELS = frozenset("аәеёиоөуұүыіэюя")
SEPARATORS = frozenset("ъь")


def _latin(char: str) -> str:
    """A Latin letter or digit without its accents (é → e), or nothing."""
    plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode().lower()
    return "".join(c for c in plain if c.isascii() and c.isalnum())


def transliterate(text: str) -> str:
    """The text in lower-case Latin letters; word boundaries (spaces, hyphens) are kept as they are."""
    out: list[str] = []
    previous = ""
    for char in text.lower():
        if char in LETTERS:
            if char in IOTATED and (not previous or previous in VOWELS or previous in SEPARATORS):
                out.append(IOTATED[char])
            else:
                out.append(LETTERS[char])
            previous = char
        elif char.isalpha() or char.isdigit():
            out.append(_latin(char))
            previous = char
        else:
            out.append(char)
            previous = ""  # a new word starts after a space, a hyphen or an apostrophe
    return "".join(out)
