"""Evidence packages of cases: one in the request (it takes well under a second), a set as a background job."""

from __future__ import annotations

import json
import re
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.accounts.models import User
from backend.core import jobs
from backend.core.exceptions import ValidationFailed
from backend.core.models import Job, JobItem
from backend.signatures.models import PublishedDocument
from backend.signatures.services import system_credential
from backend.workflow.history import event_time
from backend.workflow.models import HistoryEvent, ProcessInstance
from backend.workflow.selectors import instances_for
from signing import evidence

from .casefile import case_documents
from .models import CaseAccess
from .selectors import CaseFilters, cases_filtered, count_up_to
from .services import case_access_record

JOB_KIND = "case_evidence"
MAX_SET = 500
SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def history_document(instance: ProcessInstance) -> dict[str, Any]:
    """The case's history as the package holds it: every event with what its hash covers, and the anchor."""
    events = []
    for event in HistoryEvent.objects.filter(instance=instance).select_related("actor").order_by("seq"):
        events.append(
            {
                "seq": event.seq,
                "kind": event.kind,
                "actor_id": event.actor_id,
                "actor": event.actor.full_name if event.actor else "",
                "at": event_time(event.at),
                "payload": event.payload,
                "prev_hash": event.prev_hash,
                "hash": event.hash,
            }
        )
    definition = instance.definition
    return {
        "format": "qujat-case-history/1",
        "case": instance.number,
        "instance_id": instance.pk,
        "process": definition.key,
        "version": definition.version,
        "status": instance.status,
        "started_at": event_time(instance.started_at),
        "anchor": {"count": instance.history_count, "head": instance.history_head},
        "events": events,
    }


def _read(file: Any) -> bytes:
    with file.open("rb") as handle:
        return bytes(handle.read())


def package_files(instance: ProcessInstance) -> list[tuple[str, bytes]]:
    """The files of one case's package: its version's diagram, its history, its documents."""
    files: list[tuple[str, bytes]] = [
        ("process.bpmn", instance.definition.bpmn_xml.encode()),
        (
            evidence.HISTORY,
            json.dumps(history_document(instance), ensure_ascii=False, indent=1, sort_keys=True).encode(),
        ),
    ]
    published = {
        p.document_id: p for p in PublishedDocument.objects.filter(document__instance=instance, signed_pdf__gt="")
    }
    for document in case_documents(instance):
        name = SAFE.sub("-", f"{document.pk}-{document.number or document.kind}").strip("-")
        publication = published.get(document.pk)
        if publication is not None and publication.signed_pdf:
            files.append((f"documents/{name}.pdf", _read(publication.signed_pdf)))
        elif document.pdf:
            files.append((f"unsigned/{name}.pdf", _read(document.pdf)))
    return files


def evidence_package(instance: ProcessInstance) -> bytes:
    """The signed ZIP of one case (built from what is stored now)."""
    return evidence.build_package(files=package_files(instance), credential=system_credential())


def evidence_for(*, user: User, instance: ProcessInstance) -> bytes:
    """One case's package for someone who may see the case (checked by the caller); the download is logged."""
    package = evidence_package(instance)
    case_access_record(user=user, action=CaseAccess.Action.EVIDENCE, instance=instance)
    return package


def evidence_set_start(*, user: User, filters: CaseFilters) -> Job:
    """A job making the package of every case of the filtered list (at most MAX_SET)."""
    cases = cases_filtered(user, filters)
    count = count_up_to(cases, MAX_SET)
    if count == 0:
        raise ValidationFailed(_("No case matches the search."), code="empty")
    if count > MAX_SET:
        raise ValidationFailed(
            _("The search finds more than %(max)s cases, more than a set holds. Narrow the search.") % {"max": MAX_SET},
            code="too_many",
        )
    numbers = [number or str(pk) for number, pk in cases.values_list("number", "pk")]
    items = [(number, {"en": number}) for number in numbers]
    job = jobs.job_start(
        kind=JOB_KIND,
        owner=user,
        title={"kk": "Дәлелдер пакеттері", "ru": "Пакеты доказательств", "en": "Evidence packages"},
        items=items,
        params={"filters": filters.as_params()},
        back_url=reverse("web:cases") + ("?" + filters.query_string() if filters.query_string() else ""),
    )
    case_access_record(
        user=user, action=CaseAccess.Action.EVIDENCE_SET, detail={"filters": filters.as_params(), "cases": count}
    )
    return job


def package_path(job_id: int, number: str) -> str:
    return f"evidence/{job_id}/{SAFE.sub('-', number)}.zip"


def _run_item(job: Job, item: JobItem) -> dict[str, Any]:
    owner = job.owner
    # Checked again when the item runs: the owner may have lost the right to see the case since.
    instance = instances_for(owner).filter(number=item.key).first() if owner is not None else None
    if instance is None:
        raise ValidationFailed(_("There is no such case."))
    path = package_path(job.pk, item.key)
    if default_storage.exists(path):
        default_storage.delete(path)
    default_storage.save(path, ContentFile(evidence_package(instance)))
    return {"url": reverse("web:case-evidence-item", args=[job.pk, item.pk]), "at": timezone.now().isoformat()}


jobs.register_job_kind(JOB_KIND, run_item=_run_item)
