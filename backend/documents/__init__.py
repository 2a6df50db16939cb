"""Official documents: docxtpl templates filled in a sandbox, converted to PDF/A-2b by a warm LibreOffice.

Public API (see each function's docstring):

- `services.document_request(...)`: create (or find, by instance + kind + key) a document and generate it
  in Celery (`tasks.generate_document`) once the transaction commits;
- `services.document_generate_now(...)`: the same, synchronously, returning the ready document;
- `services.document_generate(document_id=...)`: the idempotent worker step;
- `numbering.next_number(kind=..., year=...)`: gapless outgoing numbers, inside the caller's transaction;
  `numbering.format_number(...)` writes them as «ТР-2026/000154»;
- `converter.convert_docx_to_pdf(docx)`: the PDF/A-2b of a .docx through the supervised unoserver
  (`manage.py run_converter`), which the client starts in the background when nobody has;
- `kinds.KINDS`: the document kinds, their languages, titles and number prefixes;
- `manage.py render_document KIND|FILE.docx CONTEXT.json --lang kk --out FILE.pdf|FILE.docx`: a preview.

This package is the only one that imports docxtpl (an import-linter contract).
"""
