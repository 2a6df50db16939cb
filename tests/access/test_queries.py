"""The lists cost the same number of queries however many requests there are (no N+1)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.access.conftest import start, teacher
from tests.conftest import api_as

pytestmark = pytest.mark.django_db


def queries(call: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code == 200
    return len(captured)


def file_requests(count: int, offset: int = 0) -> None:
    for n in range(count):
        person = teacher(1, email=f"new.teacher{offset + n}@new.kaznmu.kz", last_name="Сәрсенова")
        start("department_head1", {"kind": "teachers", "department": "dept-anatomy", "teachers": [person]})


def test_request_and_account_lists_do_not_grow_with_the_rows(demo: None) -> None:
    api = api_as("it_head1")
    page = Client()
    assert page.login(username="it_head1", password="demo")
    file_requests(1)
    api.get("/api/access/requests/")  # the token's first use is recorded once
    one = (queries(lambda: api.get("/api/access/requests/")), queries(lambda: page.get("/access/")))
    file_requests(4, offset=1)
    five = (queries(lambda: api.get("/api/access/requests/")), queries(lambda: page.get("/access/")))
    assert five == one
