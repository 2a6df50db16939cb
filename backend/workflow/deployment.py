"""Deploying diagrams: every check happens before anything is stored, and a file deploys whole or not at all."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from lxml import etree

from backend.accounts.roles import Role

from . import engine, forms
from .models import ProcessDefinition, Purpose
from .scripting import check_source, helper_names
from .stages import END_STAGES, RUNNING_STAGES
from .variables import NS, check_process

TITLE_LANGUAGES = ("kk", "ru", "en")
# Lane and task properties the engine understands; anything else in a diagram is a typo.
ROUTING_PROPERTIES = {"scope", "assignee", "role", "sod"}
TASK_PROPERTIES = ROUTING_PROPERTIES | {
    "title_kk",
    "title_ru",
    "title_en",
    "form",
    "due",
    "due_calendar",
    "remind",
    "escalate_to",
    "priority",
    "bulk",
    "due_from",
    "documents",
    "purpose",
    "stage",
    "seal",  # a signature step signed with the university's e-seal (backend/signatures/task_signing.py)
}
# Elements a case may wait at, and so declare the stage it is in meanwhile.
WAITING_ELEMENTS = ("userTask", "manualTask", "receiveTask", "intermediateCatchEvent")


@dataclass(frozen=True)
class Deployed:
    key: str
    version: int
    created: bool
    file: str


def _titles(properties: dict[str, str], fallback: str) -> dict[str, str]:
    titles = {lang: properties.get(f"title_{lang}", "") for lang in TITLE_LANGUAGES}
    titles["en"] = titles["en"] or fallback
    return titles


def _load_form(diagram: Path, relative: str, *, task: engine.UserTaskInfo) -> tuple[dict[str, Any], bytes]:
    path = (diagram.parent / relative).resolve()
    where: dict[str, Any] = {"file": str(diagram), "line": task.line, "element": task.spec_id}
    if not path.is_file():
        raise engine.DiagramError(f"form file {relative} does not exist", **where)
    raw = path.read_bytes()
    try:
        schema = json.loads(raw)
        forms.check_schema(schema)
    except (ValueError, json.JSONDecodeError) as exc:
        raise engine.DiagramError(f"form {relative} is not a valid form schema: {exc}", **where) from exc
    return schema, raw


CASE_PREFIX = re.compile(r"^[A-Z]{2,4}$")


def case_prefix(process_key: str, properties: dict[str, str]) -> str:
    """The process's case-number prefix: its `case_prefix` property, else the initials of its key."""
    return properties.get("case_prefix") or "".join(part[:1] for part in process_key.split("_") if part).upper()[:4]


def _check_routing(diagram: Path, process: engine.ParsedProcess) -> None:
    roles = set(Role.values)
    prefix = process.properties.get("case_prefix")
    if prefix is not None and not CASE_PREFIX.match(prefix):
        raise engine.DiagramError(
            f"case_prefix must be 2-4 capital Latin letters, not {prefix!r}",
            file=str(diagram),
            line=process.line,
            element=process.key,
        )
    for name, properties in process.lanes.items():
        where: dict[str, Any] = {
            "file": str(diagram),
            "line": int(properties["_line"]),
            "element": properties["_id"] or name,
        }
        if name not in roles:
            raise engine.DiagramError(f"lane {name!r} is not a role (known: {', '.join(sorted(roles))})", **where)
        unknown = {k for k in properties if not k.startswith("_")} - ROUTING_PROPERTIES
        if unknown:
            raise engine.DiagramError(f"unknown lane properties: {', '.join(sorted(unknown))}", **where)
    for task in process.user_tasks:
        where = {"file": str(diagram), "line": task.line, "element": task.spec_id}
        if not task.lane:
            raise engine.DiagramError("a user task must sit in a lane (the lane names the role)", **where)
        unknown = set(task.properties) - TASK_PROPERTIES
        if unknown:
            raise engine.DiagramError(f"unknown task properties: {', '.join(sorted(unknown))}", **where)
        for key in ("escalate_to", "role"):
            if task.properties.get(key) and task.properties[key] not in roles:
                raise engine.DiagramError(f"{key} names an unknown role {task.properties[key]!r}", **where)
        purpose = task.properties.get("purpose")
        if purpose is not None and purpose not in Purpose.values:
            raise engine.DiagramError(
                f"purpose {purpose!r} is not one of {', '.join(Purpose.values)}",
                **where,
            )
        if task.properties.get("due"):
            try:
                parse_due(task.properties["due"])
            except ValueError as exc:
                raise engine.DiagramError(str(exc), **where) from exc


def parse_due(value: str) -> tuple[int, int]:
    """A task's due period, "P2D" or "PT4H", as (days, hours)."""
    text = value.strip().upper()
    if text.startswith("PT") and text.endswith("H") and text[2:-1].isdigit():
        return 0, int(text[2:-1])
    if text.startswith("P") and text.endswith("D") and text[1:-1].isdigit():
        return int(text[1:-1]), 0
    raise ValueError(f"due must be like P2D or PT4H, not {value!r}")


def _form_fields(diagram: Path, relative: str) -> set[str]:
    path = (diagram.parent / relative).resolve()
    try:
        schema = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return set()  # a missing or broken form is refused by its own check, with its own message
    return set(schema.get("properties", {})) if isinstance(schema, dict) else set()


def _stages(diagram: Path, process: Any) -> dict[str, str]:
    """Element id → the stage a case is in while it waits there or once it ended there (`stage` properties)."""
    stages = {}
    for prop in process.iterfind(".//spiffworkflow:property[@name='stage']", NS):
        element = prop.getparent().getparent().getparent()
        kind = etree.QName(element).localname
        value = prop.get("value", "")
        allowed = END_STAGES if kind == "endEvent" else RUNNING_STAGES if kind in WAITING_ELEMENTS else frozenset()
        if value not in allowed:
            where = f"an end event's stage is one of {', '.join(sorted(END_STAGES))}"
            if kind in WAITING_ELEMENTS:
                where = f"a waiting step's stage is one of {', '.join(sorted(RUNNING_STAGES))}"
            elif kind != "endEvent":
                where = "only steps a case waits at and end events have a stage"
            raise engine.DiagramError(
                f"stage {value!r} refused: {where}",
                file=str(diagram),
                line=prop.sourceline,
                element=element.get("id", ""),
            )
        stages[element.get("id")] = value
    return stages


def _check_names(diagram: Path, xml: bytes) -> dict[str, dict[str, str]]:
    """Refuse scripts, conditions, timers and routing that read what nothing provides (see variables.py), and
    stages outside the vocabulary; returns each process's stages."""
    tree = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    helpers = helper_names()
    stages = {}
    for process in tree.iterfind("bpmn:process", NS):
        stages[process.get("id")] = _stages(diagram, process)
        problems = check_process(process, form_fields=lambda relative: _form_fields(diagram, relative), helpers=helpers)
        if problems:
            first = problems[0]
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise engine.DiagramError(first.message + more, file=str(diagram), line=first.line, element=first.element)
    return stages


def prepare(path: Path) -> list[dict[str, Any]]:
    """Parse and check a diagram and its forms; nothing is stored."""
    xml = path.read_bytes()
    processes = engine.parse_diagram(xml, filename=str(path), check_script=lambda s, m: check_source(s, mode=m))
    stages = _check_names(path, xml)
    prepared = []
    for process in processes:
        _check_routing(path, process)
        digest = hashlib.sha256(xml)
        task_forms: dict[str, Any] = {}
        tasks: dict[str, Any] = {}
        start_form = path.parent / "forms" / process.key / "start.json"
        if start_form.is_file():
            # The start form beside the diagram is the contract of the process's start: the API and the
            # web page are validated by it before the process's own hook checks the input against the records.
            raw = start_form.read_bytes()
            try:
                task_forms[forms.START_FORM] = json.loads(raw)
                forms.check_schema(task_forms[forms.START_FORM])
            except (ValueError, json.JSONDecodeError) as exc:
                raise engine.DiagramError(
                    f"start form {start_form} is not a valid form schema: {exc}",
                    file=str(path),
                    line=process.line,
                    element=process.key,
                ) from exc
            digest.update(forms.START_FORM.encode() + raw)
        for task in process.user_tasks:
            if task.properties.get("form"):
                schema, raw = _load_form(path, task.properties["form"], task=task)
                task_forms[task.spec_id] = schema
                digest.update(task.spec_id.encode() + raw)
            tasks[task.spec_id] = {
                "lane": task.lane,
                "title": _titles(task.properties, task.name),
                "properties": task.properties,
            }
        prepared.append(
            {
                "key": process.key,
                "title": _titles(process.properties, process.name),
                "content_hash": digest.hexdigest(),
                "bpmn_xml": xml.decode("utf-8"),
                "spec": process.spec_bundle,
                "forms": task_forms,
                "routing": {
                    "lanes": {
                        n: {k: v for k, v in p.items() if not k.startswith("_")} for n, p in process.lanes.items()
                    },
                    "start_lane": process.start_lane,
                    "has_timers": process.has_timers,
                    "tasks": tasks,
                    "process": process.properties,
                    "stages": stages.get(process.key, {}),
                },
            }
        )
    return prepared


def deploy_file(path: Path) -> list[Deployed]:
    """Store a new version of each process in the file whose content changed; all of the file or nothing."""
    prepared = prepare(path)
    results = []
    with transaction.atomic():
        for item in prepared:
            existing = ProcessDefinition.objects.filter(key=item["key"], content_hash=item["content_hash"]).first()
            if existing:
                results.append(Deployed(item["key"], existing.version, False, str(path)))
                continue
            latest = ProcessDefinition.objects.filter(key=item["key"]).aggregate(v=Max("version"))["v"] or 0
            try:
                with transaction.atomic():
                    definition = ProcessDefinition.objects.create(version=latest + 1, source_file=path.name, **item)
            except IntegrityError:
                # Another deployer stored the same content a moment ago.
                definition = ProcessDefinition.objects.get(key=item["key"], content_hash=item["content_hash"])
                results.append(Deployed(item["key"], definition.version, False, str(path)))
                continue
            results.append(Deployed(item["key"], definition.version, True, str(path)))
    return results


def default_diagrams() -> list[Path]:
    return sorted(Path(settings.BPMN_DIR).glob("*.bpmn"))
