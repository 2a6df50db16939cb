"""Which names a process's scripts, conditions, timers and routing read, and whether something sets them first.

Deployment refuses a diagram whose script calls a helper no process app registered, or reads a variable that
neither the start (the start form's fields and the start event's `variables`), nor the engine
(`ENGINE_VARIABLES`), nor an earlier step (a script's assignment, a task form's field, a message variable)
provides. "Earlier" means a
step from which this one can be reached along the diagram's flows, so a variable set only further on, or only
on another branch that never leads here, is refused.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .scripting import known_globals

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
# What the engine puts into every case's data when it starts (workflow.services.instance_start).
ENGINE_VARIABLES = frozenset({"initiator_id", "instance_id"})
# Lane and task properties whose value names a process variable (read when the task is routed).
VARIABLE_PROPERTIES = ("assignee", "scope", "due_from")


@dataclass(frozen=True)
class Problem:
    message: str
    line: int | None
    element: str


@dataclass(frozen=True)
class _Read:
    name: str
    line: int
    call: bool


class _Reads(ast.NodeVisitor):
    """Names loaded by an expression or statement that it does not bind itself (comprehensions, lambdas)."""

    def __init__(self) -> None:
        self.scopes: list[set[str]] = []
        self.found: list[_Read] = []

    def _local(self, name: str) -> bool:
        return any(name in scope for scope in self.scopes)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load) and not self._local(node.id):
            self.found.append(_Read(node.id, node.lineno, call=False))

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name):
            if not self._local(node.func.id):
                self.found.append(_Read(node.func.id, node.lineno, call=True))
        else:
            self.visit(node.func)
        for argument in [*node.args, *node.keywords]:
            self.visit(argument)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Name) and not self._local(node.target.id):
            self.found.append(_Read(node.target.id, node.lineno, call=False))
        self.visit(node.value)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.scopes.append({a.arg for a in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]})
        self.visit(node.body)
        self.scopes.pop()

    def _comprehension(self, node: Any, *parts: ast.AST) -> None:
        generators: list[ast.comprehension] = node.generators
        self.visit(generators[0].iter)  # the first iterable is evaluated outside the comprehension
        self.scopes.append(set(_stored(*(g.target for g in generators))))
        for generator in generators:
            if generator is not generators[0]:
                self.visit(generator.iter)
            for condition in generator.ifs:
                self.visit(condition)
        for part in parts:
            self.visit(part)
        self.scopes.pop()

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node, node.elt)

    def visit_SetComp(self, node: ast.SetComp) -> None:
        self._comprehension(node, node.elt)

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> None:
        self._comprehension(node, node.elt)

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, node.key, node.value)


def _stored(*nodes: ast.AST) -> Iterator[str]:
    for node in nodes:
        for child in ast.walk(node):
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                yield child.id


def _reads_of(node: ast.AST) -> list[_Read]:
    visitor = _Reads()
    visitor.visit(node)
    return visitor.found


def script_names(source: str, *, mode: str) -> tuple[list[_Read], set[str]]:
    """What a script or expression reads before binding it itself, and what it sets; line numbers from 1."""
    if mode == "eval":
        return _reads_of(ast.parse(source.strip(), mode="eval")), set()
    reads: list[_Read] = []
    bound: set[str] = set()
    for statement in ast.parse(source, mode="exec").body:
        stores = set(_stored(statement))
        compound = isinstance(statement, ast.If | ast.For | ast.While | ast.With | ast.Try)
        if compound:
            bound |= stores  # a loop's target or a branch's assignment is used inside the same statement
        reads += [read for read in _reads_of(statement) if read.name not in bound]
        bound |= stores
    return reads, bound


@dataclass
class _Step:
    element: str
    line: int | None
    sets: set[str]
    # (source, mode, line of the source's first line) evaluated at this step, in order
    scripts: list[tuple[str, str, int | None]]
    property_reads: list[tuple[str, str]]  # (property, variable)


def _properties(node: Any) -> dict[str, str]:
    return {
        p.get("name"): p.get("value", "")
        for p in node.xpath("./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS)
    }


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def check_process(
    process: Any,
    *,
    form_fields: Callable[[str], set[str]],
    helpers: Iterable[str],
) -> list[Problem]:
    """Every unknown helper call and every read of a variable nothing set before, in one process element."""
    known = known_globals() | ENGINE_VARIABLES
    helper_set = frozenset(helpers)
    lane_properties: dict[str, dict[str, str]] = {}
    for lane in process.iterfind(".//bpmn:lane", NS):
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            lane_properties[(ref.text or "").strip()] = _properties(lane)

    steps: dict[str, _Step] = {}
    successors: dict[str, set[str]] = defaultdict(set)
    for node in process.iter():
        if not isinstance(node.tag, str) or node.get("id") is None:
            continue
        kind = _local(node.tag)
        element = node.get("id")
        if kind == "sequenceFlow":
            source, target = node.get("sourceRef"), node.get("targetRef")
            successors[source].add(element)
            successors[element].add(target)
            condition = node.find("bpmn:conditionExpression", NS)
            scripts = [((condition.text or ""), "eval", condition.sourceline)] if condition is not None else []
            steps[element] = _Step(element, node.sourceline, set(), scripts, [])
            continue
        connected = node.find("bpmn:incoming", NS) is not None or node.find("bpmn:outgoing", NS) is not None
        if not connected and kind not in ("startEvent", "boundaryEvent"):
            continue  # not a flow node (lanes, definitions, …)
        properties = _properties(node)
        step = _Step(element, node.sourceline, set(), [], [])
        for pre in node.iterfind(".//spiffworkflow:preScript", NS):
            step.scripts.append((pre.text or "", "exec", pre.sourceline))
        if kind == "startEvent":
            step.sets |= set(properties.get("variables", "").replace(",", " ").split())
            step.sets |= form_fields(f"forms/{process.get('id')}/start.json")  # the start form, when there is one
        if kind in ("userTask", "manualTask"):
            routing = {**lane_properties.get(element, {}), **properties}
            for key in VARIABLE_PROPERTIES:
                value = routing.get(key, "")
                if value and not value.startswith("="):
                    step.property_reads.append((key, value))
            if properties.get("form"):
                step.sets |= form_fields(properties["form"])
        for script in node.iterfind("bpmn:script", NS):
            step.scripts.append((script.text or "", "exec", script.sourceline))
        for timer in node.iterfind("bpmn:timerEventDefinition/*", NS):
            if isinstance(timer.tag, str):
                step.scripts.append(((timer.text or ""), "eval", timer.sourceline))
        for variable in node.iterfind(".//spiffworkflow:messageVariable", NS):
            step.sets.add((variable.text or "").strip())
        for post in node.iterfind(".//spiffworkflow:postScript", NS):
            step.scripts.append((post.text or "", "exec", post.sourceline))
        if kind == "boundaryEvent" and node.get("attachedToRef"):
            successors[node.get("attachedToRef")].add(element)
        steps[element] = step

    for step in steps.values():
        for source, mode, _line in step.scripts:
            if mode == "exec":
                step.sets |= script_names(source, mode="exec")[1]

    predecessors: dict[str, set[str]] = defaultdict(set)
    for source, targets in successors.items():
        for target in targets:
            predecessors[target].add(source)

    problems: list[Problem] = []
    for step in steps.values():
        available = set(known)
        for earlier in _ancestors(step.element, predecessors):
            if earlier in steps:
                available |= steps[earlier].sets
        for key, variable in step.property_reads:
            if variable not in available:
                problems.append(
                    Problem(
                        f"the {key} property reads {variable}, which the process never declares or sets before it",
                        step.line,
                        step.element,
                    )
                )
        for source, mode, first_line in step.scripts:
            reads, sets = script_names(source, mode=mode)
            for read in reads:
                line = (first_line or 0) + read.line - 1 if first_line else None
                if read.name in available or read.name in helper_set:
                    continue
                if read.call:
                    problems.append(Problem(f"calls {read.name}(), which no process app registers", line, step.element))
                else:
                    problems.append(
                        Problem(
                            f"reads {read.name}, which the process never declares or sets before this step",
                            line,
                            step.element,
                        )
                    )
            available |= sets
    return problems


def _ancestors(element: str, predecessors: dict[str, set[str]]) -> set[str]:
    """Every step from which `element` can be reached, itself excluded."""
    seen: set[str] = set()
    queue = list(predecessors.get(element, ()))
    while queue:
        current = queue.pop()
        if current in seen:
            continue
        seen.add(current)
        queue.extend(predecessors.get(current, ()))
    seen.discard(element)  # what a step sets on one pass of a loop is not there on its first pass
    return seen
