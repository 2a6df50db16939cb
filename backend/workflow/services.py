"""Every engine operation: load → act → save in one transaction holding the instance's row lock.

The history event of each change is written in the same transaction. A failing script rolls back the
automatic steps (and whatever its helpers wrote), and the instance is saved as it was before them, in
`error`, with the incident in its history; `instance_retry` runs those steps again.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from functools import partial
from itertools import groupby
from typing import Any
from uuid import UUID

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.accounts.models import OrgUnit, User
from backend.accounts.roles import Role
from backend.accounts.selectors import role_holders, user_has_role
from backend.core.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from backend.core.rows import Columns, assignments
from backend.core.workdays import add_days

from . import forms, signals
from .deployment import case_prefix, parse_due
from .engine import EngineError, RunningProcess, TaskNotReady
from .history import HistoryChain
from .models import (
    HumanTask,
    ProcessDefinition,
    ProcessInstance,
    Purpose,
    StateSegment,
    TaskCandidate,
    Timer,
    case_number,
)
from .registry import StartSpec, hooks_for
from .routing import RoutingMemo, route, task_properties
from .scripting import InstanceContext, Sandbox
from .selectors import acting_capacity, can_see_instance, can_start, purpose_of, stored_segments
from .stages import case_stage, declared_stages

OPERATOR_ROLES = (Role.REGISTRAR_HEAD, Role.ADMINISTRATOR)


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def latest_definition(key: str) -> ProcessDefinition:
    # The diagram and the spec are large and rarely needed (the spec once per worker, when first started).
    definition = ProcessDefinition.objects.filter(key=key).defer("bpmn_xml", "spec").order_by("-version").first()
    if definition is None:
        raise NotFound(_("There is no process %(key)s.") % {"key": key})
    return definition


class _ProcessCache:
    """Instances kept in memory between operations of this worker, by instance and revision.

    Only committed revisions go in (on commit), and an operation takes its instance out while it works on
    it, so a cached object is always exactly the state stored under that revision.
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.items: OrderedDict[int, tuple[tuple[int, str], RunningProcess]] = OrderedDict()
        self.lock = threading.Lock()

    def take(self, instance_id: int, version: tuple[int, str]) -> RunningProcess | None:
        with self.lock:
            item = self.items.pop(instance_id, None)
        return item[1] if item is not None and item[0] == version else None

    def keep(self, instance_id: int, version: tuple[int, str], process: RunningProcess) -> None:
        with self.lock:
            self.items[instance_id] = (version, process)
            self.items.move_to_end(instance_id)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


_CACHE = _ProcessCache()


_DEFINITIONS: dict[int, ProcessDefinition] = {}


def cached_definition(pk: int, content_hash: str) -> ProcessDefinition:
    """A deployed version, kept by this process: a version never changes once deployed (a new diagram is a new
    version). The content hash guards against a test database reusing an id; the diagram and the spec are read
    when first needed and kept with it."""
    definition = _DEFINITIONS.get(pk)
    if definition is None or definition.content_hash != content_hash:
        definition = ProcessDefinition.objects.defer("bpmn_xml", "spec").get(pk=pk)
        _DEFINITIONS[pk] = definition
    return definition


class _LockTaskStatement:
    """lock_task's one statement: the task, its instance (row-locked) and who started it, whether the case
    changed while the statement waited for the lock, the user's candidacy, the version's hash and the latest
    version's id and hash (their rows come from `cached_definition`), the case's open tasks and who acted in it.
    Written once from the models' columns: the ORM would compile it again on every completion."""

    def __init__(self) -> None:
        self.task = Columns(HumanTask)
        self.instance = Columns(ProcessInstance, leave_out=["state"])
        self.user = Columns(User)
        self._sql: dict[str, str] = {}

    def sql(self, connection: Any) -> str:
        found = self._sql.get(connection.vendor)
        if found is None:
            postgres = connection.vendor == "postgresql"
            tables = {
                "task": HumanTask._meta.db_table,
                "instance": ProcessInstance._meta.db_table,
                "definition": ProcessDefinition._meta.db_table,
                "user": connection.ops.quote_name(User._meta.db_table),
                "candidate": TaskCandidate._meta.db_table,
            }
            aggregate = "string_agg" if postgres else "group_concat"
            # SQLite's group_concat takes DISTINCT with one argument only (and ',' is its separator).
            who = "o.completed_by_id || ':' || o.role"
            acted = f"string_agg(DISTINCT {who}, ',')" if postgres else f"group_concat(DISTINCT {who})"
            found = (
                f"SELECT {self.task.select(connection, 't')}, {self.instance.select(connection, 'i')}, "  # noqa: S608 - names from the models
                f"{self.user.select(connection, 'u')}, "
                f"EXISTS (SELECT 1 FROM {tables['instance']} s WHERE s.id = t.instance_id AND s.version = i.version "
                "AND s.history_count = i.history_count), "
                f"(SELECT COALESCE(c.acting_for_id, 0) FROM {tables['candidate']} c "
                "WHERE c.task_id = t.id AND c.user_id = %s LIMIT 1), "
                "d.content_hash, "
                f"(SELECT l.id || ':' || l.content_hash FROM {tables['definition']} l WHERE l.key = i.process_key "
                "ORDER BY l.version DESC LIMIT 1), "
                f"(SELECT {aggregate}(o.id || ':' || o.engine_task_id, ',') FROM {tables['task']} o "
                "WHERE o.instance_id = t.instance_id AND o.status = 'open'), "
                f"(SELECT {acted} FROM {tables['task']} o "
                "WHERE o.instance_id = t.instance_id AND o.status = 'completed') "
                f"FROM {tables['task']} t JOIN {tables['instance']} i ON i.id = t.instance_id "
                f"JOIN {tables['definition']} d ON d.id = i.definition_id "
                f"LEFT JOIN {tables['user']} u ON u.id = i.started_by_id "
                "WHERE t.id = %s" + (" FOR UPDATE OF i" if postgres else "")
            )
            self._sql[connection.vendor] = found
        return found

    def build(self, connection: Any, row: Any) -> tuple[HumanTask, ProcessInstance, User | None, Any]:
        first = len(self.task)
        second = first + len(self.instance)
        third = second + len(self.user)
        task = self.task.build(connection, row[:first])
        instance = self.instance.build(connection, row[first:second])
        started_by = self.user.build(connection, row[second:third]) if row[second] is not None else None
        return task, instance, started_by, row[third:]


_LOCK_TASK = _LockTaskStatement()


def _pairs(text: str | None) -> list[tuple[str, str]]:
    """The lock statement's aggregates, "a:b,c:d", as [(a, b), (c, d)]."""
    return [(first, second) for first, second in (item.split(":", 1) for item in (text or "").split(",") if item)]


class _Operation:
    """One instance loaded under its row lock for one change."""

    def __init__(self, instance: ProcessInstance, actor: User | None, start_data: dict[str, Any] | None = None) -> None:
        self.instance = instance
        self.definition = instance.definition
        self.actor = actor
        self.chain = HistoryChain(instance, locked=True)
        # Taken when a script first calls a helper while the automatic steps run, so a failing script takes
        # back what its helpers wrote; steps that call none cost no savepoint.
        self.savepoint: str | None = None
        self.running_steps = False
        self.routing = RoutingMemo()
        self.sandbox = Sandbox(
            InstanceContext(instance.pk, actor.pk if actor else None, record=self._record),
            before_helper=self._before_helper,
        )
        # A case just started has no tasks and no timers in the tables yet.
        self.fresh = start_data is not None
        # The case's open tasks (engine task id → task id) when the lock read them, else read when projecting.
        self.open_tasks: dict[UUID, int] | None = {} if self.fresh else None
        # Whether events wait for the state's save to be written with it (set by operations that end in `save`,
        # where nothing between their events and the save appends through another chain).
        self.defer_history = False
        # The routing of the process's latest version, when the lock read it (see selectors.specs_with_purpose).
        self.latest_routing: dict[str, Any] | None = None
        if start_data is not None:
            self.process = RunningProcess.start(
                spec_key=self.spec_key, load_bundle=lambda: self.definition.spec, data=start_data, sandbox=self.sandbox
            )
        else:
            cached = _CACHE.take(instance.pk, self.revision)
            if cached is not None:
                cached.use_sandbox(self.sandbox)
            # The state is read only when this worker does not hold the case.
            self.process = cached or self._load(instance.state, stored_segments(instance))
        # The timer table holds what the engine waited for when loaded: unchanged, it needs no visit.
        self.timers_loaded = self._timers()

    def _timers(self) -> dict[UUID, datetime]:
        if not self.definition.routing.get("has_timers", True):
            return {}
        return {timer.task_id: timer.due_at for timer in self.process.pending_timers()}

    @property
    def revision(self) -> tuple[int, str]:
        """What identifies this exact state: the version, and the start time in case an id is ever reused."""
        return self.instance.version, self.instance.started_at.isoformat()

    @property
    def spec_key(self) -> str:
        return f"{self.definition.pk}:{self.definition.content_hash}"

    @classmethod
    def lock(cls, instance_id: int, actor: User | None) -> _Operation:
        instance = (
            ProcessInstance.objects.select_for_update(of=("self",))
            .select_related("definition", "started_by")
            .defer("state", "definition__bpmn_xml", "definition__spec")
            .filter(pk=instance_id)
            .first()
        )
        if instance is None:
            raise NotFound(_("There is no such process instance."))
        return cls(instance, actor)

    @classmethod
    def lock_task(cls, task_id: int, user: User) -> tuple[_Operation, HumanTask, bool, User | None]:
        """The task, its case under the row lock, and whether `user` may act on it (and for whom), in one
        statement; a 404 when the user may not even see the task."""
        connection = transaction.get_connection()
        with connection.cursor() as cursor:
            cursor.execute(_LOCK_TASK.sql(connection), [user.pk, task_id])
            row = cursor.fetchone()
        if row is None:
            raise NotFound(_("There is no such task."))
        task, instance, started_by, extra = _LOCK_TASK.build(connection, row)
        unchanged, candidate_for, content_hash, latest_version, open_tasks, acted = extra
        definition = cached_definition(instance.definition_id, content_hash)
        ProcessInstance.definition.field.set_cached_value(instance, definition)
        ProcessInstance.started_by.field.set_cached_value(instance, started_by)
        HumanTask.instance.field.set_cached_value(task, instance)
        ((latest_id, latest_hash),) = _pairs(latest_version)
        latest = definition if int(latest_id) == definition.pk else cached_definition(int(latest_id), latest_hash)
        if task.requester_id is not None and task.requester_id == instance.started_by_id:
            HumanTask.requester.field.set_cached_value(task, started_by)
        if task.assignee_id == user.pk:
            HumanTask.assignee.field.set_cached_value(task, user)
        # `unchanged` is evaluated on the statement's snapshot, while the lock returns the newest row: when the
        # two differ, the case changed while this statement waited for its lock, and the task is read again.
        if not unchanged:
            # Everything but the instance, which the lock has just read (and refreshing would forget).
            task.refresh_from_db(
                fields=[f.name for f in HumanTask._meta.concrete_fields if f.name not in ("id", "instance")]
            )
            allowed, acting_for = acting_capacity(task, user)
            open_tasks = None
        elif task.assignee_id is None and candidate_for is not None:
            allowed = True
            acting_for = User.objects.get(pk=candidate_for) if candidate_for else None
        elif task.assignee_id == user.pk:
            allowed, acting_for = True, None
        else:
            allowed, acting_for = acting_capacity(task, user)
        if not allowed and not can_see_instance(task.instance, user):
            raise NotFound(_("There is no such task."))
        operation = cls(instance, user)
        operation.latest_routing = latest.routing
        if unchanged:
            # The snapshot the subqueries read is the locked row's: the case's open tasks and who acted in it.
            operation.open_tasks = {UUID(engine_id): int(pk) for pk, engine_id in _pairs(open_tasks)}
            operation.routing.acted = [(int(user_id), role) for user_id, role in _pairs(acted)]
        return operation, task, allowed, acting_for

    def _load(self, state: str | dict[str, Any], segments: list[str] | None = None) -> RunningProcess:
        return RunningProcess.load(
            spec_key=self.spec_key,
            load_bundle=lambda: self.definition.spec,
            state=state,
            sandbox=self.sandbox,
            segments=segments,
        )

    def _before_helper(self) -> None:
        if self.running_steps and self.savepoint is None:
            # A helper may append through a chain of its own: what this operation deferred goes first.
            self.chain.flush()
            self.savepoint = transaction.savepoint()

    def _record(self, kind: str, payload: dict[str, Any]) -> None:
        self.history(kind, payload)

    def history(self, kind: str, payload: dict[str, Any] | None = None, actor: User | None = None) -> None:
        # Events of the steps' scripts are written at once: a failing script's savepoint takes them back.
        defer = self.defer_history and not self.running_steps
        self.chain.append(kind=kind, actor=actor or self.actor, payload=payload, defer=defer)

    # --- advancing ----------------------------------------------------------------------------------
    def advance(self) -> None:
        """Run the automatic steps, project tasks and timers, save; a failing script becomes an incident."""
        if self.instance.status != ProcessInstance.Status.RUNNING:
            self.project()
            self.save()
            return
        checkpoint = self.process.snapshot()
        self.running_steps, self.savepoint = True, None
        try:
            self.process.run_engine()
        except EngineError as error:
            if self.savepoint is not None:
                transaction.savepoint_rollback(self.savepoint)
            self.process = self._load(checkpoint, stored_segments(self.instance))
            self.instance.status = ProcessInstance.Status.ERROR
            where = f"{error.task_spec}: " if error.task_spec else ""
            self.instance.incident = f"{where}{error}"
            self.project()
            self.save()
            self.history("error", {"task": error.task_spec, "message": str(error), "line": error.line}, actor=None)
            return
        finally:
            self.running_steps = False
        if self.savepoint is not None:
            transaction.savepoint_commit(self.savepoint)
        self.project()
        self.save()

    def stage(self) -> str:
        waiting, end = self.process.position()
        outcome = self.process.data.get("outcome")
        stages = declared_stages(self.definition, latest_routing=self.latest_routing)
        return case_stage(status=self.instance.status, waiting=waiting, end=end, outcome=outcome, stages=stages)

    def save(self) -> None:
        instance = self.instance
        instance.state, segment = self.process.state_parts()
        if segment is not None:
            StateSegment.objects.create(instance=instance, tasks=segment)
            instance.state_segments += 1
        instance.data = _json(self.process.data)
        instance.stage = self.stage()
        now = timezone.now()
        saved = self.chain.save(
            {
                "state": instance.state,
                "state_segments": instance.state_segments,
                "data": instance.data,
                "number": instance.number,
                "status": instance.status,
                "stage": instance.stage,
                "incident": instance.incident,
                "completed_at": instance.completed_at,
                "version": instance.version + 1,
                "updated_at": now,
            },
            version=instance.version,
        )
        self.defer_history = False
        if not saved:
            raise Conflict(_("Someone else changed this case at the same moment. Reload and try again."))
        instance.version += 1
        instance.updated_at = now
        transaction.on_commit(partial(_CACHE.keep, instance.pk, self.revision, self.process))

    # --- projection ---------------------------------------------------------------------------------
    def project(self) -> None:
        """Make the task table and pending timers match the engine state."""
        ready = {task.id: task for task in self.process.ready_user_tasks()}
        if self.open_tasks is None:
            self.open_tasks = dict(
                HumanTask.objects.filter(instance=self.instance, status=HumanTask.Status.OPEN).values_list(
                    "engine_task_id", "pk"
                )
            )
        ended = self.instance.status in (ProcessInstance.Status.COMPLETED, ProcessInstance.Status.CANCELLED)
        gone = [pk for engine_id, pk in self.open_tasks.items() if ended or engine_id not in ready]
        for task in HumanTask.objects.filter(pk__in=gone).order_by("pk") if gone else ():
            _task_close(task, HumanTask.Status.CANCELLED)
            self.history("task_cancelled", {"task": task.pk, "spec": task.spec_id})
            del self.open_tasks[task.engine_task_id]
        if self.instance.status in (ProcessInstance.Status.RUNNING, ProcessInstance.Status.ERROR):
            for engine_id, ready_task in ready.items():
                if engine_id not in self.open_tasks:
                    created = self.create_task(ready_task.id, ready_task.spec_id, ready_task.lane, ready_task.data)
                    self.open_tasks[engine_id] = created.pk
        self.project_timers()
        if self.process.completed and self.instance.status == ProcessInstance.Status.RUNNING:
            self.instance.status = ProcessInstance.Status.COMPLETED
            self.instance.completed_at = timezone.now()
            self.history("finished", {"outcome": self.process.data.get("outcome", "")}, actor=None)
            transaction.on_commit(partial(signals.instance_finished.send, sender=None, instance_id=self.instance.pk))

    def project_timers(self) -> None:
        if not self.definition.routing.get("has_timers", True):
            return
        pending = {timer.task_id: timer for timer in self.process.pending_timers()}
        if self.instance.status in (ProcessInstance.Status.COMPLETED, ProcessInstance.Status.CANCELLED):
            pending = {}
        if {key: timer.due_at for key, timer in pending.items()} == self.timers_loaded and not self.fresh:
            return
        if self.fresh:
            rows: Any = []
        else:
            rows = Timer.objects.filter(
                instance=self.instance, kind=Timer.Kind.BPMN, fired_at__isnull=True, cancelled=False
            )
        known = {row.engine_task_id: row for row in rows}
        for engine_id, row in known.items():
            if engine_id not in pending:
                row.cancelled = True
                row.save(update_fields=["cancelled"])
            elif row.due_at != pending[engine_id].due_at:
                row.due_at = pending[engine_id].due_at  # a cycle timer moved on
                row.save(update_fields=["due_at"])
        Timer.objects.bulk_create(
            Timer(instance=self.instance, kind=Timer.Kind.BPMN, engine_task_id=engine_id, due_at=timer.due_at)
            for engine_id, timer in pending.items()
            if engine_id not in known
        )

    def create_task(self, engine_id: UUID, spec_id: str, lane: str, data: dict[str, Any]) -> HumanTask:
        target = route(instance=self.instance, spec_id=spec_id, lane=lane, data=data, memo=self.routing)
        properties = target.properties
        spec = self.definition.routing.get("tasks", {}).get(spec_id, {})
        now = timezone.now()
        due_at = None
        if properties.get("due"):
            days, hours = parse_due(properties["due"])
            working = properties.get("due_calendar", "calendar") == "working"
            due_at = add_days(now, days, working=working) + timedelta(hours=hours)
        elif properties.get("due_from") and data.get(properties["due_from"]):
            # An absolute deadline the process keeps (e.g. "3 days from the request" across several steps).
            due_at = datetime.fromisoformat(str(data[properties["due_from"]]))
        requester = self.instance.started_by
        subject = self.instance.subject
        task = HumanTask(
            instance=self.instance,
            engine_task_id=engine_id,
            spec_id=spec_id,
            process_key=self.instance.process_key,
            title=spec.get("title", {"en": spec_id}),
            lane=lane,
            role=target.role,
            org_unit=target.org_unit,
            assignee=target.assignee,
            due_at=due_at,
            priority=int(properties.get("priority") or data.get("priority") or 0),
            requester=requester,
            subject=subject,
            search_text=" ".join(
                [*subject.values(), self.instance.business_key, requester.full_name if requester else ""]
            ).lower(),
        )
        candidates = _task_candidates(task, target.holders, assignee=target.assignee)
        timers = _task_sla_timers(task, properties, now) if due_at is not None else []
        _task_insert(task, candidates, timers)
        self.history(
            "task_created",
            {
                "task": task.pk,
                "spec": spec_id,
                "title": task.title,
                "role": target.role,
                "org_unit": target.org_unit.code if target.org_unit else None,
                "assignee": target.assignee.username if target.assignee else None,
                "candidates": _candidates_shown(candidates),
                "escalated_from": next((h.escalated_from for h in target.holders if h.escalated_from), None),
                "due_at": due_at,
            },
            actor=None,
        )
        transaction.on_commit(partial(signals.task_created.send, sender=None, task_id=task.pk))
        return task


def _task_candidates(task: HumanTask, holders: list[Any], *, assignee: User | None) -> list[TaskCandidate]:
    rows: dict[int, TaskCandidate] = {}
    if assignee is not None:
        rows[assignee.pk] = TaskCandidate(task=task, user=assignee)
    for holder in holders:
        rows.setdefault(holder.user.pk, TaskCandidate(task=task, user=holder.user, acting_for=holder.acting_for))
    return list(rows.values())


def _candidates_shown(candidates: list[TaskCandidate]) -> list[dict[str, Any]]:
    """The candidates as the history shows them."""
    return [
        {"user": c.user.username, "acting_for": c.acting_for.username if c.acting_for else None} for c in candidates
    ]


def _task_sla_timers(task: HumanTask, properties: dict[str, str], now: datetime) -> list[Timer]:
    assert task.due_at is not None  # noqa: S101 - only called for tasks with a due date
    timers = []
    if properties.get("remind", "half") == "half":
        timers.append(
            Timer(
                instance=task.instance,
                task=task,
                kind=Timer.Kind.REMINDER,
                due_at=now + (task.due_at - now) / 2,
            )
        )
    timers.append(Timer(instance=task.instance, task=task, kind=Timer.Kind.ESCALATION, due_at=task.due_at))
    return timers


_TASK_COLUMNS = Columns(HumanTask)
# A new task's candidates and timers, without their task (the statement that inserts the task returns its id).
_CANDIDATE_COLUMNS = Columns(TaskCandidate, leave_out=["task"])
_TIMER_COLUMNS = Columns(Timer, leave_out=["task"])


def _task_insert(task: HumanTask, candidates: list[TaskCandidate], timers: list[Timer]) -> None:
    """Insert a new task with its candidate rows and SLA timers: one statement on PostgreSQL, three elsewhere."""
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        task.save(force_insert=True)
        TaskCandidate.objects.bulk_create(candidates)
        Timer.objects.bulk_create(timers)
        return
    insert, parameters = _TASK_COLUMNS.insert(connection, task)
    statement = f"WITH task AS ({insert} RETURNING id)"
    dependent: list[tuple[str, Columns[Any], list[Any]]] = [
        ("candidates", _CANDIDATE_COLUMNS, candidates),
        ("timers", _TIMER_COLUMNS, timers),
    ]
    for name, columns, rows in dependent:
        if rows:
            names, values, row_parameters = columns.rows(connection, rows, alias="r")
            table = columns.model._meta.db_table
            statement += f", {name} AS (INSERT INTO {table} (task_id, {names}) SELECT task.id, r.* FROM task, {values})"  # noqa: S608 - names from the models
            parameters += row_parameters
    with connection.cursor() as cursor:
        cursor.execute(statement + " SELECT id FROM task", parameters)  # noqa: S608 - names from the models
        (task.pk,) = cursor.fetchone()
    task._state.adding = False


def _task_close(task: HumanTask, status: str) -> None:
    _task_finish(task, status=status)


def _task_finish(task: HumanTask, **changes: Any) -> None:
    """Write a task's final fields, close its candidates and cancel its pending SLA timers (in one statement
    on PostgreSQL)."""
    for name, value in changes.items():
        setattr(task, name, value)
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        task.save(update_fields=list(changes))
        TaskCandidate.objects.filter(task=task).update(is_open=False)
        Timer.objects.filter(task=task, fired_at__isnull=True).update(cancelled=True)
        return
    columns, values = assignments(connection, HumanTask, changes)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH candidates AS (UPDATE {TaskCandidate._meta.db_table} SET is_open = false "  # noqa: S608 - names from the models
            "WHERE task_id = %s AND is_open), "
            f"timers AS (UPDATE {Timer._meta.db_table} SET cancelled = true "
            "WHERE task_id = %s AND fired_at IS NULL AND NOT cancelled) "
            f"UPDATE {HumanTask._meta.db_table} SET {columns} WHERE id = %s",
            [task.pk, task.pk, *values, task.pk],
        )


# --- who may act --------------------------------------------------------------------------------------


def _may_operate(user: User) -> None:
    if not (user.is_superuser or user_has_role(user, *OPERATOR_ROLES)):
        raise Forbidden(_("Only the head of the Registrar office or an administrator may do this."))


# --- operations ---------------------------------------------------------------------------------------


@transaction.atomic
def instance_start(
    *, process_key: str, user: User, data: Any = None, start: StartSpec | None = None
) -> ProcessInstance:
    """Start the latest version of a process; the process's hooks check the input against the records."""
    definition = latest_definition(process_key)
    hooks = hooks_for(process_key)
    if start is None:
        # The start form is the contract: the input is checked against it first, then the process's hook
        # checks it against the records with typed keyword arguments.
        # A process without a start form takes any object (the engine's test processes do).
        schema = definition.forms.get(forms.START_FORM, forms.EMPTY_FORM if hooks is not None else forms.ANY_OBJECT)
        values = forms.typed(schema, forms.validate(schema, {} if data is None else data))
        if hooks is not None:
            start = hooks.prepare_start(user=user, **values)
        else:
            if not can_start(definition, user):
                raise Forbidden(_("You may not start this process."))
            start = StartSpec(data=values)
    instance = ProcessInstance.objects.create(
        definition=definition,
        process_key=definition.key,
        business_key=start.business_key,
        subject=start.subject or {"en": definition.title_in("en")},
        started_by=user,
    )
    instance.number = case_number(
        prefix=case_prefix(definition.key, definition.routing.get("process", {})),
        year=timezone.localdate(instance.started_at).year,
        instance_id=instance.pk,
    )
    # Stored with the first save of the state, in the same UPDATE.
    process_data = {**_json(start.data), "initiator_id": user.pk, "instance_id": instance.pk}
    operation = _Operation(instance, user, start_data=process_data)
    operation.history("started", {"process": definition.key, "version": definition.version, "data": process_data})
    if hooks is not None and hooks.after_start is not None:
        hooks.after_start(instance, start)
    operation.defer_history = True
    operation.advance()
    return instance


@transaction.atomic
def task_complete(*, task_id: int, user: User, data: Any, signature_made: bool = False) -> HumanTask:
    """Complete a READY task the user may act on, with data that satisfies its form.

    A `signature` step completes only through backend.signatures.task_signing (which signs first, in the same
    transaction, and passes `signature_made`), or by declining it (decision "withdraw").
    """
    operation, task, allowed, acting_for = _Operation.lock_task(task_id, user)
    if task.status != HumanTask.Status.OPEN:
        raise Conflict(_("This task has already been completed or withdrawn."))
    if not allowed:
        raise Forbidden(_("This task is not yours. Claim it or ask the person it is assigned to."))
    if operation.instance.status != ProcessInstance.Status.RUNNING:
        raise Conflict(
            _("The case is %(status)s; nothing can be completed now.")
            % {"status": operation.instance.get_status_display()}
        )
    schema = operation.definition.forms.get(task.spec_id, forms.EMPTY_FORM)
    cleaned = forms.validate(schema, data)
    if (
        not signature_made
        and purpose_of(operation.definition, task.spec_id, latest_routing=operation.latest_routing) == Purpose.SIGNATURE
        and cleaned.get("decision") != "withdraw"
    ):
        message = _("This step is signed by its signer: enter your signing passphrase or sign with NCALayer.")
        raise ValidationFailed(message, code="signature_required", fields={"passphrase": [message]})
    hooks = hooks_for(operation.instance.process_key)
    if hooks is not None and hooks.check_task is not None:
        hooks.check_task(operation.instance, task.spec_id, cleaned)
    try:
        operation.process.complete_user_task(task.engine_task_id, cleaned)
    except TaskNotReady:
        raise Conflict(_("This task has already been completed or withdrawn.")) from None
    except EngineError as error:
        raise ValidationFailed(str(error), code="engine_error") from error
    finished: dict[str, Any] = {"assignee": user} if task.assignee_id is None else {}
    _task_finish(
        task,
        status=HumanTask.Status.COMPLETED,
        completed_by=user,
        completed_for=acting_for,
        completed_at=timezone.now(),
        submitted_data=_json(cleaned),
        **finished,
    )
    if operation.open_tasks is not None:
        operation.open_tasks.pop(task.engine_task_id, None)
    if operation.routing.acted is not None:
        operation.routing.acted.append((user.pk, task.role))
    operation.defer_history = True
    operation.history(
        "completed",
        {
            "task": task.pk,
            "spec": task.spec_id,
            "title": task.title,
            "role": task.role,
            "data": task.submitted_data,
            "acting_for": acting_for.username if acting_for else None,
        },
    )
    operation.advance()
    return task


@transaction.atomic
def task_claim(*, task_id: int, user: User) -> HumanTask:
    operation, task, allowed, acting_for = _Operation.lock_task(task_id, user)
    if task.status != HumanTask.Status.OPEN:
        raise Conflict(_("This task has already been completed or withdrawn."))
    if not allowed and task.assignee_id is not None and TaskCandidate.objects.filter(task=task, user=user).exists():
        raise Conflict(_("Someone else has already claimed this task."))
    if not allowed:
        raise Forbidden(_("You are not among the people this task is offered to."))
    task.assignee = user
    task.save(update_fields=["assignee"])
    operation.history("claimed", {"task": task.pk, "acting_for": acting_for.username if acting_for else None})
    return task


@transaction.atomic
def task_release(*, task_id: int, user: User) -> HumanTask:
    operation, task, _allowed, _acting_for = _Operation.lock_task(task_id, user)
    if task.status != HumanTask.Status.OPEN:
        raise Conflict(_("This task has already been completed or withdrawn."))
    if task.assignee_id != user.pk:
        raise Forbidden(_("Only the person who claimed a task can release it."))
    if not TaskCandidate.objects.filter(task=task).exclude(user=user).exists():
        raise Conflict(_("Nobody else can take this task; it stays with you."))
    task.assignee = None
    task.save(update_fields=["assignee"])
    operation.history("released", {"task": task.pk})
    return task


@transaction.atomic
def task_delegate(*, task_id: int, user: User, to_user: User) -> HumanTask:
    """Hand a task to a colleague who holds the same role for the same unit."""
    operation, task, allowed, _acting_for = _Operation.lock_task(task_id, user)
    if task.status != HumanTask.Status.OPEN:
        raise Conflict(_("This task has already been completed or withdrawn."))
    if not allowed:
        raise Forbidden(_("This task is not yours to delegate."))
    colleagues = {h.user.pk for h in role_holders(role=task.role, org_unit=task.org_unit)} if task.org_unit else set()
    if to_user.pk not in colleagues or to_user.pk == user.pk:
        raise ValidationFailed(
            _("Delegate only to a colleague with the same role and scope."),
            fields={"to_user": [_("This person does not hold the same role for this unit.")]},
        )
    _task_assign(operation, task, to_user)
    return task


def _task_assign(operation: _Operation, task: HumanTask, to_user: User, **why: str) -> None:
    """Give the task to a person, in the case's history, and tell them (the notice a new task sends)."""
    task.assignee = to_user
    task.save(update_fields=["assignee"])
    TaskCandidate.objects.get_or_create(task=task, user=to_user)
    operation.history("delegated", {"task": task.pk, "to": to_user.username, **why})
    transaction.on_commit(partial(signals.task_created.send, sender=None, task_id=task.pk))


@transaction.atomic
def tasks_hand_over(
    *, from_user: User, to_user: User, actor: User | None, reason: str, skip_instance: int | None = None
) -> int:
    """Open tasks only `from_user` could do go to `to_user`; shared ones just lose `from_user` (someone who
    left). Each case changes under its own lock, taken in the order of its id, so two hand-overs never
    deadlock; `skip_instance` is the case the caller is already changing. Returns how many tasks moved."""
    mine = Q(assignee=from_user) | Q(
        Exists(TaskCandidate.objects.filter(task=OuterRef("pk"), user=from_user, is_open=True))
    )
    tasks = list(
        HumanTask.objects.filter(mine, status=HumanTask.Status.OPEN)
        .exclude(instance_id=skip_instance)
        .order_by("instance_id", "pk")
    )
    moved = 0
    for instance_id, in_case in groupby(tasks, key=lambda task: task.instance_id):
        operation = _Operation.lock(instance_id, actor)
        for task in in_case:
            task.refresh_from_db()
            if task.status != HumanTask.Status.OPEN:
                continue
            TaskCandidate.objects.filter(task=task, user=from_user).delete()
            others = list(TaskCandidate.objects.filter(task=task).select_related("user").order_by("pk"))
            if task.assignee_id != from_user.pk and others:
                candidates = [{"user": c.user.username, "acting_for": None} for c in others]
                operation.history(
                    "candidates_changed",
                    {"task": task.pk, "candidates": candidates, "reason": reason, "removed": from_user.username},
                )
                continue
            _task_assign(operation, task, to_user, **{"from": from_user.username, "reason": reason})
            moved += 1
    return moved


@transaction.atomic
def instance_message(*, instance_id: int, name: str, payload: dict[str, Any], actor: User | None = None) -> bool:
    """Deliver a BPMN message (e.g. "account activated") to a waiting instance."""
    operation = _Operation.lock(instance_id, actor)
    if operation.instance.status != ProcessInstance.Status.RUNNING:
        return False
    delivered = operation.process.deliver_message(name, _json(payload))
    if delivered:
        operation.history("note", {"message": name})
        operation.advance()
    return delivered


@transaction.atomic
def instance_suspend(*, instance_id: int, user: User, reason: str = "") -> ProcessInstance:
    _may_operate(user)
    operation = _Operation.lock(instance_id, user)
    if operation.instance.status != ProcessInstance.Status.RUNNING:
        raise Conflict(_("Only a running case can be suspended."))
    operation.instance.status = ProcessInstance.Status.SUSPENDED
    operation.save()
    operation.history("suspended", {"reason": reason})
    return operation.instance


@transaction.atomic
def instance_resume(*, instance_id: int, user: User) -> ProcessInstance:
    _may_operate(user)
    operation = _Operation.lock(instance_id, user)
    if operation.instance.status != ProcessInstance.Status.SUSPENDED:
        raise Conflict(_("Only a suspended case can be resumed."))
    operation.instance.status = ProcessInstance.Status.RUNNING
    operation.history("resumed", {})
    operation.advance()
    return operation.instance


@transaction.atomic
def instance_cancel(*, instance_id: int, user: User, reason: str, by_requester: bool = False) -> ProcessInstance:
    """Cancel with a reason; operators may cancel any case, a requester only where the process allows it."""
    if not reason.strip():
        raise ValidationFailed(_("Give the reason for cancelling."), fields={"reason": [_("This field is required.")]})
    if not by_requester:
        _may_operate(user)
    operation = _Operation.lock(instance_id, user)
    if operation.instance.status in (ProcessInstance.Status.COMPLETED, ProcessInstance.Status.CANCELLED):
        raise Conflict(_("This case has already ended."))
    operation.process.cancel()
    operation.instance.status = ProcessInstance.Status.CANCELLED
    operation.instance.completed_at = timezone.now()
    operation.history("cancelled", {"reason": reason.strip()})
    operation.project()
    operation.save()
    return operation.instance


@transaction.atomic
def instance_retry(*, instance_id: int, user: User, data: dict[str, Any] | None = None) -> ProcessInstance:
    """Run the failed automatic steps again (after the data they needed was fixed)."""
    _may_operate(user)
    operation = _Operation.lock(instance_id, user)
    if operation.instance.status != ProcessInstance.Status.ERROR:
        raise Conflict(_("Only a case with an incident can be retried."))
    if data:
        operation.process.patch_pending_data(_json(data))
    operation.instance.status = ProcessInstance.Status.RUNNING
    operation.instance.incident = ""
    operation.history("retried", {"data": _json(data or {})})
    operation.advance()
    return operation.instance


def instances_restage() -> int:
    """Work out the stage of cases saved before stages existed (run after deploying diagrams that declare them)."""
    restaged = 0
    for instance_id in ProcessInstance.objects.filter(stage="").values_list("pk", flat=True).order_by("pk"):
        with transaction.atomic():
            operation = _Operation.lock(instance_id, None)
            ProcessInstance.objects.filter(pk=instance_id).update(stage=operation.stage())
        restaged += 1
    return restaged


def _fire_one(timer_id: int, now: datetime) -> bool:
    with transaction.atomic():
        timer = (
            Timer.objects.select_for_update(skip_locked=True)
            .filter(pk=timer_id, fired_at__isnull=True, cancelled=False, due_at__lte=now)
            .first()
        )
        if timer is None:
            return False  # another scheduler has it, or it was cancelled meanwhile
        operation = _Operation.lock(timer.instance_id, None)
        if operation.instance.status != ProcessInstance.Status.RUNNING:
            return False  # fires when the case is resumed
        timer.fired_at = now
        timer.save(update_fields=["fired_at"])
        if timer.kind == Timer.Kind.BPMN:
            operation.history("timer_fired", {"due_at": timer.due_at})
            operation.advance()
        elif timer.task is not None and timer.task.status == HumanTask.Status.OPEN:
            _sla_event(operation, timer)
    return True


def _sla_event(operation: _Operation, timer: Timer) -> None:
    task = timer.task
    assert task is not None  # noqa: S101 - SLA timers belong to a task
    if timer.kind == Timer.Kind.REMINDER:
        operation.history("reminder", {"task": task.pk, "due_at": task.due_at})
        transaction.on_commit(partial(signals.task_reminder.send, sender=None, task_id=task.pk))
        return
    properties = task_properties(operation.definition, task.spec_id, task.lane)
    escalate_to = properties.get("escalate_to", Role.REGISTRAR_HEAD)
    unit = task.org_unit or OrgUnit.objects.get(parent__isnull=True)
    holders = role_holders(role=escalate_to, org_unit=unit)
    added = [h.user for h in holders if not TaskCandidate.objects.filter(task=task, user=h.user).exists()]
    TaskCandidate.objects.bulk_create(TaskCandidate(task=task, user=user) for user in added)
    task.priority = max(task.priority, 1)
    task.save(update_fields=["priority"])
    operation.history("escalated", {"task": task.pk, "to_role": escalate_to, "to": [u.username for u in added]})
    transaction.on_commit(partial(signals.task_escalated.send, sender=None, task_id=task.pk))


def timers_fire_due(*, now: datetime | None = None) -> int:
    """Fire every due timer once; rows are claimed with SKIP LOCKED, so two schedulers never fire one twice."""
    moment = now or timezone.now()
    fired = 0
    due = Timer.objects.filter(fired_at__isnull=True, cancelled=False, due_at__lte=moment).order_by("due_at")
    for timer_id in list(due.values_list("pk", flat=True)[:500]):
        fired += _fire_one(timer_id, moment)
    return fired


@transaction.atomic
def tasks_reroute(*, role: str | None = None) -> int:
    """Resolve the candidates of open role-routed tasks again (after assignments or substitutions change)."""
    tasks = HumanTask.objects.filter(status=HumanTask.Status.OPEN, assignee__isnull=True, org_unit__isnull=False)
    if role:
        tasks = tasks.filter(role=role)
    changed = 0
    memo = RoutingMemo()
    for task in tasks.select_related("instance", "instance__definition", "org_unit"):
        operation = _Operation.lock(task.instance_id, None)
        target = route(
            memo=memo,
            instance=operation.instance,
            spec_id=task.spec_id,
            lane=task.lane,
            data=operation.process.task_data(task.engine_task_id),
        )
        before = set(TaskCandidate.objects.filter(task=task).values_list("user_id", flat=True))
        after = {h.user.pk for h in target.holders}
        if before == after:
            continue
        TaskCandidate.objects.filter(task=task).delete()
        candidates = _task_candidates(task, target.holders, assignee=None)
        TaskCandidate.objects.bulk_create(candidates)
        operation.history("candidates_changed", {"task": task.pk, "candidates": _candidates_shown(candidates)})
        transaction.on_commit(partial(signals.task_created.send, sender=None, task_id=task.pk))
        changed += 1
    return changed
