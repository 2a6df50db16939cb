"""Bulk approval of 100 transcripts: one quick answer, 100 numbered and generated; their signer signs them in a batch."""

from __future__ import annotations

from typing import Any

import pytest

from backend.core.models import Job
from backend.transcripts.models import RegistryEntry, TranscriptRequest
from backend.workflow.models import HumanTask
from tests.conftest import api_as
from tests.transcripts.test_issuance import request_transcript

pytestmark = pytest.mark.django_db


@pytest.mark.converter
def test_a_hundred_transcripts_approved_together_are_numbered_then_signed_in_one_batch(
    demo: None, django_capture_on_commit_callbacks: Any
) -> None:
    instances = [request_transcript(f"student{n}")["id"] for n in range(1, 51) for _ in range(2)]
    reviews = list(
        HumanTask.objects.filter(instance_id__in=instances, spec_id="review", status="open").values_list(
            "pk", flat=True
        )
    )
    assert len(reviews) == 100
    staff = api_as("registrar_staff1")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            "/api/inbox/bulk-complete/",
            {"tasks": reviews, "data": {"decision": "approve", "problems_acknowledged": True}},
            format="json",
        )
        # The answer came before any approval was made: the request only queued the job.
        assert response.status_code == 202
        assert (response.json()["status"], response.json()["total"]) == ("queued", 100)
        assert not HumanTask.objects.filter(pk__in=reviews, status="completed").exists()
    job = staff.get(response["Location"]).json()
    assert (job["status"], job["done"], job["failed"]) == ("done", 100, 0), [
        item["message"] for item in job["items"] if item["status"] == "failed"
    ]
    # Each approval took its number with the document that owns it; a worker generated the PDFs.
    requests = TranscriptRequest.objects.filter(instance_id__in=instances).select_related("document")
    assert sorted(int(r.number.rsplit("/", 1)[-1]) for r in requests) == list(range(1, 101))
    assert {r.document.status for r in requests} == {"ready"}
    assert not requests.filter(issued_at__isnull=False).exists()  # nobody has signed yet
    # The signer signs all hundred with one passphrase entry: a job, one signature per transcript.
    signatures = list(
        HumanTask.objects.filter(instance_id__in=instances, spec_id="sign_registrar", status="open").values_list(
            "pk", flat=True
        )
    )
    assert len(signatures) == 100
    head = api_as("registrar_head1")
    with django_capture_on_commit_callbacks(execute=True):
        signing = head.post("/api/signing/batches/", {"tasks": signatures, "passphrase": "demo"}, format="json")
        assert signing.status_code == 202, signing.json()
    signed = Job.objects.get(pk=signing.json()["id"])
    assert (signed.status, signed.done, signed.failed) == ("done", 100, 0)
    issued = TranscriptRequest.objects.filter(instance_id__in=instances, issued_at__isnull=False)
    assert issued.count() == 100
    assert sorted(RegistryEntry.objects.values_list("sequence", flat=True)) == list(range(1, 101))
    assert all(request.document.publication.signed_sha256 for request in issued.select_related("document"))
