"""A case as an auditor reads it: the path on its version's diagram, the humanised timeline, the integrity check.

Everything is worked out when asked for, from the stored history, the engine state and the files, so what the
page shows is what the database and the storage hold now. Two things are kept because they cannot change: a
version's parsed diagram (by its content hash) and the path read from a saved engine state (by the state's
version and the chain's head, which move with every change of the case).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from lxml import etree

from backend.accounts.models import User
from backend.core.models import pick_language
from backend.documents.models import GeneratedDocument
from backend.inbox.timeline import TimelineEntry, task_titles, timeline
from backend.inbox.wording import local_text
from backend.signatures.models import PublishedDocument, Signature
from backend.workflow.engine import TrailStep
from backend.workflow.history import BrokenChain, ChainRow, chain_rows, instance_broken_chain
from backend.workflow.models import HumanTask, ProcessDefinition, ProcessInstance
from backend.workflow.selectors import instance_trail

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
TITLE_PROPERTIES = f"./{{{BPMN}}}extensionElements/{{{SPIFF}}}properties/{{{SPIFF}}}property"
GATEWAYS = {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}
IDENTIFIER = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")
KEYWORDS = {"and", "or", "not", "in", "is", "True", "False", "None", "if", "else", "len"}


@dataclass(frozen=True)
class Flow:
    id: str
    source: str
    target: str
    name: str
    condition: str


@dataclass(frozen=True)
class Element:
    id: str
    type: str  # the BPMN tag without namespace: userTask, exclusiveGateway, …
    name: str
    titles: dict[str, str] = field(default_factory=dict)  # title_kk/ru/en properties, when the diagram has them

    @property
    def title(self) -> str:
        return pick_language(self.titles) or self.name


@dataclass
class Diagram:
    """What the case page needs of a version's BPMN XML: its elements and sequence flows."""

    elements: dict[str, Element] = field(default_factory=dict)
    flows: list[Flow] = field(default_factory=list)
    # (source, target) → the flows between them, made on first use: a case of hundreds of steps asks per step.
    _between: dict[tuple[str, str], list[Flow]] | None = field(default=None, repr=False, compare=False)

    def flows_between(self, source: str, target: str) -> list[Flow]:
        if self._between is None:
            between: dict[tuple[str, str], list[Flow]] = defaultdict(list)
            for flow in self.flows:
                between[flow.source, flow.target].append(flow)
            self._between = dict(between)
        return self._between.get((source, target), [])


_DIAGRAMS: dict[str, Diagram] = {}


def diagram_of(definition: ProcessDefinition) -> Diagram:
    """The version's diagram, parsed once per process (a deployed version's XML never changes)."""
    key = f"{definition.key}:{definition.content_hash}"
    diagram = _DIAGRAMS.get(key)
    if diagram is None:
        diagram = _DIAGRAMS[key] = _parse_diagram(definition)
    return diagram


def _parse_diagram(definition: ProcessDefinition) -> Diagram:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.fromstring(definition.bpmn_xml.encode(), parser)
    diagram = Diagram()
    for node in root.iter():
        if not isinstance(node.tag, str) or not node.tag.startswith(f"{{{BPMN}}}"):
            continue
        tag = node.tag.split("}", 1)[1]
        element_id = node.get("id")
        if not element_id:
            continue
        if tag == "sequenceFlow":
            condition = node.find(f"{{{BPMN}}}conditionExpression")
            diagram.flows.append(
                Flow(
                    element_id,
                    node.get("sourceRef", ""),
                    node.get("targetRef", ""),
                    node.get("name", ""),
                    (condition.text or "").strip() if condition is not None else "",
                )
            )
        else:
            titles = {
                (prop.get("name") or "")[6:]: prop.get("value") or ""
                for prop in node.iterfind(TITLE_PROPERTIES)
                if (prop.get("name") or "").startswith("title_")
            }
            diagram.elements[element_id] = Element(element_id, tag, node.get("name", "") or "", titles)
    return diagram


def duration_text(delta: timedelta) -> str:
    """A short duration: "3 d 4 h", "2 h 5 min", "40 s"."""
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return _("%(d)s d %(h)s h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)s min") % {"m": minutes}
    return _("%(s)s s") % {"s": seconds}


@dataclass(frozen=True)
class GatewayChoice:
    gateway: str
    gateway_name: str
    branch: str  # the chosen flow's name, or the name of the step it leads to
    condition: str
    data: list[tuple[str, str]]  # the case's values of the names the condition reads


@dataclass(frozen=True)
class DocumentLine:
    id: int
    title: str
    number: str
    status: str  # valid / revoked / annulled / unsigned
    status_text: str
    verification_url: str
    pdf_sha256: str
    signed_sha256: str
    stored_match: bool | None  # None: no file to compare
    signers: list[str]


@dataclass(frozen=True)
class Integrity:
    events: int
    broken: BrokenChain | None
    documents_ok: bool

    @property
    def intact(self) -> bool:
        return self.broken is None

    @property
    def summary(self) -> str:
        if self.broken is None:
            return ngettext("%(n)s event, chain intact", "%(n)s events, chain intact", self.events) % {"n": self.events}
        return _("The chain breaks at event %(seq)s: %(reason)s") % {
            "seq": self.broken.seq,
            "reason": broken_reason(self.broken),
        }


def broken_reason(broken: BrokenChain) -> str:
    """The chain check's finding in the reader's language (the check itself words it in English)."""
    reason = broken.reason
    if reason == "content does not match its hash":
        return _("the event was edited after it was written")
    if reason == "does not link to the previous event":
        return _("the event does not follow the one before it (an event was deleted or inserted)")
    if reason.startswith("event ") and reason.endswith(" is missing"):
        return _("the event before it was deleted")
    if reason.startswith("was added after"):
        return _("the event was inserted after the case's last recorded event")
    if "missing" in reason:
        return _("events at the end of the history were deleted")
    if reason == "does not match the head the case records":
        return _("the last event is not the one the case records")
    return reason


def _file_sha256(file: Any) -> str | None:
    if not file:
        return None
    try:
        with file.open("rb") as handle:
            digest = hashlib.sha256()
            for chunk in iter(lambda: handle.read(1 << 16), b""):
                digest.update(chunk)
            return digest.hexdigest()
    except OSError:
        return None


def case_documents(instance: ProcessInstance) -> QuerySet[GeneratedDocument]:
    return GeneratedDocument.objects.filter(instance=instance).order_by("created_at", "pk")


def document_lines(instance: ProcessInstance) -> list[DocumentLine]:
    """The case's documents with their signature status now and whether their files match the stored hashes."""
    documents = list(case_documents(instance))
    published = {p.document_id: p for p in PublishedDocument.objects.filter(document__in=documents)}
    signatures: dict[int, list[Signature]] = defaultdict(list)
    for signature in Signature.objects.filter(document__in=documents).select_related("signer", "certificate"):
        signatures[signature.document_id].append(signature)
    lines = []
    for document in documents:
        publication = published.get(document.pk)
        signed = signatures[document.pk]
        if publication is not None and publication.status == PublishedDocument.Status.ANNULLED:
            status, text = "annulled", _("annulled")
        elif any(s.certificate.revoked for s in signed):
            status, text = "revoked", _("a signer's certificate is revoked")
        elif signed:
            status, text = "valid", _("valid")
        else:
            status, text = "unsigned", _("not signed")
        checks = []
        if document.pdf and document.pdf_sha256:
            checks.append(_file_sha256(document.pdf) == document.pdf_sha256)
        if publication is not None and publication.signed_pdf and publication.signed_sha256:
            checks.append(_file_sha256(publication.signed_pdf) == publication.signed_sha256)
        lines.append(
            DocumentLine(
                id=document.pk,
                title=document.title,
                number=document.number,
                status=status,
                status_text=text,
                verification_url=(
                    reverse("web:verify", args=[publication.verification_id])
                    if publication is not None and publication.issued_at
                    else ""
                ),
                pdf_sha256=document.pdf_sha256,
                signed_sha256=publication.signed_sha256 if publication is not None else "",
                stored_match=all(checks) if checks else None,
                signers=[f"{s.signer.full_name} ({local_text(s.signed_at)})" for s in signed],
            )
        )
    return lines


@dataclass(frozen=True)
class TimelineLine:
    entry: TimelineEntry
    element: str  # the diagram element the event belongs to ("" for the case as a whole)
    document_url: str
    changes: list[tuple[str, str, str]]  # (name, old, new) for data corrected before a retry

    @property
    def when(self) -> str:
        return local_text(self.entry.at)


@dataclass
class CaseFile:
    instance: ProcessInstance
    marks: dict[str, Any]
    timeline: list[TimelineLine]
    element_names: dict[str, str]
    gateway_choices: list[GatewayChoice]
    documents: list[DocumentLine]
    integrity: Integrity
    current: list[str]


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """One event as the page tells it, made from the row the chain check read (no model built per event)."""

    seq: int
    kind: str
    at: datetime
    payload: Any
    actor: User | None


def case_events(rows: list[ChainRow]) -> list[CaseEvent]:
    """The events of the chain's rows, with the people who acted (read in one query)."""
    ids = {row[3] for row in rows if row[3] is not None}
    people = {
        person.pk: person
        for person in User.objects.filter(pk__in=ids).only("username", "first_name", "last_name", "patronymic")
    }
    return [
        CaseEvent(seq, kind, at, payload, people.get(actor_id) if actor_id is not None else None)
        for _instance, seq, kind, actor_id, at, payload, _prev, _hash in rows
    ]


def _element_of_events(events: list[CaseEvent], specs: dict[int, str]) -> dict[int, str]:
    """seq → the diagram element each event concerns, through the task it names."""
    found = {}
    for event in events:
        payload = event.payload or {}
        task = payload.get("task")
        if isinstance(payload.get("spec"), str):
            found[event.seq] = payload["spec"]
        elif isinstance(task, int) and task in specs:
            found[event.seq] = specs[task]
        elif isinstance(task, str) and task:  # an error names the failing element itself
            found[event.seq] = task
    return found


def _changes(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(name, "" if old.get(name) is None else str(old.get(name)), str(value)) for name, value in new.items()]


def case_path(instance: ProcessInstance) -> list[TrailStep]:
    """The elements the case reached, read from its engine state once per saved state.

    The engine state changes only with a new `version` of the instance, and every change the history records
    moves its head; with both in the key a kept path is never one the case has left.
    """
    key = f"cases:path:{instance.pk}:{instance.definition_id}:{instance.version}:{instance.history_head}"
    path: list[TrailStep] | None = cache.get(key)
    if path is None:
        path = instance_trail(instance)
        cache.set(key, path, timeout=30 * 24 * 3600)
    return path


MARKS = {"completed": "qj-done", "waiting": "qj-current", "error": "qj-failed"}


def case_file(instance: ProcessInstance) -> CaseFile:
    """Everything the case page shows, in the active language: the events and the tasks are read once each."""
    definition = instance.definition
    diagram = diagram_of(definition)
    trail = case_path(instance)
    runs: Counter[str] = Counter(step.spec_id for step in trail if step.state == "completed")
    markers: dict[str, list[str]] = defaultdict(list)
    current = []
    for step in trail:
        mark = MARKS.get(step.state)
        if mark and mark not in markers[step.spec_id]:
            markers[step.spec_id].append(mark)
        if step.state in ("waiting", "error"):
            current.append(step.spec_id)
        if step.came_from:
            for flow in diagram.flows_between(step.came_from, step.spec_id):
                if "qj-taken" not in markers[flow.id]:
                    markers[flow.id].append("qj-taken")
    # The events are read once, as the chain check reads them, and checked before anything else reads them.
    rows = chain_rows(instance)
    broken = instance_broken_chain(instance, rows)
    events = case_events(rows)
    if instance.status == ProcessInstance.Status.ERROR:
        # A failed step leaves no trace in the engine state (it goes back to where it was before the step):
        # the step that failed is the one the last incident names.
        failed = next((e.payload.get("task") for e in reversed(events) if e.kind == "error" and e.payload), None)
        if isinstance(failed, str) and failed in diagram.elements:
            if "qj-failed" not in markers[failed]:
                markers[failed].append("qj-failed")
            current.append(failed)
    # What people did at each user task, and how long it took them (all runs together).
    specs: dict[int, str] = {}
    spent: dict[str, timedelta] = defaultdict(timedelta)
    tasks = list(
        HumanTask.objects.filter(instance=instance).values_list(
            "pk", "spec_id", "status", "created_at", "completed_at", "title"
        )
    )
    for pk, spec, status, created, completed, _title in tasks:
        specs[pk] = spec
        if status == HumanTask.Status.COMPLETED and completed is not None:
            spent[spec] += completed - created
    badges: dict[str, list[dict[str, str]]] = defaultdict(list)
    for spec, count in runs.items():
        if spec not in diagram.elements or diagram.elements[spec].type in GATEWAYS:
            continue
        badges[spec].append(
            {
                "text": f"×{count}",
                "title": ngettext("ran once", "ran %(n)s times", count) % {"n": count},
                "tone": "warn" if count > 1 else "ok",
            }
        )
        if spec in spent:
            badges[spec].append({"text": duration_text(spent[spec]), "title": _("time taken"), "tone": "muted"})
    names = {e.id: e.title or _element_type_name(e.type) for e in diagram.elements.values()}
    choices = []
    data = instance.data or {}
    for step in trail:
        element = diagram.elements.get(step.came_from)
        if element is None or element.type not in GATEWAYS:
            continue
        for flow in diagram.flows_between(step.came_from, step.spec_id):
            values = step.decided_on or data
            # A default flow was taken because the other conditions were false: show what those read.
            conditions = flow.condition or " ".join(f.condition for f in diagram.flows if f.source == element.id)
            read = sorted({n for n in IDENTIFIER.findall(conditions) if n not in KEYWORDS and n in values})
            choices.append(
                GatewayChoice(
                    gateway=element.id,
                    gateway_name=names.get(element.id, ""),
                    branch=flow.name or names.get(flow.target, ""),
                    condition=flow.condition,
                    data=[(n, str(values[n])) for n in read],
                )
            )
    elements = _element_of_events(events, specs)
    documents = document_lines(instance)
    urls = {d.id: d.verification_url for d in documents}
    payloads = {e.seq: e.payload or {} for e in events}
    lines = []
    previous_data: dict[str, Any] = dict((payloads.get(1) or {}).get("data") or {})
    titles = task_titles([(pk, spec, title) for pk, spec, _status, _created, _completed, title in tasks])
    for entry in timeline(instance, events=events, titles=titles):
        payload = payloads.get(entry.seq, {})
        document = payload.get("document_id", payload.get("document"))
        changes: list[tuple[str, str, str]] = []
        if entry.kind == "retried" and payload.get("data"):
            changes = _changes(previous_data, payload["data"])
        if entry.kind in ("completed", "retried") and isinstance(payload.get("data"), dict):
            previous_data.update(payload["data"])
        lines.append(
            TimelineLine(
                entry=entry,
                element=elements.get(entry.seq, ""),
                document_url=urls.get(document, "") if isinstance(document, int) else "",
                changes=changes,
            )
        )
    return CaseFile(
        instance=instance,
        marks={"markers": dict(markers), "badges": dict(badges)},
        timeline=lines,
        element_names=names,
        gateway_choices=choices,
        documents=documents,
        integrity=Integrity(
            events=instance.history_count,
            broken=broken,
            documents_ok=all(d.stored_match is not False for d in documents),
        ),
        current=[names.get(spec, "") for spec in current],
    )


def _element_type_name(tag: str) -> str:
    if tag in GATEWAYS:
        return _("decision")
    if tag.endswith("Event"):
        return _("event")
    return _("step")


def process_title(definition: ProcessDefinition) -> str:
    return pick_language(definition.title) or definition.key
