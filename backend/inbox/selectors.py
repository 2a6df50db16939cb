"""Reads of the inbox: a person's task list (a constant number of queries per page), a task page, counters."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.accounts.models import User
from backend.accounts.selectors import active_substitutions, role_holders
from backend.core.exceptions import NotFound
from backend.core.models import pick_language
from backend.documents.models import GeneratedDocument
from backend.workflow.models import HumanTask, ProcessDefinition, ProcessInstance, Purpose, TaskCandidate
from backend.workflow.selectors import (
    acting_capacity,
    inbox,
    offered_task_ids,
    people_acting_as,
    specs_with_purpose,
)

from . import wording
from .models import Attachment, Comment, SavedFilter, TaskView

PAGE_SIZES = (5, 10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


class Scope:
    ALL = "all"  # everything below
    MINE = "mine"  # assigned to me (or to the person I substitute)
    AVAILABLE = "available"  # offered to my role and not yet claimed
    COLLEAGUES = "colleagues"  # offered to my role, claimed by a colleague: read-only

    values = (ALL, MINE, AVAILABLE, COLLEAGUES)


SORTS = {
    "due": (F("due_at").asc(nulls_last=True), F("created_at").asc(), F("pk").asc()),
    "-due": (F("due_at").desc(nulls_last=True), F("created_at").desc(), F("pk").desc()),
    "-created": (F("created_at").desc(), F("pk").desc()),
    "created": (F("created_at").asc(), F("pk").asc()),
    "-priority": (F("priority").desc(), F("due_at").asc(nulls_last=True), F("pk").asc()),
}
SORT_ALIASES = {"priority": "-priority"}
NUMBER = re.compile(r"^#?(\d{1,12})$")


def _flag(value: Any) -> bool:
    return str(value).lower() in ("1", "true", "on", "yes")


@dataclass(frozen=True)
class InboxFilters:
    """What the person asked to see; built from a query string, unknown or bad values fall back to defaults."""

    scope: str = Scope.ALL
    process: str = ""
    overdue: bool = False
    due_week: bool = False
    q: str = ""
    sort: str = "due"
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    @classmethod
    def from_query(cls, params: Mapping[str, Any]) -> InboxFilters:
        scope = str(params.get("scope") or Scope.ALL)
        sort = SORT_ALIASES.get(str(params.get("sort") or ""), str(params.get("sort") or "due"))
        try:
            page = max(1, int(params.get("page") or 1))
        except (TypeError, ValueError):
            page = 1
        try:
            page_size = min(MAX_PAGE_SIZE, max(1, int(params.get("page_size") or DEFAULT_PAGE_SIZE)))
        except (TypeError, ValueError):
            page_size = DEFAULT_PAGE_SIZE
        return cls(
            scope=scope if scope in Scope.values else Scope.ALL,
            process=str(params.get("process") or "")[:100],
            overdue=_flag(params.get("overdue")),
            due_week=_flag(params.get("due_week")),
            q=" ".join(str(params.get("q") or "").split())[:100],
            sort=sort if sort in SORTS else "due",
            page=page,
            page_size=page_size,
        )

    def query_string(self, *, page: int | None = None, with_paging: bool = True) -> str:
        """The filters as a query string, leaving out defaults (what a saved filter stores)."""
        default = InboxFilters()
        values: dict[str, Any] = {}
        for name in ("scope", "process", "q", "sort"):
            if getattr(self, name) != getattr(default, name):
                values[name] = getattr(self, name)
        for name in ("overdue", "due_week"):
            if getattr(self, name):
                values[name] = "1"
        if with_paging:
            if self.page_size != DEFAULT_PAGE_SIZE:
                values["page_size"] = self.page_size
            if (page or self.page) != 1:
                values["page"] = page or self.page
        return urlencode(values)

    @property
    def is_filtered(self) -> bool:
        return bool(self.query_string(with_paging=False))


# --- the list -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxRow:
    """One line of the inbox as a person reads it."""

    task: HumanTask
    title: str
    process_title: str
    subject: str
    number: str
    requester: str
    due_state: str  # "overdue", "soon", "later" or "" (no due date)
    unread: bool
    read_only: bool
    claimed_by: User | None
    acting_for: User | None
    bulk: bool
    signable: bool = False  # a signature step: may be signed together with others (batch signing)


@dataclass
class InboxPage:
    rows: list[InboxRow]
    filters: InboxFilters
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.size + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.total, self.number * self.size)

    @property
    def has_bulk(self) -> bool:
        return any(row.bulk for row in self.rows)

    @property
    def has_signable(self) -> bool:
        return any(row.signable for row in self.rows)


def _week_end(now: datetime) -> datetime:
    """Monday 00:00 of next week, local time: "due this week" means before then."""
    local = timezone.localtime(now)
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return monday + timedelta(days=7)


def inbox_tasks(
    *, user: User, filters: InboxFilters, now: datetime | None = None, people: list[int] | None = None
) -> QuerySet[HumanTask]:
    """Open tasks assigned or offered to the person (or to whom they substitute), filtered; not yet ordered.

    `people` (the person and whom they substitute) saves a subquery when the caller has read them already."""
    people_ids: QuerySet[Any] | list[int] = people if people is not None else people_acting_as(user)
    moment = now or timezone.now()
    tasks = HumanTask.objects.filter(status=HumanTask.Status.OPEN)
    if filters.scope == Scope.MINE:
        tasks = tasks.filter(assignee_id__in=people_ids)
    else:
        tasks = tasks.filter(pk__in=offered_task_ids(people_ids))
        if filters.scope == Scope.AVAILABLE:
            tasks = tasks.filter(assignee__isnull=True)
        elif filters.scope == Scope.COLLEAGUES:
            tasks = tasks.filter(assignee__isnull=False).exclude(assignee_id__in=people_ids)
    if filters.process:
        tasks = tasks.filter(process_key=filters.process)
    if filters.overdue:
        tasks = tasks.filter(due_at__lt=moment)
    if filters.due_week:
        tasks = tasks.filter(due_at__gte=moment, due_at__lt=_week_end(moment))
    if filters.q:
        number = NUMBER.match(filters.q)
        wanted = Q(search_text__contains=filters.q.lower())
        if number:
            wanted |= Q(instance_id=int(number.group(1)))
        wanted |= Q(instance__number__iexact=filters.q.strip())
        tasks = tasks.filter(wanted)
    return tasks


def _substituted(user: User) -> dict[int, User]:
    subs = (
        active_substitutions()
        .filter(substitute=user)
        .select_related("absent")
        .only("absent_id", "absent__username", "absent__first_name", "absent__last_name", "absent__patronymic")
    )
    return {sub.absent_id: sub.absent for sub in subs}


def case_subject(subject: str, process_title: str, number: str) -> str:
    """What the case is about; a process that set no subject of its own gets its title and number."""
    if not subject or subject == process_title:
        return f"{process_title} № {number}"
    return subject


def bulk_specs(definition: ProcessDefinition | None) -> set[str]:
    """The user tasks of a process that may be approved together with others (BPMN property bulk="true")."""
    if definition is None:
        return set()
    tasks = (definition.routing or {}).get("tasks", {})
    return {spec for spec, info in tasks.items() if str(info.get("properties", {}).get("bulk", "")).lower() == "true"}


def process_choices() -> list[tuple[str, str]]:
    """(key, title) of every deployed process, for the filter; titles in the active language."""
    seen: dict[str, str] = {}
    for key, title in ProcessDefinition.objects.order_by("key", "-version").values_list("key", "title"):
        seen.setdefault(key, pick_language(title or {}) or key)
    return sorted(seen.items(), key=lambda item: item[1])


def inbox_page(*, user: User, filters: InboxFilters, now: datetime | None = None) -> InboxPage:
    """One page of the inbox in five queries whatever the page size: substitutions, count, the page's ids in
    order, those rows with what the list shows of them, and their process definitions."""
    moment = now or timezone.now()
    substituted = _substituted(user)
    tasks = inbox_tasks(user=user, filters=filters, now=moment, people=[user.pk, *substituted])
    total = tasks.count()
    pages = max(1, math.ceil(total / filters.page_size))
    number = min(filters.page, pages)
    offset = (number - 1) * filters.page_size
    # The page's ids first: sorting and skipping touch only the task rows, and the joins and per-row lookups
    # below are done for the page alone, not for every task of the inbox.
    page_ids = list(
        tasks.order_by(*SORTS[filters.sort]).values_list("pk", flat=True)[offset : offset + filters.page_size]
    )
    mine = TaskCandidate.objects.filter(task=OuterRef("pk"), user_id=user.pk)
    rows_qs = (
        HumanTask.objects.filter(pk__in=page_ids)
        .select_related("instance", "requester", "assignee")
        .only(
            "id",
            "instance_id",
            "spec_id",
            "process_key",
            "title",
            "assignee_id",
            "created_at",
            "due_at",
            "priority",
            "subject",
            "requester_id",
            "instance__business_key",
            "instance__number",
            "instance__definition_id",
            "requester__username",
            "requester__first_name",
            "requester__last_name",
            "requester__patronymic",
            "assignee__username",
            "assignee__first_name",
            "assignee__last_name",
            "assignee__patronymic",
        )
        .annotate(
            seen=Exists(TaskView.objects.filter(task=OuterRef("pk"), user_id=user.pk)),
            my_acting_for_id=Subquery(mine.values("acting_for_id")[:1]),
            offered_to_me=Exists(mine.filter(is_open=True)),
        )
        .order_by()
    )
    if substituted:
        rows_qs = rows_qs.annotate(
            offered_to_absent_id=Subquery(
                TaskCandidate.objects.filter(task=OuterRef("pk"), user_id__in=list(substituted), is_open=True).values(
                    "user_id"
                )[:1]
            )
        )
    by_id = {task.pk: task for task in rows_qs}
    page_tasks = [by_id[pk] for pk in page_ids if pk in by_id]
    definitions = {
        d.pk: d
        for d in ProcessDefinition.objects.filter(pk__in={t.instance.definition_id for t in page_tasks} or {0})
        .only("id", "key", "title", "routing", "version")
        .annotate(
            latest_version=Subquery(
                ProcessDefinition.objects.filter(key=OuterRef("key")).order_by("-version").values("version")[:1]
            )
        )
    }
    bulk = {pk: bulk_specs(d) for pk, d in definitions.items()}
    signature = {
        # The latest version has nothing to borrow its purposes from: no query per definition (see specs_with_purpose).
        pk: (
            set()
            if d.version == getattr(d, "latest_version", None)
            and not any(t.get("properties", {}).get("purpose") for t in (d.routing or {}).get("tasks", {}).values())
            else {spec for spec, purpose in specs_with_purpose(d).items() if purpose == Purpose.SIGNATURE}
        )
        for pk, d in definitions.items()
    }
    rows = []
    for task in page_tasks:
        definition = definitions.get(task.instance.definition_id)
        process_title = definition.title_in() if definition else task.process_key
        number_text = task.instance.shown_number
        assignee_id = task.assignee_id
        read_only = assignee_id is not None and assignee_id != user.pk and assignee_id not in substituted
        acting_for = None
        if assignee_id in substituted:
            acting_for = substituted[assignee_id]
        elif assignee_id is None and not getattr(task, "offered_to_me", False):
            acting_for = substituted.get(getattr(task, "offered_to_absent_id", None) or 0)
        elif getattr(task, "my_acting_for_id", None) in substituted:
            acting_for = substituted[task.my_acting_for_id]
        rows.append(
            InboxRow(
                task=task,
                title=task.title_in(),
                process_title=process_title,
                subject=case_subject(task.subject_in(), process_title, number_text),
                number=number_text,
                requester=task.requester.full_name if task.requester else "",
                due_state=wording.due_state(task.due_at, moment),
                unread=not task.seen,
                read_only=read_only,
                claimed_by=task.assignee if assignee_id is not None and assignee_id != user.pk else None,
                acting_for=acting_for,
                bulk=not read_only and task.spec_id in bulk.get(task.instance.definition_id, set()),
                signable=not read_only and task.spec_id in signature.get(task.instance.definition_id, set()),
            )
        )
    return InboxPage(
        rows=rows, filters=replace(filters, page=number), total=total, number=number, size=filters.page_size
    )


def unread_count(user: User) -> int:
    """Open tasks the person may act on and has never opened: one query."""
    return inbox(user).exclude(Exists(TaskView.objects.filter(task=OuterRef("pk"), user_id=user.pk))).count()


def saved_filters(user: User) -> QuerySet[SavedFilter]:
    return SavedFilter.objects.filter(user=user).order_by("name")


# --- one task ---------------------------------------------------------------------------------------------------


def instance_participant(instance: ProcessInstance, user: User) -> bool:
    """Whether the person takes part in the case: started it, or is or was offered, given or done one of its tasks."""
    if instance.started_by_id == user.pk:
        return True
    involved = HumanTask.objects.filter(instance=instance).filter(
        Q(Exists(TaskCandidate.objects.filter(task=OuterRef("pk"), user=user)))
        | Q(assignee=user)
        | Q(completed_by=user)
    )
    return involved.exists()


def may_contribute(task: HumanTask, user: User) -> tuple[bool, User | None]:
    """Whether the person may comment and attach on this task's case, and whom they act for if a substitute."""
    allowed, acting_for = acting_capacity(task, user)
    if allowed:
        return True, acting_for
    return instance_participant(task.instance, user), None


@dataclass(frozen=True)
class TaskPermissions:
    """Everything the task page (web and API) needs about what this person may do with this task."""

    may_act: bool  # the task is theirs, or offered to them, or to whom they substitute
    acting_for: User | None  # whom they act for as a substitute, on the task or in its case
    can_complete: bool
    can_claim: bool
    can_release: bool
    can_contribute: bool  # comment and attach files on the case
    claimed_by_other: bool
    delegates: list[User]  # colleagues they may hand the task to


def task_permissions(task: HumanTask, user: User) -> TaskPermissions:
    """What `user` may do with `task`, worked out once (who may act is asked once)."""
    allowed, acting_for = acting_capacity(task, user)
    is_open = task.status == HumanTask.Status.OPEN
    return TaskPermissions(
        may_act=allowed,
        acting_for=acting_for,
        can_complete=allowed and is_open and task.instance.status == ProcessInstance.Status.RUNNING,
        can_claim=allowed and is_open and task.assignee_id is None,
        can_release=is_open and task.assignee_id == user.pk,
        can_contribute=allowed or instance_participant(task.instance, user),
        claimed_by_other=task.assignee_id is not None and task.assignee_id != user.pk and not allowed,
        delegates=delegates(task, user) if allowed and is_open else [],
    )


def delegates(task: HumanTask, user: User) -> list[User]:
    """Colleagues holding the task's role for its unit, to whom the person may hand the task."""
    if task.org_unit_id is None or not task.role or task.status != HumanTask.Status.OPEN:
        return []
    holders = role_holders(role=task.role, org_unit=task.org_unit)  # type: ignore[arg-type]
    people = {h.user.pk: h.user for h in holders if h.user.pk != user.pk}
    return sorted(people.values(), key=lambda person: person.full_name)


def comments_of(instance: ProcessInstance) -> QuerySet[Comment]:
    return Comment.objects.filter(instance=instance).select_related("author", "acting_for").order_by("created_at", "pk")


def attachments_of(instance: ProcessInstance) -> QuerySet[Attachment]:
    return (
        Attachment.objects.filter(instance=instance)
        .select_related("uploaded_by", "acting_for")
        .defer("sha256")
        .order_by("created_at", "pk")
    )


def attachment_of_task(task: HumanTask, attachment_id: int) -> Attachment:
    attachment = Attachment.objects.filter(pk=attachment_id, instance_id=task.instance_id).first()
    if attachment is None:
        raise NotFound(_("There is no such attachment."))
    return attachment


def documents_of(task: HumanTask) -> list[GeneratedDocument]:
    """The case's generated documents the task shows (its `documents` property names kinds; none means all)."""
    documents = GeneratedDocument.objects.filter(instance_id=task.instance_id).order_by("created_at", "pk")
    routing = task.instance.definition.routing or {}
    wanted = routing.get("tasks", {}).get(task.spec_id, {}).get("properties", {}).get("documents", "")
    kinds = [kind.strip() for kind in str(wanted).split(",") if kind.strip()]
    if kinds:
        documents = documents.filter(kind__in=kinds)
    return list(documents.defer("context", "approval_sheet"))


def document_of_task(task: HumanTask, document_id: int) -> GeneratedDocument:
    """A ready document of the task's case, or NotFound."""
    document = GeneratedDocument.objects.filter(
        pk=document_id, instance_id=task.instance_id, status=GeneratedDocument.Status.READY
    ).first()
    if document is None or not document.pdf:
        raise NotFound(_("There is no such document."))
    return document
