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


def http_run(runs: int, workers: int) -> tuple[dict[str, list[float]], str]:
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
        connection = HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

        def call(method: str, path: str, body: Any = None) -> Any:
            connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            if response.status >= 400:
                raise RuntimeError(f"{method} {path}: {response.status} {payload[:300]!r}")
            return json.loads(payload)

        timings: dict[str, list[float]] = {"start": [], "complete": []}
        call("GET", "/api/tasks/")  # warm up each side
        for _ in range(runs):
            began = time.perf_counter()
            instance = call("POST", "/api/processes/qujat_bench_three_tasks/start/", {})
            timings["start"].append(time.perf_counter() - began)
            for _step in range(3):
                task_id = (
                    instance["open_tasks"][0]["id"]
                    if _step == 0
                    else call("GET", f"/api/instances/{instance['id']}/")["open_tasks"][0]["id"]
                )
                began = time.perf_counter()
                call("POST", f"/api/tasks/{task_id}/complete/", {"note": "ok"})
                timings["complete"].append(time.perf_counter() - began)
        return timings, f"gunicorn {workers} sync workers, http.client keep-alive"
    finally:
        server.terminate()
        server.wait(timeout=30)


# --- (d) cost vs. instance size ------------------------------------------------------------------------------------


def growth(sizes: list[int], samples: int) -> dict[int, list[float]]:
    from backend.accounts.models import User
    from backend.workflow import services
    from backend.workflow.models import HumanTask

    clerk = User.objects.get(username="registrar_staff1")

    def open_task(instance_id: int) -> int:
        return HumanTask.objects.filter(instance_id=instance_id, status="open").values_list("pk", flat=True).get()

    results: dict[int, list[float]] = {}
    for size in sizes:
        instance = services.instance_start(process_key="qujat_bench_loop", user=clerk, data={})
        for _ in range(size):
            services.task_complete(task_id=open_task(instance.pk), user=clerk, data={"done": False})
        results[size] = []
        for _ in range(samples):
            task_id = open_task(instance.pk)
            began = time.perf_counter()
            services.task_complete(task_id=task_id, user=clerk, data={"done": False})
            results[size].append(time.perf_counter() - began)
    return results


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
            f"Python {platform.python_version()}, SpiffWorkflow {spiff_version}"
        )
        print(f"database: {database}; {args.runs} instances × (1 start + 3 completions) per line; medians\n")
        floor(5)
        services_run(3)  # warm caches and connections
        measured: dict[str, dict[str, list[float]]] = {
            "(a) SpiffWorkflow in memory (floor)": floor(args.runs),
            "(b) services on the database": services_run(args.runs),
        }
        server = ""
        if not args.no_http:
            measured["(c) HTTP"], server = http_run(args.runs, args.workers)
        base = measured["(a) SpiffWorkflow in memory (floor)"]
        print(f"{'':40} {'start ms':>9} {'complete ms':>12} {'complete p95':>13} {'ops/s':>7} {'× floor':>8}")
        for name, timings in measured.items():
            complete = median_ms(timings["complete"])
            ratio = complete / median_ms(base["complete"])
            per_op = statistics.mean(timings["start"] + timings["complete"])
            print(
                f"{name:40} {median_ms(timings['start']):9.2f} {complete:12.2f} {p95_ms(timings['complete']):13.2f} "
                f"{1 / per_op:7.0f} {ratio:8.1f}"
            )
        if server:
            print(f"\n(c) server: {server}")
        sizes = [10, 100, 300]
        grown = growth(sizes, samples=7)
        print("\n(d) one completion on an instance that already holds N completed tasks (services, median of 7):")
        for size in sizes:
            ratio = median_ms(grown[size]) / median_ms(grown[sizes[0]])
            print(f"    N = {size:3}: {median_ms(grown[size]):7.2f} ms ({ratio:.1f}× N = 10)")


if __name__ == "__main__":
    main()
