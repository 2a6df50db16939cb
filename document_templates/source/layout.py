"""Low-level .docx layout: the page, the fonts and styles, paragraphs, tables, deterministic saving.

Everything here is language-neutral. The forms are assembled from these pieces in ``blocks.py`` and
``forms_*.py``. python-docx covers most of it; a few properties it has no API for (East-Asian and
complex-script font names, table borders, repeated header rows, paragraph borders, page-number fields)
are written as raw WordprocessingML.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

FONT = "Times New Roman"
LANGUAGE_TAGS = {"kk": "kk-KZ", "ru": "ru-RU", "en": "en-US"}

# A4 with the Kazakh office-paperwork margins: 3 cm binding margin on the left.
PAGE_WIDTH_CM = 21.0
PAGE_HEIGHT_CM = 29.7
MARGIN_LEFT_CM = 3.0
MARGIN_RIGHT_CM = 1.5
MARGIN_TOP_CM = 2.0
MARGIN_BOTTOM_CM = 2.0
TEXT_WIDTH_CM = PAGE_WIDTH_CM - MARGIN_LEFT_CM - MARGIN_RIGHT_CM

# Fixed metadata so that two builds produce byte-identical files.
FIXED_TIMESTAMP = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
ZIP_TIMESTAMP = (2026, 1, 1, 0, 0, 0)

ALIGN = {
    "left": WD_ALIGN_PARAGRAPH.LEFT,
    "center": WD_ALIGN_PARAGRAPH.CENTER,
    "right": WD_ALIGN_PARAGRAPH.RIGHT,
    "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
}

# Names of the paragraph styles every template defines (visible in Word's style gallery).
STYLE_TITLE = "Qujat Title"
STYLE_SUBTITLE = "Qujat Subtitle"
STYLE_TABLE = "Qujat Table Text"
STYLE_TABLE_HEAD = "Qujat Table Heading"
STYLE_SMALL = "Qujat Small"
STYLE_SIGNATURE = "Qujat Signature"


@dataclass(frozen=True)
class Span:
    """A piece of paragraph text with its character formatting.

    A Jinja tag must always sit inside one Span, because each Span becomes exactly one Word run.
    """

    text: str
    bold: bool = False
    italic: bool = False
    size: float | None = None


Content = str | Span | Sequence[str | Span]


def _spans(content: Content) -> list[Span]:
    if isinstance(content, str):
        return [Span(content)]
    if isinstance(content, Span):
        return [content]
    return [Span(part) if isinstance(part, str) else part for part in content]


# --------------------------------------------------------------------------- document and styles


def _font_element(name: str) -> OxmlElement:
    fonts = OxmlElement("w:rFonts")
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), name)
    return fonts


def _force_fonts(styles_root) -> None:
    """Point every font reference in styles.xml at Times New Roman.

    The python-docx default template uses theme fonts (``w:asciiTheme="minorHAnsi"`` …), which override
    explicit names; LibreOffice would then fall back to Calibri/Carlito or DejaVu. Setting all four
    attributes (ASCII, high ANSI, East-Asian, complex script) keeps Cyrillic and Kazakh letters in the
    same face.
    """
    for fonts in styles_root.iter(qn("w:rFonts")):
        for attribute in list(fonts.attrib):
            del fonts.attrib[attribute]
        for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(attribute), FONT)


def _set_document_defaults(styles_root, lang: str, size_pt: float) -> None:
    defaults = styles_root.find(qn("w:docDefaults"))
    run_defaults = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    for child in list(run_defaults):
        run_defaults.remove(child)
    run_defaults.append(_font_element(FONT))
    for tag in ("w:sz", "w:szCs"):
        size = OxmlElement(tag)
        size.set(qn("w:val"), str(round(size_pt * 2)))
        run_defaults.append(size)
    language = OxmlElement("w:lang")
    language.set(qn("w:val"), LANGUAGE_TAGS[lang])
    language.set(qn("w:eastAsia"), LANGUAGE_TAGS[lang])
    language.set(qn("w:bidi"), "ar-SA")
    run_defaults.append(language)

    paragraph_defaults = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
    for child in list(paragraph_defaults):
        paragraph_defaults.remove(child)
    spacing = OxmlElement("w:spacing")
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "240")
    spacing.set(qn("w:lineRule"), "auto")
    paragraph_defaults.append(spacing)


def _add_paragraph_style(
    document: DocxDocument,
    name: str,
    *,
    size: float,
    bold: bool = False,
    align: str = "left",
    space_before: float = 0,
    space_after: float = 0,
    keep_next: bool = False,
) -> None:
    style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = document.styles["Normal"]
    style.quick_style = True
    style.font.size = Pt(size)
    style.font.bold = bold
    fmt = style.paragraph_format
    fmt.alignment = ALIGN[align]
    fmt.space_before = Pt(space_before)
    fmt.space_after = Pt(space_after)
    fmt.keep_with_next = keep_next


def new_document(
    *, lang: str, title: str, body_pt: float = 14, table_pt: float = 11, landscape: bool = False
) -> DocxDocument:
    """An empty A4 document with Times New Roman styles for the given language."""
    document = Document()
    package = document.part.package
    for rel_id, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:  # python-docx's template ships a picture of a blank page
            package.rels.pop(rel_id)

    styles_root = document.styles.element
    _set_document_defaults(styles_root, lang, body_pt)
    _force_fonts(styles_root)

    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(body_pt)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.0

    _add_paragraph_style(
        document, STYLE_TITLE, size=body_pt, bold=True, align="center", space_before=12, keep_next=True
    )
    _add_paragraph_style(document, STYLE_SUBTITLE, size=body_pt, align="center", keep_next=True)
    _add_paragraph_style(document, STYLE_TABLE, size=table_pt)
    _add_paragraph_style(document, STYLE_TABLE_HEAD, size=table_pt - 1, bold=True, align="center")
    _add_paragraph_style(document, STYLE_SMALL, size=min(body_pt, table_pt) - 1)
    _add_paragraph_style(document, STYLE_SIGNATURE, size=min(body_pt, 12))
    _force_fonts(styles_root)

    section = document.sections[0]
    width, height = Cm(PAGE_WIDTH_CM), Cm(PAGE_HEIGHT_CM)
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (height, width) if landscape else (width, height)
    section.left_margin = Cm(MARGIN_LEFT_CM)
    section.right_margin = Cm(MARGIN_RIGHT_CM)
    section.top_margin = Cm(MARGIN_TOP_CM)
    section.bottom_margin = Cm(MARGIN_BOTTOM_CM)
    section.header_distance = Cm(1.0)
    section.footer_distance = Cm(1.0)

    props = document.core_properties
    props.title = title
    props.author = "Qujat"
    props.last_modified_by = "Qujat"
    props.language = LANGUAGE_TAGS[lang]
    props.created = FIXED_TIMESTAMP
    props.modified = FIXED_TIMESTAMP
    props.revision = 1
    props.comments = "Generated by document_templates/source/build_templates.py"
    return document


def add_page_number_footer(document: DocxDocument, prefix: str = "") -> None:
    """Centred page number (a PAGE field) in the footer, optionally after a static prefix."""
    footer = document.sections[0].footer
    footer.is_linked_to_previous = False
    paragraph = footer.paragraphs[0]
    paragraph.style = document.styles[STYLE_SMALL]
    paragraph.alignment = ALIGN["center"]
    if prefix:
        paragraph.add_run(prefix)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def save_deterministically(document: DocxDocument, path: Path) -> None:
    """Save with fixed zip timestamps so that rebuilding an unchanged template changes no bytes."""
    buffer = io.BytesIO()
    document.save(buffer)
    buffer.seek(0)
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, source.read(item.filename))


# --------------------------------------------------------------------------- paragraphs


_PPR_AFTER_BORDER = (
    "w:shd",
    "w:tabs",
    "w:suppressAutoHyphens",
    "w:kinsoku",
    "w:wordWrap",
    "w:overflowPunct",
    "w:topLinePunct",
    "w:autoSpaceDE",
    "w:autoSpaceDN",
    "w:bidi",
    "w:adjustRightInd",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
)


def fill_paragraph(
    paragraph: Paragraph,
    content: Content,
    *,
    style: str | None = None,
    align: str | None = None,
    left_indent: float | None = None,
    first_line: float | None = None,
    space_before: float | None = None,
    space_after: float | None = None,
    keep_next: bool = False,
    page_break_before: bool = False,
    right_tab: bool = False,
) -> Paragraph:
    """Apply formatting to ``paragraph`` and append ``content`` as runs (one run per Span)."""
    if style is not None:
        paragraph.style = style
    fmt = paragraph.paragraph_format
    if align is not None:
        fmt.alignment = ALIGN[align]
    if left_indent is not None:
        fmt.left_indent = Cm(left_indent)
    if first_line is not None:
        fmt.first_line_indent = Cm(first_line)
    if space_before is not None:
        fmt.space_before = Pt(space_before)
    if space_after is not None:
        fmt.space_after = Pt(space_after)
    if keep_next:
        fmt.keep_with_next = True
    if page_break_before:
        fmt.page_break_before = True
    if right_tab:
        fmt.tab_stops.add_tab_stop(Cm(TEXT_WIDTH_CM), WD_TAB_ALIGNMENT.RIGHT)
    for span in _spans(content):
        run = paragraph.add_run(span.text)
        if span.bold:
            run.bold = True
        if span.italic:
            run.italic = True
        if span.size is not None:
            run.font.size = Pt(span.size)
    return paragraph


def add_paragraph(container, content: Content = "", **formatting) -> Paragraph:
    """Append a new paragraph to a document or table cell."""
    return fill_paragraph(container.add_paragraph(), content, **formatting)


def bottom_rule(paragraph: Paragraph) -> None:
    """Draw a thin horizontal line under the paragraph (the letterhead rule)."""
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    bottom.set(qn("w:val"), "single")
    bottom.set(qn("w:sz"), "8")
    bottom.set(qn("w:space"), "4")
    bottom.set(qn("w:color"), "000000")
    border.append(bottom)
    paragraph._p.get_or_add_pPr().insert_element_before(border, *_PPR_AFTER_BORDER)


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Cell:
    """Content of one table cell. ``span`` merges it with the following cells of the same row."""

    content: Content = ""
    span: int = 1
    align: str | None = None
    bold: bool = False


def _twips(cm: float) -> str:
    return str(round(cm * 567))


def _borders_element(tag: str, value: str) -> OxmlElement:
    borders = OxmlElement(tag)
    for side in ("w:top", "w:left", "w:bottom", "w:right", "w:insideH", "w:insideV"):
        edge = OxmlElement(side)
        edge.set(qn("w:val"), value)
        if value != "nil":
            edge.set(qn("w:sz"), "4")
            edge.set(qn("w:space"), "0")
            edge.set(qn("w:color"), "000000")
        borders.append(edge)
    return borders


@dataclass
class GridTable:
    """A python-docx table together with its column widths (python-docx does not keep them)."""

    table: Table
    widths: list[float]


def new_table(container, widths_cm: Sequence[float], *, borders: bool = True, cell_margin_cm: float = 0.1) -> GridTable:
    """A fixed-layout table with the given column widths (no rows yet).

    Borders are written into the table itself (not a table style), so they survive copy-paste and
    docx composition.
    """
    table = container.add_table(rows=0, cols=len(widths_cm))
    table.autofit = False
    tbl = table._tbl

    grid = tbl.tblGrid
    for column, width in zip(grid.findall(qn("w:gridCol")), widths_cm, strict=True):
        column.set(qn("w:w"), _twips(width))

    properties = tbl.tblPr
    for child in list(properties):
        properties.remove(child)
    width = OxmlElement("w:tblW")
    width.set(qn("w:w"), _twips(sum(widths_cm)))
    width.set(qn("w:type"), "dxa")
    indent = OxmlElement("w:tblInd")
    indent.set(qn("w:w"), "0")
    indent.set(qn("w:type"), "dxa")
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    margins = OxmlElement("w:tblCellMar")
    for side in ("w:left", "w:right"):
        margin = OxmlElement(side)
        margin.set(qn("w:w"), _twips(cell_margin_cm))
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    look = OxmlElement("w:tblLook")
    look.set(qn("w:val"), "0000")
    for child in (
        width,
        indent,
        _borders_element("w:tblBorders", "single" if borders else "nil"),
        layout,
        margins,
        look,
    ):
        properties.append(child)
    return GridTable(table, list(widths_cm))


def _shade(cell: _Cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().insert_element_before(
        shading,
        "w:noWrap",
        "w:tcMar",
        "w:textDirection",
        "w:tcFitText",
        "w:vAlign",
        "w:hideMark",
        "w:headers",
        "w:cellIns",
        "w:cellDel",
        "w:cellMerge",
        "w:tcPrChange",
    )


def add_row(
    grid: GridTable,
    cells: Sequence[Cell | str],
    *,
    style: str = STYLE_TABLE,
    header: bool = False,
    shade: str | None = None,
    cant_split: bool = True,
    keep_next: bool = False,
    valign: str = "top",
) -> None:
    """Append a row. Cells may span several grid columns; multi-line content uses ``\\n``."""
    widths = grid.widths
    specs = [Cell(cell) if isinstance(cell, str) else cell for cell in cells]
    if sum(spec.span for spec in specs) != len(widths):
        raise ValueError(f"row spans {sum(s.span for s in specs)} columns, table has {len(widths)}")
    row = grid.table.add_row()
    properties = row._tr.get_or_add_trPr()
    if cant_split:
        properties.append(OxmlElement("w:cantSplit"))
    if header:
        properties.append(OxmlElement("w:tblHeader"))

    column = 0
    for spec in specs:
        cell = row.cells[column]
        if spec.span > 1:
            cell = cell.merge(row.cells[column + spec.span - 1])
        cell.width = Cm(sum(widths[column : column + spec.span]))
        if shade:
            _shade(cell, shade)
        cell.vertical_alignment = {
            "top": WD_CELL_VERTICAL_ALIGNMENT.TOP,
            "center": WD_CELL_VERTICAL_ALIGNMENT.CENTER,
            "bottom": WD_CELL_VERTICAL_ALIGNMENT.BOTTOM,
        }[valign]
        _fill_cell(cell, spec, style=style, keep_next=keep_next)
        column += spec.span


def _fill_cell(cell: _Cell, spec: Cell, *, style: str, keep_next: bool) -> None:
    paragraphs = _split_lines(spec.content)
    first = True
    for line in paragraphs:
        paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
        first = False
        if spec.bold:
            line = [Span(span.text, bold=True, italic=span.italic, size=span.size) for span in line]
        fill_paragraph(paragraph, line, style=style, align=spec.align, keep_next=keep_next)


def _split_lines(content: Content) -> list[list[Span]]:
    """Split content at ``\\n`` into paragraphs, keeping each Span's formatting."""
    lines: list[list[Span]] = [[]]
    for span in _spans(content):
        pieces = span.text.split("\n")
        for index, piece in enumerate(pieces):
            if index:
                lines.append([])
            if piece:
                lines[-1].append(Span(piece, span.bold, span.italic, span.size))
    return lines
