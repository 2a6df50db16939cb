"""Where the stamp goes: blank paper found from the page's drawing operators, the first page before the last."""

from __future__ import annotations

import pytest
from signing_testbed import make_pdf

from signing.errors import PdfSigningError
from signing.placement import free_box
from signing.stamp import STAMP_HEIGHT, STAMP_WIDTH

Box = tuple[float, float, float, float]


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _line_boxes(count: int) -> list[Box]:
    """Where make_pdf's lines of 12 pt Helvetica are drawn (16 pt apart from y = 770), glyphs' full height."""
    return [(72.0, 770.0 - 16 * n - 4, 523.0, 770.0 - 16 * n + 12) for n in range(1, count + 1)]


def test_the_stamp_goes_below_the_text_of_the_first_page() -> None:
    lines = [f"Line {n} of the first page, long enough to reach across much of the width" for n in range(10)]
    placed = free_box(make_pdf([lines, ["last page"]]), width=STAMP_WIDTH, height=STAMP_HEIGHT)
    assert placed is not None
    page, box = placed
    assert page == 0
    assert box[2] - box[0] == round(STAMP_WIDTH)
    assert box[3] - box[1] == round(STAMP_HEIGHT)
    assert not any(_overlap(box, line) for line in _line_boxes(10))
    # Inside the page's 20 pt margin.
    assert min(box[0], box[1]) >= 20
    assert box[2] <= 595 - 20
    assert box[3] <= 842 - 20


def test_a_first_page_without_room_sends_the_stamp_to_the_last_page() -> None:
    full = [f"Line {n}: text from margin to margin, so no stamp fits anywhere on it" for n in range(48)]
    placed = free_box(make_pdf([full, ["a short last page"]]), width=STAMP_WIDTH, height=STAMP_HEIGHT)
    assert placed is not None
    assert placed[0] == 1
    assert free_box(make_pdf([full]), width=STAMP_WIDTH, height=STAMP_HEIGHT) is None


def test_an_unreadable_pdf_is_a_clear_error() -> None:
    with pytest.raises(PdfSigningError, match="not a readable PDF"):
        free_box(b"%PDF-1.7\nnot really a PDF", width=STAMP_WIDTH, height=STAMP_HEIGHT)
