"""Reads of cases: the list a person may see (a constant number of queries per page) and the access log."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.accounts.models import OrgUnit, User
from backend.accounts.roles import Role
from backend.accounts.selectors import descendants, user_has_role
from backend.core.exceptions import NotFound, ValidationFailed
from backend.core.models import pick_language
from backend.core.params import query_choice, query_date, query_int, query_text
from backend.workflow.models import HumanTask, ProcessDefinition, ProcessInstance
from backend.workflow.selectors import instances_for

from .models import CaseAccess

PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 25
# Each order is served by an index (migration 0002), read forwards or backwards, so a page is a short index scan.
SORTS = {
    "-started": ("-started_at", "-pk"),
    "started": ("started_at", "pk"),
    "-updated": ("-updated_at", "-pk"),
    "updated": ("updated_at", "pk"),
    "number": ("pk",),
    "-number": ("-pk",),
    "process": ("process_key", "-started_at", "-pk"),
    "status": ("status", "-started_at", "-pk"),
}
# Counting is stopped here, as search engines do: past it the page says "more than" and offers to narrow the
# search; an exact count of a broad search would read every matching case for a figure nobody pages through.
COUNT_LIMIT = 10_000
# What a row of the list shows; the engine state, the process data and the definition's diagram stay unread.
LIST_COLUMNS = (
    "number",
    "process_key",
    "subject",
    "status",
    "stage",
    "started_at",
    "updated_at",
    "completed_at",
    "history_count",
    "definition__key",
    "definition__version",
    "definition__title",
    "started_by__first_name",
    "started_by__last_name",
    "started_by__patronymic",
    "started_by__username",
)
FULL_NUMBER = re.compile(r"^[A-Z]{2,5}-\d{4}-\d{6,}$")


@dataclass(frozen=True)
class CaseFilters:
    """What the person searches for; a bad value is refused with its field named (400), never ignored."""

    number: str = ""
    person: str = ""
    process: str = ""
    version: int | None = None
    status: str = ""
    started_from: date | None = None
    started_to: date | None = None
    unit: str = ""
    sort: str = "-started"
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    @classmethod
    def from_query(cls, params: Mapping[str, Any]) -> CaseFilters:
        started_from, started_to = query_date(params, "started_from"), query_date(params, "started_to")
        if started_from and started_to and started_from > started_to:
            raise ValidationFailed(
                _("Please correct the marked fields."),
                fields={"started_to": [_("The end of the period is before its beginning.")]},
            )
        statuses = ["", *ProcessInstance.Status.values]
        return cls(
            number=query_text(params, "number", max_length=40).upper(),
            person=query_text(params, "person", max_length=100),
            process=query_text(params, "process", max_length=100),
            version=query_int(params, "version", maximum=100_000),
            status=query_choice(params, "status", statuses, ""),
            started_from=started_from,
            started_to=started_to,
            unit=query_text(params, "unit", max_length=50),
            sort=query_choice(params, "sort", list(SORTS), "-started"),
            page=query_int(params, "page", maximum=1_000_000) or 1,
            page_size=int(query_choice(params, "page_size", [str(n) for n in PAGE_SIZES], str(DEFAULT_PAGE_SIZE))),
        )

    def as_params(self) -> dict[str, str]:
        """The filters that differ from the defaults, as query parameters (paging left out)."""
        default = CaseFilters()
        values: dict[str, str] = {}
        for field in fields(self):
            if field.name in ("page",):
                continue
            value = getattr(self, field.name)
            if value != getattr(default, field.name) and value is not None:
                values[field.name] = value.isoformat() if isinstance(value, date) else str(value)
        return values

    def query_string(self, *, page: int | None = None) -> str:
        values = self.as_params()
        if (page or self.page) != 1:
            values["page"] = str(page or self.page)
        return urlencode(values)

    @property
    def is_filtered(self) -> bool:
        return bool(set(self.as_params()) - {"sort", "page_size"})


def _people(text: str) -> QuerySet[User]:
    """People a search names: by username, or by every word of the name (surname, first name, patronymic)."""
    people = User.objects.all()
    words = text.split()
    query = Q(username__iexact=words[0]) if len(words) == 1 else Q(pk__in=[])
    name = Q()
    for word in words:
        name &= Q(last_name__icontains=word) | Q(first_name__icontains=word) | Q(patronymic__icontains=word)
    return people.filter(query | name).order_by().values("pk")  # type: ignore[return-value]


def cases_filtered(user: User, filters: CaseFilters) -> QuerySet[ProcessInstance]:
    """The cases the user may see that match the filters, in the chosen order."""
    cases = instances_for(user)
    if filters.number:
        if FULL_NUMBER.match(filters.number):
            cases = cases.filter(number=filters.number)
        else:
            # Numbers are upper case, like the search: a trigram index answers this on PostgreSQL.
            cases = cases.filter(number__contains=filters.number)
    if filters.person:
        # Collected from the foreign-key indexes first (a UNION), so the search costs a few index probes per
        # person however many cases there are; an OR with EXISTS would be checked against every case.
        # The people are looked up first (one small query): the case queries then name their ids, which the
        # planner estimates from the indexes' statistics, and each search plans no subquery over people.
        # The people are looked up first (one small query): the case queries then name their ids, which the
        # planner estimates from the indexes' statistics, and each search plans no subquery over people.
        people = list(_people(filters.person).values_list("pk", flat=True))
        if not people:
            return cases.none()
        requested = ProcessInstance.objects.filter(started_by__in=people).order_by().values("pk")
        completed = HumanTask.objects.filter(completed_by__in=people).order_by().values("instance_id")
        assigned = HumanTask.objects.filter(assignee__in=people).order_by().values("instance_id")
        cases = cases.filter(pk__in=requested.union(completed, assigned, all=True))
    if filters.process:
        cases = cases.filter(process_key=filters.process)
    if filters.version is not None:
        cases = cases.filter(definition__version=filters.version)
    if filters.status:
        cases = cases.filter(status=filters.status)
    zone = timezone.get_current_timezone()
    if filters.started_from:
        cases = cases.filter(started_at__gte=datetime.combine(filters.started_from, time.min, zone))
    if filters.started_to:
        cases = cases.filter(started_at__lt=datetime.combine(filters.started_to + timedelta(days=1), time.min, zone))
    if filters.unit:
        unit = OrgUnit.objects.filter(code=filters.unit).first()
        if unit is None:
            raise ValidationFailed(
                _("Please correct the marked fields."), fields={"unit": [_("There is no such school or department.")]}
            )
        scoped = HumanTask.objects.filter(org_unit_id__in=descendants([unit])).order_by().values("instance_id")
        cases = cases.filter(pk__in=scoped)
    return cases.order_by(*SORTS[filters.sort])


def count_up_to(cases: QuerySet[Any], limit: int) -> int:
    """How many cases there are, counted no further than `limit` + 1 (so "more than `limit`" can be told)."""
    return cases.order_by().values("pk")[: limit + 1].count()


@dataclass(frozen=True)
class CasePage:
    filters: CaseFilters
    rows: list[ProcessInstance]
    count: int  # exact up to COUNT_LIMIT; beyond it, COUNT_LIMIT and `more` is set
    more: bool
    number: int
    pages: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def cases_page(user: User, filters: CaseFilters) -> CasePage:
    """One page of the list: a capped count and a page query, however many cases there are."""
    cases = cases_filtered(user, filters)
    counted = count_up_to(cases, COUNT_LIMIT)
    count, more = min(counted, COUNT_LIMIT), counted > COUNT_LIMIT
    pages = max(1, math.ceil(count / filters.page_size))
    number = min(filters.page, pages)
    start = (number - 1) * filters.page_size
    # The page's ids are picked from the sort's index alone (an inner query), and only those rows are read and
    # joined with their process and requester: a deep page skips index entries, not joined rows. The outer query
    # reads those ids alone: repeating the filters there would plan and run a search (by person: a UNION) twice.
    ids = cases.values("pk")[start : start + filters.page_size]
    rows = list(
        ProcessInstance.objects.select_related("definition", "started_by")
        .only(*LIST_COLUMNS)
        .filter(pk__in=ids)
        .order_by(*SORTS[filters.sort])
    )
    return CasePage(
        filters=replace(filters, page=number), rows=rows, count=count, more=more, number=number, pages=pages
    )


def process_choices() -> list[tuple[str, str]]:
    """(key, title) of every deployed process, by title, for the search form (the latest version's title)."""
    latest: dict[str, str] = {}
    for key, title in ProcessDefinition.objects.order_by("key", "-version").values_list("key", "title"):
        latest.setdefault(key, pick_language(title or {}) or key)
    return sorted(latest.items(), key=lambda item: item[1])


def case_visible(user: User, number: str) -> ProcessInstance:
    """The case with this number if the user may see it; "not found" otherwise (no hint that it exists)."""
    case = instances_for(user).filter(number=number).first()
    if case is None:
        raise NotFound(_("There is no such case."))
    return case


def may_read_access_log(user: User) -> bool:
    return user.is_superuser or user_has_role(user, Role.REGISTRAR_HEAD)


def access_log(*, user: User, number: str = "", person: str = "") -> QuerySet[CaseAccess]:
    if not may_read_access_log(user):
        raise NotFound(_("There is no such page."))
    entries = CaseAccess.objects.select_related("user", "instance").only(
        "action",
        "at",
        "detail",
        "user__username",
        "user__first_name",
        "user__last_name",
        "user__patronymic",
        "instance__number",
    )
    if number:
        entries = entries.filter(instance__number=number)
    if person:
        entries = entries.filter(user__in=_people(person))
    return entries.order_by("-at", "-pk")
