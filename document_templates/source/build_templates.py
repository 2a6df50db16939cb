"""Regenerate every document template (``document_templates/<kind>.<lang>.docx``).

    .venv/bin/python document_templates/source/build_templates.py            # all templates
    .venv/bin/python document_templates/source/build_templates.py transcript # one kind, all languages

The output is deterministic: rebuilding without changes to this folder produces byte-identical files.
At run time the .docx files are the source of truth (registrars may edit them in Word); this script is
how developers make reviewable layout changes. Rebuilding overwrites hand edits made in Word.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from docx.document import Document as DocxDocument
from forms_academic import approval_sheet, calendar_plan, grade_sheet, transcript
from forms_office import disciplinary_proposal, explanatory_note, login_request
from layout import save_deterministically

TEMPLATES_DIR = Path(__file__).resolve().parent.parent

# kind -> (builder, languages)
FORMS: dict[str, tuple[Callable[[str], DocxDocument], tuple[str, ...]]] = {
    "explanatory_note": (explanatory_note, ("kk", "ru")),
    "login_request": (login_request, ("kk", "ru")),
    "calendar_plan": (calendar_plan, ("kk", "ru")),
    "transcript": (transcript, ("kk", "ru", "en")),
    "grade_sheet": (grade_sheet, ("kk", "ru")),
    "disciplinary_proposal": (disciplinary_proposal, ("kk", "ru")),
    "approval_sheet": (approval_sheet, ("kk", "ru", "en")),
}


def template_names() -> list[str]:
    return [f"{kind}.{lang}" for kind, (_, langs) in FORMS.items() for lang in langs]


def build(kinds: list[str] | None = None) -> list[Path]:
    written = []
    for kind, (builder, langs) in FORMS.items():
        if kinds and kind not in kinds:
            continue
        for lang in langs:
            path = TEMPLATES_DIR / f"{kind}.{lang}.docx"
            save_deterministically(builder(lang), path)
            written.append(path)
    return written


def main(argv: list[str]) -> int:
    unknown = sorted(set(argv) - set(FORMS))
    if unknown:
        print(f"unknown template kind(s): {', '.join(unknown)}; known: {', '.join(FORMS)}", file=sys.stderr)
        return 2
    for path in build(argv or None):
        print(path.relative_to(TEMPLATES_DIR.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
