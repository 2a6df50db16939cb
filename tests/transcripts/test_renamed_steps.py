"""Python knows the transcript steps by their purpose in the diagram, never by their ids: a modeler may rename them."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.transcripts.models import RegistryEntry, TranscriptRequest
from backend.workflow.deployment import deploy_file
from backend.workflow.models import ProcessDefinition
from tests.conftest import api_as
from tests.workflow.conftest import diagram_with_renamed_steps

from .test_issuance import act, request_transcript, sign

pytestmark = pytest.mark.django_db

SOURCE = Path(__file__).resolve().parents[2] / "bpmn" / "transcript_issuance.bpmn"
RENAMED = {
    "review": "check_the_request",
    "answer": "student_replies",
    "sign_dean": "dean_signs",
    "hand_over": "give_the_paper_copy",
    "refused_end": "not_issued",
}


@pytest.fixture
def renamed(demo: None, tmp_path: Path) -> ProcessDefinition:
    [deployed] = deploy_file(diagram_with_renamed_steps(SOURCE, tmp_path, RENAMED))
    assert deployed.created
    definition = ProcessDefinition.objects.get(key="transcript_issuance", version=deployed.version)
    assert set(RENAMED.values()) <= set(definition.routing["tasks"]) | set(definition.routing["stages"])
    assert not {"review", "answer", "sign_dean", "hand_over"} & set(definition.routing["tasks"])
    return definition


def stage(request: TranscriptRequest) -> str:
    return api_as("student1").get(f"/api/transcripts/requests/{request.pk}/").json()["stage"]


def test_a_transcript_goes_through_steps_renamed_in_a_modeler(renamed: ProcessDefinition) -> None:
    # Given a request on the diagram whose steps were renamed, signed by the dean, with a paper copy
    instance = request_transcript(kind="school", paper_copies=1)
    request = TranscriptRequest.objects.get(instance_id=instance["id"])
    assert request.instance.definition_id == renamed.pk
    assert stage(request) == "review"

    # When the staff ask a question, the student answers, and the staff approve
    act(instance["id"], "registrar_staff1", "check_the_request", decision="return", message="Для какой цели?")
    assert stage(request) == "question"
    act(instance["id"], "student1", "student_replies", answer="Для стипендии")
    act(instance["id"], "registrar_staff1", "check_the_request", decision="approve")

    # Then it waits for the dean's signature, and the student can no longer withdraw it
    assert stage(request) == "signing"
    withdraw = api_as("student1").post(f"/api/transcripts/requests/{request.pk}/cancel/", {}, format="json")
    assert withdraw.status_code == 409

    # When the dean signs, then the transcript is issued, signed by the dean, approved by the staff member
    sign(instance["id"], "school_dean1", "dean_signs")
    request.refresh_from_db()
    assert request.issued_at is not None
    assert stage(request) == "issued"
    entry = RegistryEntry.objects.get(request=request)
    assert (entry.signed_by.username, entry.issued_by.username) == ("school_dean1", "registrar_staff1")

    # When the paper copy is handed over, then the registry knows who handed it over against which document
    act(
        instance["id"],
        "registrar_staff2",
        "give_the_paper_copy",
        seal_applied=True,
        received_by="Абенова Айжан Серікқызы",
        received_on="2026-11-25",
        receiver_document="удостоверение 041234567",
    )
    entry.refresh_from_db()
    assert (entry.handed_over_by.username, entry.receiver_document) == ("registrar_staff2", "удостоверение 041234567")
    assert stage(request) == "handed_over"


def test_a_refusal_on_the_renamed_diagram_ends_refused(renamed: ProcessDefinition) -> None:
    # Given a request on the renamed diagram
    instance = request_transcript()
    request = TranscriptRequest.objects.get(instance_id=instance["id"])

    # When the staff refuse it, then the case ends at the renamed end event, refused
    act(instance["id"], "registrar_staff1", "check_the_request", decision="refuse", message="Задолженность")
    assert stage(request) == "refused"
