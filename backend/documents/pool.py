"""The converter process (`manage.py run_converter`): a queue in front of a small pool of warm LibreOffices.

Runs only as a managed process — under honcho in `make run`, under systemd (or the Procfile) in
production, as a fixture in the tests. Nothing in a web or worker process starts, restarts or kills it.

- The front is an XML-RPC server on QUJAT_CONVERTER_PORT speaking unoserver's `convert` call, so a client
  cannot tell it from one unoserver. Each request waits for a free converter; at most
  QUJAT_CONVERTER_QUEUE requests wait at once and none longer than QUJAT_CONVERTER_QUEUE_WAIT seconds —
  beyond that the answer is an immediate "busy" fault (back-pressure), never a hang.
- Each of the QUJAT_CONVERTER_WORKERS workers is one unoserver with its own LibreOffice and profile,
  converting one document at a time (one LibreOffice given several conversions at once is what hung).
  A worker whose conversion takes longer than QUJAT_CONVERTER_TIMEOUT, or that dies, is replaced; a
  conversion that lost its worker is tried once more on another.
- The workers are this process's children: each leads a process group of its own (unoserver, oosplash,
  soffice.bin), which is killed as a whole when it must go, and kills itself if this process dies
  (unoserver_worker.py).
"""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import logging
import os
import queue
import signal
import socket
import socketserver
import subprocess
import threading
import time
import xmlrpc.client
import xmlrpc.server
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

logger = logging.getLogger("backend.documents.converter")

# Fault codes of the front; the client maps each to its own error.
FAULT_BUSY = 429
FAULT_TIMEOUT = 504
FAULT_UNAVAILABLE = 503

# How long a (re)starting LibreOffice may take; a fresh profile needs ~18 s, a warm one ~7 s.
STARTUP_TIMEOUT_SECONDS = 120.0
GRACEFUL_STOP_SECONDS = 10.0
POLL_SECONDS = 0.2
PROBE_TIMEOUT_SECONDS = 2.0
# Restarts of a worker that never came up back off, doubling up to this.
MAX_BACKOFF_SECONDS = 30.0
_PR_SET_PDEATHSIG = 1
WORKER_SCRIPT = Path(__file__).with_name("unoserver_worker.py")


class _TimeoutTransport(xmlrpc.client.Transport):
    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def make_connection(self, host: str | tuple[str, dict[str, str]]) -> http.client.HTTPConnection:
        connection = super().make_connection(host)
        connection.timeout = self.timeout
        return connection


def xmlrpc_proxy(host: str, port: int, timeout: float) -> xmlrpc.client.ServerProxy:
    """An XML-RPC client whose every call ends after `timeout` seconds."""
    return xmlrpc.client.ServerProxy(f"http://{host}:{port}", transport=_TimeoutTransport(timeout), allow_none=True)


# Errors that mean "nobody (or a dying server) answered", as opposed to an answer we did not like.
CONNECTION_ERRORS = (OSError, http.client.HTTPException, xmlrpc.client.ProtocolError)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def die_with_parent() -> None:
    """In the child before exec: SIGTERM when the converter process dies, however it dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Worker:
    """One unoserver and its LibreOffice."""

    slot: int
    port: int
    uno_port: int
    process: subprocess.Popen[bytes]
    started: float = field(default_factory=time.monotonic)
    ready: bool = False
    retired: str = ""
    retired_at: float = 0.0
    conversions: int = 0

    def describe(self) -> dict[str, Any]:
        return {
            "slot": self.slot,
            "pid": self.process.pid,
            "port": self.port,
            "uno_port": self.uno_port,
            "ready": self.ready,
            "retired": self.retired,
            "conversions": self.conversions,
        }


class _Server(socketserver.ThreadingMixIn, xmlrpc.server.SimpleXMLRPCServer):
    daemon_threads = True
    allow_reuse_address = True
    # Connections beyond the listen backlog wait in SYN retries (seconds each): accept them and let the
    # pool's own queue decide, with an immediate answer when it is full.
    request_queue_size = 256


class ConverterPool:
    """The front server and its workers; `run()` serves until SIGTERM/SIGINT."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        python: str,
        profiles: Path,
        workers: int,
        conversion_timeout: float,
        queue_limit: int,
        queue_wait: float,
    ) -> None:
        self.host = host
        self.port = port
        self.python = python
        self.profiles = profiles
        self.size = max(1, workers)
        self.conversion_timeout = conversion_timeout
        self.queue_limit = queue_limit
        self.queue_wait = queue_wait
        self.idle: queue.Queue[Worker] = queue.Queue()
        self.slots: list[Worker | None] = [None] * self.size
        self.backoff = [1.0] * self.size
        self.not_before = [0.0] * self.size
        self.waiting = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.served = 0

    # --- the front ----------------------------------------------------------------------------------
    def convert(self, *arguments: Any) -> Any:
        """unoserver's `convert(inpath, indata, outpath, convert_to, …)`, on the next free worker."""
        for attempt in (1, 2):
            worker = self._take()
            try:
                with xmlrpc_proxy("127.0.0.1", worker.port, self.conversion_timeout) as proxy:
                    result = proxy.convert(*arguments)
            except TimeoutError:
                self._retire(worker, f"conversion took longer than {self.conversion_timeout:.0f} s")
                raise xmlrpc.client.Fault(
                    FAULT_TIMEOUT, f"conversion took longer than {self.conversion_timeout:.0f} s"
                ) from None
            except xmlrpc.client.Fault as fault:
                if "Could not load document" in fault.faultString:
                    self._release(worker)
                    raise
                # LibreOffice failing underneath unoserver (a dead office answers with a DisposedException).
                self._retire(worker, f"failed: {fault.faultString[:200]}")
                if attempt == 2:
                    raise
            except CONNECTION_ERRORS as error:
                self._retire(worker, f"unreachable: {type(error).__name__}: {error}")
                if attempt == 2:
                    raise xmlrpc.client.Fault(FAULT_UNAVAILABLE, f"the converter died twice: {error}") from None
            else:
                worker.conversions += 1
                with self.lock:
                    self.served += 1
                self._release(worker)
                return result
        raise AssertionError("unreachable")  # pragma: no cover

    def status(self) -> dict[str, Any]:
        """What runs: the workers, how many requests wait, how many were served."""
        with self.lock:
            return {
                "workers": [w.describe() for w in self.slots if w is not None],
                "waiting": self.waiting,
                "queue_limit": self.queue_limit,
                "served": self.served,
            }

    def _take(self) -> Worker:
        with self.lock:
            if self.waiting >= self.queue_limit:
                raise xmlrpc.client.Fault(
                    FAULT_BUSY, f"{self.waiting} documents are already waiting for the converter (the limit)"
                )
            self.waiting += 1
        try:
            deadline = time.monotonic() + self.queue_wait
            while True:
                try:
                    worker = self.idle.get(timeout=max(0.0, min(1.0, deadline - time.monotonic())))
                except queue.Empty:
                    if self.stopping.is_set():
                        raise xmlrpc.client.Fault(FAULT_UNAVAILABLE, "the converter is stopping") from None
                    if time.monotonic() >= deadline:
                        raise xmlrpc.client.Fault(
                            FAULT_BUSY, f"no converter became free within {self.queue_wait:.0f} s"
                        ) from None
                    continue
                if worker.retired or worker.process.poll() is not None:
                    continue  # replaced meanwhile: the monitor puts its successor in the queue
                return worker
        finally:
            with self.lock:
                self.waiting -= 1

    def _release(self, worker: Worker) -> None:
        if not worker.retired:
            self.idle.put(worker)

    def _retire(self, worker: Worker, reason: str) -> None:
        """Take a worker out of service; the monitor stops it and starts its replacement."""
        with self.lock:
            if worker.retired:
                return
            worker.retired = reason
            worker.retired_at = time.monotonic()
        logger.warning("converter worker %s (pid %s) %s; replacing it", worker.slot, worker.process.pid, reason)
        with contextlib.suppress(ProcessLookupError):
            worker.process.terminate()

    # --- the workers (only the monitor, i.e. the main thread, starts and stops them) ----------------
    def _start(self, slot: int) -> Worker:
        port, uno_port = _free_port(), _free_port()
        profile = self.profiles / f"worker-{slot}"
        command = [
            self.python,
            "-I",  # not this folder on sys.path: its selectors.py would hide the standard library's
            str(WORKER_SCRIPT),
            str(os.getpid()),
            "--interface",
            "127.0.0.1",
            "--port",
            str(port),
            "--uno-interface",
            "127.0.0.1",
            "--uno-port",
            str(uno_port),
            # A plain path: unoserver turns it into the file:// URI LibreOffice wants.
            "--user-installation",
            str(profile),
            # unoserver's own limit, a little longer than ours, in case this process is gone.
            "--conversion-timeout",
            str(int(self.conversion_timeout) + 5),
        ]
        # A process group of its own, so the whole tree (unoserver, oosplash, soffice.bin) goes at once; the
        # script kills that group itself if this process dies.
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True)  # noqa: S603
        logger.info("converter worker %s started (pid %s, port %s)", slot, process.pid, port)
        return Worker(slot=slot, port=port, uno_port=uno_port, process=process)

    def _stop(self, worker: Worker, *, graceful: float) -> None:
        process = worker.process
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()  # unoserver passes it on to LibreOffice and exits
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(graceful)
        # What is left of the group (a hung or stopped LibreOffice) is killed; the group is ours.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(5)

    def _answers(self, worker: Worker) -> bool:
        try:
            with xmlrpc_proxy("127.0.0.1", worker.port, PROBE_TIMEOUT_SECONDS) as proxy:
                proxy.system.listMethods()
        except (*CONNECTION_ERRORS, xmlrpc.client.Fault):
            return False
        return True

    def _tend(self) -> None:
        """One round of the monitor: bring workers up, replace dead, retired and stuck ones."""
        now = time.monotonic()
        for slot, worker in enumerate(self.slots):
            if worker is not None:
                exited = worker.process.poll() is not None
                stuck = not worker.ready and now - worker.started > STARTUP_TIMEOUT_SECONDS
                if exited and not worker.retired:
                    self._retire(worker, f"exited with code {worker.process.returncode}")
                elif stuck:
                    self._retire(worker, f"did not start within {STARTUP_TIMEOUT_SECONDS:.0f} s")
                if worker.retired:
                    if not exited and now - worker.retired_at < GRACEFUL_STOP_SECONDS:
                        continue  # give unoserver its moment to stop LibreOffice politely
                    self._stop(worker, graceful=0)
                    came_up = worker.ready
                    self.backoff[slot] = 1.0 if came_up else min(self.backoff[slot] * 2, MAX_BACKOFF_SECONDS)
                    self.not_before[slot] = now + (0 if came_up else self.backoff[slot])
                    with self.lock:
                        self.slots[slot] = None
                    continue
                if not worker.ready and self._answers(worker):
                    worker.ready = True
                    logger.info("converter worker %s ready after %.1f s", slot, now - worker.started)
                    self.idle.put(worker)
                continue
            if now >= self.not_before[slot]:
                started = self._start(slot)
                with self.lock:
                    self.slots[slot] = started

    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping.set()

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        self.profiles.mkdir(parents=True, exist_ok=True)
        server = _Server((self.host, self.port), allow_none=True, logRequests=False)
        server.register_function(self.convert, "convert")
        server.register_function(self.status, "status")
        server.register_introspection_functions()
        front = threading.Thread(target=server.serve_forever, name="converter-front", daemon=True)
        front.start()
        logger.info(
            "converter listening on %s:%s with %s worker(s), at most %s waiting",
            self.host,
            self.port,
            self.size,
            self.queue_limit,
        )
        try:
            while not self.stopping.is_set():
                self._tend()
                self.stopping.wait(POLL_SECONDS)
        finally:
            server.shutdown()
            server.server_close()
            for worker in self.slots:
                if worker is not None:
                    self._stop(worker, graceful=GRACEFUL_STOP_SECONDS)
            logger.info("converter on port %s stopped", self.port)
