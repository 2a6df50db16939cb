"""A case's history told for people: who did what and when, and for whom when they acted as a substitute."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.db.models import QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from backend.accounts.models import User
from backend.core.models import pick_language
from backend.workflow.models import HistoryEvent, HumanTask, ProcessInstance


@dataclass(frozen=True)
class TimelineEntry:
    seq: int
    kind: str
    at: datetime
    actor: str  # the person's name; empty for the system
    acting_for: str  # whom the actor substituted, if anyone
    text: str
    details: list[tuple[str, str]]  # (label, value) lines: a decision, a comment, a reason


class TimelineEvent(Protocol):
    """What the timeline reads of an event: a HistoryEvent, or a lighter object with the same attributes."""

    @property
    def seq(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def payload(self) -> Any: ...
    @property
    def actor(self) -> User | None: ...


def _names(events: Sequence[TimelineEvent]) -> dict[str, str]:
    """Full names of every username mentioned in the events' payloads, in one query."""
    usernames: set[str] = set()
    for event in events:
        payload = event.payload or {}
        for key in ("acting_for", "assignee"):
            if isinstance(payload.get(key), str):
                usernames.add(payload[key])
        to = payload.get("to")  # one person when delegated, a list when escalated
        usernames.update([to] if isinstance(to, str) else [v for v in to or [] if isinstance(v, str)])
        for item in payload.get("candidates") or []:
            if isinstance(item, dict):
                usernames.update(v for v in (item.get("user"), item.get("acting_for")) if isinstance(v, str))
    if not usernames:
        return {}
    users = User.objects.filter(username__in=usernames).only("username", "first_name", "last_name", "patronymic")
    return {user.username: user.full_name for user in users}


def _people(names: dict[str, str], usernames: list[str]) -> str:
    return ", ".join(names.get(name, name) for name in usernames) or _("nobody")


def timeline_events(instance: ProcessInstance) -> QuerySet[HistoryEvent]:
    """The instance's events with what the timeline reads of them, oldest first."""
    return (
        HistoryEvent.objects.filter(instance=instance)
        .select_related("actor")
        .only(
            "seq",
            "kind",
            "at",
            "payload",
            "actor__username",
            "actor__first_name",
            "actor__last_name",
            "actor__patronymic",
        )
        .order_by("seq")
    )


def task_titles(rows: Iterable[tuple[int, str, Any]]) -> dict[int, str]:
    """Task id → its title in the active language, from (id, step id, title) rows."""
    language = get_language()
    return {pk: pick_language(title or {}, language) or spec for pk, spec, title in rows}


def timeline(
    instance: ProcessInstance,
    *,
    forms: dict[str, Any] | None = None,
    events: Sequence[TimelineEvent] | None = None,
    titles: dict[int, str] | None = None,
) -> list[TimelineEntry]:
    """The instance's history, oldest first, as sentences in the active language (three queries, or fewer when
    the caller has read the events (`timeline_events`) or the tasks' titles (`task_titles`) for its own use)."""
    events = list(timeline_events(instance)) if events is None else events
    names = _names(events)
    if titles is None:
        titles = task_titles(HumanTask.objects.filter(instance=instance).values_list("pk", "spec_id", "title"))
    forms = forms if forms is not None else (instance.definition.forms or {})
    language = get_language()
    actors: dict[int, str] = {}  # a person's name, worked out once however many events they made
    entries = []
    for event in events:
        payload: dict[str, Any] = event.payload or {}
        person = event.actor
        actor = ""
        if person is not None:
            actor = actors.get(person.pk) or actors.setdefault(person.pk, person.full_name)
        acting_for = payload.get("acting_for")
        task_title = pick_language(payload["title"], language) if isinstance(payload.get("title"), dict) else ""
        task_id = payload.get("task")
        task_title = task_title or (titles.get(task_id, "") if isinstance(task_id, int) else "")
        task_title = task_title or str(payload.get("spec", ""))
        text, details = _describe(event.kind, payload, actor=actor or _("The system"), task=task_title, names=names)
        if event.kind == "completed":
            details = _submitted(payload.get("data") or {}, forms.get(payload.get("spec", ""), {}), language)
        entries.append(
            TimelineEntry(
                seq=event.seq,
                kind=event.kind,
                at=event.at,
                actor=actor,
                acting_for=names.get(acting_for, acting_for) if isinstance(acting_for, str) else "",
                text=text,
                details=details,
            )
        )
    return entries


def _submitted(data: dict[str, Any], schema: dict[str, Any], language: str | None = None) -> list[tuple[str, str]]:
    """The decision and the written reasons of a completed task, with the form's labels."""
    lines = []
    properties = schema.get("properties", {})
    for name, value in data.items():
        prop = properties.get(name, {})
        label = pick_language(prop.get("x-label", {}), language) or name
        if isinstance(value, bool):
            shown = _("yes") if value else _("no")
        elif isinstance(value, list):
            labels = prop.get("x-enum-labels") or prop.get("items", {}).get("x-enum-labels") or {}
            shown = ", ".join(pick_language(labels.get(v, {}), language) or str(v) for v in value)
        else:
            labels = prop.get("x-enum-labels") or {}
            shown = (
                pick_language(labels.get(value, {}), language)
                if isinstance(value, str) and value in labels
                else str(value)
            )
        if shown != "":
            lines.append((label, shown))
    return lines


def _describe(
    kind: str, payload: dict[str, Any], *, actor: str, task: str, names: dict[str, str]
) -> tuple[str, list[tuple[str, str]]]:
    values = {"actor": actor, "task": task}
    details: list[tuple[str, str]] = []
    if kind == "started":
        text = _("%(actor)s started the case.") % values
    elif kind == "task_created":
        if payload.get("assignee"):
            text = _("The task “%(task)s” was given to %(people)s.") % {
                **values,
                "people": _people(names, [payload["assignee"]]),
            }
        else:
            people = [c["user"] for c in payload.get("candidates") or [] if isinstance(c, dict) and c.get("user")]
            text = _("The task “%(task)s” was offered to %(people)s.") % {**values, "people": _people(names, people)}
    elif kind == "task_cancelled":
        text = _("The task “%(task)s” was withdrawn.") % values
    elif kind == "candidates_changed":
        people = [c["user"] for c in payload.get("candidates") or [] if isinstance(c, dict) and c.get("user")]
        text = _("The task “%(task)s” was re-routed to %(people)s.") % {**values, "people": _people(names, people)}
    elif kind == "claimed":
        text = _("%(actor)s took the task “%(task)s”.") % values
    elif kind == "released":
        text = _("%(actor)s released the task “%(task)s” for colleagues.") % values
    elif kind == "delegated":
        to = payload.get("to")
        text = _("%(actor)s delegated the task “%(task)s” to %(person)s.") % {
            **values,
            "person": names.get(to, to) if isinstance(to, str) else "",
        }
    elif kind == "completed":
        text = _("%(actor)s completed the task “%(task)s”.") % values
    elif kind == "timer_fired":
        text = _("A deadline of the case passed.")
    elif kind == "reminder":
        text = _("A reminder about the task “%(task)s” was sent.") % values
    elif kind == "escalated":
        people = [v for v in payload.get("to") or [] if isinstance(v, str)]
        text = _("The task “%(task)s” was overdue and went to %(people)s.") % {
            **values,
            "people": _people(names, people),
        }
    elif kind == "document_generated":
        text = _("The document “%(title)s” was generated.") % {"title": payload.get("title", "")}
    elif kind == "signed":
        text = _("%(actor)s signed a document.") % values
    elif kind == "commented":
        text = _("%(actor)s wrote a comment.") % values
        details = [(_("Comment"), str(payload.get("text", "")))]
    elif kind == "attached":
        text = _("%(actor)s attached the file “%(name)s”.") % {**values, "name": payload.get("name", "")}
    elif kind == "error":
        text = _("An automatic step failed; the Registrar office has been told.")
    elif kind == "retried":
        text = _("%(actor)s ran the failed step again.") % values
    elif kind == "suspended":
        text = _("%(actor)s suspended the case.") % values
        details = [(_("Reason"), str(payload["reason"]))] if payload.get("reason") else []
    elif kind == "resumed":
        text = _("%(actor)s resumed the case.") % values
    elif kind == "cancelled":
        text = _("%(actor)s cancelled the case.") % values
        details = [(_("Reason"), str(payload["reason"]))] if payload.get("reason") else []
    elif kind == "finished":
        text = _("The case is finished.")
    else:
        text = _("%(actor)s added a note to the case.") % values
    return text, details
