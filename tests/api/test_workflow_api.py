"""The engine's REST API as real clients use it (token authentication, JSON)."""

from typing import Any

import pytest

from backend.workflow.models import HumanTask
from tests.conftest import api_as

pytestmark = pytest.mark.django_db
START = {"department": "dept-anatomy", "school": "school-medicine", "rounds": 0, "returns": 0}


def start(username: str = "teacher1") -> dict[str, Any]:
    response = api_as(username).post("/api/processes/qujat_engine_test/start/", START, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def inbox(username: str, **params: Any) -> list[dict[str, Any]]:
    response = api_as(username).get("/api/tasks/", params)
    assert response.status_code == 200
    return response.json()["results"]


def test_processes_list_says_who_may_start(engine_test_process: object) -> None:
    processes = {p["key"]: p for p in api_as("teacher1").get("/api/processes/").json()}
    assert processes["qujat_engine_test"]["can_start"] is True
    assert processes["qujat_engine_test"]["title"] == "Engine test"
    student_view = {p["key"]: p for p in api_as("student1").get("/api/processes/").json()}
    assert student_view["qujat_engine_test"]["can_start"] is False
    refused = api_as("student1").post("/api/processes/qujat_engine_test/start/", START, format="json")
    assert refused.status_code == 403


def test_a_case_moves_through_the_inboxes(engine_test_process: object) -> None:
    instance = start()
    assert instance["status"] == "running"
    [write] = inbox("teacher1")
    assert inbox("department_head1") == []

    detail = api_as("teacher1").get(f"/api/tasks/{write['id']}/").json()
    assert detail["form"]["properties"]["days"]["title"] == "Days"
    assert detail["form"]["required"] == ["title", "days"]

    done = api_as("teacher1").post(f"/api/tasks/{write['id']}/complete/", {"title": "x", "days": 4}, format="json")
    assert done.status_code == 200
    assert inbox("teacher1") == []
    [review] = inbox("department_head1")
    assert review["title"] == "Head's review"
    assert review["requester"] == "Әбдіғалиева Гүлнұр Қайратқызы"

    history = api_as("teacher1").get(f"/api/instances/{instance['id']}/history/").json()
    assert [e["kind"] for e in history][:4] == ["started", "task_created", "completed", "task_created"]
    assert all(len(e["hash"]) == 64 for e in history)


def test_bad_input_gets_field_level_messages(engine_test_process: object) -> None:
    start()
    [write] = inbox("teacher1")
    response = api_as("teacher1").post(f"/api/tasks/{write['id']}/complete/", {"days": 0}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"title": ["This field is required."], "days": ["Must be at least 1."]}
    assert HumanTask.objects.get(pk=write["id"]).status == "open"


def test_messages_follow_the_callers_language(engine_test_process: object) -> None:
    start()
    [write] = inbox("teacher1")
    client = api_as("teacher1")
    response = client.post(f"/api/tasks/{write['id']}/complete/", {"days": 1}, format="json", HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 400
    assert response.json()["fields"]["title"] == ["Обязательное поле."]
    detail = client.get(f"/api/tasks/{write['id']}/", HTTP_ACCEPT_LANGUAGE="kk").json()
    assert detail["title"] == "Өтінішті жазу"


def test_someone_elses_task_is_refused(engine_test_process: object) -> None:
    start()
    [write] = inbox("teacher1")
    for username in ("teacher3", "student1", "department_head3"):
        client = api_as(username)
        assert client.get(f"/api/tasks/{write['id']}/").status_code == 404
        for action in ("claim", "release", "complete"):
            assert client.post(f"/api/tasks/{write['id']}/{action}/", {}, format="json").status_code == 404


def test_completing_twice_is_a_409(engine_test_process: object) -> None:
    start()
    [write] = inbox("teacher1")
    client = api_as("teacher1")
    assert (
        client.post(f"/api/tasks/{write['id']}/complete/", {"title": "x", "days": 1}, format="json").status_code == 200
    )
    again = client.post(f"/api/tasks/{write['id']}/complete/", {"title": "x", "days": 1}, format="json")
    assert again.status_code == 409


def test_instances_are_listed_only_for_those_involved_and_auditors(engine_test_process: object) -> None:
    instance = start()
    for username, visible in (("teacher1", True), ("auditor1", True), ("registrar_head1", True), ("teacher3", False)):
        ids = [
            i["id"] for i in api_as(username).get("/api/instances/", {"process": "qujat_engine_test"}).json()["results"]
        ]
        assert (instance["id"] in ids) is visible, username
        status = api_as(username).get(f"/api/instances/{instance['id']}/").status_code
        assert status == (200 if visible else 404), username


def test_operations_are_for_the_registrar_head(engine_test_process: object) -> None:
    instance = start()
    url = f"/api/instances/{instance['id']}"
    assert api_as("teacher1").post(f"{url}/suspend/", {}, format="json").status_code == 403
    assert (
        api_as("registrar_head1").post(f"{url}/suspend/", {"reason": "check"}, format="json").json()["status"]
        == "suspended"
    )
    assert api_as("registrar_head1").post(f"{url}/resume/", {}, format="json").json()["status"] == "running"
    no_reason = api_as("registrar_head1").post(f"{url}/cancel/", {}, format="json")
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()["fields"]
    assert (
        api_as("registrar_head1").post(f"{url}/cancel/", {"reason": "dup"}, format="json").json()["status"]
        == "cancelled"
    )


def test_overdue_filter(engine_test_process: object) -> None:
    start()
    [write] = inbox("teacher1")
    api_as("teacher1").post(f"/api/tasks/{write['id']}/complete/", {"title": "x", "days": 1}, format="json")
    assert len(inbox("department_head1")) == 1
    assert inbox("department_head1", overdue="true") == []
    assert len(inbox("department_head1", due_before="2099-01-01T00:00:00Z")) == 1


def test_the_task_list_filters_by_instance(engine_test_process: object) -> None:
    first, second = start(), start()
    [task] = inbox("teacher1", instance=second["id"])
    assert task["instance"] == second["id"]
    assert task["task"] == "write"
    assert [t["instance"] for t in inbox("teacher1")] == [first["id"], second["id"]]
    # Someone else's case shows nothing, whoever asks about it.
    assert inbox("teacher3", instance=first["id"]) == []


@pytest.mark.parametrize("value", ["abc", "0", "-3", "1.5"])
def test_a_bad_instance_filter_names_the_field(engine_test_process: object, value: str) -> None:
    response = api_as("teacher1").get("/api/tasks/", {"instance": value})
    assert response.status_code == 400
    assert "instance" in response.json()["fields"]
