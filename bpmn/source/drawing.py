"""Draws a process described in Python as BPMN 2.0 XML with a diagram (lanes as rows, steps as columns).

The .bpmn files are the source of truth and can be edited in Camunda Modeler or bpmn-js afterwards; this
module only made their first version readable and keeps a re-layout reviewable in code review.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

LANE_HEIGHT = 200
ROW_BASE = 80  # the main row's centre, from the lane's top; row 1 sits below it
ROW_SHIFT = 75
COLUMN = 150
LEFT = 190
LANE_LABEL = 30
SIZES = {"task": (110, 80), "event": (36, 36), "gateway": (50, 50)}
EVENT_KINDS = {"start", "end", "boundary_timer", "timer", "message", "terminate", "error_end"}
GATEWAY_KINDS = {"xor", "and", "event_gateway"}


@dataclass
class Lane:
    name: str
    label: str
    properties: dict[str, str] = field(default_factory=dict)
    height: int = LANE_HEIGHT  # a taller lane gives room for a third row (row 2)


@dataclass
class Node:
    id: str
    # start, end, terminate, user, script, receive, xor, and, event_gateway, timer, boundary_timer, message
    kind: str
    lane: str
    col: float
    name: str = ""
    row: float = 0
    properties: dict[str, str] = field(default_factory=dict)
    script: str = ""
    timer: tuple[str, str] | None = None  # ("timeDuration" | "timeDate" | "timeCycle", expression)
    attached_to: str = ""
    interrupting: bool = True
    message: str = ""
    default: str = ""
    slot: int = 0  # a boundary event's place on its host's bottom edge: 0 at the right corner, 1 at the left

    @property
    def shape(self) -> str:
        if self.kind in GATEWAY_KINDS:
            return "gateway"
        if self.kind in EVENT_KINDS:
            return "event"
        return "task"


@dataclass
class Flow:
    source: str
    target: str
    name: str = ""
    condition: str = ""
    id: str = ""
    # The corridor a flow runs in when it goes back or around: its offset from the lane's bottom (or, negative,
    # from the top).
    via: float | None = None


@dataclass
class Process:
    id: str
    name: str
    lanes: list[Lane]
    nodes: list[Node]
    flows: list[Flow]
    properties: dict[str, str] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    documentation: str = ""


TAGS = {
    "start": "startEvent",
    "end": "endEvent",
    "terminate": "endEvent",
    "user": "userTask",
    "script": "scriptTask",
    "receive": "receiveTask",
    "xor": "exclusiveGateway",
    "and": "parallelGateway",
    "event_gateway": "eventBasedGateway",
    "timer": "intermediateCatchEvent",
    "message": "intermediateCatchEvent",
    "boundary_timer": "boundaryEvent",
}


def _properties(properties: dict[str, str], indent: str) -> str:
    if not properties:
        return ""
    inner = "".join(
        f"{indent}    <spiffworkflow:property name={quoteattr(k)} value={quoteattr(v)} />\n"
        for k, v in properties.items()
    )
    return (
        f"{indent}<bpmn:extensionElements>\n{indent}  <spiffworkflow:properties>\n{inner}"
        f"{indent}  </spiffworkflow:properties>\n{indent}</bpmn:extensionElements>\n"
    )


class Drawing:
    def __init__(self, process: Process) -> None:
        self.p = process
        self.lane_index = {lane.name: i for i, lane in enumerate(process.lanes)}
        self.lane_top: dict[str, int] = {}
        top = 0
        for lane in process.lanes:
            self.lane_top[lane.name] = top
            top += lane.height
        self.lane_height = {lane.name: lane.height for lane in process.lanes}
        self.nodes = {n.id: n for n in process.nodes}
        for flow in process.flows:
            flow.id = flow.id or f"Flow_{flow.source}_{flow.target}"
        self.width = int(max(n.col for n in process.nodes) * COLUMN + LEFT + 160)

    # --- geometry -----------------------------------------------------------------------------------
    def bounds(self, node: Node) -> tuple[int, int, int, int]:
        if node.kind == "boundary_timer":
            host = self.bounds(self.nodes[node.attached_to])
            x = host[0] + 10 if node.slot == 1 else host[0] + host[2] - 46
            return x, host[1] + host[3] - 18, 36, 36
        w, h = SIZES[node.shape]
        cx = LEFT + node.col * COLUMN
        cy = self.lane_top[node.lane] + ROW_BASE + node.row * ROW_SHIFT
        return int(cx - w / 2), int(cy - h / 2), w, h

    def center(self, node: Node) -> tuple[int, int]:
        x, y, w, h = self.bounds(node)
        return x + w // 2, y + h // 2

    def waypoints(self, flow: Flow) -> list[tuple[int, int]]:
        source, target = self.nodes[flow.source], self.nodes[flow.target]
        sx, sy, sw, sh = self.bounds(source)
        tx, ty, tw, th = self.bounds(target)
        scx, scy = sx + sw // 2, sy + sh // 2
        tcx, tcy = tx + tw // 2, ty + th // 2
        if source.kind == "boundary_timer":
            start = (scx, sy + sh)
            if tcx > scx:
                return (
                    [start, (scx, tcy), (tx, tcy)]
                    if tcy > sy + sh
                    else [start, (scx, sy + sh + 20), (tcx, sy + sh + 20), (tcx, ty + th)]
                )
            return [
                start,
                (scx, ty + th + 20 if ty > sy else sy + sh + 20),
                (tcx, ty + th + 20 if ty > sy else sy + sh + 20),
                (tcx, ty + th),
            ]
        if tcx < scx or (tcx == scx and tcy != scy) or flow.via is not None:
            # Going back (or routed around what lies between): through a corridor along a lane's edge. A negative
            # `via` runs over the top of the upper lane, otherwise under the bottom of the lower one.
            if flow.via is not None and flow.via < 0:
                lane_top = min(self.lane_index[source.lane], self.lane_index[target.lane]) * LANE_HEIGHT
                corridor = lane_top + 12 + int(-flow.via)
                return [(scx, sy), (scx, corridor), (tcx, corridor), (tcx, ty)]
            lane_bottom = max(self.lane_top[n.lane] + self.lane_height[n.lane] for n in (source, target))
            corridor = lane_bottom - 12 - int(flow.via or 0)
            return [(scx, sy + sh), (scx, corridor), (tcx, corridor), (tcx, ty + th)]
        if tcy == scy:
            return [(sx + sw, scy), (tx, tcy)]
        if source.shape == "gateway":
            return [(scx, sy + sh) if tcy > scy else (scx, sy), (scx, tcy), (tx, tcy)]
        middle = sx + sw + (tx - sx - sw) // 2
        return [(sx + sw, scy), (middle, scy), (middle, tcy), (tx, tcy)]

    # --- XML ----------------------------------------------------------------------------------------
    def node_xml(self, node: Node) -> str:
        tag = TAGS[node.kind]
        attrs = f' id="{node.id}"'
        if node.name:
            attrs += f" name={quoteattr(node.name)}"
        if node.kind == "boundary_timer":
            attrs += f' attachedToRef="{node.attached_to}"'
            if not node.interrupting:
                attrs += ' cancelActivity="false"'
        if node.default:
            attrs += f' default="{self.flow_id(node.id, node.default)}"'
        if node.kind == "receive":
            attrs += f' messageRef="Message_{node.message}"'
        body = _properties(node.properties, "      ")
        body += "".join(f"      <bpmn:incoming>{f.id}</bpmn:incoming>\n" for f in self.p.flows if f.target == node.id)
        body += "".join(f"      <bpmn:outgoing>{f.id}</bpmn:outgoing>\n" for f in self.p.flows if f.source == node.id)
        if node.kind == "script":
            body += f"      <bpmn:script>{escape(node.script.strip())}</bpmn:script>\n"
        if node.timer:
            kind, expression = node.timer
            body += (
                f'      <bpmn:timerEventDefinition id="{node.id}_timer">\n'
                f'        <bpmn:{kind} xsi:type="bpmn:tFormalExpression">{escape(expression)}</bpmn:{kind}>\n'
                "      </bpmn:timerEventDefinition>\n"
            )
        if node.kind == "message":
            body += (
                f'      <bpmn:messageEventDefinition id="{node.id}_message" messageRef="Message_{node.message}" />\n'
            )
        if node.kind == "terminate":
            body += f'      <bpmn:terminateEventDefinition id="{node.id}_terminate" />\n'
        return f"    <bpmn:{tag}{attrs}>\n{body}    </bpmn:{tag}>\n"

    def flow_id(self, source: str, target: str) -> str:
        return next(f.id for f in self.p.flows if f.source == source and f.target == target)

    def flow_xml(self, flow: Flow) -> str:
        name = f" name={quoteattr(flow.name)}" if flow.name else ""
        head = f'    <bpmn:sequenceFlow id="{flow.id}"{name} sourceRef="{flow.source}" targetRef="{flow.target}"'
        if not flow.condition:
            return head + " />\n"
        return (
            head + ">\n"
            f'      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(flow.condition)}'
            "</bpmn:conditionExpression>\n    </bpmn:sequenceFlow>\n"
        )

    def render(self) -> str:
        p = self.p
        height = sum(lane.height for lane in p.lanes)
        lanes = ""
        for lane in p.lanes:
            refs = "".join(
                f"        <bpmn:flowNodeRef>{n.id}</bpmn:flowNodeRef>\n" for n in p.nodes if n.lane == lane.name
            )
            lanes += (
                f'      <bpmn:lane id="Lane_{lane.name}" name="{lane.name}">\n'
                + _properties(lane.properties, "        ")
                + refs
                + "      </bpmn:lane>\n"
            )
        messages = "".join(f'  <bpmn:message id="Message_{m}" name="{m}" />\n' for m in p.messages)
        documentation = (
            f"    <bpmn:documentation>{escape(p.documentation)}</bpmn:documentation>\n" if p.documentation else ""
        )
        process_xml = (
            f'  <bpmn:process id="{p.id}" name={quoteattr(p.name)} isExecutable="true">\n'
            + documentation
            + _properties(p.properties, "    ")
            + f'    <bpmn:laneSet id="LaneSet_{p.id}">\n{lanes}    </bpmn:laneSet>\n'
            + "".join(self.node_xml(n) for n in p.nodes)
            + "".join(self.flow_xml(f) for f in p.flows)
            + "  </bpmn:process>\n"
        )
        shapes = (
            f'      <bpmndi:BPMNShape id="Participant_{p.id}_di" bpmnElement="Participant_{p.id}" '
            'isHorizontal="true">\n'
            f'        <dc:Bounds x="0" y="0" width="{self.width}" height="{height}" />\n      </bpmndi:BPMNShape>\n'
        )
        for lane in p.lanes:
            shapes += (
                f'      <bpmndi:BPMNShape id="Lane_{lane.name}_di" bpmnElement="Lane_{lane.name}" '
                'isHorizontal="true">\n'
                f'        <dc:Bounds x="{LANE_LABEL}" y="{self.lane_top[lane.name]}" width="{self.width - LANE_LABEL}" '
                f'height="{lane.height}" />\n      </bpmndi:BPMNShape>\n'
            )
        for node in p.nodes:
            x, y, w, h = self.bounds(node)
            marker = ' isMarkerVisible="true"' if node.kind == "xor" else ""
            label = ""
            if node.shape != "task" and node.name:
                label = (
                    f'        <bpmndi:BPMNLabel>\n          <dc:Bounds x="{x - 30}" y="{y + h + 4}" width="{w + 60}" '
                    'height="27" />\n        </bpmndi:BPMNLabel>\n'
                )
            shapes += (
                f'      <bpmndi:BPMNShape id="{node.id}_di" bpmnElement="{node.id}"{marker}>\n'
                f'        <dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}" />\n{label}      </bpmndi:BPMNShape>\n'
            )
        edges = ""
        for flow in p.flows:
            points = "".join(f'        <di:waypoint x="{x}" y="{y}" />\n' for x, y in self.waypoints(flow))
            edges += (
                f'      <bpmndi:BPMNEdge id="{flow.id}_di" bpmnElement="{flow.id}">\n{points}      </bpmndi:BPMNEdge>\n'
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
            ' xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"'
            ' xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"'
            ' xmlns:di="http://www.omg.org/spec/DD/20100524/DI"'
            ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
            ' xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'
            f' id="Definitions_{p.id}" targetNamespace="http://qujat.kz/bpmn" exporter="Qujat" exporterVersion="1">\n'
            f'  <bpmn:collaboration id="Collaboration_{p.id}">\n'
            f'    <bpmn:participant id="Participant_{p.id}" name={quoteattr(p.name)} processRef="{p.id}" />\n'
            "  </bpmn:collaboration>\n" + messages + process_xml + f'  <bpmndi:BPMNDiagram id="Diagram_{p.id}">\n'
            f'    <bpmndi:BPMNPlane id="Plane_{p.id}" bpmnElement="Collaboration_{p.id}">\n'
            + shapes
            + edges
            + "    </bpmndi:BPMNPlane>\n  </bpmndi:BPMNDiagram>\n</bpmn:definitions>\n"
        )


def draw(process: Process) -> str:
    return Drawing(process).render()
