"""Scripts and conditions run sandboxed; escapes fail, at deploy time where possible and at run time otherwise."""

from pathlib import Path

import pytest

from backend.workflow.deployment import deploy_file
from backend.workflow.engine import DiagramError
from backend.workflow.scripting import InstanceContext, Sandbox, ScriptError, check_source
from tests.workflow.conftest import diagram_variant

ESCAPES = [
    "().__class__.__base__.__subclasses__()",
    "__import__('os')",
    "getattr((), '__class__')",
    "open('/etc/passwd').read()",
    "eval('1')",
]


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(InstanceContext(None, None))


@pytest.mark.parametrize("expression", ESCAPES)
def test_escapes_fail_in_expressions(sandbox: Sandbox, expression: str) -> None:
    with pytest.raises((ScriptError, NameError, AttributeError, TypeError)):
        sandbox.evaluate(expression, {})


@pytest.mark.parametrize("script", ["import os\nx = os.getcwd()", "x = ().__class__.__base__.__subclasses__()"])
def test_escapes_fail_in_scripts(sandbox: Sandbox, script: str) -> None:
    with pytest.raises((ScriptError, ImportError, NameError)):
        sandbox.execute(script, {})


def test_the_subclasses_escape_is_refused_before_it_runs() -> None:
    with pytest.raises(ScriptError, match="__class__"):
        check_source("().__class__.__base__.__subclasses__()", mode="eval")


def test_ordinary_scripts_read_and_write_process_data(sandbox: Sandbox) -> None:
    data = {"days": 5, "grades": [70, 80, 90]}
    sandbox.execute("average = sum(grades) / len(grades)\nlate = days > 2\nnames = [str(g) for g in grades]", data)
    assert data == {"days": 5, "grades": [70, 80, 90], "average": 80.0, "late": True, "names": ["70", "80", "90"]}
    assert sandbox.evaluate("late and average >= 80", data) is True


@pytest.mark.django_db
def test_working_days_helper_is_available(sandbox: Sandbox) -> None:
    assert sandbox.evaluate("working_days_from_now(2)", {}).startswith("20")


def test_a_diagram_with_an_escaping_script_is_not_deployed(engine_test_process: object, tmp_path: Path) -> None:
    bad = diagram_variant(
        tmp_path, "escape.bpmn", "escalated = True", "escalated = ().__class__.__base__.__subclasses__()"
    )
    with pytest.raises(DiagramError) as refused:
        deploy_file(bad)
    assert refused.value.element == "escalate"
    assert refused.value.line is not None
