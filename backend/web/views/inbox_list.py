"""The inbox list as the page prints it: links, dates, deadline phrases, badge styles and the pagination.

The selector (backend/inbox/selectors.py) says which tasks and what about them; this says how the page shows
it. Everything is worked out once per row in Python: a 100-row page through template filters costs more than
all of its queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from backend.inbox import wording
from backend.inbox.selectors import InboxPage, InboxRow, Scope

SCOPES = [
    (Scope.ALL, _("All my tasks and my group's")),
    (Scope.MINE, _("Assigned to me")),
    (Scope.AVAILABLE, _("Not yet claimed")),
    (Scope.COLLEAGUES, _("Claimed by colleagues")),
]
SORTS = [
    ("due", _("Due date, soonest first")),
    ("-due", _("Due date, latest first")),
    ("-created", _("Newest first")),
    ("created", _("Oldest first")),
    ("-priority", _("Priority, highest first")),
]


@dataclass(frozen=True)
class RowView:
    """One line of the list; what the selector knows of the task is read through (`row.title`, `row.task`)."""

    row: InboxRow

    def __getattr__(self, name: str) -> Any:
        if name == "row":  # not set yet (copying, unpickling): no lookup through itself
            raise AttributeError(name)
        return getattr(self.row, name)

    @cached_property
    def url(self) -> str:
        return reverse("web:task", args=[self.row.task.pk])

    @cached_property
    def created_text(self) -> str:
        return wording.local_text(self.row.task.created_at)

    @cached_property
    def created_iso(self) -> str:
        return wording.local_iso(self.row.task.created_at)

    @cached_property
    def due_text(self) -> str:
        return wording.local_text(self.row.task.due_at) if self.row.task.due_at else ""

    @cached_property
    def due_iso(self) -> str:
        return wording.local_iso(self.row.task.due_at) if self.row.task.due_at else ""

    @cached_property
    def due_phrase(self) -> str:
        return wording.due_phrase(self.row.task.due_at)

    @cached_property
    def priority_label(self) -> str:
        return wording.priority_label(self.row.task.priority)

    @cached_property
    def priority_style(self) -> str:
        return wording.priority_style(self.row.task.priority)


@dataclass(frozen=True)
class PageView:
    """A page of the list with its pagination links (query strings that keep the filters)."""

    page: InboxPage

    def __getattr__(self, name: str) -> Any:
        if name == "page":
            raise AttributeError(name)
        return getattr(self.page, name)

    @cached_property
    def rows(self) -> list[RowView]:
        return [RowView(row) for row in self.page.rows]

    @property
    def previous_query(self) -> str:
        return self.page.filters.query_string(page=self.page.number - 1)

    @property
    def next_query(self) -> str:
        return self.page.filters.query_string(page=self.page.number + 1)

    @property
    def links(self) -> list[tuple[int | None, str]]:
        """(page number, query string) around the current page, with None where pages are skipped."""
        number, pages = self.page.number, self.page.pages
        shown = sorted({1, pages, *range(max(1, number - 2), min(pages, number + 2) + 1)})
        links: list[tuple[int | None, str]] = []
        for index, shown_number in enumerate(shown):
            if index and shown_number - shown[index - 1] > 1:
                links.append((None, ""))
            links.append((shown_number, self.page.filters.query_string(page=shown_number)))
        return links
