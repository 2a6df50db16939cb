"""deploy_processes: versions by content, and each kind of bad file refused with file, line and element."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from backend.workflow import services
from backend.workflow.models import ProcessDefinition
from tests.conftest import user
from tests.workflow.conftest import diagram_variant

pytestmark = pytest.mark.django_db
SOURCE = Path(__file__).with_name("engine_test.bpmn")


def variant(tmp_path: Path, name: str, old: str, new: str) -> Path:
    return diagram_variant(tmp_path, name, old, new)


def deploy(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(CommandError, match="refused"):
        call_command("deploy_processes", str(path))
    return capsys.readouterr().err


def test_a_new_version_only_when_the_content_changes_and_running_instances_keep_theirs(
    demo: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("deploy_processes", str(SOURCE))
    call_command("deploy_processes", str(SOURCE))
    assert "unchanged" in capsys.readouterr().out
    assert ProcessDefinition.objects.filter(key="qujat_engine_test").count() == 1
    running = services.instance_start(
        process_key="qujat_engine_test",
        user=user("teacher1"),
        data={"department": "dept-anatomy", "school": "school-medicine", "rounds": 0, "returns": 0},
    )

    changed = variant(tmp_path, "changed.bpmn", 'name="Done"', 'name="Finished"')
    call_command("deploy_processes", str(changed))

    versions = list(ProcessDefinition.objects.filter(key="qujat_engine_test").values_list("version", flat=True))
    assert sorted(versions) == [1, 2]
    running.refresh_from_db()
    assert running.definition.version == 1
    newer = services.instance_start(
        process_key="qujat_engine_test",
        user=user("teacher1"),
        data={"department": "dept-anatomy", "school": "school-medicine", "rounds": 0, "returns": 0},
    )
    assert newer.definition.version == 2


@pytest.mark.parametrize(
    ("name", "old", "new", "expected"),
    [
        ("malformed.bpmn", "</bpmn:process>", "</bpmn:proces>", "not well-formed"),
        (
            "not_executable.bpmn",
            'isExecutable="true"',
            'isExecutable="false"',
            "qujat_engine_test: the process is not executable",
        ),
        ("bad_timer.bpmn", '"PT1H"', '"P1X"', "registrar_late: bad timer expression"),
        (
            "unknown_role.bpmn",
            'name="registrar_staff"',
            'name="janitor"',
            "Lane_registrar_staff: lane 'janitor' is not a role",
        ),
        ("bad_condition.bpmn", 'decision == "approve"', "decision ==", "condition refused by the sandbox"),
        (
            "bad_prefix.bpmn",
            'name="case_prefix" value="ET"',
            'name="case_prefix" value="e-t"',
            "qujat_engine_test: case_prefix must be 2-4 capital Latin letters, not 'e-t'",
        ),
        # Names a script, condition, timer or routing property reads must be provided before the step.
        (
            "unknown_helper.bpmn",
            "rounds = rounds + 1",
            "rounds = rounds + count_rounds()",
            "count: calls count_rounds(), which no process app registers",
        ),
        (
            "undeclared_in_condition.bpmn",
            'decision == "approve"',
            'verdict == "approve"',
            "Flow_decided_split: reads verdict, which the process never declares or sets before this step",
        ),
        (
            "set_only_later.bpmn",
            "priority = 2 if days &gt; 3 else 1",
            "priority = 2 if escalated else 1",
            "count: reads escalated, which the process never declares or sets before this step",
        ),
        (
            "undeclared_start_variable.bpmn",
            'value="department school rounds returns"',
            'value="department school returns"',
            "count: reads rounds, which the process never declares or sets before this step",
        ),
        ("undeclared_in_timer.bpmn", '"PT1H"', "deadline", "registrar_late: reads deadline, which the process"),
        # Purposes and stages come from a small vocabulary.
        (
            "unknown_stage.bpmn",
            '<spiffworkflow:property name="form" value="forms/review.json" />',
            '<spiffworkflow:property name="form" value="forms/review.json" />'
            '<spiffworkflow:property name="stage" value="approved" />',
            "review: stage 'approved' refused: a waiting step's stage is one of",
        ),
        (
            "end_stage_on_a_task.bpmn",
            '<spiffworkflow:property name="form" value="forms/review.json" />',
            '<spiffworkflow:property name="form" value="forms/review.json" />'
            '<spiffworkflow:property name="stage" value="refused" />',
            "review: stage 'refused' refused: a waiting step's stage is one of",
        ),
        (
            "unknown_purpose.bpmn",
            '<spiffworkflow:property name="form" value="forms/review.json" />',
            '<spiffworkflow:property name="form" value="forms/review.json" />'
            '<spiffworkflow:property name="purpose" value="approval" />',
            "review: purpose 'approval' is not one of review, answer, signature, hand_over, existing_accounts",
        ),
        (
            "undeclared_in_routing.bpmn",
            'name="scope" value="department"',
            'name="scope" value="faculty"',
            "review: the scope property reads faculty, which the process never declares or sets before it",
        ),
    ],
)
def test_bad_files_are_refused_naming_file_line_and_element(
    demo: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, old: str, new: str, expected: str
) -> None:
    path = variant(tmp_path, name, old, new)
    before = ProcessDefinition.objects.count()
    message = deploy(path, capsys)
    assert str(path) in message
    assert expected in message
    assert message.split(str(path) + ":")[1].split(":")[0].isdigit()  # a line number follows the file
    assert ProcessDefinition.objects.count() == before


def test_a_name_refusal_points_at_the_line_inside_the_script(
    demo: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a two-line script whose second line calls a helper nobody registered
    path = variant(tmp_path, "second_line.bpmn", "priority = 2 if days &gt; 3 else 1", "priority = no_such_helper()")

    # When it is deployed, then the refusal names the script's second line
    message = deploy(path, capsys)
    script_line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "no_such_helper" in text)
    assert f"{path}:{script_line}: count: calls no_such_helper()" in message


def test_check_stores_nothing(demo: None, capsys: pytest.CaptureFixture[str]) -> None:
    # Given the test diagram, never deployed
    ProcessDefinition.objects.filter(key="qujat_engine_test").delete()

    # When it is only checked
    call_command("deploy_processes", "--check", str(SOURCE))

    # Then it would deploy, and nothing is stored
    assert "qujat_engine_test would deploy" in capsys.readouterr().out
    assert not ProcessDefinition.objects.filter(key="qujat_engine_test").exists()


def test_a_missing_form_file_is_refused(demo: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = variant(tmp_path, "no_form.bpmn", "forms/check.json", "forms/nope.json")
    assert "form file forms/nope.json does not exist" in deploy(path, capsys)


def test_the_business_processes_are_deployed_on_migrate(demo: None) -> None:
    deployed = set(ProcessDefinition.objects.values_list("key", flat=True))
    expected = {p.stem for p in Path("bpmn").glob("*.bpmn")}
    assert expected <= deployed


def test_timers_after_an_event_based_gateway_are_refused(
    demo: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = variant(
        tmp_path, "event_gateway.bpmn", '<bpmn:exclusiveGateway id="decided"', '<bpmn:eventBasedGateway id="decided"'
    )
    text = path.read_text().replace("</bpmn:exclusiveGateway>", "</bpmn:eventBasedGateway>", 1)
    text = text.replace('sourceRef="decided" targetRef="split"', 'sourceRef="decided" targetRef="registrar_late"')
    path.write_text(text)
    assert "decided: timers after an event-based gateway never fire" in deploy(path, capsys)
