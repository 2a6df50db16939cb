"""Every signature is its signer's act: keys under the holder's passphrase, signature tasks, batch signing."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from backend.academics.models import Student
from backend.core.models import Job, JobItem
from backend.signatures import keyring, services
from backend.signatures.models import Signature, SignerCertificate, SigningPassphrase
from backend.transcripts.models import RegistryEntry, TranscriptRequest
from backend.workflow.models import HistoryEvent, HumanTask
from signing.verify import verify_pdf
from tests.conftest import api_as, user
from tests.transcripts.test_issuance import act, request_transcript, task_of

pytestmark = [pytest.mark.django_db]


def sign_api(task_id: int, username: str, passphrase: str, **form: Any) -> Any:
    return api_as(username).post(
        f"/api/tasks/{task_id}/sign/", {"passphrase": passphrase, "form": form or {"confirm": True}}, format="json"
    )


def pdf_checks(pdf: bytes, tmp_path: Path, signatures: int = 1) -> None:
    """pdfsig (poppler + NSS, the university root trusted) and pyHanko both validate the PDF."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    root = tmp_path / "root.pem"
    root.write_text(services.pki_ensure()[0].certificate_pem)
    (tmp_path / "doc.pdf").write_bytes(pdf)
    nss = tmp_path / "nss"
    nss.mkdir(exist_ok=True)
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(
        ["certutil", "-A", "-d", f"sql:{nss}", "-n", "root", "-t", "CT,C,C", "-i", str(root)],
        check=True,
        capture_output=True,
    )
    report = subprocess.run(
        ["pdfsig", "-nssdir", f"sql:{nss}", str(tmp_path / "doc.pdf")], capture_output=True, text=True
    ).stdout
    assert report.count("Signature Validation: Signature is Valid.") == signatures, report
    assert report.count("Certificate Validation: Certificate is Trusted.") == signatures, report
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives.serialization import Encoding

    roots = [asn1_x509.Certificate.load(root.public_bytes(Encoding.DER)) for root in services.trust_roots()]
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    reader = PdfFileReader(io.BytesIO(pdf))
    assert len(reader.embedded_signatures) == signatures
    for embedded in reader.embedded_signatures:
        status = validate_pdf_signature(embedded, context)
        assert status.bottom_line, status.pretty_print_details()


# --- the key under the holder's passphrase -------------------------------------------------------------------------


def test_demo_signers_keys_are_under_their_passphrase_and_the_server_cannot_open_them(demo: None) -> None:
    head = user("registrar_head1")
    certificate = keyring.signing_certificate(head)
    assert certificate is not None
    assert certificate.wrapped_key.startswith("qujat-vault-1:")
    assert certificate.encrypted_key_pem == ""  # nothing the server could open on its own
    assert SigningPassphrase.objects.filter(user=head).exists()
    key = keyring.signing_key_open(user=head, passphrase="demo")
    assert key.certificate.pk == certificate.pk


def test_a_key_under_the_older_scrypt_derivation_opens_and_is_rewrapped_under_argon2id(demo: None) -> None:
    """Keys wrapped before Argon2id (scrypt) still open with the passphrase, and are taken under Argon2id then."""
    from signing import vault
    from signing.errors import WrongPasswordError

    dean = user("school_dean1")
    certificate = keyring.signing_certificate(dean)
    assert certificate is not None
    opened = keyring.signing_key_open(user=dean, passphrase="demo").credential.private_key
    # Wrap the same key as an earlier release did: scrypt, 2**15.
    old = vault.KdfParams(salt=b"s" * 16, kdf="scrypt", cost=(2**15, 8, 1))
    holder = vault.derive("demo", old)
    certificate.wrapped_key = vault.wrap(
        key=opened, holder=holder, kek=keyring.kek(), label=keyring.label_of(certificate)
    )
    certificate.save(update_fields=["wrapped_key"])
    SigningPassphrase.objects.filter(user=dean).update(kdf=old.to_json(), check_value=holder.check_value())
    assert vault.KdfParams.from_json(SigningPassphrase.objects.get(user=dean).kdf).outdated

    with pytest.raises(keyring.ValidationFailed):
        keyring.signing_key_open(user=dean, passphrase="wrong")  # a wrong one is still refused, nothing rewrapped
    assert vault.KdfParams.from_json(SigningPassphrase.objects.get(user=dean).kdf).kdf == "scrypt"

    again = keyring.signing_key_open(user=dean, passphrase="demo")
    assert again.credential.private_key.private_numbers() == opened.private_numbers()  # type: ignore[union-attr]
    record = SigningPassphrase.objects.get(user=dean)
    params = vault.KdfParams.from_json(record.kdf)
    assert (params.kdf, params.outdated, record.failed_attempts) == ("argon2id", False, 0)
    certificate.refresh_from_db()
    assert certificate.wrapped_key != ""
    # Under the new derivation now: the passphrase opens it, the old scrypt key does not.
    assert keyring.signing_key_open(user=dean, passphrase="demo").certificate.pk == certificate.pk
    with pytest.raises(WrongPasswordError):
        vault.unwrap(
            wrapped=certificate.wrapped_key, holder=holder, kek=keyring.kek(), label=keyring.label_of(certificate)
        )


def test_wrong_passphrases_are_counted_and_lock_signing(demo: None) -> None:
    head = user("department_head3")
    for left in (4, 3, 2, 1):
        with pytest.raises(keyring.ValidationFailed) as refused:
            keyring.signing_key_open(user=head, passphrase="wrong")
        assert refused.value.code == "wrong_passphrase"
        assert f"{left} attempt" in refused.value.message
    with pytest.raises(keyring.ValidationFailed) as locked:
        keyring.signing_key_open(user=head, passphrase="wrong")
    assert locked.value.code == "passphrase_locked"
    assert "locked until" in locked.value.message
    # Locked: even the right passphrase is refused for now.
    with pytest.raises(keyring.ValidationFailed) as still:
        keyring.signing_key_open(user=head, passphrase="demo")
    assert still.value.code == "passphrase_locked"
    SigningPassphrase.objects.filter(user=head).update(locked_until=None)
    assert keyring.signing_key_open(user=head, passphrase="demo")


def test_the_count_survives_the_refused_request(demo: None) -> None:
    """A refusal rolls back the request's transaction, never the count of wrong entries."""
    head = user("department_head4")
    response = api_as("department_head4").post(
        "/api/signing/passphrase/", {"current_passphrase": "nope", "new_passphrase": "long enough one"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "wrong_passphrase"
    assert SigningPassphrase.objects.get(user=head).failed_attempts == 1


def test_changing_the_passphrase_is_the_holders_act_and_rewraps_the_keys(demo: None) -> None:
    client = api_as("school_dean2")
    short = client.post(
        "/api/signing/passphrase/", {"current_passphrase": "demo", "new_passphrase": "x"}, format="json"
    )
    assert short.status_code == 400
    assert "new_passphrase" in short.json()["fields"]
    changed = client.post(
        "/api/signing/passphrase/",
        {"current_passphrase": "demo", "new_passphrase": "Жаңа құпия сөз 2026"},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["is_set"] is True
    dean = user("school_dean2")
    with pytest.raises(keyring.ValidationFailed):
        keyring.signing_key_open(user=dean, passphrase="demo")
    assert keyring.signing_key_open(user=dean, passphrase="Жаңа құпия сөз 2026")
    # The page under the profile shows the state in the person's language.
    browser = Client()
    browser.login(username="school_dean2", password="demo")
    page = browser.get("/profile/signing-key/", HTTP_ACCEPT_LANGUAGE="ru")
    assert page.status_code == 200


def test_a_reset_revokes_the_old_key_and_issues_a_new_one(demo: None) -> None:
    dean = user("dean_curation2")
    old = keyring.signing_certificate(dean)
    wrong = api_as("dean_curation2").post(
        "/api/signing/passphrase/reset/", {"password": "bad", "new_passphrase": "another long one"}, format="json"
    )
    assert wrong.status_code == 400
    assert "password" in wrong.json()["fields"]
    reset = api_as("dean_curation2").post(
        "/api/signing/passphrase/reset/", {"password": "demo", "new_passphrase": "another long one"}, format="json"
    )
    assert reset.status_code == 200, reset.json()
    old.refresh_from_db()
    assert old.revoked_at is not None
    new = keyring.signing_certificate(dean)
    assert new is not None
    assert new.pk != old.pk
    assert keyring.signing_key_open(user=dean, passphrase="another long one").certificate.pk == new.pk


def test_a_key_issued_by_an_administrator_waits_for_its_holders_passphrase(demo: None) -> None:
    teacher = user("teacher5")
    services.signer_certificate_issue(user=teacher)
    certificate = SignerCertificate.objects.get(user=teacher)
    assert certificate.encrypted_key_pem
    assert not certificate.wrapped_key
    with pytest.raises(keyring.ValidationFailed) as refused:
        keyring.signing_key_open(user=teacher, passphrase="anything")
    assert refused.value.code == "no_passphrase"
    page = Client()
    page.login(username="teacher5", password="demo")
    response = page.post(
        "/profile/signing-key/",
        {"action": "set", "set-new_passphrase": "my own passphrase", "set-repeat": "my own passphrase"},
    )
    assert response.status_code == 302
    certificate.refresh_from_db()
    assert certificate.wrapped_key
    assert not certificate.encrypted_key_pem
    assert keyring.signing_key_open(user=teacher, passphrase="my own passphrase")


# --- the signature steps are the signer's tasks -------------------------------------------------------------------


@pytest.mark.converter
def test_the_registrar_head_signs_her_task_with_her_passphrase(demo: None, tmp_path: Path) -> None:
    instance = request_transcript(language="ru")
    act(instance["id"], "registrar_staff1", "review", decision="approve")
    task = task_of(instance["id"], "registrar_head1", "sign_registrar")
    # Nobody else can sign it, and a checkbox is not a signature.
    assert sign_api(task["id"], "school_dean1", "demo").status_code in (403, 404)
    assert (
        api_as("registrar_head1")
        .post(f"/api/tasks/{task['id']}/complete/", {"confirm": True}, format="json")
        .json()["code"]
        == "signature_required"
    )
    wrong = sign_api(task["id"], "registrar_head1", "not her passphrase")
    assert wrong.status_code == 400
    assert wrong.json()["fields"]["passphrase"]
    request = TranscriptRequest.objects.get(instance_id=instance["id"])
    assert request.issued_at is None
    assert not Signature.objects.filter(document=request.document).exists()
    # The task page shows the document and the passphrase field, and signs on POST.
    browser = Client()
    browser.login(username="registrar_head1", password="demo")
    page = browser.get(f"/tasks/{task['id']}/", HTTP_ACCEPT_LANGUAGE="kk")
    html = page.content.decode()
    assert 'data-testid="pdf-viewer"' in html
    assert 'name="passphrase"' in html
    signed = browser.post(f"/tasks/{task['id']}/", {"confirm": "on", "passphrase": "demo"})
    assert signed.status_code == 302, signed.content.decode()[:2000]
    request.refresh_from_db()
    assert request.issued_at is not None
    assert RegistryEntry.objects.get(request=request).signed_by.username == "registrar_head1"
    event = HistoryEvent.objects.get(instance_id=instance["id"], kind="signed")
    assert event.actor.username == "registrar_head1"
    published = request.document.publication
    with published.signed_pdf.open("rb") as handle:
        pdf = handle.read()
    assert verify_pdf(pdf=pdf, trust_roots=services.trust_roots()).valid
    pdf_checks(pdf, tmp_path)


@pytest.mark.converter
def test_a_locked_signer_gets_a_clear_message_and_the_task_stays(demo: None) -> None:
    instance = request_transcript(kind="school")
    act(instance["id"], "registrar_staff1", "review", decision="approve")
    task = task_of(instance["id"], "school_dean1", "sign_dean")
    for _attempt in range(5):
        sign_api(task["id"], "school_dean1", "wrong")
    locked = sign_api(task["id"], "school_dean1", "demo")
    assert locked.status_code == 400
    assert locked.json()["code"] == "passphrase_locked"
    assert HumanTask.objects.get(pk=task["id"]).status == "open"
    SigningPassphrase.objects.filter(user__username="school_dean1").update(locked_until=None)
    assert sign_api(task["id"], "school_dean1", "demo").status_code == 200


@pytest.mark.converter
def test_the_head_of_department_signs_the_login_memo_in_the_task(
    demo: None, django_capture_on_commit_callbacks: Any
) -> None:
    from backend.access.models import AccessRequest
    from tests.access.conftest import act as access_act
    from tests.access.conftest import start, teacher

    with django_capture_on_commit_callbacks(execute=True):
        instance = start(
            "department_head1", {"kind": "teachers", "department": "dept-anatomy", "teachers": [teacher(1)]}
        )
    access_act(instance["id"], "department_head1", "sign", status=400, decision="sign", passphrase="wrong")
    assert AccessRequest.objects.get(instance_id=instance["id"]).memo_signed_at is None
    access_act(instance["id"], "department_head1", "sign", decision="sign")
    access = AccessRequest.objects.get(instance_id=instance["id"])
    assert access.memo_signed_at is not None
    assert Signature.objects.get(document=access.memo).signer.username == "department_head1"


# --- batch signing -------------------------------------------------------------------------------------------------


@pytest.mark.converter
def test_a_batch_of_sixty_with_one_corrupted_document(
    demo: None, django_capture_on_commit_callbacks: Any, tmp_path: Path
) -> None:
    groups = list(Student.objects.values_list("group_id", flat=True).order_by("group_id").distinct())
    waiting = HumanTask.objects.filter(spec_id="sign_registrar", status="open")
    for group in groups * 2:  # the demo has about 60 students: a second round of batches if needed
        if waiting.count() >= 60:
            break
        with django_capture_on_commit_callbacks(execute=True):
            created = api_as("registrar_staff1").post(
                "/api/transcripts/batches/", {"group": group, "language": "ru"}, format="json"
            )
        assert created.status_code == 201, created.json()
    tasks = list(
        HumanTask.objects.filter(spec_id="sign_registrar", status="open").order_by("pk").values_list("pk", flat=True)
    )[:60]
    assert len(tasks) == 60
    # One document is damaged on disk: its signature fails, the other 59 go through.
    broken_task = HumanTask.objects.get(pk=tasks[17])
    broken = TranscriptRequest.objects.get(instance_id=broken_task.instance_id)
    broken.document.pdf.storage.delete(broken.document.pdf.name)
    broken.document.pdf.storage.save(broken.document.pdf.name, io.BytesIO(b"%PDF-1.7\nnot really a PDF"))

    # The inbox offers them for signing together; the review page lists them; one passphrase entry signs.
    browser = Client()
    browser.login(username="registrar_head1", password="demo")
    review = browser.post("/inbox/sign/", {"task": tasks})
    assert review.status_code == 200
    assert review.content.decode().count('data-testid="batch-task"') == 60
    wrong = browser.post("/inbox/sign/", {"task": tasks, "action": "sign", "passphrase": "bad"})
    assert wrong.status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        started = browser.post("/inbox/sign/", {"task": tasks, "action": "sign", "passphrase": "demo"})
    assert started.status_code == 302
    job = Job.objects.get(kind="batch_sign")
    assert started["Location"] == f"/jobs/{job.pk}/"
    job.refresh_from_db()
    assert (job.total, job.done, job.failed) == (60, 59, 1)
    failed = job.items.get(status=JobItem.Status.FAILED)
    assert failed.key == str(broken_task.pk)
    assert broken.student.last_name in failed.label["ru"]  # reported by name
    assert "Не удалось подписать документ" in failed.message  # in the language of its signer (Russian)
    # Each signed task: its own signature, its own history event, issued; the broken one still waits.
    assert Signature.objects.filter(signer__username="registrar_head1").count() == 59
    assert HistoryEvent.objects.filter(kind="signed").count() == 59
    assert RegistryEntry.objects.count() == 59
    assert HumanTask.objects.get(pk=broken_task.pk).status == "open"
    # Nothing of the session is left: the key is gone from the job and the cache.
    assert "sealed_key" not in job.params
    assert cache.get("qujat:signing-session:" + job.params["session"]) is None
    # The progress page shows it.
    assert browser.get(f"/jobs/{job.pk}/").status_code == 200
    # A produced PDF validates in pdfsig and pyHanko.
    done = TranscriptRequest.objects.filter(issued_at__isnull=False).first()
    with done.document.publication.signed_pdf.open("rb") as handle:
        pdf_checks(handle.read(), tmp_path)


def test_the_review_page_names_each_left_out_task_by_its_case(demo: None) -> None:
    """A task that cannot be signed now is named by its case (subject and number), in the signer's language; one
    the person may not even see stays a bare number."""
    instance = request_transcript("student1")
    check = task_of(instance["id"], "registrar_staff1", "review")  # not a signature step, but the head sees the case
    browser = Client()
    browser.login(username="registrar_head1", password="demo")
    page = browser.post("/inbox/sign/", {"task": [check["id"], 999999]}, HTTP_ACCEPT_LANGUAGE="ru")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="refused-task"') == 2
    from django.utils.html import escape

    from backend.signatures.batch import task_label

    assert escape(task_label(HumanTask.objects.get(pk=check["id"]))["ru"]) + ":" in html
    assert "#999999:" in html
    assert f"#{check['id']}:" not in html


def test_a_batch_refuses_tasks_that_are_not_the_signers(demo: None) -> None:
    response = api_as("registrar_head1").post(
        "/api/signing/batches/", {"tasks": [999999], "passphrase": "demo"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["fields"]["tasks"]


# --- the university's e-seal ---------------------------------------------------------------------------------------


@pytest.mark.converter
def test_a_kind_issued_under_the_e_seal_names_the_university_never_a_person(demo: None, tmp_path: Path) -> None:
    from backend.transcripts.models import TranscriptKind

    TranscriptKind.objects.filter(code="standard").update(e_seal=True)  # the explicit setting in the admin
    instance = request_transcript(language="ru")
    act(instance["id"], "registrar_staff1", "review", decision="approve")
    request = TranscriptRequest.objects.get(instance_id=instance["id"])
    university = services.organisation_name()
    # The keeper of the e-seal gets the task; her personal key is not the seal.
    task = task_of(instance["id"], "registrar_head1", "sign_seal")
    assert sign_api(task["id"], "registrar_head1", "wrong").status_code == 400
    signed = sign_api(task["id"], "registrar_head1", "demo")
    assert signed.status_code == 200, signed.json()
    request.refresh_from_db()
    assert request.issued_at is not None
    signature = Signature.objects.get(document=request.document)
    assert signature.certificate.is_seal
    assert signature.position == f"электронная печать: {university}"
    with request.document.publication.signed_pdf.open("rb") as handle:
        pdf = handle.read()
    verdict = verify_pdf(pdf=pdf, trust_roots=services.trust_roots())
    assert verdict.valid
    assert verdict.signatures[0].signer.subject_common_name == university
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    flat = " ".join(text.decode().split())
    assert flat.count("электронная печать") >= 2  # the printed signer line, the sheet and the stamp
    assert university in flat
    assert "Измайлова" not in flat  # the keeper's name appears nowhere
    pdf_checks(pdf, tmp_path)
