"""Who may ask for what, bad input, and the ends other than "done": withdrawn, unsigned, refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from backend.access.models import AccessRequest
from backend.accounts.models import User
from backend.signatures.keyring import passphrase_initial
from backend.signatures.models import SignerCertificate
from backend.signatures.services import signer_certificate_issue
from backend.workflow.models import ProcessInstance
from tests.access.conftest import act, file_and_sign, open_specs, start, teacher
from tests.conftest import api_as
from tests.factories import SubstitutionFactory

pytestmark = pytest.mark.django_db


def teachers_body(**extra: Any) -> dict[str, Any]:
    return {"kind": "teachers", "department": "dept-anatomy", "teachers": [teacher(1)], **extra}


def test_a_teacher_cannot_file_a_request(demo: None) -> None:
    refused = start("teacher1", teachers_body(), status=403)
    assert "head of department" in refused["detail"]
    assert not AccessRequest.objects.exists()


def test_a_head_cannot_file_for_another_department(demo: None) -> None:
    refused = start("department_head1", teachers_body(department="dept-internal"), status=403)
    assert refused["fields"] == {"department": ["You do not head this department."]}


def test_bad_input_gets_field_messages_and_changes_nothing(demo: None) -> None:
    before = ProcessInstance.objects.count()
    body = teachers_body(
        teachers=[
            teacher(1, first_name="Г.", email="not-an-email"),
            teacher(2, start_date="1999-01-01", iin="12345"),
            teacher(3, email=teacher(1)["email"], journals=[999999]),
        ]
    )
    refused = start("department_head1", body, status=400)
    assert set(refused["fields"]) == {
        "teachers.0.first_name",
        "teachers.0.email",
        "teachers.1.start_date",
        "teachers.1.iin",
    }
    assert refused["fields"]["teachers.0.first_name"] == ["Write the name in full, not as an initial."]
    # The first problems fixed, the checks against the records speak up.
    body["teachers"][0].update(first_name="Гүлнұр", email="g.abdigaliyeva@new.kaznmu.kz")
    body["teachers"][1].update(start_date=teacher(2)["start_date"], iin="")
    refused = start("department_head1", body, status=400)
    assert set(refused["fields"]) == {"teachers.2.email", "teachers.2.journals"}
    assert ProcessInstance.objects.count() == before


def test_a_head_without_a_certificate_is_told_so(demo: None) -> None:
    SignerCertificate.objects.filter(user__username="department_head1").update(revoked_at=timezone.now())
    refused = start("department_head1", teachers_body(), status=400)
    assert refused["code"] == "no_certificate"
    assert "no valid signing certificate" in refused["detail"]


def test_strangers_get_404(demo: None) -> None:
    instance = start("department_head1", teachers_body())
    pk = AccessRequest.objects.get(instance_id=instance["id"]).pk
    for username in ("teacher1", "department_head2", "dean_office1", "student1"):
        assert api_as(username).get(f"/api/access/requests/{pk}/").status_code == 404, username
    for username in ("department_head1", "it_head1", "it_staff1", "auditor1"):
        assert api_as(username).get(f"/api/access/requests/{pk}/").status_code == 200, username
    assert api_as("department_head2").get("/api/access/requests/").json()["count"] == 0
    assert api_as("teacher1").get("/api/access/accounts/").status_code == 403
    assert api_as("it_staff1").get("/api/access/accounts/").status_code == 200


def test_withdrawn_before_signing(demo: None) -> None:
    instance = start("department_head1", teachers_body())
    act(instance["id"], "department_head1", "sign", decision="withdraw")
    access = AccessRequest.objects.get(instance_id=instance["id"])
    assert access.stage == "withdrawn"
    assert not User.objects.filter(email="g.abdigaliyeva@new.kaznmu.kz").exists()


@pytest.mark.converter
def test_a_memo_that_cannot_be_signed_goes_back_to_the_head(
    demo: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        instance = start("department_head1", teachers_body())
    SignerCertificate.objects.filter(user__username="department_head1").update(revoked_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        refused = act(instance["id"], "department_head1", "sign", status=400, decision="sign")
    assert "has no valid signing certificate" in refused["detail"]
    access = AccessRequest.objects.get(instance_id=instance["id"])
    assert access.stage == "signing"
    assert access.memo_signed_at is None
    assert open_specs(instance["id"]) == ["sign"]  # the task stays with the head, nothing half done


@pytest.mark.converter
def test_the_head_of_it_refuses_with_a_reason(demo: None, django_capture_on_commit_callbacks: Any) -> None:
    instance_id = file_and_sign(django_capture_on_commit_callbacks, teacher(1))
    missing = act(instance_id, "it_head1", "approve", status=400, decision="refuse")
    assert missing["fields"] == {"reason": ["This field is required."]}
    assert open_specs(instance_id) == ["approve"]
    act(instance_id, "it_head1", "approve", decision="refuse", reason="Штатное расписание не утверждено")
    access = AccessRequest.objects.get(instance_id=instance_id)
    assert (access.stage, access.refusal_reason) == ("refused", "Штатное расписание не утверждено")
    assert access.entries.get().status == "refused"
    assert not User.objects.filter(email="g.abdigaliyeva@new.kaznmu.kz").exists()


def test_a_deputy_head_files_nothing_but_an_acting_head_does(demo: None) -> None:
    start("teacher2", teachers_body(), status=403)  # teacher2 is the anatomy department's deputy head
    acting = User.objects.get(username="teacher3")
    SubstitutionFactory(absent=User.objects.get(username="department_head1"), substitute=acting)
    signer_certificate_issue(user=acting)
    passphrase_initial(user=acting, passphrase="demo")
    instance = start("teacher3", teachers_body())
    assert AccessRequest.objects.get(instance_id=instance["id"]).requested_by == acting
