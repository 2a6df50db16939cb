"""Pages of the auditor's workplace: the list of cases, a case page, evidence packages, the access log."""

from __future__ import annotations

from html import escape

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from backend.accounts.models import OrgUnit, User
from backend.cases import evidence, selectors
from backend.cases.casefile import CaseFile, TimelineLine, case_file, diagram_of, process_title
from backend.cases.exports import cases_download
from backend.cases.models import CaseAccess
from backend.cases.services import case_access_record
from backend.core import jobs
from backend.core.exceptions import ApplicationError, NotFound
from backend.core.http import authenticated_user, private_file
from backend.core.params import query_choice, query_text
from backend.workflow.models import ProcessDefinition, ProcessInstance


def _case(request: HttpRequest, number: str) -> ProcessInstance:
    try:
        return selectors.case_visible(authenticated_user(request), number)
    except NotFound:
        raise Http404 from None


@login_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    filters = selectors.CaseFilters.from_query(request.GET)
    export = query_choice(request.GET, "export", ["", "csv", "xlsx"], "")
    if export:
        return cases_download(user=user, filters=filters, fmt=export)
    page = selectors.cases_page(user, filters)
    context = {
        "page": page,
        "filters": filters,
        "processes": selectors.process_choices(),
        "statuses": ProcessInstance.Status.choices,
        "units": OrgUnit.objects.filter(kind__in=[OrgUnit.Kind.SCHOOL, OrgUnit.Kind.DEPARTMENT]).order_by(
            "kind", "code"
        ),
        "sorts": selectors.SORTS,
        "page_sizes": selectors.PAGE_SIZES,
        "may_read_log": selectors.may_read_access_log(user),
        "previous_query": filters.query_string(page=page.number - 1),
        "next_query": filters.query_string(page=page.number + 1),
        "export_query": filters.query_string(page=1),
    }
    return render(request, "cases/list.html", context)


def _timeline_item(line: TimelineLine, broken_at: int | None, words: dict[str, str]) -> str:
    """One event of the timeline as HTML; every value is escaped here (html.escape: the quotes too)."""
    entry = line.entry
    seq = entry.seq
    border = {"error": "border-danger", "completed": "border-success"}.get(entry.kind, "border-secondary-subtle")
    broken = seq == broken_at
    marked = ' data-broken="true"' if broken else ""
    badge = f' · <span class="badge text-bg-danger">{words["broken"]}</span>' if broken else ""
    html = [
        f'<li class="border-start border-3 ps-3 pb-2 {border}" id="event-{seq}" data-seq="{seq}" '
        f'data-kind="{escape(entry.kind)}" data-element="{escape(line.element)}"{marked}>'
        f'<div class="small text-body-secondary">#{seq} · <time>{escape(line.when)}</time>{badge}</div>'
        f"<div>{escape(entry.text)}"
    ]
    if entry.acting_for:
        acting = escape(words["acting_for"] % {"person": entry.acting_for})
        html.append(f' <span class="text-body-secondary">({acting})</span>')
    if line.document_url:
        html.append(f' <a href="{escape(line.document_url)}">{words["verification"]}</a>')
    html.append("</div>")
    if entry.details:
        html.append('<dl class="row small mb-0">')
        for label, value in entry.details:
            shown = escape(value).replace("\r\n", "<br>").replace("\n", "<br>")
            html.append(f'<dt class="col-sm-3">{escape(label)}</dt><dd class="col-sm-9 mb-0">{shown}</dd>')
        html.append("</dl>")
    if line.changes:
        html.append('<ul class="small mb-0">')
        for name, old, new in line.changes:
            html.append(f"<li>{escape(name)}: <del>{escape(old or '—')}</del> → {escape(new)}</li>")
        html.append("</ul>")
    html.append("</li>")
    return "".join(html)


def timeline_items(file: CaseFile) -> SafeString:
    """The timeline's items, built in one pass: a case of hundreds of events is read through the template
    language in many times the time (the markup is the one cases.js filters by data-element)."""
    broken_at = file.integrity.broken.seq if file.integrity.broken else None
    words = {
        "broken": escape(_("the chain breaks here")),
        "acting_for": _("acting for %(person)s"),
        "verification": escape(_("verification page")),
    }
    items = "".join(_timeline_item(line, broken_at, words) for line in file.timeline)
    return mark_safe(items)  # noqa: S308 - built of escaped values


def choice_items(file: CaseFile) -> SafeString:
    """The decisions taken at the diagram's gateways as list items, built in one pass like the timeline's (a case
    that looped back a hundred times took as many decisions); every value is escaped here."""
    items = []
    for choice in file.gateway_choices:
        data = ""
        if choice.data:
            shown = ", ".join(f"{escape(name)} = {escape(value)}" for name, value in choice.data)
            data = f' <span class="text-body-secondary">({shown})</span>'
        items.append(
            f'<li data-gateway="{escape(choice.gateway)}"><strong>{escape(choice.gateway_name)}</strong> → '
            f"{escape(choice.branch)}{data}</li>"
        )
    return mark_safe("".join(items))  # noqa: S308 - built of escaped values


@login_required
@require_GET
def case_detail(request: HttpRequest, number: str) -> HttpResponse:
    user = authenticated_user(request)
    instance = _case(request, number)
    casefile = case_file(instance)
    case_access_record(user=user, action=CaseAccess.Action.OPENED, instance=instance)
    latest = ProcessDefinition.objects.filter(key=instance.process_key).order_by("-version").only("version").first()
    context = {
        "case": instance,
        "file": casefile,
        "timeline_items": timeline_items(casefile),
        "choice_items": choice_items(casefile),
        "process_title": process_title(instance.definition),
        "latest_version": latest.version if latest else instance.definition.version,
        "node_events": {},
    }
    return render(request, "cases/detail.html", context)


@login_required
@require_GET
def case_diagram(request: HttpRequest, number: str) -> HttpResponse:
    """The BPMN XML of the version the case ran on (what the case page draws)."""
    instance = _case(request, number)
    response = HttpResponse(instance.definition.bpmn_xml, content_type="application/xml; charset=utf-8")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_GET
def case_evidence(request: HttpRequest, number: str) -> HttpResponse:
    instance = _case(request, number)
    package = evidence.evidence_for(user=authenticated_user(request), instance=instance)
    response = HttpResponse(package, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="evidence-{instance.number}.zip"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def case_evidence_set(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    filters = selectors.CaseFilters.from_query(request.POST)
    try:
        job = evidence.evidence_set_start(user=user, filters=filters)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(reverse("web:cases") + ("?" + filters.query_string() if filters.query_string() else ""))
    return redirect("web:job", pk=job.pk)


@login_required
@require_GET
def case_evidence_item(request: HttpRequest, job_id: int, item_id: int) -> FileResponse:
    try:
        job = jobs.job_visible(job_id=job_id, user=authenticated_user(request))
    except NotFound:
        raise Http404 from None
    item = job.items.filter(pk=item_id, status="done").first()
    if job.kind != evidence.JOB_KIND or item is None:
        raise Http404
    stored = evidence.package_path(job.pk, item.key)
    if not default_storage.exists(stored):
        raise Http404
    return private_file(
        default_storage.open(stored), filename=f"evidence-{item.key}.zip", content_type="application/zip"
    )


def _visible_version(user: User, key: str, version: int) -> ProcessDefinition:
    """A deployed version, for whoever may see a case that ran on it (404 for anyone else)."""
    definition = ProcessDefinition.objects.filter(key=key, version=version).first()
    if definition is None or not selectors.instances_for(user).filter(definition=definition).exists():
        raise Http404
    return definition


@login_required
@require_GET
def version_diagram(request: HttpRequest, key: str, version: int) -> HttpResponse:
    """A deployed version's diagram and what differs from the current version (for whoever may see cases of it)."""
    definition = _visible_version(authenticated_user(request), key, version)
    latest = ProcessDefinition.objects.filter(key=key).order_by("-version").first()
    assert latest is not None  # noqa: S101 - `definition` itself is one
    mine, current = diagram_of(definition), diagram_of(latest)
    differences = []
    if latest.pk != definition.pk:
        for element_id in sorted(set(mine.elements) | set(current.elements)):
            old, new = mine.elements.get(element_id), current.elements.get(element_id)
            if old is None and new is not None:
                differences.append(("added", new.title or element_id, ""))
            elif new is None and old is not None:
                differences.append(("removed", old.title or element_id, ""))
            elif old is not None and new is not None and (old.title != new.title or old.type != new.type):
                differences.append(("changed", old.title, new.title))
        old_flows = {(f.source, f.target, f.condition) for f in mine.flows}
        new_flows = {(f.source, f.target, f.condition) for f in current.flows}
        if old_flows != new_flows:
            differences.append(("flows", str(len(new_flows - old_flows)), str(len(old_flows - new_flows))))
    context = {
        "definition": definition,
        "latest": latest,
        "title": process_title(definition),
        "differences": differences,
        "xml_url": reverse("web:version-diagram-xml", args=[key, version]),
    }
    return render(request, "cases/version.html", context)


@login_required
@require_GET
def version_diagram_xml(request: HttpRequest, key: str, version: int) -> HttpResponse:
    definition = _visible_version(authenticated_user(request), key, version)
    return HttpResponse(definition.bpmn_xml, content_type="application/xml; charset=utf-8")


@login_required
@require_GET
def access_log(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    number = query_text(request.GET, "number", max_length=40).upper()
    person = query_text(request.GET, "person", max_length=100)
    try:
        entries = selectors.access_log(user=user, number=number, person=person)
    except NotFound:
        raise Http404 from None
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "cases/access_log.html", {"page": page, "number": number, "person": person})


urlpatterns = [
    path("cases/", case_list, name="cases"),
    path("cases/access-log/", access_log, name="case-access-log"),
    path("cases/evidence/", case_evidence_set, name="case-evidence-set"),
    path("cases/evidence/<int:job_id>/<int:item_id>/", case_evidence_item, name="case-evidence-item"),
    path("cases/<str:number>/", case_detail, name="case"),
    path("cases/<str:number>/diagram.bpmn", case_diagram, name="case-diagram"),
    path("cases/<str:number>/evidence/", case_evidence, name="case-evidence"),
    path("processes/<str:key>/v<int:version>/", version_diagram, name="version-diagram"),
    path("processes/<str:key>/v<int:version>/diagram.bpmn", version_diagram_xml, name="version-diagram-xml"),
]
