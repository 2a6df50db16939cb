"""Signing on the signer's own computer: the NCALayer client (web/ncalayer.js) in Chromium, against a local server
that speaks NCALayer's protocol and signs with a test "NCA" certificate the deployment trusts.

The head of department reviews a teacher's note and signs it with NCALayer: accepted; NCALayer not running, the
key dialog cancelled, someone else's key and a signature over another document each end in a clear message, in the
page's language (Kazakh and Russian journeys)."""

from __future__ import annotations

import base64
import socket
from typing import Any

import pytest

from backend.accounts.models import User
from backend.signatures.models import Signature
from backend.signatures.services import trust_anchor_add
from backend.workflow.deployment import deploy_file
from signing.cms import verify_detached
from signing.keys import Credential, certificate_to_pem, generate_issuing_ca, generate_root_ca, issue_signer_certificate
from tests.browser.ncalayer_server import NCALayerStandIn
from tests.inbox.conftest import attach_document, open_task, start_case
from tests.workflow.conftest import DIAGRAM

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

HEAD_IIN = "800101300111"
STRANGER_IIN = "900202400222"


@pytest.fixture(scope="module")
def nca() -> dict[str, Credential]:
    """A test national CA (root and issuing CA) with an RSA signing certificate for the head and for a stranger."""
    root = generate_root_ca(common_name="NCA RK test root (RSA)", organisation="НУЦ РК тест")
    issuing = generate_issuing_ca(issuer=root, common_name="NCA RK test (RSA)", organisation="НУЦ РК тест")
    head = issue_signer_certificate(
        issuer=issuing, full_name="Кафедра меңгерушісі", position="", organisation="", iin=HEAD_IIN
    )
    stranger = issue_signer_certificate(
        issuer=issuing, full_name="Бөгде адам", position="", organisation="", iin=STRANGER_IIN
    )
    return {"root": root, "head": head, "stranger": stranger}


@pytest.fixture
def signing_case(transactional_demo: None, nca: dict[str, Credential], settings: Any) -> Any:
    """The engine's test process waiting for department_head1's review, with the teacher's note generated; the
    deployment trusts the test NCA root and knows the head's IIN."""
    deploy_file(DIAGRAM)
    trust_anchor_add(name="NCA RK test root", certificate_pem=certificate_to_pem(nca["root"].certificate))
    User.objects.filter(username="department_head1").update(iin=HEAD_IIN)
    instance = start_case("teacher1")
    document = attach_document(instance, "Explanatory note of teacher1", "Please reopen the journal of group 101.")
    return instance, document


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _open_review(log_in: Any, live_server: Any, instance: Any, language: str) -> Any:
    review = open_task(instance, "review")
    page = log_in("department_head1", language=language)
    page.goto(f"{live_server.url}/tasks/{review.pk}/")
    return page


def _sign(page: Any, document: Any) -> Any:
    from playwright.sync_api import expect

    widget = page.get_by_test_id(f"ncalayer-sign-{document.pk}")
    expect(widget).to_have_attribute("data-state", "ready")
    widget.locator("[data-ncalayer-button]").click()
    expect(widget).not_to_have_attribute("data-state", "working")
    return widget


def test_a_head_signs_the_note_with_ncalayer_in_kazakh(
    signing_case: Any,
    nca: dict[str, Credential],
    live_server: Any,
    log_in: Any,
    settings: Any,
    console_errors: list[str],
) -> None:
    from playwright.sync_api import expect

    instance, document = signing_case
    with NCALayerStandIn(nca["head"]) as ncalayer:
        settings.QUJAT_NCALAYER_URL = ncalayer.url
        page = _open_review(log_in, live_server, instance, "kk")
        widget = _sign(page, document)
        expect(widget).to_have_attribute("data-state", "accepted")
        expect(widget.locator("[data-ncalayer-status]")).to_have_text("Қолтаңба қабылданды.")

    # What NCALayer was asked: the basics module's sign, CMS, the document's own bytes, in the page's language.
    (request,) = ncalayer.requests
    assert request["module"] == "kz.gov.pki.knca.basics"
    assert request["method"] == "sign"
    assert request["args"]["format"] == "cms"
    assert request["args"]["locale"] == "kk"
    assert request["args"]["signerParams"]["iin"] == HEAD_IIN
    with document.pdf.open("rb") as handle:
        assert base64.b64decode(request["args"]["data"]) == handle.read()
    signature = Signature.objects.get(document=document)
    assert signature.kind == Signature.Kind.CMS
    assert signature.signer.username == "department_head1"
    assert console_errors == []


def test_ncalayer_not_running_is_said_plainly_in_russian(
    signing_case: Any, live_server: Any, log_in: Any, settings: Any
) -> None:
    from playwright.sync_api import expect

    instance, document = signing_case
    settings.QUJAT_NCALAYER_URL = f"ws://127.0.0.1:{_closed_port()}/"
    page = _open_review(log_in, live_server, instance, "ru")
    widget = _sign(page, document)
    expect(widget).to_have_attribute("data-state", "unavailable")
    expect(widget.locator("[data-ncalayer-status]")).to_contain_text("NCALayer не запущен")
    # The button stays usable: start NCALayer and press it again.
    expect(widget.locator("[data-ncalayer-button]")).to_be_enabled()
    assert not Signature.objects.filter(document=document).exists()


def test_a_cancelled_key_dialog_signs_nothing(
    signing_case: Any, nca: dict[str, Credential], live_server: Any, log_in: Any, settings: Any
) -> None:
    from playwright.sync_api import expect

    instance, document = signing_case
    with NCALayerStandIn(nca["head"], behaviour="cancel") as ncalayer:
        settings.QUJAT_NCALAYER_URL = ncalayer.url
        page = _open_review(log_in, live_server, instance, "ru")
        widget = _sign(page, document)
        expect(widget).to_have_attribute("data-state", "cancelled")
        expect(widget.locator("[data-ncalayer-status]")).to_contain_text("отменена")
    assert not Signature.objects.filter(document=document).exists()


def test_someone_elses_key_is_refused_with_the_reason_shown(
    signing_case: Any, nca: dict[str, Credential], live_server: Any, log_in: Any, settings: Any
) -> None:
    from playwright.sync_api import expect

    instance, document = signing_case
    with NCALayerStandIn(nca["stranger"]) as ncalayer:
        settings.QUJAT_NCALAYER_URL = ncalayer.url
        page = _open_review(log_in, live_server, instance, "kk")
        widget = _sign(page, document)
        expect(widget).to_have_attribute("data-state", "refused")
        status = widget.locator("[data-ncalayer-status]")
        expect(status).to_contain_text("Қолтаңба қабылданбады:")
        expect(status).to_contain_text("ЖСН сіздікі емес")
        expect(status).to_contain_text(STRANGER_IIN)
    assert not Signature.objects.filter(document=document).exists()


def test_a_signature_over_another_document_is_refused_with_the_reason_shown(
    signing_case: Any, nca: dict[str, Credential], live_server: Any, log_in: Any, settings: Any
) -> None:
    from playwright.sync_api import expect

    instance, document = signing_case
    with NCALayerStandIn(nca["head"], behaviour="sign_other") as ncalayer:
        settings.QUJAT_NCALAYER_URL = ncalayer.url
        page = _open_review(log_in, live_server, instance, "ru")
        widget = _sign(page, document)
        expect(widget).to_have_attribute("data-state", "refused")
        expect(widget.locator("[data-ncalayer-status]")).to_contain_text("другого документа")
    assert not Signature.objects.filter(document=document).exists()


def test_the_client_uses_the_multi_sign_form_for_several_documents(
    signing_case: Any, nca: dict[str, Credential], live_server: Any, log_in: Any, settings: Any
) -> None:
    """One NCALayer call for several documents: `data` is a list and one CMS comes back per item, in order."""
    instance, _document = signing_case
    with NCALayerStandIn(nca["head"]) as ncalayer:
        page = _open_review(log_in, live_server, instance, "en")
        signatures = page.evaluate(
            """async ([address, items]) => {
                 const client = await import('/static/web/ncalayer.js');
                 return await client.signWithNCALayer({address, data: items.map((item) => btoa(item))});
               }""",
            [ncalayer.url, ["first document", "second document"]],
        )
    assert len(ncalayer.requests) == 1
    assert ncalayer.requests[0]["args"]["data"] == [
        base64.b64encode(b"first document").decode(),
        base64.b64encode(b"second document").decode(),
    ]
    roots = [nca["root"].certificate]
    for cms, content in zip(signatures, [b"first document", b"second document"], strict=True):
        assert verify_detached(cms=cms, trust_roots=roots, content=content, expected_iin=HEAD_IIN).valid


@pytest.mark.converter
def test_the_registrar_head_signs_her_transcript_task_with_ncalayer_and_the_task_is_completed(
    transactional_demo: None,
    nca: dict[str, Credential],
    live_server: Any,
    log_in: Any,
    settings: Any,
    console_errors: list[str],
) -> None:
    """On a signature task NCALayer signs the PDF with Qujat's stamp placed; the task completes and the case goes on."""
    from playwright.sync_api import expect

    from backend.signatures.services import trust_roots
    from backend.transcripts.models import RegistryEntry, TranscriptRequest
    from backend.workflow import services as workflow
    from backend.workflow.models import HumanTask
    from signing.verify import verify_pdf
    from tests.conftest import user

    trust_anchor_add(name="NCA RK test root", certificate_pem=certificate_to_pem(nca["root"].certificate))
    User.objects.filter(username="registrar_head1").update(iin=HEAD_IIN)
    instance = workflow.instance_start(
        process_key="transcript_issuance", user=user("student1"), data={"reason": "Для стипендии", "language": "kk"}
    )
    review = HumanTask.objects.get(instance=instance, status=HumanTask.Status.OPEN)
    workflow.task_complete(task_id=review.pk, user=user("registrar_staff1"), data={"decision": "approve"})
    task = HumanTask.objects.get(instance=instance, status=HumanTask.Status.OPEN, spec_id="sign_registrar")
    document = TranscriptRequest.objects.get(instance=instance).document
    with NCALayerStandIn(nca["head"]) as ncalayer:
        settings.QUJAT_NCALAYER_URL = ncalayer.url
        page = log_in("registrar_head1", language="kk")
        page.goto(f"{live_server.url}/tasks/{task.pk}/")
        widget = page.get_by_test_id(f"ncalayer-sign-{document.pk}")
        expect(widget).to_have_attribute("data-state", "ready")
        widget.locator("[data-ncalayer-button]").click()
        # The page reloads with the task completed by her, and no signing offered any more.
        head = user("registrar_head1")
        expect(page.get_by_test_id("task-status")).to_contain_text(head.last_name, timeout=30000)
        expect(page.get_by_test_id(f"ncalayer-sign-{document.pk}")).to_have_count(0)

    (request,) = ncalayer.requests
    assert request["args"]["signerParams"]["iin"] == HEAD_IIN
    task.refresh_from_db()
    assert task.status == HumanTask.Status.COMPLETED
    assert RegistryEntry.objects.get(request__instance=instance).signed_by.username == "registrar_head1"
    with document.publication.signed_pdf.open("rb") as handle:
        signed = handle.read()
    # What NCALayer signed is the PDF with the stamp Qujat placed, and that signature is now in the PDF.
    assert signed.startswith(base64.b64decode(request["args"]["data"])[:1000])
    assert verify_pdf(pdf=signed, trust_roots=trust_roots()).valid
    assert console_errors == []
