"""Batch signing with NCALayer (web/ncalayer_batch.js) in Chromium, against the local NCALayer stand-in.

The head of the Registrar office ticks waiting transcripts in her inbox, reviews them at /inbox/sign/ and presses
"Sign all with NCALayer": the page prepares each document, NCALayer is asked once (its multi-sign form: one key
choice, one PIN), and each CMS is posted with its token. A document that cannot be prepared (damaged on disk) and
one whose CMS is refused (made over other bytes) are reported by name; the others are signed, each with its own
signature and history event. NCALayer not running and the key dialog cancelled each sign nothing, said plainly.
The page runs in Russian and in Kazakh."""

from __future__ import annotations

import base64
import io
import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from backend.accounts.models import User
from backend.signatures.models import Signature
from backend.signatures.services import trust_anchor_add, trust_roots
from backend.transcripts.models import TranscriptRequest
from backend.workflow import services as workflow
from backend.workflow.models import HistoryEvent, HumanTask
from signing.keys import Credential, certificate_to_pem
from signing.verify import verify_pdf
from tests.browser.ncalayer_server import NCALayerStandIn
from tests.conftest import HEAD_IIN, user

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.converter]


def _waiting_transcripts(count: int, nca: dict[str, Credential]) -> list[HumanTask]:
    """`count` transcripts (students 1…count) approved, numbered and generated, waiting for registrar_head1; the
    deployment trusts the test NCA root and knows her IIN."""
    trust_anchor_add(name="NCA RK test root", certificate_pem=certificate_to_pem(nca["root"].certificate))
    User.objects.filter(username="registrar_head1").update(iin=HEAD_IIN)
    tasks = []
    for number in range(1, count + 1):
        instance = workflow.instance_start(
            process_key="transcript_issuance",
            user=user(f"student{number}"),
            data={"reason": "Для стипендии", "language": "ru"},
        )
        review = HumanTask.objects.get(instance=instance, status=HumanTask.Status.OPEN)
        workflow.task_complete(task_id=review.pk, user=user("registrar_staff1"), data={"decision": "approve"})
        tasks.append(HumanTask.objects.get(instance=instance, status=HumanTask.Status.OPEN, spec_id="sign_registrar"))
    return tasks


def _request(task: HumanTask) -> TranscriptRequest:
    return TranscriptRequest.objects.select_related("document", "student").get(instance_id=task.instance_id)


def _review_page(log_in: Any, live_server: Any, tasks: list[HumanTask], language: str) -> Any:
    """Her inbox: tick the tasks, "Review and sign the selected"; the review page with the NCALayer section."""
    from playwright.sync_api import expect

    page = log_in("registrar_head1", language=language)
    page.goto(f"{live_server.url}/inbox/")
    for task in tasks:
        page.locator(f'input[data-sign-task][value="{task.pk}"]').check()
    page.get_by_test_id("sign-selected").click()
    page.wait_for_url(f"{live_server.url}/inbox/sign/")
    expect(page.get_by_test_id("batch-task")).to_have_count(len(tasks))
    expect(page.get_by_test_id("ncalayer-batch")).to_have_attribute("data-state", "ready")
    return page


def _press(page: Any) -> Any:
    from playwright.sync_api import expect

    section = page.get_by_test_id("ncalayer-batch")
    section.get_by_test_id("ncalayer-batch-sign").click()
    expect(section).not_to_have_attribute("data-state", "working", timeout=60_000)
    return section


def _pyhanko_valid(pdf: bytes) -> None:
    """pyHanko validates every signature of the PDF against the roots the deployment trusts."""
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives.serialization import Encoding
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    roots = [asn1_x509.Certificate.load(root.public_bytes(Encoding.DER)) for root in trust_roots()]

    def validate() -> None:
        context = ValidationContext(trust_roots=roots, allow_fetching=False)
        reader = PdfFileReader(io.BytesIO(pdf))
        assert len(reader.embedded_signatures) == 1
        for embedded in reader.embedded_signatures:
            status = validate_pdf_signature(embedded, context)
            assert status.bottom_line, status.pretty_print_details()

    # pyHanko runs its own event loop; Playwright's is running in this thread while the test is open.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(validate).result()


def test_the_head_signs_four_transcripts_with_one_ncalayer_call_and_two_failures_are_named(
    transactional_demo: None,
    nca: dict[str, Credential],
    live_server: Any,
    log_in: Any,
    settings: Any,
    console_errors: list[str],
) -> None:
    from playwright.sync_api import expect

    tasks = _waiting_transcripts(4, nca)
    requests = [_request(task) for task in tasks]
    # The second transcript is damaged on disk: it cannot be prepared. The third one's CMS is made over other bytes
    # (item 1 of the three NCALayer is given): the server refuses it.
    damaged = requests[1].document
    damaged.pdf.storage.delete(damaged.pdf.name)
    damaged.pdf.storage.save(damaged.pdf.name, io.BytesIO(b"%PDF-1.7\nnot really a PDF"))

    with NCALayerStandIn(nca["head"], sign_other_at=(1,)) as ncalayer:
        settings.QUJAT_NCALAYER_URL = ncalayer.url
        page = _review_page(log_in, live_server, tasks, "ru")
        section = _press(page)
        expect(section).to_have_attribute("data-state", "partial")
        expect(section.get_by_test_id("ncalayer-batch-status")).to_have_text("Подписано документов: 2 из 4.")
        failed = section.get_by_test_id("ncalayer-batch-failed")
        expect(failed).to_have_count(2)
        # Reported by name: the document's title and number, and the student.
        for row, request in zip([failed.nth(0), failed.nth(1)], requests[1:3], strict=True):
            expect(row).to_contain_text(f"№ {request.document.number}")
            expect(row).to_contain_text(request.student.last_name)
        expect(failed.nth(1)).to_contain_text("другого документа")
        expect(page.locator("[data-ncalayer-batch] .progress")).to_have_attribute("aria-valuenow", "100")
        # The signed ones say so in the list and leave the passphrase form; the two others stay in it.
        for task, state in zip(tasks, ["signed", None, None, "signed"], strict=True):
            row = page.locator(f'[data-testid=batch-task][data-task-id="{task.pk}"]')
            if state:
                expect(row).to_have_attribute("data-state", state)
                expect(row).to_contain_text("Подписано")
                expect(row.locator("input[name=task]")).to_be_disabled()
            else:
                expect(row.locator("input[name=task]")).to_be_enabled()

        # One NCALayer call, its multi-sign form: the three prepared documents in the order of the list.
        (asked,) = ncalayer.requests
        assert isinstance(asked["args"]["data"], list)
        assert len(asked["args"]["data"]) == 3
        assert asked["args"]["locale"] == "ru"
        assert asked["args"]["signerParams"]["iin"] == HEAD_IIN

        # Pressed again (NCALayer now signs what it is given): only the two unsigned are tried; the refused one
        # is signed now, the damaged one is named again.
        ncalayer.sign_other_at = ()
        section = _press(page)
        expect(section).to_have_attribute("data-state", "partial")
        expect(section.get_by_test_id("ncalayer-batch-status")).to_have_text("Подписано документов: 3 из 4.")
        expect(section.get_by_test_id("ncalayer-batch-failed")).to_have_count(1)
        expect(section.get_by_test_id("ncalayer-batch-failed")).to_contain_text(requests[1].student.last_name)
        assert len(ncalayer.requests) == 2
        assert len(ncalayer.requests[1]["args"]["data"]) == 1

    signed_tasks = [tasks[0], tasks[2], tasks[3]]
    for task in signed_tasks:
        task.refresh_from_db()
        assert task.status == HumanTask.Status.COMPLETED
        assert task.completed_by == user("registrar_head1")
        # Its own signature and its own history event.
        assert HistoryEvent.objects.filter(instance_id=task.instance_id, kind="signed").count() == 1
        request = _request(task)
        assert request.issued_at is not None
        signature = Signature.objects.get(document=request.document)
        assert signature.kind == Signature.Kind.PADES
        assert signature.signer.username == "registrar_head1"
        with request.document.publication.signed_pdf.open("rb") as handle:
            pdf = handle.read()
        verdict = verify_pdf(pdf=pdf, trust_roots=trust_roots())
        assert verdict.valid, verdict
        assert [s.signer.iin if s.signer else None for s in verdict.signatures] == [HEAD_IIN]
        _pyhanko_valid(pdf)
    # The damaged one still waits in her inbox, unsigned and undone.
    tasks[1].refresh_from_db()
    assert tasks[1].status == HumanTask.Status.OPEN
    assert not Signature.objects.filter(document=damaged).exists()
    assert not HistoryEvent.objects.filter(instance_id=tasks[1].instance_id, kind="signed").exists()
    assert console_errors == []


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_ncalayer_not_running_is_said_plainly_in_kazakh_and_nothing_is_prepared(
    transactional_demo: None, nca: dict[str, Credential], live_server: Any, log_in: Any, settings: Any
) -> None:
    from playwright.sync_api import expect

    tasks = _waiting_transcripts(2, nca)
    settings.QUJAT_NCALAYER_URL = f"ws://127.0.0.1:{_closed_port()}/"
    page = _review_page(log_in, live_server, tasks, "kk")
    expect(page.get_by_test_id("ncalayer-batch-sign")).to_have_text("Барлығына NCALayer арқылы қол қою")
    section = _press(page)
    expect(section).to_have_attribute("data-state", "unavailable")
    expect(section.get_by_test_id("ncalayer-batch-status")).to_contain_text("NCALayer")
    expect(section.get_by_test_id("ncalayer-batch-status")).to_contain_text("іске қосылмаған")
    # Start NCALayer and press again: the button (and the passphrase form) stay usable.
    expect(section.get_by_test_id("ncalayer-batch-sign")).to_be_enabled()
    expect(page.get_by_test_id("batch-sign")).to_be_enabled()
    assert not Signature.objects.exists()
    assert all(HumanTask.objects.get(pk=task.pk).status == HumanTask.Status.OPEN for task in tasks)


def test_a_cancelled_key_dialog_signs_nothing(
    transactional_demo: None, nca: dict[str, Credential], live_server: Any, log_in: Any, settings: Any
) -> None:
    from playwright.sync_api import expect

    tasks = _waiting_transcripts(2, nca)
    with NCALayerStandIn(nca["head"], behaviour="cancel") as ncalayer:
        settings.QUJAT_NCALAYER_URL = ncalayer.url
        page = _review_page(log_in, live_server, tasks, "ru")
        section = _press(page)
        expect(section).to_have_attribute("data-state", "cancelled")
        expect(section.get_by_test_id("ncalayer-batch-status")).to_contain_text("отменена")
        expect(section.get_by_test_id("ncalayer-batch-failed")).to_have_count(0)
    assert len(ncalayer.requests) == 1
    assert not Signature.objects.exists()
    assert all(HumanTask.objects.get(pk=task.pk).status == HumanTask.Status.OPEN for task in tasks)


def test_the_batch_module_keeps_going_past_failures_and_maps_signatures_in_order(
    transactional_demo: None, live_server: Any, log_in: Any, nca: dict[str, Credential]
) -> None:
    """signBatch and eachLimited as units, in Chromium: a failed prepare and a refused post are named, the rest are
    posted with the CMS made over their own content, at most `concurrency` prepares run at once."""
    page = log_in("registrar_head1")
    with NCALayerStandIn(nca["head"]) as ncalayer:
        outcome = page.evaluate(
            """async (address) => {
                 const batch = await import('/static/web/ncalayer_batch.js');
                 const ncalayer = await import('/static/web/ncalayer.js');
                 const items = ['a', 'b', 'c', 'd', 'e'].map((name) => ({ label: name }));
                 let running = 0, most = 0;
                 const posted = [], progress = [];
                 const result = await batch.signBatch({
                   items,
                   concurrency: 2,
                   prepare: async (item) => {
                     running += 1; most = Math.max(most, running);
                     await new Promise((resolve) => setTimeout(resolve, 20));
                     running -= 1;
                     if (item.label === 'b') throw new Error('damaged PDF');
                     return { content: btoa('content of ' + item.label), token: 'token-' + item.label };
                   },
                   sign: (contents) => ncalayer.signWithNCALayer({ address, data: contents }),
                   post: async (item, { cms, token }) => {
                     if (item.label === 'd') throw new Error('refused');
                     posted.push([item.label, token, cms.length > 100]);
                   },
                   onProgress: (step) => progress.push(step.phase + ' ' + step.done + '/' + step.total),
                 });
                 await batch.reachNCALayer(address);
                 let unreachable = '';
                 try { await batch.reachNCALayer('ws://127.0.0.1:9/'); } catch (error) { unreachable = error.kind; }
                 return {
                   signed: result.signed.map((item) => item.label),
                   failed: result.failed.map(({ item, reason }) => item.label + ': ' + reason),
                   posted, most, progress, unreachable,
                 };
               }""",
            ncalayer.url,
        )
    assert outcome["signed"] == ["a", "c", "e"]
    assert outcome["failed"] == ["b: damaged PDF", "d: refused"]
    assert outcome["posted"] == [["a", "token-a", True], ["c", "token-c", True], ["e", "token-e", True]]
    assert outcome["most"] == 2
    assert outcome["progress"][0] == "preparing 0/5"
    assert "waiting 0/4" in outcome["progress"]
    assert outcome["progress"][-1] == "posting 4/4"
    assert outcome["unreachable"] == "unavailable"
    # One NCALayer call with the four prepared contents, in order.
    (asked,) = ncalayer.requests
    assert [base64.b64decode(item) for item in asked["args"]["data"]] == [
        b"content of a",
        b"content of c",
        b"content of d",
        b"content of e",
    ]
