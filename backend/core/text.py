"""What text a person may submit: no control characters, no reordering of what others read."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

# C0 controls and DEL; tab and newline (and the CR of a CR LF) are the only ones a multi-line text may hold.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"[\t\n\r]")
# Bidirectional embeddings, overrides and isolates: they make a text read differently from what it holds.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def text_problem(value: str, *, multiline: bool) -> str | None:
    """Why this text is refused, or None: the one rule for every text field, on pages and in the API."""
    if _CONTROL.search(value) or _BIDI.search(value):
        return _("Remove the control characters (invisible characters that change how text is read).")
    if not multiline and _LINE_BREAKS.search(value):
        return _("Write this on one line, without tabs or line breaks.")
    return None
