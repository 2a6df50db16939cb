"""The approval and signing sheet: who agreed and who signed a document, with their certificate data."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from backend.accounts.models import User
from backend.documents.letterhead import format_datetime
from backend.workflow.models import HumanTask, ProcessInstance

from .models import Signature, SignerCertificate


def sheet_rows(
    instance: ProcessInstance,
    language: str,
    *,
    signers: list[tuple[User, SignerCertificate | None]] = (),  # type: ignore[assignment]
    seals: list[tuple[str, SignerCertificate | None]] = (),  # type: ignore[assignment]
) -> list[dict[str, str]]:
    """One row per decision taken in the case (not the requester's own steps), then one per signer.

    `seals`: the university's e-seal as the signer (its name, "e-seal of <university>", never a person's).

    Approvers who signed their decision on their own computer (a CMS over the document) show its certificate.
    """
    rows: list[dict[str, str]] = []
    cms_certificates = {
        s.signer_id: s.certificate.sheet_text
        for s in Signature.objects.filter(document__instance=instance, kind=Signature.Kind.CMS).select_related(
            "certificate"
        )
    }
    tasks = (
        HumanTask.objects.filter(instance=instance, status=HumanTask.Status.COMPLETED)
        .exclude(completed_by=instance.started_by)
        .select_related("completed_by")
        .order_by("completed_at", "pk")
    )
    with override(language):
        actions = {"approve": _("Agreed"), "refuse": _("Refused"), "return": _("Returned")}
        for task in tasks:
            if task.completed_by is None:
                continue
            decision = task.submitted_data.get("decision", "approve")
            rows.append(
                {
                    "name": task.completed_by.short_name,
                    "action": str(actions.get(decision, _("Agreed"))),
                    "at": format_datetime(task.completed_at),
                    "certificate": cms_certificates.get(task.completed_by.pk, ""),
                }
            )
        now = timezone.now()
        for signer, certificate in signers:
            rows.append(
                {
                    "name": signer.short_name,
                    "action": str(_("Signed")),
                    "at": format_datetime(now),
                    "certificate": certificate.sheet_text if certificate else "",
                }
            )
        for name, certificate in seals:
            rows.append(
                {
                    "name": name,
                    "action": str(_("Signed")),
                    "at": format_datetime(now),
                    "certificate": certificate.sheet_text if certificate else "",
                }
            )
    return rows
