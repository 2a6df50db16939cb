"""The inbox with the real journal reopen process: the head's visa shows the subject the process set, the
visa form's three decisions, the note being generated, and refusing needs the reason."""

from __future__ import annotations

from typing import Any

import pytest

from backend.workflow.models import HumanTask
from tests.conftest import api_as
from tests.reopen.test_procedure import own_closed_journal, start

pytestmark = pytest.mark.django_db


def test_the_heads_visa_in_the_inbox_and_on_its_page(demo: None, logged_in: Any) -> None:
    instance = start(own_closed_journal("teacher1"))
    visa = HumanTask.objects.get(instance_id=instance["id"], spec_id="head_visa", status="open")
    [row] = [r for r in api_as("department_head1").get("/api/inbox/").json()["results"] if r["id"] == visa.pk]
    assert row["subject"] == visa.subject_in("en")
    assert row["subject"] != row["process_title"]
    assert row["due_state"] in ("later", "soon")

    client = logged_in("department_head1")
    html = client.get(f"/tasks/{visa.pk}/").content.decode()
    for decision in ("approve", "return", "refuse"):
        assert f'name="decision" value="{decision}"' in html
    assert "Required when you choose: Return to the teacher, Refuse." in html
    assert "Required when returning or refusing." in html  # the form's own help text

    refused = client.post(f"/tasks/{visa.pk}/", {"decision": "refuse", "comment": ""})
    assert refused.status_code == 400
    assert 'data-testid="errors-comment">This field is required.<' in refused.content.decode()
    done = client.post(f"/tasks/{visa.pk}/", {"decision": "refuse", "comment": "The journal is correct."})
    assert done.status_code == 302
    visa.refresh_from_db()
    assert visa.status == "completed"
