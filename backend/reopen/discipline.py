"""Disciplinary measures by how many times journals were reopened in the academic year (RU SOP term 20)."""

from .models import Measure


def teacher_measure(count: int) -> str:
    """1 → oral warning, 2–3 → remark, 4 or more → reprimand."""
    if count <= 0:
        return Measure.NONE
    if count == 1:
        return Measure.ORAL_WARNING
    if count <= 3:
        return Measure.REMARK
    return Measure.REPRIMAND


def department_measure(count: int) -> str:
    """Over all its teachers: 1–2 → oral warning, 3–5 → remark, more than 5 → reprimand."""
    if count <= 0:
        return Measure.NONE
    if count <= 2:
        return Measure.ORAL_WARNING
    if count <= 5:
        return Measure.REMARK
    return Measure.REPRIMAND
