"""Engine benchmark: raw SpiffWorkflow (the floor) vs. our services vs. HTTP, and cost vs. instance size.

    .venv/bin/python bench/engine.py [--runs 30] [--no-http]

Uses DATABASE_URL when set (a database named <name>_bench is created next to it and dropped afterwards),
otherwise a temporary SQLite file. Prints medians; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

from database import ROOT, bench_database, setup_django

DIAGRAMS = Path(__file__).with_name("diagrams")


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def p95_ms(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000


def setup() -> None:
    setup_django()
    from backend.workflow.deployment import deploy_file

    for name in ("three_tasks.bpmn", "loop.bpmn"):
        deploy_file(DIAGRAMS / name)


# --- (a) the floor: SpiffWorkflow alone, in memory ---------------------------------------------------------------


def floor(runs: int) -> dict[str, list[float]]:
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
    from SpiffWorkflow.util.task import TaskState

    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(DIAGRAMS / "three_tasks.bpmn"))
    spec = parser.get_spec("qujat_bench_three_tasks")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    timings: dict[str, list[float]] = {"start": [], "complete": []}
    for _ in range(runs):
        began = time.perf_counter()
        workflow = BpmnWorkflow(spec)
        workflow.do_engine_steps()
        serializer.serialize_json(workflow)
        timings["start"].append(time.perf_counter() - began)
        for _step in range(3):
            began = time.perf_counter()
            task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
            task.set_data(note="ok")
            task.run()
            workflow.do_engine_steps()
            serializer.serialize_json(workflow)
            timings["complete"].append(time.perf_counter() - began)
        assert workflow.is_completed()
    return timings


# --- (b) through the services --------------------------------------------------------------------------------------


def services_run(runs: int) -> dict[str, list[float]]:
    from backend.accounts.models import User
    from backend.workflow import services
    from backend.workflow.models import HumanTask

    clerk = User.objects.get(username="registrar_staff1")
    timings: dict[str, list[float]] = {"start": [], "complete": []}
    for _ in range(runs):
        began = time.perf_counter()
        instance = services.instance_start(process_key="qujat_bench_three_tasks", user=clerk, data={})
        timings["start"].append(time.perf_counter() - began)
        for _step in range(3):
            task_id = HumanTask.objects.filter(instance=instance, status="open").values_list("pk", flat=True).get()
            began = time.perf_counter()
            services.task_complete(task_id=task_id, user=clerk, data={"note": "ok"})
            timings["complete"].append(time.perf_counter() - began)
    return timings


# --- (c) through HTTP ----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def workers_cpu(master: int) -> float:
    """CPU seconds (user + system) the gunicorn workers have used so far, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:  # fields[1] is the parent pid
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


class Client:
    """One keep-alive HTTP connection with the benchmark user's token."""

    def __init__(self, port: int, token: str) -> None:
        self.connection = HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: Any = None) -> Any:
        self.connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=self.headers)
        response = self.connection.getresponse()
        payload = response.read()
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:300]!r}")
        return json.loads(payload)


def http_run(runs: int, workers: int, clients: int) -> dict[str, Any]:
    """`clients` clients each start `runs` instances, then complete their tasks round by round (all first
    tasks, then all second ones…); only the completion rounds count for completions/s and server CPU."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    from backend.accounts.models import User
    from backend.accounts.services import api_token_issue

    token = api_token_issue(user=User.objects.get(username="registrar_staff1"))
    connections.close_all()
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "backend.config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        pool = [Client(port, token) for _ in range(clients)]
        with ThreadPoolExecutor(clients) as executor:
            list(executor.map(lambda client: client.call("GET", "/api/tasks/"), pool))  # warm up each worker

            def start_all(client: Client) -> list[tuple[float, int, int]]:
                started = []
                for _ in range(runs):
                    began = time.perf_counter()
                    instance = client.call("POST", "/api/processes/qujat_bench_three_tasks/start/", {})
                    started.append((time.perf_counter() - began, instance["id"], instance["open_tasks"][0]["id"]))
                return started

            starts = list(executor.map(start_all, pool))
            timings: dict[str, list[float]] = {"start": [s[0] for run in starts for s in run], "complete": []}
            todo = [[(s[1], s[2]) for s in run] for run in starts]
            wall = cpu = 0.0
            completions = 0
            for step in range(3):

                def complete_all(work: tuple[Client, list[tuple[int, int]]]) -> list[float]:
                    client, items = work
                    spent = []
                    for _instance_id, task_id in items:
                        began = time.perf_counter()
                        client.call("POST", f"/api/tasks/{task_id}/complete/", {"note": "ok"})
                        spent.append(time.perf_counter() - began)
                    return spent

                cpu_before, began = workers_cpu(server.pid), time.perf_counter()
                for spent in executor.map(complete_all, zip(pool, todo, strict=True)):
                    timings["complete"] += spent
                wall += time.perf_counter() - began
                cpu += workers_cpu(server.pid) - cpu_before
                completions += sum(len(items) for items in todo)
                if step < 2:

                    def next_tasks(work: tuple[Client, list[tuple[int, int]]]) -> list[tuple[int, int]]:
                        client, items = work
                        return [
                            (i, client.call("GET", f"/api/instances/{i}/")["open_tasks"][0]["id"]) for i, _ in items
                        ]

                    todo = list(executor.map(next_tasks, zip(pool, todo, strict=True)))
        return {
            "timings": timings,
            "per_second": completions / wall,
            "cpu_ms": cpu / completions * 1000,
            "completions": completions,
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def statements() -> dict[str, int]:
    """SQL statements of one start and one completion (that creates the next task), in the services and over
    the whole request path (token authentication, serialization), counted in this process."""
    from django.db import connection
    from django.test import Client as DjangoClient
    from django.test.utils import CaptureQueriesContext

    from backend.accounts.models import User
    from backend.accounts.services import api_token_issue
    from backend.workflow import services
    from backend.workflow.models import HumanTask

    clerk = User.objects.get(username="registrar_staff1")
    counts: dict[str, int] = {}
    with CaptureQueriesContext(connection) as start:
        instance = services.instance_start(process_key="qujat_bench_three_tasks", user=clerk, data={})
    task_id = HumanTask.objects.filter(instance=instance, status="open").values_list("pk", flat=True).get()
    with CaptureQueriesContext(connection) as complete:
        services.task_complete(task_id=task_id, user=clerk, data={"note": "ok"})
    counts["start (services)"], counts["complete (services)"] = len(start), len(complete)
    client = DjangoClient(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=clerk)}")
    client.get("/api/tasks/")  # the token is now known (and cached where it can be)
    with CaptureQueriesContext(connection) as start:
        instance_id = client.post(
            "/api/processes/qujat_bench_three_tasks/start/", {}, content_type="application/json"
        ).json()["id"]
    task_id = HumanTask.objects.filter(instance_id=instance_id, status="open").values_list("pk", flat=True).get()
    with CaptureQueriesContext(connection) as complete:
        client.post(f"/api/tasks/{task_id}/complete/", {"note": "ok"}, content_type="application/json")
    counts["start (HTTP request)"], counts["complete (HTTP request)"] = len(start), len(complete)
    return counts


# --- (d) cost vs. instance size ------------------------------------------------------------------------------------


def growth(sizes: list[int], samples: int) -> dict[int, list[float]]:
    """One completion on instances that already hold N completed tasks; the sizes take turns, sample by sample,
    so a machine that speeds up or slows down meanwhile weighs on each alike."""
    from backend.accounts.models import User
    from backend.workflow import services
    from backend.workflow.models import HumanTask

    clerk = User.objects.get(username="registrar_staff1")

    def open_task(instance_id: int) -> int:
        return HumanTask.objects.filter(instance_id=instance_id, status="open").values_list("pk", flat=True).get()

    instances: dict[int, int] = {}
    for size in sizes:
        instance = services.instance_start(process_key="qujat_bench_loop", user=clerk, data={})
        for _ in range(size):
            services.task_complete(task_id=open_task(instance.pk), user=clerk, data={"done": False})
        instances[size] = instance.pk
    results: dict[int, list[float]] = {size: [] for size in sizes}
    for _ in range(samples):
        for size in sizes:
            task_id = open_task(instances[size])
            began = time.perf_counter()
            services.task_complete(task_id=task_id, user=clerk, data={"done": False})
            results[size].append(time.perf_counter() - began)
    return results


def load() -> str:
    return "load average " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="instances per measurement (3 completions each)")
    parser.add_argument("--no-http", action="store_true", help="skip (c), the HTTP measurement")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers for (c)")
    args = parser.parse_args()

    with bench_database() as database:
        setup()
        import SpiffWorkflow

        spiff_version = getattr(SpiffWorkflow, "__version__", "3.2")
        print(
            f"Qujat engine benchmark — {platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}, SpiffWorkflow {spiff_version}; {load()}"
        )
        print(f"database: {database}; {args.runs} instances × (1 start + 3 completions) per line; medians\n")
        floor(5)
        services_run(3)  # warm caches and connections
        measured: dict[str, dict[str, list[float]]] = {
            "(a) SpiffWorkflow in memory (floor)": floor(args.runs),
            "(b) services on the database": services_run(args.runs),
        }
        throughput: dict[int, dict[str, Any]] = {}
        if not args.no_http:
            for clients in (1, 4):
                throughput[clients] = http_run(args.runs, args.workers, clients)
                measured[f"(c) HTTP, {clients} client(s)"] = throughput[clients]["timings"]
        base = measured["(a) SpiffWorkflow in memory (floor)"]
        print(f"{'':40} {'start p50':>9} {'start p95':>9} {'complete p50':>12} {'complete p95':>12} {'× floor':>8}")
        for name, timings in measured.items():
            complete = median_ms(timings["complete"])
            print(
                f"{name:40} {median_ms(timings['start']):9.2f} {p95_ms(timings['start']):9.2f} {complete:12.2f} "
                f"{p95_ms(timings['complete']):12.2f} {complete / median_ms(base['complete']):8.1f}"
            )
        if throughput:
            print(f"\n(c) gunicorn, {args.workers} sync workers, PostgreSQL or SQLite as above, keep-alive clients:")
            for clients, result in throughput.items():
                print(
                    f"    {clients} client(s): {result['per_second']:6.1f} completions/s, server CPU "
                    f"{result['cpu_ms']:5.1f} ms per completion ({result['completions']} completions)"
                )
        print("\nstatements per operation (a completion that creates the next task):")
        for name, count in statements().items():
            print(f"    {name:26} {count:3}")
        sizes = [10, 100, 300]
        grown = growth(sizes, samples=15)
        print(
            "\n(d) one completion on an instance that already holds N completed tasks "
            "(services, sizes in turn, median of 15):"
        )
        for size in sizes:
            ratio = median_ms(grown[size]) / median_ms(grown[sizes[0]])
            print(f"    N = {size:3}: {median_ms(grown[size]):7.2f} ms ({ratio:.1f}× N = 10)")
        print(f"\n{load()}")


if __name__ == "__main__":
    main()
