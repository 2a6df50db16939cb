"""The Registrar office's process monitor: process cards, the heatmap on the diagram, overdue and at-risk work
across people, weekly trends and the cases that need an operator; every table downloads as CSV or XLSX."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from backend.accounts.roles import Role
from backend.core.exceptions import Conflict, Forbidden, ValidationFailed
from backend.core.exports import table_download
from backend.core.http import authenticated_user
from backend.core.params import query_choice, query_int
from backend.monitor import selectors, services
from backend.monitor.scope import MonitorScope, monitor_scope
from backend.workflow import services as workflow
from backend.workflow.models import ProcessDefinition, ProcessInstance

FORMATS = ("html", "csv", "xlsx")


def _number(value: Any) -> str:
    return "" if value is None else str(value)


def _context(request: HttpRequest) -> tuple[MonitorScope, selectors.Filters, dict[str, Any]]:
    scope = monitor_scope(authenticated_user(request))
    filters = selectors.filters_from(request.GET, scope)
    return (
        scope,
        filters,
        {
            "scope": scope,
            "filters": filters,
            "units": selectors.units_for(scope),
            "query": urlencode(filters.query()),
            "roles": [(r.value, r.label) for r in Role if r not in (Role.STUDENT, Role.ADMINISTRATOR)],
        },
    )


def _export(request: HttpRequest, rows: list[list[str]], name: str) -> HttpResponse | None:
    fmt = query_choice(request.GET, "format", FORMATS, "html")
    if fmt == "html":
        return None
    return table_download(rows, name=name, fmt=fmt, sheet_title=name)


@login_required
def monitor_home(request: HttpRequest) -> HttpResponse:
    _scope, filters, context = _context(request)
    cards = selectors.process_cards(filters)
    header = [
        _("Process"),
        _("Started"),
        _("Finished"),
        _("Cancelled"),
        _("Running"),
        _("Overdue"),
        _("p50, working days"),
        _("p90, working days"),
        _("p95, working days"),
        _("Within the SOP deadline"),
    ]
    rows = [header] + [
        [
            c["title"],
            str(c["started"]),
            str(c["finished"]),
            str(c["cancelled"]),
            str(c["running"]),
            str(c["overdue"]),
            _number(c["p50_days"]),
            _number(c["p90_days"]),
            _number(c["p95_days"]),
            _number(c["within_sop"]),
        ]
        for c in cards
    ]
    return _export(request, rows, "monitor") or render(request, "monitor/home.html", {**context, "cards": cards})


@login_required
def monitor_diagram(request: HttpRequest, key: str) -> HttpResponse:
    """The process's BPMN XML for bpmn-js (the version chosen, or the latest)."""
    monitor_scope(authenticated_user(request))
    definition = selectors.definition_for(key, query_int(request.GET, "version"))
    return HttpResponse(definition.bpmn_xml, content_type="application/xml; charset=utf-8")


@login_required
def monitor_process(request: HttpRequest, key: str) -> HttpResponse:
    _scope, filters, context = _context(request)
    definition = selectors.definition_for(key, filters.version)
    steps = selectors.step_stats(definition, filters)
    table = query_choice(request.GET, "table", ("steps", "trend"), "steps")
    trend = selectors.weekly_trend(key, filters)
    if table == "trend":
        rows = [[_("Week"), _("Started"), _("Finished"), _("p90, working days")]] + [
            [w["week"], str(w["started"]), str(w["finished"]), _number(w["p90_days"])] for w in trend
        ]
    else:
        rows = [
            [
                _("Step"),
                _("Role"),
                _("Open now"),
                _("Overdue now"),
                _("Completed"),
                _("p50, working hours"),
                _("p90, working hours"),
                _("p95, working hours"),
                _("Share on time"),
                _("Ran again"),
            ]
        ] + [
            [
                s["title"],
                s["role"],
                str(s["open"]),
                str(s["overdue"]),
                str(s["completed"]),
                _number(s["p50_hours"]),
                _number(s["p90_hours"]),
                _number(s["p95_hours"]),
                _number(s["on_time"]),
                str(s["repeated"]),
            ]
            for s in steps
        ]
    exported = _export(request, rows, f"{key}-{table}")
    if exported:
        return exported
    versions = list(ProcessDefinition.objects.filter(key=key).order_by("-version").values_list("version", flat=True))
    card = next(iter(selectors.process_cards(filters, process_key=key)), None)
    return render(
        request,
        "monitor/process.html",
        {
            **context,
            "definition": definition,
            "steps": steps,
            "marks": selectors.heatmap_marks(steps),
            "trend": trend,
            "chart": {
                "labels": [w["week"] for w in trend],
                "started": [w["started"] for w in trend],
                "finished": [w["finished"] for w in trend],
                "p90": [w["p90_days"] for w in trend],
                "names": {"started": _("Started"), "finished": _("Finished"), "p90": _("p90, working days")},
            },
            "versions": versions,
            "card": card,
        },
    )


@login_required
def monitor_overdue(request: HttpRequest) -> HttpResponse:
    _scope, filters, context = _context(request)
    only_overdue = query_choice(request.GET, "only", ("all", "overdue"), "all") == "overdue"
    process_key = query_choice(
        request.GET, "process", ["", *ProcessDefinition.objects.values_list("key", flat=True).distinct()], ""
    )
    tasks = selectors.at_risk_tasks(filters, process_key=process_key, overdue_only=only_overdue)
    table = query_choice(request.GET, "table", ("tasks", "people", "units"), "tasks")
    fmt = query_choice(request.GET, "format", FORMATS, "html")
    limit = 5000 if fmt != "html" else 200
    rows_data = selectors.describe_tasks(list(tasks[:limit]))
    people = selectors.workload(filters, by="person")
    units = selectors.workload(filters, by="unit")
    if table == "people":
        rows = [[_("Person"), _("Open"), _("Overdue"), _("Median, working hours")]] + [
            [p["name"], str(p["open"]), str(p["overdue"]), _number(p["median_hours"])] for p in people
        ]
    elif table == "units":
        rows = [[_("Unit"), _("Open"), _("Overdue"), _("Median, working hours")]] + [
            [u["name"], str(u["open"]), str(u["overdue"]), _number(u["median_hours"])] for u in units
        ]
    else:
        rows = [[_("Case"), _("Step"), _("Held by"), _("Substitute"), _("Due"), _("State"), _("Since"), _("Escalated")]]
        for r in rows_data:
            task = r["task"]
            rows.append(
                [
                    task.instance.number or str(task.instance_id),
                    task.title_in(),
                    ", ".join(u.full_name for u in r["holders"]),
                    ", ".join(u.full_name for u in r["substitutes"]),
                    timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M"),
                    _("overdue") if r["overdue"] else _("past half its time"),
                    timezone.localtime(r["since"]).strftime("%Y-%m-%d %H:%M"),
                    timezone.localtime(r["escalated_at"]).strftime("%Y-%m-%d %H:%M") if r["escalated_at"] else "",
                ]
            )
    exported = _export(request, rows, f"monitor-{table}")
    if exported:
        return exported
    total = tasks.values_list("pk", flat=True)[: selectors.COUNT_CAP + 1].count()  # along the index, as the API
    return render(
        request,
        "monitor/overdue.html",
        {
            **context,
            "rows": rows_data,
            "total": min(total, selectors.COUNT_CAP),
            "more_than_total": total > selectors.COUNT_CAP,
            "people": people,
            "unit_rows": units,
            "only_overdue": only_overdue,
            "process_key": process_key,
            "processes": selectors.latest_definitions(),
        },
    )


@login_required
@require_POST
def monitor_remind(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.task_remind(task_id=pk, user=authenticated_user(request))
    except Conflict as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The reminder was sent and recorded in the case's history."))
    return redirect(_back(request, "web:monitor-overdue"))


def _back(request: HttpRequest, default: str) -> str:
    from django.urls import reverse
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse(default)


@login_required
def monitor_incidents(request: HttpRequest) -> HttpResponse:
    _scope, filters, context = _context(request)
    instances = list(selectors.incidents(filters)[:500])
    details = selectors.incident_details(instances)
    rows = [[_("Case"), _("Process"), _("Status"), _("Step"), _("What failed"), _("Since")]]
    for i in instances:
        detail = details.get(i.pk, {})
        since = detail.get("since") or i.updated_at
        rows.append(
            [
                i.number or str(i.pk),
                i.definition.title_in(),
                i.get_status_display(),
                detail.get("step", ""),
                i.incident or detail.get("message", ""),
                timezone.localtime(since).strftime("%Y-%m-%d %H:%M"),
            ]
        )
    exported = _export(request, rows, "monitor-incidents")
    if exported:
        return exported
    return render(
        request,
        "monitor/incidents.html",
        {**context, "instances": [(i, details.get(i.pk, {})) for i in instances]},
    )


def _corrected_data(raw: str) -> dict[str, Any]:
    """The corrected process data typed on the page: a JSON object, or nothing."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ValidationFailed(
            _("Please correct the marked fields."),
            fields={"process_data": [_('Enter the corrected data as a JSON object, e.g. {"name": "value"}.')]},
        )
    return value


def _case_by_number(raw: str) -> int:
    number = raw.strip()
    found = ProcessInstance.objects.filter(number=number).values_list("pk", flat=True).first() if number else None
    if found is None:
        raise ValidationFailed(
            _("Please correct the marked fields."), fields={"number": [_("There is no case with this number.")]}
        )
    return found


@login_required
@require_POST
def monitor_operate(request: HttpRequest, pk: int, operation: str) -> HttpResponse:
    """Retry (with corrected data), suspend, resume or cancel with a reason; the services record it."""
    user = authenticated_user(request)
    scope = monitor_scope(user)
    if not scope.may_operate:
        raise Forbidden(_("Only the head of the Registrar office or an administrator may do this."))
    reason = request.POST.get("reason", "").strip()
    if operation == "suspend" and pk == 0:
        pk = _case_by_number(request.POST.get("number", ""))
    try:
        if operation == "retry":
            workflow.instance_retry(
                instance_id=pk, user=user, data=_corrected_data(request.POST.get("process_data", ""))
            )
        elif operation == "suspend":
            workflow.instance_suspend(instance_id=pk, user=user, reason=reason)
        elif operation == "resume":
            workflow.instance_resume(instance_id=pk, user=user)
        else:
            workflow.instance_cancel(instance_id=pk, user=user, reason=reason)
    except Conflict as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Done; the case's history records it."))
    return redirect("web:monitor-incidents")


urlpatterns = [
    path("monitor/", monitor_home, name="monitor"),
    path("monitor/overdue/", monitor_overdue, name="monitor-overdue"),
    path("monitor/tasks/<int:pk>/remind/", monitor_remind, name="monitor-remind"),
    path("monitor/incidents/", monitor_incidents, name="monitor-incidents"),
    path("monitor/cases/suspend/", monitor_operate, {"operation": "suspend", "pk": 0}, name="monitor-suspend-number"),
    *[
        path(f"monitor/cases/<int:pk>/{op}/", monitor_operate, {"operation": op}, name=f"monitor-{op}")
        for op in ("retry", "suspend", "resume", "cancel")
    ],
    path("monitor/<slug:key>/", monitor_process, name="monitor-process"),
    path("monitor/<slug:key>/diagram.bpmn", monitor_diagram, name="monitor-diagram"),
]
