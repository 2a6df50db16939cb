"""Fixtures for the login request tests: media in a temporary folder, the REST steps as helpers."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from backend.workflow.models import HumanTask
from tests.conftest import api_as

LINK = re.compile(r"https?://\S+/access/activate/([A-Za-z0-9_-]+)/")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def teacher(n: int = 1, **extra: Any) -> dict[str, Any]:
    people = [
        ("Әбдіғалиева", "Гүлнұр", "Қайратқызы", "g.abdigaliyeva@new.kaznmu.kz"),
        ("Щербаков", "Юрий", "Фёдорович", "yu.shcherbakov@new.kaznmu.kz"),
        ("Өмірбекова", "Шолпан", "Ерланқызы", "sh.omirbekova@new.kaznmu.kz"),
    ]
    last, first, patronymic, email = people[n - 1]
    return {
        "position": "Ассистент",
        "last_name": last,
        "first_name": first,
        "patronymic": patronymic,
        "email": email,
        "start_date": str(timezone.localdate() + timedelta(days=7)),
        **extra,
    }


def start(username: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    response = api_as(username).post("/api/processes/login_request/start/", body, format="json")
    assert response.status_code == status, response.json()
    return response.json()


def task_of(instance_id: int, username: str, spec: str) -> dict[str, Any]:
    tasks = api_as(username).get("/api/tasks/", {"process": "login_request", "page_size": 100}).json()["results"]
    mine = [t for t in tasks if t["instance"] == instance_id and t["task"] == spec]
    assert mine, f"{username} has no {spec} task; open: {[(t['instance'], t['task']) for t in tasks]}"
    return mine[0]


def act(instance_id: int, username: str, spec: str, status: int = 200, **data: Any) -> dict[str, Any]:
    task = task_of(instance_id, username, spec)
    if data.get("decision") == "sign":  # a signature is the signer's act: their passphrase ("demo" for demo users)
        body = {"passphrase": data.pop("passphrase", "demo"), "form": data}
        response = api_as(username).post(f"/api/tasks/{task['id']}/sign/", body, format="json")
    else:
        response = api_as(username).post(f"/api/tasks/{task['id']}/complete/", data, format="json")
    assert response.status_code == status, response.json()
    return response.json()


def open_specs(instance_id: int) -> list[str]:
    return sorted(HumanTask.objects.filter(instance_id=instance_id, status="open").values_list("spec_id", flat=True))


def links_to(address: str) -> list[str]:
    """Activation tokens mailed to an address, oldest first."""
    return [m for message in mail.outbox if address in message.to for m in LINK.findall(message.body)]


def file_and_sign(
    capture: Any, *people: dict[str, Any], username: str = "department_head1", department: str = "dept-anatomy"
) -> int:
    """A request filed and its memo signed (the memo is generated and signed as after a real commit)."""
    with capture(execute=True):
        instance = start(username, {"kind": "teachers", "department": department, "teachers": list(people)})
    with capture(execute=True):
        act(instance["id"], username, "sign", decision="sign")
    return instance["id"]


def approved(capture: Any, *people: dict[str, Any]) -> int:
    instance_id = file_and_sign(capture, *people)
    act(instance_id, "it_head1", "approve", decision="approve")
    return instance_id


def provisioned(capture: Any, *people: dict[str, Any]) -> int:
    instance_id = approved(capture, *people)
    with capture(execute=True):
        act(instance_id, "it_staff1", "provision_task", done=True)
    return instance_id


def activate(token: str, password: str = "Kokterek-2030!", status: int = 200) -> dict[str, Any]:  # noqa: S107
    from rest_framework.test import APIClient

    response = APIClient().post("/api/access/activation/", {"token": token, "password": password}, format="json")
    assert response.status_code == status, response.json()
    return response.json()
