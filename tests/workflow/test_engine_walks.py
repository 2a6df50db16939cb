"""The engine's own answers to the library's two per-step searches (READY tasks for an engine step, WAITING
tasks after a finished one) are the library's answers, in the library's order.

Each case here runs twice, step for step: once on SpiffWorkflow's own BpmnWorkflow and once on ours, with the
same choices. The automatic steps must run in the same order and leave the same tree, state and data; and
every search ours answers from its id map must list what the library's tree walk lists.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from SpiffWorkflow import Workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from backend.workflow.engine import _Workflow

ENGINE_TEST = Path(__file__).with_name("engine_test.bpmn")

# A loop around a three-way parallel split of automatic steps, with a user task after the join: the order in
# which the branches' scripts run shows in `trail`.
PARALLEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="parallel_loop" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
    <bpmn:parallelGateway id="split"><bpmn:incoming>f0</bpmn:incoming><bpmn:incoming>f9</bpmn:incoming>
      <bpmn:outgoing>fa</bpmn:outgoing><bpmn:outgoing>fb</bpmn:outgoing><bpmn:outgoing>fc</bpmn:outgoing>
    </bpmn:parallelGateway>
    <bpmn:scriptTask id="a"><bpmn:incoming>fa</bpmn:incoming><bpmn:outgoing>ja</bpmn:outgoing>
      <bpmn:script>trail = trail + ["a"]</bpmn:script></bpmn:scriptTask>
    <bpmn:scriptTask id="b"><bpmn:incoming>fb</bpmn:incoming><bpmn:outgoing>fb2</bpmn:outgoing>
      <bpmn:script>trail = trail + ["b"]</bpmn:script></bpmn:scriptTask>
    <bpmn:scriptTask id="b2"><bpmn:incoming>fb2</bpmn:incoming><bpmn:outgoing>jb</bpmn:outgoing>
      <bpmn:script>trail = trail + ["b2"]</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="c"><bpmn:incoming>fc</bpmn:incoming><bpmn:outgoing>jc</bpmn:outgoing></bpmn:userTask>
    <bpmn:parallelGateway id="join"><bpmn:incoming>ja</bpmn:incoming><bpmn:incoming>jb</bpmn:incoming>
      <bpmn:incoming>jc</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:userTask id="check"><bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing></bpmn:userTask>
    <bpmn:exclusiveGateway id="more" default="f8"><bpmn:incoming>f6</bpmn:incoming>
      <bpmn:outgoing>f9</bpmn:outgoing><bpmn:outgoing>f8</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="end"><bpmn:incoming>f8</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="split" />
    <bpmn:sequenceFlow id="fa" sourceRef="split" targetRef="a" />
    <bpmn:sequenceFlow id="fb" sourceRef="split" targetRef="b" />
    <bpmn:sequenceFlow id="fb2" sourceRef="b" targetRef="b2" />
    <bpmn:sequenceFlow id="fc" sourceRef="split" targetRef="c" />
    <bpmn:sequenceFlow id="ja" sourceRef="a" targetRef="join" />
    <bpmn:sequenceFlow id="jb" sourceRef="b2" targetRef="join" />
    <bpmn:sequenceFlow id="jc" sourceRef="c" targetRef="join" />
    <bpmn:sequenceFlow id="f5" sourceRef="join" targetRef="check" />
    <bpmn:sequenceFlow id="f6" sourceRef="check" targetRef="more" />
    <bpmn:sequenceFlow id="f9" sourceRef="more" targetRef="split">
      <bpmn:conditionExpression>again</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f8" sourceRef="more" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""

MASKS = [
    TaskState.READY,
    TaskState.WAITING,
    TaskState.READY | TaskState.WAITING,
    TaskState.READY | TaskState.STARTED | TaskState.WAITING,
    TaskState.DEFINITE_MASK,
]


def spec(name: str) -> Any:
    parser = SpiffBpmnParser()
    if name == "parallel_loop":
        parser.add_bpmn_str(PARALLEL.encode())
    else:
        parser.add_bpmn_file(str(ENGINE_TEST))
    return parser.get_spec(name)


def shape(workflow: BpmnWorkflow) -> list[tuple[str, str, dict[str, Any]]]:
    """The whole tree as the library's walk sees it: each task's step, state and data, in the walk's order."""
    return [
        (task.task_spec.name, TaskState.get_name(task.state), dict(task.data)) for task in Workflow.get_tasks(workflow)
    ]


def engine_steps(workflow: BpmnWorkflow) -> list[str]:
    ran: list[str] = []
    workflow.do_engine_steps(did_complete_task=lambda task: ran.append(task.task_spec.name))
    workflow.engine_runs = [*getattr(workflow, "engine_runs", []), ran]
    return ran


def assert_searches_agree(workflow: _Workflow) -> None:
    for mask in MASKS:
        for manual in (None, True, False):
            kwargs: dict[str, Any] = {"state": mask} if manual is None else {"state": mask, "manual": manual}
            ours = [task.id for task in workflow.get_tasks(**kwargs)]
            walked = [task.id for task in workflow.get_tasks_iterator(**kwargs)]  # the library's walk
            assert ours == walked, (TaskState.get_name(mask), manual)


@pytest.fixture
def updates(monkeypatch: pytest.MonkeyPatch) -> dict[int, list[tuple[str, str]]]:
    """Every task update (`TaskSpec._update`) made in each workflow, in order: which task, in what state."""
    seen: dict[int, list[tuple[str, str]]] = {}
    update = TaskSpec._update

    def recorded(task_spec: TaskSpec, task: Any) -> None:
        seen.setdefault(id(task.workflow), []).append((task_spec.name, TaskState.get_name(task.state)))
        update(task_spec, task)

    monkeypatch.setattr(TaskSpec, "_update", recorded)
    return seen


def run_twins(
    name: str, data: dict[str, Any], choose: Any, seed: int, steps: int, updates: dict[int, list[Any]]
) -> _Workflow:
    rng = random.Random(seed)  # noqa: S311 - a repeatable walk, not a secret
    library, ours = BpmnWorkflow(spec(name)), _Workflow(spec(name))
    now = timezone.now()
    for workflow in (library, ours):
        workflow.task_tree.data.update(data)
        workflow.get_next_task(spec_name="Start").data.update(data)
    with time_machine.travel(now, tick=False) as clock:
        assert engine_steps(library) == engine_steps(ours)
        for _ in range(steps):
            assert shape(library) == shape(ours)
            assert_searches_agree(ours)
            ready = [workflow.get_tasks_iterator(state=TaskState.READY, manual=True) for workflow in (library, ours)]
            pairs = list(zip(*ready, strict=True))
            if not pairs:
                break
            pick = rng.randrange(len(pairs))
            answer = choose(pairs[pick][0].task_spec.name, rng)
            for task in pairs[pick]:
                task.set_data(**answer)
                task.run()
            if rng.random() < 0.2:
                clock.shift(timedelta(hours=2))  # a boundary timer falls due
                for workflow in (library, ours):
                    workflow.refresh_timers()
            assert engine_steps(library) == engine_steps(ours)
        assert shape(library) == shape(ours)
        assert library.is_completed() == ours.is_completed()
    assert updates[id(library)] == updates[id(ours)]
    assert ("join", "WAITING") in updates[id(ours)]  # the waiting tasks' updates were compared too
    return ours


def engine_test_answer(step: str, rng: random.Random) -> dict[str, Any]:
    if step == "write":
        return {"title": "Journal", "days": rng.choice([1, 5])}
    if step == "review":
        return {"decision": rng.choice(["approve", "return", "return"])}
    return {"ok": True}


def parallel_answer(step: str, rng: random.Random) -> dict[str, Any]:
    return {"again": rng.random() < 0.8} if step == "check" else {}


@pytest.mark.parametrize("seed", range(12))
def test_the_engine_test_process_runs_as_on_the_library(seed: int, updates: dict[int, list[Any]]) -> None:
    data = {"department": "d", "school": "s", "rounds": 0, "returns": 0}
    run_twins("qujat_engine_test", data, engine_test_answer, seed, steps=40, updates=updates)


@pytest.mark.parametrize("seed", range(12))
def test_parallel_automatic_steps_run_in_the_library_order(seed: int, updates: dict[int, list[Any]]) -> None:
    ours = run_twins("parallel_loop", {"trail": []}, parallel_answer, seed, steps=40, updates=updates)
    # the split's branches were ready together, so their order was the engine's to choose
    assert any(ran.count("a") + ran.count("b") >= 2 for ran in ours.engine_runs)


def test_a_loop_taken_hundreds_of_times_still_finds_its_next_step() -> None:
    """The library's walk descends at most 1,000 tasks: past that, an engine step would not find the gateway
    after the teacher's task and the case would stop where it stands. Ours reads the map, not the tree."""
    workflow = _Workflow(spec("qujat_engine_test"))
    workflow.get_next_task(spec_name="Start").data.update({"department": "d", "school": "s", "rounds": 0, "returns": 0})
    workflow.do_engine_steps()
    rounds: list[dict[str, Any]] = [{"title": "J", "days": 1}, {"decision": "return"}] * 260
    for answer in [*rounds, {"title": "J", "days": 1}]:
        (task,) = [task for task in workflow.tasks.values() if task.state == TaskState.READY and task.task_spec.manual]
        task.set_data(**answer)
        task.run()
        workflow.do_engine_steps()
    (review,) = workflow.get_tasks(state=TaskState.READY, manual=True)
    assert review.task_spec.name == "review"
    assert review.depth > 1000
    assert (review.data["rounds"], review.data["returns"]) == (261, 260)
