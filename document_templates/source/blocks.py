"""Composite blocks shared by the forms: letterhead, addressee, title, numbered fields, signatures.

The blocks only place text; the wording comes from the callers (``wording.py`` and ``forms_*.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

from docx.document import Document as DocxDocument
from docx.shared import Cm, Pt
from layout import (
    STYLE_SIGNATURE,
    STYLE_SMALL,
    STYLE_SUBTITLE,
    STYLE_TABLE,
    STYLE_TITLE,
    TEXT_WIDTH_CM,
    Cell,
    Content,
    Span,
    add_paragraph,
    add_row,
    bottom_rule,
    new_table,
)
from wording import COMMON

# The addressee block and approval stamps start at this distance from the left margin.
RIGHT_BLOCK_INDENT_CM = 8.5
BODY_FIRST_LINE_CM = 1.25


def letterhead(document: DocxDocument, lang: str) -> None:
    """University name, centred and bold, and the city, above a thin rule."""
    add_paragraph(document, Span("{{ university.name }}", bold=True), align="center")
    city = add_paragraph(document, COMMON[lang]["city"], align="center", style=STYLE_SMALL, space_after=6)
    bottom_rule(city)


def outgoing_line(document: DocxDocument, lang: str, right: str = "") -> None:
    """The outgoing line («Исх. № … от …») with, optionally, a form label on the right of the same line."""
    content: list[str | Span] = [COMMON[lang]["outgoing"]]
    if right:
        content += ["\t", right]
    add_paragraph(document, content, right_tab=True, space_before=6, space_after=12)


def right_block(
    document: DocxDocument, lines: Sequence[Content], *, bold: bool = True, space_after: float = 12
) -> None:
    """Lines at the top right of the page (addressee, approval stamp)."""
    for index, line in enumerate(lines):
        content = Span(line, bold=True) if bold and isinstance(line, str) else line
        last = index == len(lines) - 1
        add_paragraph(document, content, left_indent=RIGHT_BLOCK_INDENT_CM, space_after=space_after if last else 0)


def addressee(document: DocxDocument) -> None:
    right_block(document, ["{{ addressee.position }}", "{{ addressee.name }}"])


def title(document: DocxDocument, heading: str, *subtitles: Content, space_after: float = 12) -> None:
    add_paragraph(document, heading, style=STYLE_TITLE, space_after=0 if subtitles else space_after)
    for index, subtitle in enumerate(subtitles):
        last = index == len(subtitles) - 1
        add_paragraph(document, subtitle, style=STYLE_SUBTITLE, space_after=space_after if last else 0)


def body(document: DocxDocument, content: Content, *, space_after: float = 6, **formatting) -> None:
    """A justified body paragraph with the usual 1.25 cm first-line indent."""
    formatting.setdefault("first_line", BODY_FIRST_LINE_CM)
    add_paragraph(document, content, align="justify", space_after=space_after, **formatting)


def list_item(document: DocxDocument, content: Content, *, marker: str = "–", space_after: float = 0) -> None:
    """One line of a hand-numbered or dashed list with a hanging indent.

    Numbers are plain text, not Word auto-numbering, so that editing in Word cannot renumber or
    restyle them.
    """
    parts: list[str | Span] = [f"{marker}\t"]
    parts += [content] if isinstance(content, str | Span) else list(content)
    paragraph = add_paragraph(
        document,
        parts,
        align="left",
        left_indent=BODY_FIRST_LINE_CM + 0.75,
        first_line=-0.75,
        space_after=space_after,
    )
    paragraph.paragraph_format.tab_stops.add_tab_stop(Cm(BODY_FIRST_LINE_CM + 0.75))


def numbered_fields(document: DocxDocument, items: Sequence[tuple[str, str]]) -> None:
    """Lines «1. Label: {{ value }}», as in the explanatory note's list 1–7."""
    for number, (label, value) in enumerate(items, start=1):
        list_item(document, [f"{label}: ", Span(value, bold=True)], marker=f"{number}.", space_after=2)


def optional_paragraphs(document: DocxDocument, condition: str, build) -> None:
    """Wrap paragraphs added by ``build()`` in ``{%p if condition %}`` … ``{%p endif %}``.

    docxtpl removes the two tag paragraphs themselves, so nothing is left when the condition is false.
    """
    add_paragraph(document, f"{{%p if {condition} %}}")
    build()
    add_paragraph(document, "{%p endif %}")


def signatures(
    document: DocxDocument, lang: str, people: Sequence[tuple[Content, str]], *, space_before: float = 14
) -> None:
    """Signature blocks: label (position), a line for the signature, the name; caption under the line."""
    grid = new_table(document, [6.5, 3.0, TEXT_WIDTH_CM - 9.5], borders=False)
    caption = COMMON[lang]["signature"]
    for label, name in people:
        add_row(
            grid,
            [Cell(label), Cell("____________", align="center"), Cell(name)],
            style=STYLE_SIGNATURE,
            valign="bottom",
            keep_next=True,
        )
        _space_before_row(grid, space_before)
        add_row(grid, ["", Cell(Span(caption, italic=True), align="center"), ""], style=STYLE_SMALL)
    add_paragraph(document, "")


def _space_before_row(grid, points: float) -> None:
    for cell in grid.table.rows[-1].cells:
        cell.paragraphs[0].paragraph_format.space_before = Pt(points)


def info_table(
    document: DocxDocument,
    rows: Sequence[tuple[str, Content]],
    *,
    label_width: float = 5.5,
    style: str = STYLE_TABLE,
) -> None:
    """Borderless two-column "label: value" table (student data, sheet requisites)."""
    grid = new_table(document, [label_width, TEXT_WIDTH_CM - label_width], borders=False)
    for label, value in rows:
        add_row(grid, [Cell(Span(label, bold=True)), Cell(value)], style=style)
    add_paragraph(document, "", space_after=6)
