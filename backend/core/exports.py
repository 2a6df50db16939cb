"""Tables as downloads: CSV (UTF-8 with a BOM, so Excel reads Cyrillic) or XLSX."""

import csv
import io
from collections.abc import Sequence

from django.http import HttpResponse

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table_download(rows: Sequence[Sequence[str]], *, name: str, fmt: str, sheet_title: str = "") -> HttpResponse:
    """`rows` (the first is the header) as `name.csv` or `name.xlsx`; numbers become numbers in XLSX."""
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None  # noqa: S101 - a new workbook has a sheet
        if sheet_title:
            sheet.title = sheet_title[:31]
        for row in rows:
            sheet.append([int(v) if v.isdigit() else v for v in row])
        buffer = io.BytesIO()
        book.save(buffer)
        response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    else:
        text = io.StringIO()
        csv.writer(text).writerows(rows)
        response = HttpResponse("\ufeff" + text.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{"xlsx" if fmt == "xlsx" else "csv"}"'
    return response
