"""What an uploaded file really is, judged by its content: PDF, DOCX, XLSX, PNG or JPEG, nothing else."""

from __future__ import annotations

import zipfile
from typing import IO

from .models import Attachment

EXTENSIONS: dict[str, str] = {
    "pdf": Attachment.Kind.PDF,
    "docx": Attachment.Kind.DOCX,
    "xlsx": Attachment.Kind.XLSX,
    "png": Attachment.Kind.PNG,
    "jpg": Attachment.Kind.JPEG,
    "jpeg": Attachment.Kind.JPEG,
}
CONTENT_TYPES: dict[str, str] = {
    Attachment.Kind.PDF: "application/pdf",
    Attachment.Kind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    Attachment.Kind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Attachment.Kind.PNG: "image/png",
    Attachment.Kind.JPEG: "image/jpeg",
}
# The part of an Office Open XML package that tells a Word document from a workbook.
OOXML_MAIN_PART: dict[str, str] = {Attachment.Kind.DOCX: "word/document.xml", Attachment.Kind.XLSX: "xl/workbook.xml"}


def kind_by_extension(filename: str) -> str | None:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return EXTENSIONS.get(extension)


def sniff(handle: IO[bytes]) -> str | None:
    """The kind the content is, or None for anything else (an executable renamed to .pdf included)."""
    handle.seek(0)
    head = handle.read(16)
    handle.seek(0)
    if head.startswith(b"%PDF-"):
        return Attachment.Kind.PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Attachment.Kind.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return Attachment.Kind.JPEG
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(handle) as package:
                names = set(package.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        finally:
            handle.seek(0)
        if "[Content_Types].xml" not in names:
            return None
        for kind, part in OOXML_MAIN_PART.items():
            if part in names:
                return kind
    return None
