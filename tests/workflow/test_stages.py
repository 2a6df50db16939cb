"""A case's stage: the `stage` of the step it waits at or the end it reached, or the stage of its status."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.workflow import services
from backend.workflow.deployment import deploy_file
from backend.workflow.models import ProcessDefinition, ProcessInstance
from tests.conftest import user
from tests.workflow.conftest import diagram_variant

pytestmark = pytest.mark.django_db
START = {"department": "dept-anatomy", "school": "school-medicine", "rounds": 0, "returns": 0}
REVIEW_FORM = '<spiffworkflow:property name="form" value="forms/review.json" />'
Stage = ProcessInstance.Stage


@pytest.fixture
def staged(demo: None, tmp_path: Path) -> ProcessDefinition:
    """The engine's test process whose head's review declares the stage `approval`."""
    path = diagram_variant(
        tmp_path, "staged.bpmn", REVIEW_FORM, REVIEW_FORM + '<spiffworkflow:property name="stage" value="approval" />'
    )
    deploy_file(path)
    return ProcessDefinition.objects.filter(key="qujat_engine_test").latest("version")


def stage_of(instance: ProcessInstance) -> str:
    return ProcessInstance.objects.get(pk=instance.pk).stage


def test_the_stage_follows_the_step_the_case_waits_at_and_its_status(staged: ProcessDefinition) -> None:
    # Given a case waiting at a step that declares no stage
    instance = services.instance_start(process_key="qujat_engine_test", user=user("teacher1"), data=dict(START))
    assert staged.routing["stages"] == {"review": "approval"}
    assert stage_of(instance) == Stage.IN_PROGRESS

    # When it reaches the head's review, then it is awaiting approval
    write = instance.tasks.get(status="open")
    services.task_complete(task_id=write.pk, user=user("teacher1"), data={"title": "x", "days": 1})
    assert stage_of(instance) == Stage.APPROVAL

    # When an operator suspends, resumes and cancels it, then its stage follows the status
    head = user("registrar_head1")
    services.instance_suspend(instance_id=instance.pk, user=head, reason="audit")
    assert stage_of(instance) == Stage.SUSPENDED
    services.instance_resume(instance_id=instance.pk, user=head)
    assert stage_of(instance) == Stage.APPROVAL
    services.instance_cancel(instance_id=instance.pk, user=head, reason="duplicate")
    assert stage_of(instance) == Stage.CANCELLED
    assert ProcessInstance.objects.get(pk=instance.pk).get_stage_display() == "cancelled"


def test_a_case_saved_before_stages_existed_gets_its_stage_after_deployment(staged: ProcessDefinition) -> None:
    # Given a case at the head's review whose stage was never worked out (saved by an older release)
    instance = services.instance_start(process_key="qujat_engine_test", user=user("teacher1"), data=dict(START))
    write = instance.tasks.get(status="open")
    services.task_complete(task_id=write.pk, user=user("teacher1"), data={"title": "x", "days": 1})
    ProcessInstance.objects.filter(pk=instance.pk).update(stage="")

    # When the stages are worked out again (as deploying does)
    restaged = services.instances_restage()

    # Then it has its stage, and nothing else needed one
    assert restaged == 1
    assert stage_of(instance) == Stage.APPROVAL


def test_a_version_without_stages_borrows_them_from_the_latest(demo: None, tmp_path: Path) -> None:
    # Given a case started on a version whose diagram declared no stages
    deploy_file(Path(__file__).with_name("engine_test.bpmn"))
    old = ProcessDefinition.objects.get(key="qujat_engine_test")
    old.routing.pop("stages")
    old.save(update_fields=["routing"])
    instance = services.instance_start(process_key="qujat_engine_test", user=user("teacher1"), data=dict(START))

    # When a newer version declares the review's stage and the case reaches the review
    path = diagram_variant(
        tmp_path, "staged.bpmn", REVIEW_FORM, REVIEW_FORM + '<spiffworkflow:property name="stage" value="approval" />'
    )
    deploy_file(path)
    write = instance.tasks.get(status="open")
    services.task_complete(task_id=write.pk, user=user("teacher1"), data={"title": "x", "days": 1})

    # Then the case, still on its own version, is in the stage the newer diagram declares
    assert ProcessInstance.objects.get(pk=instance.pk).definition_id == old.pk
    assert stage_of(instance) == Stage.APPROVAL
