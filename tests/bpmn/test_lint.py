"""Every diagram passes bpmnlint on our rules file (.bpmnlintrc: the recommended rules that fit SpiffWorkflow,
plus bpmn/lint's own), and each of our own rules refuses what it is there for."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BPMNLINT = ROOT / "node_modules" / ".bin" / "bpmnlint"
DIAGRAMS = (
    sorted(ROOT.glob("bpmn/*.bpmn")) + sorted(ROOT.glob("tests/**/*.bpmn")) + sorted(ROOT.glob("bench/**/*.bpmn"))
)


def bpmnlint(*files: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node is not None, "Node.js is needed to lint diagrams (make setup installs it with npm)"
    assert BPMNLINT.exists(), "bpmnlint is missing from node_modules: run make setup"
    # From the project root: bpmnlint finds .bpmnlintrc and the plugin (node_modules) relative to it.
    return subprocess.run(
        [node, str(BPMNLINT), "--max-warnings=0", *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_diagram_passes_bpmnlint() -> None:
    # Given every diagram of the product, the tests and the benchmarks
    assert len(DIAGRAMS) >= 6

    # When they are linted on our rules file
    result = bpmnlint(*DIAGRAMS)

    # Then there is no error and no warning
    assert result.returncode == 0, result.stdout + result.stderr


def diagram(body: str, *, executable: str = "true", lanes: str = "", last_flow: str = "f2") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="http://qujat.kz/bpmn">
  <bpmn:process id="p" name="P" isExecutable="{executable}">
    {lanes}
    <bpmn:startEvent id="start" name="Start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    {body}
    <bpmn:endEvent id="end" name="End"><bpmn:incoming>{last_flow}</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def step(tag: str, attributes: str = "", inner: str = "") -> str:
    return f"""<bpmn:{tag} id="step" name="Step" {attributes}><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>{inner}</bpmn:{tag}>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="step" />
    <bpmn:sequenceFlow id="f2" sourceRef="step" targetRef="end" />"""


LANE = (
    '<bpmn:laneSet id="ls"><bpmn:lane id="l" name="teacher"><bpmn:flowNodeRef>start</bpmn:flowNodeRef>'
    "<bpmn:flowNodeRef>{step}</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>"
)

EVENT_GATEWAY = """
    <bpmn:eventBasedGateway id="wait" name="Wait"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing></bpmn:eventBasedGateway>
    <bpmn:intermediateCatchEvent id="late" name="2 days"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:timerEventDefinition id="t"><bpmn:timeDuration>"P2D"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="late" />
    <bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="end" />
"""

BAD = {
    "executable-process": diagram(step("task"), executable="false"),
    "script-task-has-script": diagram(step("scriptTask", inner="<bpmn:script>  </bpmn:script>")),
    "no-service-task": diagram(step("serviceTask")),
    "user-task-in-lane": diagram(step("userTask")),
    "no-timer-after-event-based-gateway": diagram(EVENT_GATEWAY, last_flow="f3"),
}


@pytest.mark.parametrize("rule", sorted(BAD))
def test_each_of_our_rules_refuses_what_it_is_for(rule: str, tmp_path: Path) -> None:
    # Given a diagram with exactly the mistake the rule is about
    file = tmp_path / f"{rule}.bpmn"
    file.write_text(BAD[rule])

    # When it is linted
    result = bpmnlint(file)

    # Then bpmnlint fails and names our rule
    assert result.returncode != 0
    assert f"qujat/{rule}" in result.stdout, result.stdout


def test_a_user_task_in_a_lane_is_fine(tmp_path: Path) -> None:
    # Given the same user task, now in a lane
    file = tmp_path / "laned.bpmn"
    file.write_text(diagram(step("userTask"), lanes=LANE.format(step="step")))

    # When it is linted, then our lane rule has nothing to say
    assert "qujat/user-task-in-lane" not in bpmnlint(file).stdout
