"""A signature task signed with NCALayer: the stamp placed by Qujat, the CMS made over exactly those bytes on the
signer's computer, checked like any NCALayer signature, put into the PDF — and the task completes as with the
passphrase (same history events, the transcript issued), once, and only for the task's holder."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.test import Client, TestCase

from backend.accounts.models import User
from backend.documents.models import GeneratedDocument
from backend.signatures.models import Signature
from backend.signatures.services import trust_anchor_add, trust_roots
from backend.transcripts.models import RegistryEntry, TranscriptRequest
from backend.workflow.models import HistoryEvent, HumanTask, ProcessInstance
from signing.cms import sign_detached
from signing.keys import Credential, certificate_to_pem
from signing.verify import verify_pdf
from tests.conftest import HEAD_IIN, api_as
from tests.transcripts.test_issuance import act, request_transcript

pytestmark = [pytest.mark.django_db, pytest.mark.converter]


@pytest.fixture
def waiting(demo: None, nca: dict[str, Credential]) -> tuple[HumanTask, GeneratedDocument]:
    """A transcript approved, numbered and generated, waiting in registrar_head1's signature task."""
    trust_anchor_add(name="NCA RK test root", certificate_pem=certificate_to_pem(nca["root"].certificate))
    User.objects.filter(username="registrar_head1").update(iin=HEAD_IIN)
    instance = request_transcript()
    act(instance["id"], "registrar_staff1", "review", decision="approve")
    task = HumanTask.objects.get(instance_id=instance["id"], spec_id="sign_registrar", status="open")
    document = TranscriptRequest.objects.get(instance_id=instance["id"]).document
    assert document is not None
    return task, document


def ncalayer_signs(username: str, document: GeneratedDocument, credential: Credential) -> tuple[str, Any]:
    """What the task page does: prepare, have NCALayer sign the bytes given (decode: true), post the CMS."""
    client = api_as(username)
    prepared = client.post(f"/api/documents/{document.pk}/cms-signature/prepare/")
    assert prepared.status_code == 200, prepared.json()
    content = base64.b64decode(prepared.json()["content"])
    cms = base64.b64encode(sign_detached(data=content, credential=credential)).decode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        posted = client.post(
            f"/api/documents/{document.pk}/cms-signature/",
            {"cms": cms, "token": prepared.json()["token"]},
            format="json",
        )
    return cms, posted


def test_the_holder_signs_with_ncalayer_and_the_task_completes_as_with_the_passphrase(
    waiting: tuple[HumanTask, GeneratedDocument], nca: dict[str, Credential]
) -> None:
    task, document = waiting
    cms, posted = ncalayer_signs("registrar_head1", document, nca["head"])
    assert posted.status_code == 201, posted.json()
    assert posted.json()["task_completed"] is True

    task.refresh_from_db()
    assert task.status == HumanTask.Status.COMPLETED
    assert task.completed_by is not None
    assert task.completed_by.username == "registrar_head1"
    # The same history as the passphrase path: the signature, then the task completed; the transcript issued.
    events = list(HistoryEvent.objects.filter(instance_id=task.instance_id).values_list("kind", flat=True))
    assert events.count("signed") == 1
    signed_at = events.index("signed")
    assert "completed" in events[signed_at:]
    entry = RegistryEntry.objects.get(request__instance_id=task.instance_id)
    assert entry.signed_by.username == "registrar_head1"
    assert ProcessInstance.objects.get(pk=task.instance_id).status == "completed"
    # The CMS is in the PDF, with the stamp Qujat placed; it verifies against the trusted NCA root.
    signature = Signature.objects.get(document=document)
    assert signature.kind == Signature.Kind.PADES
    publication = document.publication  # type: ignore[attr-defined]
    with publication.signed_pdf.open("rb") as handle:
        verdict = verify_pdf(pdf=handle.read(), trust_roots=trust_roots())
    assert verdict.valid, verdict
    assert [s.signer.iin if s.signer else None for s in verdict.signatures] == [HEAD_IIN]

    # Posted again (a double click, a retried request): the same signature, nothing done twice.
    again = api_as("registrar_head1").post(
        f"/api/documents/{document.pk}/cms-signature/", {"cms": cms, "token": "spent"}, format="json"
    )
    assert again.status_code == 201, again.json()
    assert again.json()["signature"] == posted.json()["signature"]
    assert again.json()["task_completed"] is False
    assert Signature.objects.filter(document=document).count() == 1
    assert RegistryEntry.objects.filter(request__instance_id=task.instance_id).count() == 1


def test_only_the_holder_may_prepare_and_someone_elses_key_is_refused(
    waiting: tuple[HumanTask, GeneratedDocument], nca: dict[str, Credential]
) -> None:
    task, document = waiting
    # Someone who sees the case but does not hold the task gets nothing to sign.
    refused = api_as("registrar_staff1").post(f"/api/documents/{document.pk}/cms-signature/prepare/")
    assert refused.status_code == 403, refused.json()
    # The holder with a stranger's key in NCALayer: refused with the reason; the task stays open.
    _cms, posted = ncalayer_signs("registrar_head1", document, nca["stranger"])
    assert posted.status_code == 400
    assert "iin_mismatch" in str(posted.json())
    task.refresh_from_db()
    assert task.status == HumanTask.Status.OPEN
    assert not Signature.objects.filter(document=document).exists()
    # A token that was never given is a clear 400, not a crash.
    bad = api_as("registrar_head1").post(
        f"/api/documents/{document.pk}/cms-signature/", {"cms": "MAA=", "token": "made-up"}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "session_expired"


def test_a_task_with_two_documents_completes_when_both_are_signed(
    waiting: tuple[HumanTask, GeneratedDocument], nca: dict[str, Credential]
) -> None:
    task, document = waiting
    # A second numbered transcript in the same case: the task names the kind, so both are its documents.
    second = GeneratedDocument.objects.get(pk=document.pk)
    second.pk = None
    second.number = f"{document.number}-2"
    second.key = "transcript-copy"
    second.save()
    _cms, first = ncalayer_signs("registrar_head1", document, nca["head"])
    assert first.status_code == 201, first.json()
    assert first.json()["task_completed"] is False
    task.refresh_from_db()
    assert task.status == HumanTask.Status.OPEN
    _cms, last = ncalayer_signs("registrar_head1", second, nca["head"])
    assert last.status_code == 201, last.json()
    assert last.json()["task_completed"] is True
    task.refresh_from_db()
    assert task.status == HumanTask.Status.COMPLETED


# --- the batch page's NCALayer list --------------------------------------------------------------------------------


def _review(username: str, task_ids: list[int]) -> Any:
    browser = Client()
    browser.login(username=username, password="demo")
    return browser.post("/inbox/sign/", {"task": task_ids})


def test_the_batch_page_offers_ncalayer_only_the_signers_own_documents_and_leaves_the_e_seal_out(
    waiting: tuple[HumanTask, GeneratedDocument],
) -> None:
    from backend.transcripts.models import TranscriptKind

    task, document = waiting
    # A second transcript of a kind issued under the e-seal: its task is registrar_head1's too, but not for NCALayer.
    TranscriptKind.objects.filter(code="standard").update(e_seal=True)
    sealed = request_transcript("student2")
    act(sealed["id"], "registrar_staff1", "review", decision="approve")
    seal_task = HumanTask.objects.get(instance_id=sealed["id"], spec_id="sign_seal", status="open")

    review = _review("registrar_head1", [task.pk, seal_task.pk, 999999])
    assert review.status_code == 200
    assert [label for label, _reason in review.context["refused"]] == ["#999999"]  # unknown: a bare number
    # NCALayer gets her own signature task's document only, named by title, number and student.
    (item,) = review.context["ncalayer_items"]
    assert item["document"] == document.pk
    assert item["task"] == task.pk
    assert item["prepare"] == f"/api/documents/{document.pk}/cms-signature/prepare/"
    assert item["post"] == f"/api/documents/{document.pk}/cms-signature/"
    student = TranscriptRequest.objects.get(instance_id=task.instance_id).student
    assert document.number in item["label"]
    assert student.last_name in item["label"]
    page = review.content.decode()
    assert 'data-testid="ncalayer-batch-seals"' in page
    assert 'id="ncalayer-batch-items"' in page

    # Someone who sees the case but does not hold the task: refused on the page, no NCALayer list at all …
    other = _review("registrar_staff1", [task.pk])
    from backend.signatures.batch import task_label

    (named,) = other.context["refused"]
    assert named[0] == task_label(task)["en"]  # she sees the case: it is named by it
    assert other.context["ncalayer_items"] == []
    assert 'data-testid="ncalayer-batch"' not in other.content.decode()
    # … and the endpoints refuse her per document whatever a page might send: a batch cannot mix signers.
    assert api_as("registrar_staff1").post(f"/api/documents/{document.pk}/cms-signature/prepare/").status_code == 403
    assert not Signature.objects.exists()
