"""Where a visible signature stamp may go: a blank area of the page, found from the page's own drawing operators.

Nothing is rendered. pypdf opens the file; the page's operators are read by the small tokenizer below (pypdf's
own ContentStream took 62 ms against its 20 ms on a transcript's first page). Every glyph run, path, image and
form is reduced to the rectangle it may ink, in PDF points — conservatively, a glyph run from its font's descent
to a full em above its baseline — and so is every annotation already on the page (earlier stamps, links). The
rectangles are laid on a grid of GRID_PT and the stamp goes to the first place, from the top of the page down and
right to left, where a stamp-sized rectangle plus a clearance touches none of them. The first page is tried first
(where a reader looks for the QR code), then the last. It runs for every signature: about 60 ms for a 2-page
transcript on the project's 2-core benchmark machine, idle.
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections.abc import Iterator
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import DictionaryObject, IndirectObject, StreamObject

from signing.errors import PdfSigningError

GRID_PT = 1.0  # one cell of the occupancy grid: a rectangle marks every cell it touches
_PAGE_MARGIN_PT = 20
# Clearance between the stamp and the nearest ink: more above and below, where a line's glyph boxes reach
# beyond its ink (ascent, descent); less beside, so two stamps fit side by side across an A4 page.
_CLEARANCE_Y_PT = 8
_CLEARANCE_X_PT = 4
_DEFAULT_PAGE = (0.0, 0.0, 612.0, 792.0)  # PDF's default page size (US Letter) when nothing says otherwise
_MAX_FORM_DEPTH = 8

Rect = tuple[float, float, float, float]
Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)

# pypdf warns (through logging) about every oddity of a real-world file; placement only needs the drawing.
logging.getLogger("pypdf").setLevel(logging.ERROR)


_TOKEN = re.compile(
    rb"""(?:\s|%[^\r\n]*)*
    (?:(?P<number>[+-]?(?:\d+\.?\d*|\.\d+))
    |(?P<name>/[^\s()<>\[\]{}/%]*)
    |(?P<hex><[0-9A-Fa-f\s]*>)
    |(?P<open><<|\[)|(?P<close>>>|\])
    |(?P<string>\()
    |(?P<operator>[^\s()<>\[\]{}/%]+)
    |(?P<other>.))?""",
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}
_INLINE_IMAGE_END = re.compile(rb"\sEI(?=[\s]|$)")


def _literal(data: bytes, position: int) -> tuple[bytes, int]:
    """The bytes of the literal string whose "(" is just before `position`, and the position after its ")"."""
    out = bytearray()
    depth = 1
    end = len(data)
    while position < end:
        byte = data[position]
        position += 1
        if byte == 0x5C:  # backslash
            if position >= end:
                break
            escaped = data[position]
            position += 1
            if escaped in _ESCAPES:
                out += _ESCAPES[escaped]
            elif 0x30 <= escaped <= 0x37:
                digits = bytes([escaped])
                while len(digits) < 3 and position < end and 0x30 <= data[position] <= 0x37:
                    digits += data[position : position + 1]
                    position += 1
                out.append(int(digits, 8) & 0xFF)
            elif escaped in (0x0D, 0x0A):  # a line continuation
                if escaped == 0x0D and position < end and data[position] == 0x0A:
                    position += 1
            else:
                out.append(escaped)
        elif byte == 0x28:
            depth += 1
            out.append(byte)
        elif byte == 0x29:
            depth -= 1
            if depth == 0:
                return bytes(out), position
            out.append(byte)
        else:
            out.append(byte)
    return bytes(out), position


def _operations(data: bytes) -> Iterator[tuple[list[Any], bytes]]:
    """(operands, operator) of a content stream: numbers as floats, names as "/Name", strings as bytes."""
    operands: list[Any] = []
    nested: list[list[Any]] = []
    position, end = 0, len(data)
    match = _TOKEN.match
    while position < end:
        token = match(data, position)
        if token is None:  # pragma: no cover - the pattern matches any byte
            break
        position = token.end()
        kind = token.lastgroup
        if kind is None:
            break  # only whitespace or a comment was left
        target = nested[-1] if nested else operands
        if kind == "number":
            target.append(float(token.group(kind)))
        elif kind == "name":
            target.append(token.group(kind).decode("latin-1"))
        elif kind == "string":
            value, position = _literal(data, position)
            target.append(value)
        elif kind == "hex":
            digits = re.sub(rb"\s", b"", token.group(kind)[1:-1])
            target.append(bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode("ascii")))
        elif kind == "open":
            nested.append([])
        elif kind == "close":
            if nested:
                closed = nested.pop()
                (nested[-1] if nested else operands).append(closed)
        elif kind == "operator":
            operator = token.group(kind)
            if nested:
                target.append(operator)  # true, false, null inside an array or a dictionary
                continue
            if operator == b"ID":  # an inline image's data runs to the next EI
                found = _INLINE_IMAGE_END.search(data, position)
                position = found.end() if found else end
                operator = b"BI"
            elif operator in (b"true", b"false", b"null"):
                operands.append(operator)
                continue
            yield operands, operator
            operands = []


def _multiply(a: Matrix, b: Matrix) -> Matrix:
    """a × b: first a, then b (PDF's row-vector convention)."""
    return (
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    )


def _bounds(matrix: Matrix, x1: float, y1: float, x2: float, y2: float) -> Rect:
    """The axis-aligned bounds of a rectangle given in the space `matrix` maps to the page."""
    a, b, c, d, e, f = matrix
    xs, ys = [], []
    for x, y in ((x1, y1), (x1, y2), (x2, y1), (x2, y2)):
        xs.append(a * x + c * y + e)
        ys.append(b * x + d * y + f)
    return min(xs), min(ys), max(xs), max(ys)


def _numbers(operands: list[Any]) -> list[float]:
    return [float(value) for value in operands]


class _Font:
    """Glyph advances (in thousandths of an em) and code width of one font resource."""

    def __init__(self, font: Any) -> None:
        self.two_byte = font.get("/Subtype") == "/Type0"
        self.widths: dict[int, float] = {}
        self.default = 1000.0  # unknown glyphs are taken as a full em wide: too much room, never too little
        descriptor: Any = font
        if self.two_byte:
            descendant = font["/DescendantFonts"][0].get_object()
            descriptor = descendant
            self.default = float(descendant.get("/DW", 1000))
            entries = list(descendant.get("/W", []))
            position = 0
            while position + 1 < len(entries):
                first, then = int(entries[position]), entries[position + 1].get_object()
                if isinstance(then, list):
                    for offset, width in enumerate(then):
                        self.widths[first + offset] = float(width)
                    position += 2
                elif position + 2 < len(entries):
                    for code in range(first, int(then) + 1):
                        self.widths[code] = float(entries[position + 2])
                    position += 3
                else:
                    break
        else:
            first_char = int(font.get("/FirstChar", 0))
            for offset, width in enumerate(font.get("/Widths", []) or []):
                self.widths[first_char + offset] = float(width)
        metrics = descriptor.get("/FontDescriptor")
        metrics = metrics.get_object() if metrics is not None else {}
        # Descent is negative in the font descriptor; a font that says nothing gets a generous one.
        self.descent = min(float(metrics.get("/Descent", -250) or -250), 0.0) / 1000
        if "/MissingWidth" in metrics:
            self.default = max(self.default, float(metrics["/MissingWidth"]))

    def codes(self, data: bytes) -> Iterator[int]:
        if self.two_byte:
            for position in range(0, len(data) - 1, 2):
                yield data[position] << 8 | data[position + 1]
        else:
            yield from data


class _TextState:
    def __init__(self) -> None:
        self.font: _Font | None = None
        self.size = 0.0
        self.char_spacing = 0.0
        self.word_spacing = 0.0
        self.scale = 1.0
        self.leading = 0.0
        self.rise = 0.0
        self.matrix: Matrix = _IDENTITY
        self.line: Matrix = _IDENTITY

    def copy(self) -> _TextState:
        other = _TextState()
        other.__dict__.update(self.__dict__)
        return other


def _is_white(operator: bytes, operands: list[Any]) -> bool:
    try:
        values = _numbers(operands)
    except (TypeError, ValueError):
        return False  # a pattern or a named colour: taken as ink
    if operator in (b"g", b"G", b"rg", b"RG"):
        return bool(values) and all(value >= 0.99 for value in values)
    if operator in (b"k", b"K"):
        return bool(values) and all(value <= 0.01 for value in values)
    return False


class _Page:
    """Walks one content stream (and the forms it draws) collecting the rectangles it may ink."""

    def __init__(self, reader: PdfReader) -> None:
        self.reader = reader
        self.rects: list[Rect] = []
        self.fonts: dict[int, _Font] = {}

    def _font(self, resources: DictionaryObject, name: str) -> _Font | None:
        fonts = resources.get("/Font")
        reference = fonts.get_object().get(name) if fonts is not None else None
        if reference is None:
            return None
        key = reference.idnum if isinstance(reference, IndirectObject) else id(reference)
        if key not in self.fonts:
            self.fonts[key] = _Font(reference.get_object())
        return self.fonts[key]

    def walk(self, content: bytes, resources: Any, matrix: Matrix, depth: int = 0) -> None:
        operations = _operations(content)
        ctm = matrix
        stack: list[tuple[Matrix, _TextState, bool, bool, float]] = []
        text = _TextState()
        fill_white = stroke_white = False
        line_width = 1.0
        path: list[tuple[float, float]] = []
        for operands, operator in operations:
            try:
                if operator == b"q":
                    stack.append((ctm, text.copy(), fill_white, stroke_white, line_width))
                elif operator == b"Q":
                    if stack:
                        ctm, text, fill_white, stroke_white, line_width = stack.pop()
                elif operator == b"cm":
                    ctm = _multiply(tuple(_numbers(operands)), ctm)  # type: ignore[arg-type]
                elif operator == b"w":
                    line_width = float(operands[0])
                elif operator in (b"g", b"rg", b"k", b"sc", b"scn", b"cs"):
                    fill_white = _is_white(operator, operands)
                elif operator in (b"G", b"RG", b"K", b"SC", b"SCN", b"CS"):
                    stroke_white = _is_white(operator, operands)
                elif operator in (b"m", b"l"):
                    path.append(self._point(ctm, *_numbers(operands[:2])))
                elif operator in (b"c", b"v", b"y"):
                    values = _numbers(operands)
                    path.extend(self._point(ctm, values[i], values[i + 1]) for i in range(0, len(values) - 1, 2))
                elif operator == b"re":
                    x, y, w, h = _numbers(operands)
                    path.extend([self._point(ctm, x, y), self._point(ctm, x + w, y + h)])
                    path.extend([self._point(ctm, x + w, y), self._point(ctm, x, y + h)])
                elif operator in (b"S", b"s", b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*", b"n"):
                    stroked = operator in (b"S", b"s", b"B", b"B*", b"b", b"b*")
                    filled = operator not in (b"S", b"s", b"n")
                    if path and ((stroked and not stroke_white) or (filled and not fill_white)):
                        reach = line_width / 2 if stroked else 0.0
                        xs, ys = [p[0] for p in path], [p[1] for p in path]
                        self.rects.append((min(xs) - reach, min(ys) - reach, max(xs) + reach, max(ys) + reach))
                    path = []
                elif operator == b"BT":
                    text.matrix = text.line = _IDENTITY
                elif operator == b"Tf":
                    text.font = self._font(resources, str(operands[0]))
                    text.size = float(operands[1])
                elif operator == b"Tc":
                    text.char_spacing = float(operands[0])
                elif operator == b"Tw":
                    text.word_spacing = float(operands[0])
                elif operator == b"Tz":
                    text.scale = float(operands[0]) / 100
                elif operator == b"TL":
                    text.leading = float(operands[0])
                elif operator == b"Ts":
                    text.rise = float(operands[0])
                elif operator in (b"Td", b"TD"):
                    tx, ty = _numbers(operands)
                    if operator == b"TD":
                        text.leading = -ty
                    text.matrix = text.line = _multiply((1, 0, 0, 1, tx, ty), text.line)
                elif operator == b"Tm":
                    text.matrix = text.line = tuple(_numbers(operands))  # type: ignore[assignment]
                elif operator == b"T*":
                    text.matrix = text.line = _multiply((1, 0, 0, 1, 0, -text.leading), text.line)
                elif operator in (b"Tj", b"TJ", b"'", b'"'):
                    if operator in (b"'", b'"'):
                        if operator == b'"':
                            text.word_spacing, text.char_spacing = float(operands[0]), float(operands[1])
                        text.matrix = text.line = _multiply((1, 0, 0, 1, 0, -text.leading), text.line)
                    self._show(text, ctm, operands[-1] if operator != b"TJ" else operands[0], operator == b"TJ")
                elif operator == b"Do":
                    self._draw_object(resources, str(operands[0]), ctm, depth)
                elif operator == b"BI":
                    self.rects.append(_bounds(ctm, 0, 0, 1, 1))
                elif operator == b"sh":
                    self.rects.append((-1e6, -1e6, 1e6, 1e6))  # a shading fills the clip: the page is taken
            except (ValueError, TypeError, IndexError, KeyError, AttributeError):
                continue  # a malformed operator draws nothing, as in a viewer

    @staticmethod
    def _point(ctm: Matrix, x: float, y: float) -> tuple[float, float]:
        a, b, c, d, e, f = ctm
        return a * x + c * y + e, b * x + d * y + f

    def _show(self, text: _TextState, ctm: Matrix, shown: Any, array: bool) -> None:
        font = text.font
        if font is None:
            return
        items = list(shown) if array else [shown]
        size, scale = text.size, text.scale
        advance = 0.0
        for item in items:
            if isinstance(item, bytes):
                for code in font.codes(item):
                    width = font.widths.get(code, font.default) / 1000
                    space = text.word_spacing if (code == 32 and not font.two_byte) else 0.0
                    advance += (width * size + text.char_spacing + space) * scale
            elif isinstance(item, float):
                advance -= item / 1000 * size * scale
        if advance == 0.0:
            return
        # A glyph run reaches from its font's descent to a full em above the baseline (accents included).
        low, high = text.rise + font.descent * size, text.rise + size
        self.rects.append(_bounds(_multiply(text.matrix, ctm), min(0.0, advance), low, max(0.0, advance), high))
        text.matrix = _multiply((1, 0, 0, 1, advance, 0), text.matrix)

    def _draw_object(self, resources: DictionaryObject, name: str, ctm: Matrix, depth: int) -> None:
        objects = resources.get("/XObject")
        reference = objects.get_object().get(name) if objects is not None else None
        if reference is None:
            return
        drawn = reference.get_object()
        if drawn.get("/Subtype") == "/Form" and isinstance(drawn, StreamObject) and depth < _MAX_FORM_DEPTH:
            form_matrix: Any = tuple(float(v) for v in drawn.get("/Matrix", _IDENTITY))
            inner = drawn.get("/Resources")
            inner = inner.get_object() if inner is not None else resources
            self.walk(drawn.get_data(), inner, _multiply(form_matrix, ctm), depth + 1)
        else:
            self.rects.append(_bounds(ctm, 0, 0, 1, 1))  # an image fills the unit square


def _page_box(page: Any) -> Rect:
    for key in ("/CropBox", "/MediaBox"):
        try:
            box = page[key]
        except KeyError:
            continue
        x1, y1, x2, y2 = (float(v) for v in box)
        return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)
    return _DEFAULT_PAGE


def occupied(reader: PdfReader, index: int) -> tuple[Rect, list[Rect]]:
    """The page's box and every rectangle its content or annotations may ink, in PDF points."""
    page = reader.pages[index]
    walker = _Page(reader)
    contents = page.get_contents()
    resources = page.get("/Resources")
    if contents is not None:
        walker.walk(contents.get_data(), resources.get_object() if resources is not None else {}, _IDENTITY)
    for reference in page.get("/Annots") or []:
        annotation = reference.get_object()
        if "/Rect" in annotation:
            x1, y1, x2, y2 = (float(v) for v in annotation["/Rect"])
            if x1 != x2 and y1 != y2:
                walker.rects.append((min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)))
    return _page_box(page), walker.rects


def _free_in_grid(page: Rect, rects: list[Rect], width: float, height: float) -> tuple[float, float] | None:
    """(left, top) in points of the first stamp-sized place (top to bottom, right to left) clear of every rect."""
    left, bottom, right, top = page
    columns = int((right - left) / GRID_PT)
    rows_count = int((top - bottom) / GRID_PT)
    # Row r is the band of the page r cells below its top; each row is an integer whose bits are its inked
    # cells (column 0 the highest bit), so a window is blank when the OR of its rows has a run of zero bits.
    rows = [0] * rows_count
    full = (1 << columns) - 1
    for x1, y1, x2, y2 in rects:
        first_column = max(0, math.floor((x1 - _CLEARANCE_X_PT - left) / GRID_PT))
        last_column = min(columns - 1, math.ceil((x2 + _CLEARANCE_X_PT - left) / GRID_PT) - 1)
        first_row = max(0, math.floor((top - y2 - _CLEARANCE_Y_PT) / GRID_PT))
        last_row = min(rows_count - 1, math.ceil((top - y1 + _CLEARANCE_Y_PT) / GRID_PT) - 1)
        if first_column > last_column or first_row > last_row:
            continue
        mask = (full >> first_column) & ~(full >> (last_column + 1))
        for row in range(first_row, last_row + 1):
            rows[row] |= mask
    margin = int(_PAGE_MARGIN_PT / GRID_PT)
    box_w = math.ceil(width / GRID_PT)
    box_h = math.ceil(height / GRID_PT)
    blank_run = "0" * box_w
    for first in range(margin, rows_count - margin - box_h + 1):
        combined = 0
        for row in rows[first : first + box_h]:
            combined |= row
        found = format(combined, f"0{columns}b")[margin : columns - margin].rfind(blank_run)
        if found >= 0:
            return left + (margin + found) * GRID_PT, top - first * GRID_PT
    return None


def free_box(
    pdf: bytes, *, width: float, height: float, pages: tuple[int, ...] = (0, -1)
) -> tuple[int, tuple[int, int, int, int]] | None:
    """(page index, (x1, y1, x2, y2) in PDF points) of a blank place for a width × height stamp, or None."""
    try:
        reader = PdfReader(io.BytesIO(pdf), strict=False)
        page_count = len(reader.pages)
        tried: set[int] = set()
        for page in pages:
            index = page if page >= 0 else page_count + page
            if index in tried or not 0 <= index < page_count:
                continue
            tried.add(index)
            box, rects = occupied(reader, index)
            found = _free_in_grid(box, rects, width, height)
            if found is not None:
                x1, y2 = math.ceil(found[0]), math.floor(found[1])
                return index, (x1, y2 - round(height), x1 + round(width), y2)
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise PdfSigningError(f"not a readable PDF: {exc}") from None
    return None
