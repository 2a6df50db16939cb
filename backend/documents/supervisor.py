"""Keeps one warm LibreOffice (unoserver) per converter port running, and restarts it when it dies.

`python manage.py run_converter` runs `ConverterSupervisor`; the conversion client starts the same command
in the background when nobody else has. Per XML-RPC port, in a per-user runtime directory
(`$TMPDIR/qujat-converter-<uid>/`), because a port belongs to the machine, not to one checkout or var
directory (a benchmark with its own QUJAT_VAR_DIR must find the tests' converter, not start a second one):

- `converter-<port>.lock`: held (flock) by the one supervisor of that port for its whole life; its mtime
  is touched by clients after each conversion, which is how an auto-started supervisor knows it is idle;
- `converter-<port>.json`: the supervisor's and the current server's process ids;
- `converter-<port>.restart`: the server a client found hung, written before it signals the supervisor.

Under settings.VAR_DIR:

- `converter-<port>.log`: the output of a supervisor started in the background;
- `converter-profile-<port>/`: LibreOffice's user profile, reused across restarts.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import logging
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType
from typing import IO

from django.conf import settings
from django.utils import timezone

logger = logging.getLogger("backend.documents.converter")

# LibreOffice gets this long to come up before a missing soffice.bin counts as a crash.
STARTUP_GRACE_SECONDS = 90.0
# soffice.bin may be gone this long (unoserver is shutting down by itself) before the group is killed.
DEAD_OFFICE_SECONDS = 5.0
GRACEFUL_STOP_SECONDS = 15.0
# Restarts of a server that never got LibreOffice running back off, doubling up to this.
MAX_BACKOFF_SECONDS = 30.0
POLL_SECONDS = 0.2
# Looking for soffice.bin reads /proc; once a second is plenty.
HEALTH_CHECK_SECONDS = 1.0


@dataclass(frozen=True)
class ConverterEndpoint:
    host: str
    port: int
    uno_port: int

    @classmethod
    def from_settings(cls) -> ConverterEndpoint:
        return cls(
            host=settings.QUJAT_CONVERTER_HOST,
            port=int(settings.QUJAT_CONVERTER_PORT),
            uno_port=int(settings.QUJAT_CONVERTER_UNO_PORT),
        )

    @property
    def is_local(self) -> bool:
        """Whether this machine may start and restart the converter itself."""
        return self.host in ("127.0.0.1", "localhost", "::1")

    @property
    def files(self) -> ConverterFiles:
        return ConverterFiles.for_port(self.port)


@dataclass(frozen=True)
class ConverterFiles:
    lock: Path
    state: Path
    log: Path
    profile: Path
    restart: Path

    @classmethod
    def for_port(cls, port: int) -> ConverterFiles:
        var = Path(settings.VAR_DIR)
        runtime = Path(tempfile.gettempdir()) / f"qujat-converter-{os.getuid()}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        return cls(
            lock=runtime / f"converter-{port}.lock",
            state=runtime / f"converter-{port}.json",
            restart=runtime / f"converter-{port}.restart",
            log=var / f"converter-{port}.log",
            profile=var / f"converter-profile-{port}",
        )


@dataclass(frozen=True)
class ConverterState:
    supervisor_pid: int
    server_pid: int | None
    port: int
    started_at: str


def state_read(files: ConverterFiles) -> ConverterState | None:
    try:
        return ConverterState(**json.loads(files.state.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def supervisor_running(files: ConverterFiles) -> bool:
    """Whether some process holds the port's supervisor lock."""
    if not files.lock.exists():
        return False
    with files.lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def process_group_members(pgid: int) -> Iterator[tuple[int, str, str]]:
    """(pid, command name, state letter) of every process in a process group, read from /proc."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses.
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid:
            yield int(entry.name), name, fields[0]


def kill_group(pgid: int, sig: signal.Signals = signal.SIGKILL) -> None:
    if pgid <= 1:  # killpg(0) would hit our own group, and 1 is init
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class ConverterSupervisor:
    """Runs unoserver in a process group of its own and brings it back whenever it goes away."""

    def __init__(
        self,
        *,
        endpoint: ConverterEndpoint,
        interface: str,
        python: str,
        conversion_timeout: int,
        idle_timeout: float | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.interface = interface
        self.python = python
        self.conversion_timeout = conversion_timeout
        self.idle_timeout = idle_timeout
        self.files = endpoint.files
        self._stopping = False
        self._restart_requested = False
        self._server: subprocess.Popen[bytes] | None = None

    # -- signals ---------------------------------------------------------------------------------------
    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True

    def _on_restart(self, signum: int, frame: FrameType | None) -> None:
        # A client saw a conversion hang; the server it talked to is of no more use.
        self._restart_requested = True

    # -- main loop -------------------------------------------------------------------------------------
    def run(self, *, wait_for_lock: bool) -> int:
        """Supervise until SIGTERM/SIGINT (or the idle timeout); 0 when another supervisor is running."""
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGUSR1, self._on_restart)
        self.files.lock.parent.mkdir(parents=True, exist_ok=True)
        with self.files.lock.open("a") as lock:
            if not self._lock(lock, wait=wait_for_lock):
                return 0
            try:
                os.utime(self.files.lock)
                self._supervise()
            finally:
                self._stop_server()
                with contextlib.suppress(FileNotFoundError):
                    self.files.state.unlink()
                fcntl.flock(lock, fcntl.LOCK_UN)
        logger.info("converter supervisor on port %s stopped", self.endpoint.port)
        return 0

    def _lock(self, lock: IO[str], *, wait: bool) -> bool:
        # Without waiting, still try for a moment: a client probing the lock holds it for microseconds.
        deadline = None if wait else time.monotonic() + 2.0
        announced = False
        while not self._stopping:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if deadline is not None and time.monotonic() > deadline:
                    logger.info("a converter supervisor is already running on port %s", self.endpoint.port)
                    return False
                if not announced and deadline is None:
                    state = state_read(self.files)
                    logger.info(
                        "another converter supervisor (pid %s) runs on port %s; taking over when it stops",
                        state.supervisor_pid if state else "?",
                        self.endpoint.port,
                    )
                    announced = True
                time.sleep(0.5)
        return False

    def _supervise(self) -> None:
        backoff = 1.0
        waiting_for_ports = False
        while not self._stopping:
            self._kill_orphaned_servers()
            taken = self._ports_taken()
            if taken:
                # Someone this supervisor does not own serves the port (another user's converter, a
                # server orphaned before the state file existed); starting anyway would only fail and
                # restart in a loop, fighting over the UNO port too.
                if not waiting_for_ports:
                    logger.warning("port %s is in use by another process; waiting for it to be released", taken)
                    waiting_for_ports = True
                self._sleep(5.0)
                continue
            waiting_for_ports = False
            started = time.monotonic()
            self._start_server()
            reason, office_came_up = self._watch_server(started)
            if self._stopping:
                break  # run() stops the server gracefully
            kill_group(self._server_pid())
            self._reap()
            # Only a server whose LibreOffice never came up is crash-looping; back off from that one.
            backoff = 1.0 if office_came_up else min(backoff * 2, MAX_BACKOFF_SECONDS)
            logger.warning(
                "converter on port %s %s after %.0f s; restarting in %.0f s",
                self.endpoint.port,
                reason,
                time.monotonic() - started,
                backoff,
            )
            self._sleep(backoff)

    def _watch_server(self, started: float) -> tuple[str, bool]:
        """Wait until the server must be replaced (or we stop); why, and whether LibreOffice came up."""
        server = self._require_server()
        office_seen_dead_at: float | None = None
        office_seen = False
        next_health_check = 0.0
        while True:
            code = server.poll()
            if code is not None:
                return f"exited with code {code}", office_seen
            if self._stopping:
                return "stopping", office_seen
            if self._restart_requested:
                self._restart_requested = False
                if self._restart_is_for(server.pid):
                    return "was replaced at a client's request (hung or failing)", office_seen
            if self._idle():
                logger.info("converter on port %s idle for %.0f s; stopping", self.endpoint.port, self.idle_timeout)
                self._stopping = True
                return "idle", office_seen
            if time.monotonic() < next_health_check:
                time.sleep(POLL_SECONDS)
                continue
            next_health_check = time.monotonic() + HEALTH_CHECK_SECONDS
            alive = self._office_alive()
            office_seen = office_seen or alive
            if alive:
                office_seen_dead_at = None
            elif office_seen or time.monotonic() - started > STARTUP_GRACE_SECONDS:
                # unoserver does not always exit when LibreOffice dies (it can deadlock in its own
                # shutdown), so a server without a live soffice.bin is replaced after a short grace.
                office_seen_dead_at = office_seen_dead_at or time.monotonic()
                if time.monotonic() - office_seen_dead_at > DEAD_OFFICE_SECONDS:
                    return "lost its LibreOffice process", office_seen
            time.sleep(POLL_SECONDS)

    def _ports_taken(self) -> int | None:
        """The first of our two ports something already listens on, if any."""
        host = "127.0.0.1" if self.interface in ("", "0.0.0.0", "::") else self.interface  # noqa: S104
        for address in ((host, self.endpoint.port), ("127.0.0.1", self.endpoint.uno_port)):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.settimeout(1.0)
                if probe.connect_ex(address) == 0:
                    return address[1]
        return None

    def _restart_is_for(self, pid: int) -> bool:
        """Whether the client's complaint is about this server, not one already replaced.

        Several clients stuck behind the same hung conversion all complain; only the first complaint
        about a given server may restart it, or the fresh server would be killed too.
        """
        try:
            return int(self.files.restart.read_text().strip()) == pid
        except (OSError, ValueError):
            return False

    def _idle(self) -> bool:
        if self.idle_timeout is None:
            return False
        try:
            last_used = self.files.lock.stat().st_mtime
        except OSError:
            return False
        return time.time() - last_used > self.idle_timeout

    def _office_alive(self) -> bool:
        return any(
            name == "soffice.bin" and state not in ("Z", "X")
            for _pid, name, state in process_group_members(self._server_pid())
        )

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stopping and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)

    # -- the server process ----------------------------------------------------------------------------
    def _require_server(self) -> subprocess.Popen[bytes]:
        if self._server is None:
            raise RuntimeError("the converter server has not been started")
        return self._server

    def _server_pid(self) -> int:
        return self._require_server().pid

    def _start_server(self) -> None:
        command = [
            self.python,
            "-m",
            "unoserver.server",
            "--interface",
            self.interface,
            "--port",
            str(self.endpoint.port),
            "--uno-interface",
            "127.0.0.1",
            "--uno-port",
            str(self.endpoint.uno_port),
            # A plain path: unoserver turns it into the file:// URI LibreOffice wants.
            "--user-installation",
            str(self.files.profile),
            # unoserver's own limit kills LibreOffice if a conversion hangs and no client is left to
            # notice; a little longer than the clients' timeout, which normally fires first.
            "--conversion-timeout",
            str(self.conversion_timeout + 5),
        ]
        # A session (and process group) of its own: the whole tree (unoserver, oosplash, soffice.bin)
        # can be killed at once, and a Ctrl-C in the supervisor's terminal reaches only the supervisor.
        self._server = subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True)  # noqa: S603
        self._write_state()
        logger.info("converter started on port %s (pid %s)", self.endpoint.port, self._server.pid)

    def _write_state(self) -> None:
        state = ConverterState(
            supervisor_pid=os.getpid(),
            server_pid=self._server.pid if self._server else None,
            port=self.endpoint.port,
            started_at=timezone.now().isoformat(),
        )
        temporary = self.files.state.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(state)))
        temporary.replace(self.files.state)

    def _stop_server(self) -> None:
        if self._server is None or self._server.poll() is not None:
            if self._server is not None:
                kill_group(self._server.pid)
            return
        # unoserver forwards SIGTERM to LibreOffice and exits cleanly; signalling the whole group
        # instead can leave it stuck, so the group is only SIGKILLed if the polite way takes too long.
        self._server.terminate()
        try:
            self._server.wait(GRACEFUL_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            logger.warning("converter on port %s did not stop in time; killing it", self.endpoint.port)
        kill_group(self._server.pid)
        self._reap()

    def _reap(self) -> None:
        if self._server is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._server.wait(5)

    def _kill_orphaned_servers(self) -> None:
        """Kill converters of our ports whose supervisor is gone; they would hold the ports.

        A supervisor that was SIGKILLed leaves its unoserver running (it has a session of its own), and a
        unoserver that failed to start leaves its LibreOffice behind. Only this user's processes qualify:
        a unoserver for our port whose parent is no longer a `run_converter`, and a LibreOffice accepting
        on our UNO port whose process group has lost its unoserver.
        """
        port = str(self.endpoint.port).encode()
        accept = f"port={self.endpoint.uno_port};".encode()
        for pid, parent in _processes_of_user():
            command = _command_line(pid)
            try:
                group = os.getpgid(pid)
            except ProcessLookupError:
                continue
            if b"unoserver.server" in command and _argument_is(command, b"--port", port):
                if b"run_converter" in b" ".join(_command_line(parent)):
                    continue
            elif any(item.startswith(b"--accept=") and accept in item for item in command):
                if b"unoserver.server" in _command_line(group):
                    continue
            else:
                continue
            logger.warning(
                "killing pid %s (%s), left behind by a dead converter", pid, command[0].decode(errors="replace")
            )
            # A server we started leads its own group, and once it is gone its LibreOffice keeps the
            # group's id: killing that group takes the whole tree. Anything else is killed alone, never
            # a group it may share with unrelated processes.
            if group == pid or not Path(f"/proc/{group}").exists():
                kill_group(group)
            else:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(1.0)


def _processes_of_user() -> Iterator[tuple[int, int]]:
    """(pid, parent pid) of this user's processes."""
    uid = os.getuid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != uid:
                continue
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        yield int(entry.name), int(stat[stat.rindex(")") + 2 :].split()[1])


def _command_line(pid: int) -> list[bytes]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return []


def _argument_is(command: list[bytes], option: bytes, value: bytes) -> bool:
    return any(item == option and following == value for item, following in itertools.pairwise(command))
