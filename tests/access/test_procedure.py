"""The login request procedure driven through the REST API as the demo users."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from backend.access.models import AccessRequest, ActivationToken
from backend.documents.models import GeneratedDocument
from backend.signatures.models import PublishedDocument, Signature
from backend.workflow.models import HistoryEvent, ProcessInstance
from tests.access.conftest import act, links_to, open_specs, start, teacher

pytestmark = [pytest.mark.django_db, pytest.mark.converter]


def pdf_text(document: GeneratedDocument) -> str:
    with document.pdf.open("rb") as handle:
        result = subprocess.run(["pdftotext", "-", "-"], input=handle.read(), capture_output=True, check=True)
    return "".join(result.stdout.decode().split())  # table cells wrap long names and addresses


def request_of(instance_id: int) -> AccessRequest:
    return AccessRequest.objects.get(instance_id=instance_id)


def test_two_new_teachers_from_memo_to_working_accounts(demo: None, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        instance = start(
            "department_head1",
            {"kind": "teachers", "department": "dept-anatomy", "teachers": [teacher(1), teacher(2)]},
        )
    access = request_of(instance["id"])
    assert access.stage == "signing"
    assert access.memo is not None
    assert access.memo.status == "ready", access.memo.error
    assert access.memo.number
    assert access.memo.language == "ru"  # the head's language
    memo = pdf_text(access.memo)
    for printed in (
        "Әбдіғалиева",
        "Қайратқызы",
        "Щербаков",
        "yu.shcherbakov@new.kaznmu.kz",
        access.memo.number,
        "Кафедраанатомии",
    ):
        assert printed in memo, printed
    assert open_specs(instance["id"]) == ["sign"]

    with django_capture_on_commit_callbacks(execute=True):
        act(instance["id"], "department_head1", "sign", decision="sign")
    access.refresh_from_db()
    assert access.memo_signed_at is not None, access.signing_problem
    signature = Signature.objects.get(document=access.memo)
    assert signature.signer.username == "department_head1"
    assert PublishedDocument.objects.get(document=access.memo).signed_pdf
    assert open_specs(instance["id"]) == ["approve"]

    act(instance["id"], "it_head1", "approve", decision="approve")
    assert open_specs(instance["id"]) == ["provision_task"]
    with django_capture_on_commit_callbacks(execute=True):
        act(instance["id"], "it_staff1", "provision_task", done=True)
    access.refresh_from_db()
    assert access.stage == "activation"
    entries = list(access.entries.order_by("order"))
    assert [e.account.username for e in entries] == ["g.abdigaliyeva", "y.shcherbakov"]
    assert all(not e.account.has_usable_password() for e in entries)
    tokens = links_to("g.abdigaliyeva@new.kaznmu.kz")
    assert len(tokens) == 1
    assert not ActivationToken.objects.filter(token_hash=tokens[0]).exists()  # only the hash is stored

    client = APIClient()
    response = client.post("/api/access/activation/", {"token": tokens[0], "password": "Kokterek-2030!"}, format="json")
    assert response.status_code == 200, response.json()
    token = client.post("/api/auth/token/", {"username": "g.abdigaliyeva", "password": "Kokterek-2030!"}, format="json")
    assert token.status_code == 201
    assert Client().login(username="g.abdigaliyeva", password="Kokterek-2030!")
    assert ProcessInstance.objects.get(pk=instance["id"]).status == "running"

    second = links_to("yu.shcherbakov@new.kaznmu.kz")[0]
    assert (
        client.post(
            "/api/access/activation/", {"token": second, "password": "Sary-Arqa-1991"}, format="json"
        ).status_code
        == 200
    )
    access.refresh_from_db()
    assert ProcessInstance.objects.get(pk=instance["id"]).status == "completed"
    assert access.stage == "completed"
    kinds = list(HistoryEvent.objects.filter(instance_id=instance["id"]).values_list("kind", flat=True))
    assert "signed" in kinds
    assert "finished" in kinds
