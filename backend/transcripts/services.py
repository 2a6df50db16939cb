"""Writes of transcript issuance: checking a request, issuing (number, PDF, signature, registry), batches.

Numbering: the next number is taken in the transaction that approves (or signs) the request, together with
the document row that owns it, and nothing slow happens in that transaction, so the number's lock is held
for a few statements. If the approval fails, the whole step rolls back and the number returns to the
sequence. Generating, signing and registering run after that commit in the background job
`transcripts.issue`; if one of them fails, the transcript keeps its number and the job is retried (its
page has the retry button), so numbers have no gaps and no duplicates, and a registry line exists exactly
for every issued transcript.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, override

from backend.academics.models import Student, StudyForm, StudyGroup
from backend.academics.selectors import Transcript, student_transcript
from backend.accounts.models import OrgUnit, User
from backend.accounts.positions import position_in
from backend.accounts.roles import Role
from backend.accounts.selectors import role_holders, user_has_role
from backend.core.exceptions import ApplicationError, Conflict, Forbidden, ValidationFailed
from backend.core.jobs import job_run, job_start, register_job_kind
from backend.core.models import Job, JobItem, in_each_language
from backend.core.workdays import add_working_days
from backend.documents.letterhead import letterhead
from backend.documents.models import GeneratedDocument
from backend.documents.services import document_request
from backend.signatures.models import Signature, SignerCertificate
from backend.signatures.services import (
    address_of,
    document_publish,
    organisation_name,
    public_name,
    seal_name,
    signing_certificate,
)
from backend.signatures.sheet import sheet_rows
from backend.workflow import services as workflow
from backend.workflow.models import ProcessInstance, Purpose
from backend.workflow.registry import ProcessHooks, StartSpec, register_process
from backend.workflow.scripting import InstanceContext, register_helper
from backend.workflow.selectors import completed_with_purpose, purpose_of
from signing.qr import new_verification_id

from .models import Batch, Notice, RegistryEntry, TranscriptKind, TranscriptRequest

logger = logging.getLogger(__name__)
PROCESS_KEY = "transcript_issuance"
SERVICE_WORKING_DAYS = 3
STAFF = (Role.REGISTRAR_STAFF, Role.REGISTRAR_HEAD, Role.REGISTRAR_INSPECTOR)


def _student_for(user: User, student_id: int | None) -> Student:
    if student_id is not None:
        if not (user.is_superuser or user_has_role(user, *STAFF)):
            raise ValidationFailed(
                _("Only the Registrar office files requests for someone else."),
                fields={"student": [_("Leave this empty; you request for yourself.")]},
            )
        student = Student.objects.select_related("group__specialty__school").filter(pk=student_id).first()
        if student is None:
            raise ValidationFailed(_("Please correct the marked fields."), fields={"student": [_("Unknown student.")]})
        return student
    student = Student.objects.select_related("group__specialty__school").filter(user=user).first()
    if student is None:
        raise Forbidden(_("Transcripts are requested by students and graduates from their personal cabinet."))
    return student


def signer_target(kind: TranscriptKind, student: Student) -> tuple[str, OrgUnit]:
    """The role that signs this kind and the unit whose holder of it signs."""
    if kind.signer_role == TranscriptKind.SignerRole.SCHOOL_DEAN:
        return kind.signer_role, student.group.school
    if kind.signer_role == TranscriptKind.SignerRole.DEPARTMENT_HEAD and kind.signer_unit is not None:
        return kind.signer_role, kind.signer_unit
    return kind.signer_role, OrgUnit.objects.get(parent__isnull=True)


def _subject(student: Student, kind: TranscriptKind) -> dict[str, str]:
    return in_each_language(
        lambda language: (
            _("Transcript: %(student)s, group %(group)s (%(kind)s)")
            % {"student": student.short_name, "group": student.group.name, "kind": kind.name_in(language)}
        )
    )


def start_data(
    *,
    student: Student,
    kind: TranscriptKind,
    periods: list[int],
    reason: str,
    language: str,
    electronic: bool,
    paper_copies: int,
    batch: Batch | None = None,
) -> StartSpec:
    signer_role, signer_unit = signer_target(kind, student)
    issue_due = add_working_days(timezone.now(), SERVICE_WORKING_DAYS)
    return StartSpec(
        data={
            "student_id": student.pk,
            "student_user_id": student.user_id,
            "kind": kind.code,
            "periods": periods,
            "reason": reason,
            "language": language,
            "electronic": electronic,
            "paper": paper_copies > 0,
            "paper_copies": paper_copies,
            "signer_role": signer_role,
            "signer_unit": signer_unit.code,
            "e_seal": kind.e_seal,
            "batch": batch is not None,
            "batch_id": batch.pk if batch else None,
            "issue_due": issue_due.isoformat(),
        },
        business_key=student.student_id,
        subject=_subject(student, kind),
    )


def transcript_start_prepare(
    *,
    user: User,
    reason: str,
    language: str,
    kind: str = "standard",
    periods: list[int] | None = None,
    electronic: bool = True,
    paper_copies: int = 0,
    student: int | None = None,
) -> StartSpec:
    """Check a transcript request (the start form's values) against the records."""
    applicant = _student_for(user, student)
    transcript_kind = TranscriptKind.objects.filter(code=kind, is_active=True).first()
    if transcript_kind is None:
        raise ValidationFailed(_("Please correct the marked fields."), fields={"kind": [_("Unknown transcript kind.")]})
    if not electronic and not paper_copies:
        raise ValidationFailed(
            _("Ask for an electronic copy, paper copies, or both."),
            fields={"paper_copies": [_("Ask for at least one paper copy, or for the electronic one.")]},
        )
    chosen = sorted(set(periods or []))
    studied = set(applicant.grades.values_list("period_id", flat=True))
    unknown = [p for p in chosen if p not in studied]
    if unknown:
        raise ValidationFailed(
            _("Please correct the marked fields."),
            fields={"periods": [_("Choose only periods you have final grades for.")]},
        )
    pending = TranscriptRequest.objects.filter(
        student=applicant, instance__status=ProcessInstance.Status.RUNNING, issued_at__isnull=True
    )
    if pending.count() >= 3:
        raise Conflict(_("You already have three requests in progress; wait for them or cancel one."))
    return start_data(
        student=applicant,
        kind=transcript_kind,
        periods=chosen,
        reason=reason,
        language=language,
        electronic=electronic,
        paper_copies=paper_copies,
    )


def transcript_request_create(instance: ProcessInstance, start: StartSpec) -> None:
    data = start.data
    request = TranscriptRequest.objects.create(
        instance=instance,
        student_id=data["student_id"],
        kind=TranscriptKind.objects.get(code=data["kind"]),
        reason=data["reason"],
        language=data["language"],
        electronic=data["electronic"],
        paper_copies=data["paper_copies"],
        batch_id=data["batch_id"],
        issue_due=data["issue_due"],
    )
    request.periods.set(data["periods"])


def transcript_check_task(instance: ProcessInstance, spec_id: str, data: dict[str, Any]) -> None:
    """Approving a transcript whose records have problems needs the staff to say they saw them."""
    if data.get("decision") != "approve" or data.get("problems_acknowledged"):
        return
    if purpose_of(instance.definition, spec_id) != Purpose.REVIEW:
        return
    request = TranscriptRequest.objects.select_related("student").get(instance=instance)
    if transcript_of(request).problems:
        raise ValidationFailed(
            _("The records have problems (listed with the preview); confirm you have seen them, or ask or refuse."),
            fields={"problems_acknowledged": [_("Confirm you have seen the data problems.")]},
        )


register_process(
    ProcessHooks(
        key=PROCESS_KEY,
        prepare_start=transcript_start_prepare,
        after_start=transcript_request_create,
        check_task=transcript_check_task,
    )
)


# --- the transcript itself --------------------------------------------------------------------------------------


def transcript_of(request: TranscriptRequest) -> Transcript:
    period_ids = set(request.periods.values_list("pk", flat=True)) or None
    return student_transcript(request.student, period_ids=period_ids, language=request.language)


def _points(value: Decimal) -> str:
    return str(value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize())


def transcript_context(
    request: TranscriptRequest, transcript: Transcript, *, signer: User | None, verification_url: str
) -> dict[str, Any]:
    student = request.student
    language = request.language
    group = student.group
    with override(language):
        retake = _("retake")
        duration = ngettext("%(years)s year", "%(years)s years", group.duration_years) % {"years": group.duration_years}
        study_form = str(StudyForm(group.study_form).label)
        signer_position = position_in(signer.position, language) if signer else ""
    return {
        **letterhead(language),
        "holder": {
            "full_name": student.full_name,
            "last_name": student.last_name,
            "first_name": student.first_name,
            "patronymic": student.patronymic,
            "student_id": student.student_id,
        },
        "school": group.school.name_in(language),
        "specialty": {"code": group.specialty.code, "name": group.specialty.name_in(language)},
        "course": str(group.course),
        "study_form": study_form,
        "duration": duration,
        "periods": [
            {
                "title": period.period.title(language),
                "rows": [
                    {
                        "code": row.code,
                        "name": row.name,
                        "credits": str(row.credits),
                        "points": _points(row.points),
                        "letter": row.letter,
                        "grade_point": f"{row.grade_point:.2f}",
                        "retake": str(retake) if row.is_retake else "",
                    }
                    for row in period.rows
                ],
                "credits": str(period.credits),
                "gpa": f"{period.gpa:.2f}",
            }
            for period in transcript.periods
        ],
        "total_credits": str(transcript.total_credits),
        "gpa": f"{transcript.gpa:.2f}",
        "signer": {"name": signer.full_name if signer else "", "position": signer_position},
        "verification_url": verification_url,
    }


def _request_of(context: InstanceContext) -> TranscriptRequest:
    return TranscriptRequest.objects.select_related(
        "student__group__specialty__school", "student__user", "kind", "instance"
    ).get(instance_id=context.instance_id)


@register_helper("transcript_draft")
def _transcript_draft(context: InstanceContext) -> Any:
    def transcript_draft() -> int:
        """An unsigned, unnumbered preview for the staff who check the request."""
        request = _request_of(context)
        document = document_request(
            kind="transcript",
            language=request.language,
            context=transcript_context(request, transcript_of(request), signer=None, verification_url=""),
            instance=request.instance,
            key="draft",
            title=str(_("Transcript preview (not valid)")),
        )
        return document.pk

    return transcript_draft


def _signer(request: TranscriptRequest) -> User:
    """Who the transcript names as its signer: a holder of the role its kind names, with a signing certificate.

    The signature itself is made by whoever completes the signature step (normally this person; a substitute
    acting for them signs with their own key, and the stamp and the registry name the one who signed).
    """
    role, unit = signer_target(request.kind, request.student)
    holders = [h for h in role_holders(role=role, org_unit=unit) if signing_certificate(h.user) is not None]
    if not holders:
        raise ValidationFailed(
            _("Nobody who signs %(kind)s transcripts has a valid certificate.") % {"kind": request.kind.name},
            code="no_signer",
        )
    return holders[0].user


def _seal() -> SignerCertificate:
    """The university's e-seal, kept by a holder of the seal custodian's role."""
    root = OrgUnit.objects.get(parent__isnull=True)
    for holder in role_holders(role=Role.SEAL_CUSTODIAN, org_unit=root):
        certificate = signing_certificate(holder.user, seal=True)
        if certificate is not None:
            return certificate
    raise ValidationFailed(
        _("The university's e-seal is not set up: nobody keeps a valid e-seal certificate."), code="no_seal"
    )


def _approver(request: TranscriptRequest) -> User:
    reviewed = completed_with_purpose(request.instance, Purpose.REVIEW).select_related("completed_by").first()
    if reviewed is not None and reviewed.completed_by is not None:
        return reviewed.completed_by
    assert request.instance.started_by is not None  # noqa: S101 - batches are started by staff
    return request.instance.started_by


@transaction.atomic
def transcript_prepare(request: TranscriptRequest) -> GeneratedDocument:
    """Number and generate the transcript (unsigned) and give it its verification id, for the signer's task."""
    request = TranscriptRequest.objects.select_for_update().get(pk=request.pk)
    if request.document_id is not None:
        return request.document  # type: ignore[return-value]
    transcript = transcript_of(request)
    verification_id = new_verification_id()
    if request.kind.e_seal:
        seal = _seal()
        name = seal_name(organisation_name(), request.language)
        context = transcript_context(request, transcript, signer=None, verification_url=address_of(verification_id))
        context["signer"] = {"name": name, "position": ""}
        sheet = sheet_rows(request.instance, request.language, seals=[(name, seal)])
    else:
        signer = _signer(request)
        certificate = signing_certificate(signer)
        context = transcript_context(request, transcript, signer=signer, verification_url=address_of(verification_id))
        sheet = sheet_rows(request.instance, request.language, signers=[(signer, certificate)])
    document = document_request(  # numbered now; generated in Celery after commit
        kind="transcript",
        language=request.language,
        context=context,
        instance=request.instance,
        key="transcript",
        allocate_number=True,
        approval_sheet=sheet,
    )
    student = request.student
    document_publish(
        document=document,
        holder=student.user,
        holder_public_name=public_name(
            last_name=student.last_name, first_name=student.first_name, patronymic=student.patronymic
        ),
        verification_id=verification_id,
    )
    request.document = document
    request.number = document.number
    request.save(update_fields=["document", "number"])
    return document


@register_helper("prepare_transcript")
def _prepare_transcript(context: InstanceContext) -> Any:
    def prepare_transcript() -> int:
        return transcript_prepare(_request_of(context)).pk

    return prepare_transcript


@transaction.atomic
def transcript_issue(request: TranscriptRequest) -> TranscriptRequest:
    """Register the transcript its signer has signed, and tell the student — all or nothing."""
    request = TranscriptRequest.objects.select_for_update().get(pk=request.pk)
    if request.issued_at is not None:
        return request
    document = request.document
    signature = (
        Signature.objects.filter(document=document, kind=Signature.Kind.PADES).select_related("signer").last()
        if document is not None
        else None
    )
    if document is None or signature is None:
        raise ValidationFailed(_("The transcript has not been signed."), code="not_signed")
    student = request.student
    now = timezone.now()
    request.issued_at = now
    request.save(update_fields=["issued_at"])
    RegistryEntry.objects.create(
        request=request,
        number=document.number,
        sequence=int(document.number.rsplit("/", 1)[-1]),
        issued_on=timezone.localdate(),
        student_name=student.full_name,
        student_code=student.student_id,
        kind_name=request.kind.name_in("ru"),
        electronic=request.electronic,
        paper_copies=request.paper_copies,
        issued_by=_approver(request),
        signed_by=signature.signer,
    )
    from .tasks import notify_issued  # the task module imports this one

    transaction.on_commit(lambda: notify_issued.delay(request.pk))  # told once the registration has committed
    return request


@transaction.atomic
def transcript_notify(*, request_id: int) -> None:
    """E-mail and a cabinet notice: the transcript is ready — once (a retry after a failed send does it again)."""
    request = (
        TranscriptRequest.objects.select_for_update(of=("self",)).select_related("student__user").get(pk=request_id)
    )
    if request.notified_at is not None:
        return
    request.notified_at = timezone.now()
    request.save(update_fields=["notified_at"])
    user = request.student.user
    link = f"{settings.QUJAT_SITE_URL}/transcripts/{request.pk}/"
    text = in_each_language(
        lambda _language: _("Your transcript No. %(number)s is ready.") % {"number": request.number}
    )
    if user is not None:
        Notice.objects.create(user=user, text=text, link=f"/transcripts/{request.pk}/")
    address = request.student.email or (user.email if user else "")
    if address:
        language = user.language if user else request.language
        with override(language):
            send_mail(
                subject=str(_("Your transcript is ready")),
                message=_("%(text)s\n\nDownload it from your personal cabinet: %(link)s")
                % {
                    "text": text.get(language, text["ru"]),
                    "link": link,
                },
                from_email=None,
                recipient_list=[address],
            )


@register_helper("issue_transcript")
def _issue_transcript(context: InstanceContext) -> Any:
    def issue_transcript() -> dict[str, Any]:
        request = transcript_issue(_request_of(context))
        return {"number": request.number, "document": request.document_id}

    return issue_transcript


@register_helper("transcript_handed_over")
def _handed_over(context: InstanceContext) -> Any:
    def transcript_handed_over(received_by: str, received_on: str) -> bool:
        request = _request_of(context)
        entry = RegistryEntry.objects.select_for_update().get(request=request)
        task = completed_with_purpose(request.instance, Purpose.HAND_OVER).first()
        entry.received_by = received_by
        entry.received_on = received_on
        entry.receiver_document = (task.submitted_data.get("receiver_document", "") if task else "")[:100]
        entry.handed_over_by_id = task.completed_by_id if task else context.actor_id
        entry.save(update_fields=["received_by", "received_on", "receiver_document", "handed_over_by"])
        return True

    return transcript_handed_over


# --- cancelling, batches ----------------------------------------------------------------------------------------


def transcript_cancel(*, request: TranscriptRequest, user: User, reason: str) -> TranscriptRequest:
    """The student may withdraw a request until it is approved."""
    if request.student.user_id != user.pk:
        raise Forbidden(_("Only the student who asked may withdraw the request."))
    reviews = completed_with_purpose(request.instance, Purpose.REVIEW)
    approved = reviews.filter(submitted_data__decision="approve").exists()
    if approved or request.issued_at or request.instance.status != ProcessInstance.Status.RUNNING:
        raise Conflict(_("The request can no longer be withdrawn: it has been approved or has ended."))
    workflow.instance_cancel(instance_id=request.instance_id, user=user, reason=reason, by_requester=True)
    request.refresh_from_db()
    return request


BATCH_JOB = "transcripts.batch"


@transaction.atomic
def batch_create(*, group_id: int, kind: str, language: str, reason: str, user: User) -> Batch:
    """A transcript for each student of the group, issued by a background job (one item per student)."""
    if not (user.is_superuser or user_has_role(user, *STAFF)):
        raise Forbidden(_("Only the Registrar office orders transcripts for a whole group."))
    group = StudyGroup.objects.filter(pk=group_id).first()
    kind_obj = TranscriptKind.objects.filter(code=kind, is_active=True).first()
    fields: dict[str, list[str]] = {}
    if group is None:
        fields["group"] = [_("Unknown group.")]
    if kind_obj is None:
        fields["kind"] = [_("Unknown transcript kind.")]
    if language not in ("kk", "ru", "en"):
        fields["language"] = [_("Choose kk, ru or en.")]
    if fields or group is None or kind_obj is None:
        raise ValidationFailed(_("Please correct the marked fields."), fields=fields)
    students = list(group.students.order_by("last_name", "first_name", "pk"))
    batch = Batch.objects.create(
        group=group,
        kind=kind_obj,
        language=language,
        reason=reason or str(_("graduation")),
        requested_by=user,
        total=len(students),
    )
    batch.job = job_start(
        kind=BATCH_JOB,
        owner=user,
        title=in_each_language(lambda _language: _("Transcripts for group %(group)s") % {"group": group.name}),
        items=[(str(s.pk), {code: f"{s.full_name} ({s.student_id})" for code in ("kk", "ru", "en")}) for s in students],
        params={"batch": batch.pk},
        back_url="/transcripts/batches/",
    )
    batch.save(update_fields=["job"])
    return batch


def _batch_issue_one(job: Job, item: JobItem) -> dict[str, Any]:
    """One student of a batch: start the case, which issues the transcript — in the item's own transaction.

    The database allows one request per student and batch (transcript_one_per_student_batch), so a batch
    delivered twice, or resumed after its worker died, never issues a second transcript. A failure (no signer,
    the converter down, bad records) rolls the student's case back with the item and names the reason;
    the job's retry starts it afresh.
    """
    batch = Batch.objects.select_related("group", "kind", "requested_by").get(pk=job.params["batch"])
    student = Student.objects.select_related("group__specialty__school").get(pk=int(item.key))
    request = TranscriptRequest.objects.filter(batch=batch, student=student).first()
    if request is None:
        workflow.instance_start(
            process_key=PROCESS_KEY,
            user=batch.requested_by,
            start=start_data(
                student=student,
                kind=batch.kind,
                periods=[],
                reason=batch.reason,
                language=batch.language,
                electronic=True,
                paper_copies=0,
                batch=batch,
            ),
        )
        request = TranscriptRequest.objects.select_related("instance").get(batch=batch, student=student)
    # A student is done once their transcript is numbered: it is generated next and waits for its signer's task.
    if request.document_id is None:
        incident = request.instance.incident or str(_("The transcript was not issued."))
        raise ApplicationError(incident)  # the item's transaction rolls back, the case with it
    Batch.objects.filter(pk=batch.pk).update(done=F("done") + 1)
    return {"url": f"/transcripts/{request.pk}/", "note": request.number}


def _batch_finished(job: Job) -> None:
    failures = job.items.filter(status=JobItem.Status.FAILED).order_by("position")
    Batch.objects.filter(job=job).update(
        status=job.status,
        done=job.done,
        failed=job.failed,
        finished_at=job.finished_at,
        errors=[{"student": item.label_in(), "error": item.message} for item in failures],
    )


register_job_kind(
    BATCH_JOB,
    run_item=_batch_issue_one,
    may_view=lambda viewer, _job: viewer.is_superuser or user_has_role(viewer, *STAFF),
    on_finish=_batch_finished,
)


def batch_run(*, batch_id: int) -> Batch:
    """Run the batch's job in this process (a message enqueued before batches were jobs; tests)."""
    batch = Batch.objects.select_related("job").get(pk=batch_id)
    if batch.job_id is not None:
        job_run(job_id=batch.job_id)
        batch.refresh_from_db()
    return batch
