import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.core.exceptions import ApplicationError
from backend.documents.converter import convert_docx_to_pdf
from backend.documents.kinds import KINDS, kind_language_check
from backend.documents.rendering import render_docx
from backend.documents.selectors import template_source


class Command(BaseCommand):
    help = (
        "Preview a document: fill TEMPLATE (a kind from document_templates/, or a path to any .docx) with "
        "CONTEXT.json in the same sandbox as the product and write a PDF (or, for --out x.docx, the .docx)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("template", help=f"a kind ({', '.join(KINDS)}) or a path to a .docx")
        parser.add_argument("context", type=Path, help="a JSON file with the template's fields")
        parser.add_argument("--lang", default="kk", choices=["kk", "ru", "en"], help="language of a kind (default kk)")
        parser.add_argument("--out", type=Path, required=True, help="FILE.pdf, or FILE.docx to skip conversion")

    def handle(self, *args: Any, template: str, context: Path, lang: str, out: Path, **options: Any) -> None:
        if out.suffix.lower() not in (".pdf", ".docx"):
            raise CommandError("--out must end in .pdf or .docx")
        try:
            data = json.loads(context.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CommandError(f"{context}: {error}") from None
        if not isinstance(data, dict):
            raise CommandError(f"{context}: the context must be a JSON object")
        try:
            if template in KINDS:
                kind_language_check(KINDS[template], lang)
                source = template_source(kind=template, language=lang).content
            else:
                path = Path(template)
                if not path.is_file():
                    raise CommandError(f"{template}: neither a document kind nor a file")
                source = path.read_bytes()
            result = render_docx(template=source, context=data)
            if out.suffix.lower() == ".pdf":
                result = convert_docx_to_pdf(result)
        except ApplicationError as error:
            # A refused template writes nothing: the preview must not look like a usable document.
            raise CommandError(error.message) from None
        out.write_bytes(result)
        self.stdout.write(self.style.SUCCESS(f"{out} ({len(result)} bytes)"))
