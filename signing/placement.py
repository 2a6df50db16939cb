"""Where a visible signature stamp may go: a blank area of the page, found on the page as a reader sees it.

The page is rendered (poppler's `pdftoppm`, greyscale, low resolution) and the stamp goes to the first place, from
the top of the page down, where a stamp-sized rectangle plus a clearance is blank paper: no text, no table rule,
no picture, no earlier stamp. The first page is tried first (where a reader looks for the QR code), then the last.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.errors import PdfSigningError

RESOLUTION_DPI = 36  # one pixel is 2 pt; a 0.5 pt table rule still greys its pixels below _WHITE
_POINTS_PER_PIXEL = 72 / RESOLUTION_DPI
_WHITE = 250  # anti-aliased edges of glyphs are grey, paper is 255
_PAGE_MARGIN_PT = 20
# Clearance between the stamp and the nearest ink: more above and below, where a line's glyph boxes reach
# beyond its ink (ascent, descent); less beside, so two stamps fit side by side across an A4 page.
_CLEARANCE_Y_PT = 8
_CLEARANCE_X_PT = 4


def _render(pdf: bytes, page_number: int, directory: Path) -> tuple[int, int, bytes]:
    tool = shutil.which("pdftoppm")
    if tool is None:
        raise PdfSigningError("pdftoppm (Debian poppler-utils) is needed to place the signature stamp")
    source = directory / "page.pdf"
    source.write_bytes(pdf)
    subprocess.run(  # noqa: S603 - a fixed tool on a file we wrote
        [
            tool,
            "-gray",
            "-r",
            str(RESOLUTION_DPI),
            "-f",
            str(page_number),
            "-l",
            str(page_number),
            str(source),
            str(directory / "p"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    (image,) = directory.glob("p*.pgm")
    return _read_pgm(image.read_bytes())


def _read_pgm(data: bytes) -> tuple[int, int, bytes]:
    # Binary PGM (P5): magic, width, height, maxval separated by whitespace, then one byte per pixel.
    fields: list[bytes] = []
    position = 0
    while len(fields) < 4:
        while data[position : position + 1].isspace():
            position += 1
        start = position
        while not data[position : position + 1].isspace():
            position += 1
        fields.append(data[start:position])
    if fields[0] != b"P5" or int(fields[3]) > 255:
        raise PdfSigningError("unexpected page image format from pdftoppm")
    width, height = int(fields[1]), int(fields[2])
    pixels = data[position + 1 : position + 1 + width * height]
    return width, height, pixels


def _free_in_image(
    width: int, height: int, pixels: bytes, box_w: int, box_h: int, margin: int
) -> tuple[int, int] | None:
    """Top-left pixel of the first all-white box_w × box_h window (top to bottom, right to left), or None."""
    # Each row becomes an integer whose bits are its ink pixels (column 0 the highest bit); a window is blank
    # when the OR of its rows has a run of box_w zero bits: a handful of big-integer operations per row.
    ink = bytes(ord("1") if value < _WHITE else ord("0") for value in range(256))
    rows = [int(pixels[y * width : (y + 1) * width].translate(ink), 2) for y in range(height)]
    blank_run = "0" * box_w
    for top in range(margin, height - margin - box_h + 1):
        combined = 0
        for row in rows[top : top + box_h]:
            combined |= row
        columns = format(combined, f"0{width}b")[margin : width - margin]
        found = columns.rfind(blank_run)
        if found >= 0:
            return margin + found, top
    return None


def _page_count(pdf: bytes) -> int:
    try:
        return int(PdfFileReader(io.BytesIO(pdf), strict=False).root["/Pages"]["/Count"])
    except (PdfReadError, ValueError, KeyError) as exc:
        raise PdfSigningError(f"not a readable PDF: {exc}") from None


def free_box(
    pdf: bytes, *, width: float, height: float, pages: tuple[int, ...] = (0, -1)
) -> tuple[int, tuple[int, int, int, int]] | None:
    """(page index, (x1, y1, x2, y2) in PDF points) of a blank place for a width × height stamp, or None."""
    page_count = _page_count(pdf)
    box_w = int((width + 2 * _CLEARANCE_X_PT) / _POINTS_PER_PIXEL) + 1
    box_h = int((height + 2 * _CLEARANCE_Y_PT) / _POINTS_PER_PIXEL) + 1
    margin = int(_PAGE_MARGIN_PT / _POINTS_PER_PIXEL)
    tried: set[int] = set()
    with tempfile.TemporaryDirectory(prefix="qujat-stamp-") as directory:
        for page in pages:
            index = page if page >= 0 else page_count + page
            if index in tried or not 0 <= index < page_count:
                continue
            tried.add(index)
            for old in Path(directory).glob("p*.pgm"):
                old.unlink()
            image_w, image_h, pixels = _render(pdf, index + 1, Path(directory))
            found = _free_in_image(image_w, image_h, pixels, box_w, box_h, margin)
            if found is None:
                continue
            left_px, top_px = found
            page_height = image_h * _POINTS_PER_PIXEL
            x1 = round(left_px * _POINTS_PER_PIXEL + _CLEARANCE_X_PT)
            y2 = round(page_height - top_px * _POINTS_PER_PIXEL - _CLEARANCE_Y_PT)
            return index, (x1, y2 - round(height), x1 + round(width), y2)
    return None
