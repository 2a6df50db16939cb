"""The only module that imports SpiffWorkflow: parse BPMN, run processes, (de)serialize their state.

Everything else in the product talks to `ParsedProcess` and `RunningProcess`; the library checks neither
task states nor permissions, so `RunningProcess.complete_user_task` checks READY itself and the services
check who may act.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cmp_to_key
from typing import Any
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, TaskConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.util.task import BpmnTaskFilter
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .scripting import Sandbox, ScriptError

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}


class EngineError(Exception):
    """A process step failed while running (a script, a condition, a timer expression)."""

    def __init__(self, message: str, *, task_spec: str = "", line: int | None = None) -> None:
        self.task_spec = task_spec
        self.line = line
        super().__init__(message)


class TaskNotReady(Exception):
    """The user task is not READY (already completed, cancelled, or not reached)."""


class DiagramError(Exception):
    """A diagram that cannot be deployed, named by file, line and element."""

    def __init__(self, message: str, *, file: str, line: int | None = None, element: str = "") -> None:
        self.file, self.line, self.element, self.detail = file, line, element, message
        where = ":".join(str(p) for p in (file, line) if p)
        super().__init__(f"{where}: {element + ': ' if element else ''}{message}")


# --- the workflow ------------------------------------------------------------------------------------


def _tree_before(first: Task, second: Task) -> bool:
    """Whether `first` comes before `second` in the task tree's depth-first order (a parent before its children,
    children in their order): both climb towards the root, a step each in turn, until one reaches a task the
    other has passed; there the branches they came up by decide. Costs the distance to that common ancestor,
    which for parallel branches is the few steps back to their split, not the depth of a long case."""
    if first is second:
        return False
    # ancestor id -> the child of that ancestor on the way up (None for the task itself)
    passed: tuple[dict[UUID, UUID | None], dict[UUID, UUID | None]] = ({first.id: None}, {second.id: None})
    current: list[Task | None] = [first, second]
    while current[0] is not None or current[1] is not None:
        for side in (0, 1):
            task = current[side]
            if task is None:
                continue
            other = passed[1 - side]
            if task.id in other:
                mine, theirs = passed[side][task.id], other[task.id]
                if mine is None or theirs is None:  # one task is the other's ancestor: the ancestor comes first
                    return (mine is None) == (side == 0)
                order = task._children
                return (order.index(mine) < order.index(theirs)) == (side == 0)
            parent = task.parent
            if parent is not None:
                passed[side][parent.id] = task.id
            current[side] = parent
    raise ValueError("the two tasks share no root")


def _in_tree_order(tasks: list[Task]) -> list[Task]:
    return sorted(tasks, key=cmp_to_key(lambda first, second: -1 if _tree_before(first, second) else 1))


_FLAT_FILTERS = frozenset({"state", "manual", "spec_name", "lane"})


class _Workflow(BpmnWorkflow):
    """The library's workflow, with its searches for unfinished tasks read from its flat id → task map.

    An engine step asks for the READY tasks (`get_tasks(state=READY)`), every finished task updates the
    WAITING ones (`update_waiting_tasks`), and whether the case is over asks for any unfinished one
    (`is_completed`); the library answers each by walking the task tree from its root, through every task the
    case ever finished, so a step's cost grew with the case's history. Unfinished tasks are found here by their
    state in the map, and put in the order the walk would have given them (which decides, for one, the order in
    which parallel branches' automatic steps run). `RunningProcess` asks its questions the same way.

    A case with subprocesses keeps the library's walks (none of our diagrams has one), as does any question
    about finished tasks. The library's walk also stops descending 1,000 tasks deep, so in a loop taken some
    200 times it stops finding the next step; the map has no such limit.
    """

    completed: bool  # set by the library: whether the case is over

    def get_tasks(self, first_task: Task | None = None, **kwargs: Any) -> list[Task]:
        state = kwargs.get("state")
        if (
            first_task is not None
            or self.subprocesses
            or state is None
            or state & ~TaskState.DEFINITE_MASK
            or not kwargs.keys() <= _FLAT_FILTERS
        ):
            return super().get_tasks(first_task, **kwargs)
        task_filter = BpmnTaskFilter(**kwargs)
        return _in_tree_order(
            [task for task in self.tasks.values() if task.state & state and task_filter.matches(task)]
        )

    def update_waiting_tasks(self) -> None:
        if self.subprocesses:
            super().update_waiting_tasks()
            return
        # The library updates them as its walk reaches them, so a task that starts waiting meanwhile further on
        # is updated too, and one behind is not: the last task updated is kept as the walk's position.
        position: Task | None = None
        while ahead := [
            task for task in self.get_tasks(state=TaskState.WAITING) if position is None or _tree_before(position, task)
        ]:
            position = ahead[0]
            position.task_spec._update(position)

    def is_completed(self) -> bool:
        if self.subprocesses:
            return bool(super().is_completed())
        if not self.completed:
            # The newest tasks are the likely unfinished ones: read from the newest, a running case answers at once.
            unfinished = any(task.state & TaskState.NOT_FINISHED_MASK for task in reversed(self.tasks.values()))
            self.completed = not unfinished
        return bool(self.completed)


# --- serialization ---------------------------------------------------------------------------------


_FINISHED = TaskState.COMPLETED | TaskState.CANCELLED | TaskState.ERROR


class _MemoTaskConverter(TaskConverter):
    """A finished task never changes again: keep its serialized form instead of recomputing it each save.

    Saving a long-lived instance then costs in proportion to what changed, not to its whole history.
    """

    @staticmethod
    def _key(task: Any) -> tuple[int, float, int]:
        return task.state, task.last_state_change, len(task._children)

    def to_dict(self, task: Any) -> dict[str, Any]:
        if not task.state & _FINISHED:
            return dict(super().to_dict(task))
        memo = getattr(task, "_qujat_memo", None)
        key = self._key(task)
        if memo is None or memo[0] != key:
            memo = (key, super().to_dict(task))
            task._qujat_memo = memo
        return dict(memo[1])

    def from_dict(self, dct: dict[str, Any], workflow: Any) -> Any:
        task = super().from_dict(dct, workflow)
        if task.state & _FINISHED:
            task._qujat_memo = (self._key(task), {k: v for k, v in dct.items() if k != "typename"})
        return task


class _SharedSpecWorkflowConverter(BpmnWorkflowConverter):
    """Restores an instance around spec objects restored once, instead of restoring the spec every load,
    and serializes it without its spec (stored once per definition)."""

    def to_dict(self, workflow: Any) -> dict[str, Any]:
        stored = getattr(workflow, "_qujat_stored", None)
        tasks = workflow.tasks
        if stored:
            # Finished tasks already in a segment, unchanged since, are neither converted nor written again.
            tasks = {
                task_id: task for task_id, task in tasks.items() if stored.get(task_id) != _MemoTaskConverter._key(task)
            }
        dct = {
            "data": self.registry.convert(self.registry.clean(workflow.data)),
            "correlations": workflow.correlations,
            "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
            "success": workflow.success,
            "completed": workflow.completed,
            "tasks": self.mapping_to_dict(tasks),
            "root": str(workflow.task_tree.id),
        }
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], spec: Any = None, subprocess_specs: Any = None) -> Any:
        if spec is None:
            return super().from_dict(dct)
        workflow = _Workflow(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _registry() -> Any:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _SharedSpecWorkflowConverter
    config[Task] = _MemoTaskConverter
    registry = BpmnWorkflowSerializer.configure(config)
    registry.typenames[_Workflow] = registry.typenames[BpmnWorkflow]  # stored as the library's, read back as ours
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda d: Decimal(d["value"]), "Decimal")
    registry.register(dt.date, lambda v: {"value": v.isoformat()}, lambda d: dt.date.fromisoformat(d["value"]), "date")
    registry.register(
        dt.datetime,
        lambda v: {"value": v.isoformat()},
        lambda d: dt.datetime.fromisoformat(d["value"]),
        "datetime",
    )
    return registry


SERIALIZER = BpmnWorkflowSerializer(_registry())
STATE_VERSION_KEY = "serializer_version"
# Finished tasks stay in the instance's state until this many have gathered; then they move, once, to a
# segment of their own that is never written again, so a step writes what changed, not the whole history.
SEGMENT_AFTER = 64
DROPPED_KEY = "qujat_dropped"


_SPECS: dict[str, tuple[Any, dict[str, Any]]] = {}


def _restore_specs(spec_key: str, load_bundle: Callable[[], str]) -> tuple[Any, dict[str, Any]]:
    """Spec objects do not change while instances run: restore each definition's spec once per process."""
    if spec_key not in _SPECS:
        bundle = json.loads(load_bundle())
        spec = SERIALIZER.from_dict(bundle["spec"])
        subprocesses = {name: SERIALIZER.from_dict(sp) for name, sp in bundle["subprocess_specs"].items()}
        _SPECS[spec_key] = (spec, subprocesses)
    return _SPECS[spec_key]


# --- parsing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserTaskInfo:
    spec_id: str
    name: str
    lane: str
    line: int | None
    properties: dict[str, str]


@dataclass(frozen=True)
class ParsedProcess:
    key: str
    name: str
    properties: dict[str, str]
    lanes: dict[str, dict[str, str]]
    start_lane: str
    user_tasks: list[UserTaskInfo]
    has_timers: bool
    spec_bundle: str
    line: int | None = None


def _properties(node: Any) -> dict[str, str]:
    return {
        p.get("name"): p.get("value", "")
        for p in node.xpath("./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS)
    }


def _check_timers(tree: Any, filename: str, check_expression: Callable[[str, Any], None]) -> None:
    for definition in tree.iterfind(".//bpmn:timerEventDefinition", NS):
        for child in definition:
            if not isinstance(child.tag, str):
                continue
            kind = etree.QName(child).localname
            expression = (child.text or "").strip()
            event = definition.getparent()
            where = {"file": filename, "line": child.sourceline, "element": event.get("id", "")}
            if not expression:
                raise DiagramError(f"the timer's {kind} is empty", **where)
            try:
                check_expression(expression, kind)
            except Exception as exc:
                raise DiagramError(f"bad timer expression {expression!r} ({kind}): {exc}", **where) from exc


def _check_constant_timer(expression: str, kind: str) -> None:
    """A constant timer expression must be a valid ISO 8601 duration, date-time or cycle."""
    import ast

    try:
        value = ast.literal_eval(expression)
    except (ValueError, SyntaxError):
        return  # an expression over process data or a helper call: checked by the sandbox compiler
    if not isinstance(value, str):
        raise ValueError("a timer expression must give a string")
    if kind == "timeDuration":
        TimerEventDefinition.parse_iso_duration(value)
    elif kind == "timeDate":
        TimerEventDefinition.get_datetime(value)
    else:
        TimerEventDefinition.parse_iso_recurring_interval(value)


def parse_diagram(xml: bytes, *, filename: str, check_script: Callable[[str, str], None]) -> list[ParsedProcess]:
    """Parse and check one .bpmn file; every problem names the file, line and element."""
    try:
        tree = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise DiagramError(f"not well-formed XML: {exc.msg}", file=filename, line=exc.lineno) from exc
    processes = tree.findall("bpmn:process", NS)
    if not processes:
        raise DiagramError("the file holds no bpmn:process", file=filename, line=tree.sourceline)
    for process in processes:
        if process.get("isExecutable") != "true":
            raise DiagramError(
                'the process is not executable (set isExecutable="true")',
                file=filename,
                line=process.sourceline,
                element=process.get("id", ""),
            )

    for gateway in tree.iterfind(".//bpmn:eventBasedGateway", NS):
        targets = [
            f.get("targetRef") for f in tree.iterfind(f".//bpmn:sequenceFlow[@sourceRef='{gateway.get('id')}']", NS)
        ]
        if any(tree.find(f".//*[@id='{t}']/bpmn:timerEventDefinition", NS) is not None for t in targets):
            # SpiffWorkflow 3.2 keeps one deadline for all timers behind such a gateway: they would never fire.
            raise DiagramError(
                "timers after an event-based gateway never fire; wait with a receive task and boundary timers",
                file=filename,
                line=gateway.sourceline,
                element=gateway.get("id", ""),
            )

    def check_timer(expression: str, kind: str) -> None:
        check_script(expression, "eval")
        _check_constant_timer(expression, kind)

    _check_timers(tree, filename, check_timer)
    scripts = [(node, "eval", "condition") for node in tree.iterfind(".//bpmn:conditionExpression", NS)]
    scripts += [(node, "exec", "script") for node in tree.iterfind(".//bpmn:script", NS)]
    for tag in ("preScript", "postScript"):
        scripts += [(node, "exec", tag) for node in tree.iterfind(f".//spiffworkflow:{tag}", NS)]
    for node, mode, what in scripts:
        _check_script_node(node, mode, what, filename, check_script)

    parser = SpiffBpmnParser()
    try:
        parser.add_bpmn_xml(tree, filename=filename)
        parsed = []
        for process in processes:
            key = process.get("id")
            spec = parser.get_spec(key)
            subprocesses = parser.get_subprocess_specs(key)
            parsed.append(_describe(process, spec, subprocesses, filename))
    except ValidationException as exc:
        element = getattr(exc, "id", "") or ""
        node = tree.xpath(f'//*[@id="{element}"]') if element else []
        line = node[0].sourceline if node else (exc.line_number or None)
        raise DiagramError(str(exc).split("\n")[0], file=filename, line=line, element=element) from exc
    return parsed


def _check_script_node(
    node: Any, mode: str, what: str, filename: str, check_script: Callable[[str, str], None]
) -> None:
    owner = node.getparent()
    while owner is not None and owner.get("id") is None:
        owner = owner.getparent()
    source = (node.text or "").strip() if mode == "eval" else node.text or ""
    try:
        check_script(source, mode)
    except ScriptError as exc:
        raise DiagramError(
            f"{what} refused by the sandbox: {exc}",
            file=filename,
            line=node.sourceline,
            element=owner.get("id", "") if owner is not None else "",
        ) from exc


def _describe(process: Any, spec: Any, subprocesses: dict[str, Any], filename: str) -> ParsedProcess:
    lanes: dict[str, dict[str, str]] = {}
    node_lane: dict[str, str] = {}
    for lane in process.iterfind(".//bpmn:lane", NS):
        name = lane.get("name") or ""
        lanes[name] = _properties(lane) | {"_line": str(lane.sourceline), "_id": lane.get("id", "")}
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            node_lane[(ref.text or "").strip()] = name
    start = process.find("bpmn:startEvent", NS)
    user_tasks = []
    for node in process.iter(f"{{{NS['bpmn']}}}userTask", f"{{{NS['bpmn']}}}manualTask"):
        user_tasks.append(
            UserTaskInfo(
                spec_id=node.get("id"),
                name=node.get("name") or node.get("id"),
                lane=node_lane.get(node.get("id"), ""),
                line=node.sourceline,
                properties=_properties(node),
            )
        )
    return ParsedProcess(
        key=process.get("id"),
        name=process.get("name") or process.get("id"),
        properties=_properties(process),
        lanes=lanes,
        start_lane=node_lane.get(start.get("id"), "") if start is not None else "",
        user_tasks=user_tasks,
        has_timers=bool(process.findall(".//bpmn:timerEventDefinition", NS)),
        spec_bundle=json.dumps(
            {
                "spec": SERIALIZER.to_dict(spec),
                "subprocess_specs": {name: SERIALIZER.to_dict(sp) for name, sp in subprocesses.items()},
            }
        ),
        line=process.sourceline,
    )


# --- running ---------------------------------------------------------------------------------------


class _SandboxEnvironment(BasePythonScriptEngineEnvironment):
    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__({})
        self.sandbox = sandbox

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        return self.sandbox.evaluate(expression, context, external_context)

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        self.sandbox.execute(script, context, external_context)
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        raise ScriptError("service tasks are not used: call a helper from a script task")


@dataclass(frozen=True)
class ReadyTask:
    id: UUID
    spec_id: str
    name: str
    lane: str
    properties: dict[str, str]
    data: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class TrailStep:
    """One run of a diagram element in a case: where it came from, how it stands, when it last changed."""

    spec_id: str
    came_from: str  # the element run just before it ("" for the start)
    state: str  # "completed", "waiting" (reached, not done), "error" or "cancelled"
    changed_at: float  # Unix time of its last change of state
    # When it came from a gateway: the data the gateway decided on (what its conditions read).
    decided_on: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class PendingTimer:
    task_id: UUID
    spec_id: str
    due_at: dt.datetime


class RunningProcess:
    """One process instance in memory, between a load and a save."""

    def __init__(self, workflow: BpmnWorkflow) -> None:
        self.workflow = workflow
        # Finished tasks already written to a segment, with the memo key they were written with.
        self.stored: dict[UUID, tuple[int, float, int]] = {}
        # Ids of tasks in a segment that the engine has since dropped (rare: a reset or a migration).
        self.dropped: list[str] = []

    @classmethod
    def start(
        cls,
        *,
        spec_key: str,
        load_bundle: Callable[[], str],
        data: dict[str, Any],
        sandbox: Sandbox,
    ) -> RunningProcess:
        spec, subprocesses = _restore_specs(spec_key, load_bundle)
        workflow = _Workflow(spec, subprocesses, script_engine=PythonScriptEngine(_SandboxEnvironment(sandbox)))
        for task in workflow.get_tasks():
            task.data.update(data)
        return cls(workflow)

    @classmethod
    def load(
        cls,
        *,
        spec_key: str,
        load_bundle: Callable[[], str],
        state: str | dict[str, Any],
        sandbox: Sandbox,
        segments: list[str] | None = None,
    ) -> RunningProcess:
        """Restore a saved state (JSON text, with the segments of finished tasks saved before it, in order)
        or a snapshot (taken once, restored at most once)."""
        spec, subprocesses = _restore_specs(spec_key, load_bundle)
        dct = json.loads(state) if isinstance(state, str) else state
        dropped = dct.pop(DROPPED_KEY, [])
        from_segments: set[str] = set()
        if segments:
            tasks: dict[str, Any] = {}
            for segment in segments:
                tasks.update(json.loads(segment))
            for task_id in dropped:
                tasks.pop(task_id, None)
            from_segments = set(tasks) - set(dct["tasks"])
            tasks.update(dct["tasks"])
            dct["tasks"] = tasks
        version = dct.pop(STATE_VERSION_KEY, SERIALIZER.VERSION)
        if version != SERIALIZER.VERSION:
            dct[SERIALIZER.VERSION_KEY] = version
            SERIALIZER.migrate(dct)
        workflow = SERIALIZER.registry.restore(dct, spec=spec, subprocess_specs=subprocesses)
        workflow.script_engine = PythonScriptEngine(_SandboxEnvironment(sandbox))
        process = cls(workflow)
        process.dropped = list(dropped)
        for task_id in from_segments:
            task = workflow.tasks.get(UUID(task_id))
            if task is not None and task.state & _FINISHED:
                process.stored[task.id] = _MemoTaskConverter._key(task)
        return process

    def use_sandbox(self, sandbox: Sandbox) -> None:
        """Run this operation's scripts with its own helpers (bound to its actor)."""
        self.workflow.script_engine = PythonScriptEngine(_SandboxEnvironment(sandbox))

    def _to_dict(self, *, without_stored: bool) -> dict[str, Any]:
        if without_stored:
            self.workflow._qujat_stored = self.stored
        try:
            dct: dict[str, Any] = SERIALIZER.to_dict(self.workflow)
        finally:
            self.workflow.__dict__.pop("_qujat_stored", None)
        dct[STATE_VERSION_KEY] = SERIALIZER.VERSION
        if self.dropped:
            dct[DROPPED_KEY] = list(self.dropped)
        return dct

    def snapshot(self) -> dict[str, Any]:
        """The instance as a dict without the finished tasks its saved segments hold, to restore with `load`
        and those segments (finished tasks come from their memo)."""
        return self._to_dict(without_stored=True)

    def state(self) -> str:
        """The whole serialized instance as JSON text, without its spec (stored once per definition)."""
        return json.dumps(self._to_dict(without_stored=False), separators=(",", ":"))

    def state_parts(self) -> tuple[str, str | None]:
        """What to save: the state without the finished tasks already in segments, and a new segment when
        enough finished tasks have gathered (None otherwise). Both as JSON text."""
        tasks = self.workflow.tasks
        for task_id in [task_id for task_id in self.stored if task_id not in tasks]:
            del self.stored[task_id]
            self.dropped.append(str(task_id))
        gathered = [
            task
            for task_id, task in tasks.items()
            if task.state & _FINISHED and self.stored.get(task_id) != _MemoTaskConverter._key(task)
        ]
        segment = None
        if len(gathered) >= SEGMENT_AFTER:
            segment = json.dumps(
                {str(task.id): SERIALIZER.registry.convert(task) for task in gathered}, separators=(",", ":")
            )
            self.stored.update((task.id, _MemoTaskConverter._key(task)) for task in gathered)
        return json.dumps(self._to_dict(without_stored=True), separators=(",", ":")), segment

    def run_engine(self) -> None:
        """Fire due timers and run every automatic step until people or timers must act."""
        try:
            self.workflow.refresh_timers()
            self.workflow.do_engine_steps()
        except (SpiffWorkflowException, ScriptError) as exc:
            raise _engine_error(exc) from exc

    def ready_user_tasks(self) -> list[ReadyTask]:
        return [
            ReadyTask(
                id=task.id,
                spec_id=task.task_spec.bpmn_id or task.task_spec.name,
                name=task.task_spec.bpmn_name or task.task_spec.name,
                lane=task.task_spec.lane or "",
                properties=dict(task.task_spec.extensions.get("properties", {})),
                data=task.data,
            )
            for task in self.workflow.get_tasks(state=TaskState.READY, manual=True)
        ]

    def position(self) -> tuple[list[str], str | None]:
        """Where the case stands: the steps it waits at (most recently reached first), and the end it reached."""
        waiting = [
            task
            for task in self.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED)
            if task.task_spec.bpmn_id
        ]
        waiting.sort(key=lambda task: task.last_state_change, reverse=True)
        if not self.completed:
            return [task.task_spec.bpmn_id for task in waiting], None  # no end reached: no look at the history
        ends = [
            task
            for task in self.workflow.get_tasks(state=TaskState.COMPLETED)
            if isinstance(task.task_spec, EndEvent) and task.task_spec.bpmn_id
        ]
        end = max(ends, key=lambda task: task.last_state_change).task_spec.bpmn_id if ends else None
        return [task.task_spec.bpmn_id for task in waiting], end

    def trail(self) -> list[TrailStep]:
        """Every element the case reached, once per run (a loop runs an element again), in the engine's order."""
        states = {
            TaskState.COMPLETED: "completed",
            TaskState.READY: "waiting",
            TaskState.WAITING: "waiting",
            TaskState.STARTED: "waiting",
            TaskState.ERROR: "error",
        }
        steps = []
        for task in self.workflow.get_tasks():
            spec_id = task.task_spec.bpmn_id
            state = states.get(task.state)
            if not spec_id or state is None:
                continue
            if state == "waiting" and task.task_spec.__class__.__name__ == "BoundaryEvent":
                continue  # a boundary event waits as long as its activity runs: reached only when it fires
            parent = task.parent
            while parent is not None and not parent.task_spec.bpmn_id:
                parent = parent.parent
            came_from = parent.task_spec.bpmn_id if parent is not None else ""
            gateway = parent is not None and "Gateway" in type(parent.task_spec).__name__
            decided_on = dict(parent.data) if gateway and parent is not None else {}
            steps.append(TrailStep(spec_id, came_from, state, task.last_state_change, decided_on))
        return steps

    def complete_user_task(self, task_id: UUID, data: dict[str, Any]) -> None:
        task = self.workflow.get_task_from_id(task_id)
        # The library runs a task in any state (a CANCELLED one becomes COMPLETED): check READY here.
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise TaskNotReady(str(task_id))
        task.set_data(**data)
        try:
            task.run()
        except (SpiffWorkflowException, ScriptError) as exc:
            raise _engine_error(exc) from exc

    def deliver_message(self, name: str, payload: dict[str, Any]) -> bool:
        """Give a waiting message catch event its message; False when nothing waits for it."""
        before = len(self.workflow.get_tasks(state=TaskState.COMPLETED))
        self.workflow.catch(BpmnEvent(MessageEventDefinition(name), payload))
        return len(self.workflow.get_tasks(state=TaskState.COMPLETED)) > before or bool(
            self.workflow.get_tasks(state=TaskState.READY, manual=False)
        )

    def pending_timers(self) -> list[PendingTimer]:
        timers = []
        for task in self.workflow.event_manager.tasks.values():
            definition = task.task_spec.event_definition
            if not isinstance(definition, TimerEventDefinition) or task.state != TaskState.WAITING:
                continue
            value = task._get_internal_data("event_value")
            if value is None:
                continue
            if isinstance(definition, CycleTimerEventDefinition):
                value = value.get("next") if isinstance(value, dict) else None
                if value is None:
                    continue
            due = TimerEventDefinition.get_datetime(value) if isinstance(value, str) else None
            if due is not None:
                timers.append(PendingTimer(task.id, task.task_spec.bpmn_id or task.task_spec.name, due))
        return timers

    def patch_pending_data(self, data: dict[str, Any]) -> None:
        """Correct the data the next automatic steps will read (an operator's fix before a retry)."""
        for task in self.workflow.get_tasks(state=TaskState.READY | TaskState.STARTED | TaskState.WAITING):
            task.data.update(data)

    def task_data(self, task_id: UUID) -> dict[str, Any]:
        task = self.workflow.get_task_from_id(task_id)
        return dict(task.data) if task is not None else {}

    @property
    def data(self) -> dict[str, Any]:
        """The process variables as the most recently finished step left them."""
        last = self.workflow.last_task
        if last is None:
            return dict(self.workflow.task_tree.data)
        return dict(last.data)

    @property
    def completed(self) -> bool:
        """Whether no task is left unfinished."""
        return bool(self.workflow.is_completed())

    def cancel(self) -> None:
        self.workflow.cancel()


def _engine_error(exc: Exception) -> EngineError:
    task = getattr(exc, "task", None)
    spec = ""
    if task is not None:
        spec = getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name
    line = getattr(exc, "line_number", None) or None
    message = str(exc).split("\n")[0] or exc.__class__.__name__
    inner = getattr(exc, "exception", None)
    if inner is not None and str(inner) not in message:
        message = f"{message}: {inner.__class__.__name__}: {inner}"
    return EngineError(message, task_spec=spec, line=line)
