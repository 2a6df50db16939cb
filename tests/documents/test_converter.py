"""The warm converter: started on demand, restarted when it dies, timed out and replaced when it hangs."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import xmlrpc.client
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from backend.documents.converter import (
    convert_docx_to_pdf,
    converter_ensure_running,
    converter_ready,
    converter_stop,
)
from backend.documents.exceptions import ConversionTimedOut
from backend.documents.rendering import example_context, render_docx, template_path
from backend.documents.supervisor import (
    ConverterEndpoint,
    ConverterFiles,
    process_group_members,
    state_read,
    supervisor_running,
)

from .conftest import PdfText, converter_server_pid, docx_with, office_pids, pdfa_identification

ROOT = Path(settings.BASE_DIR)


def transcript_docx() -> bytes:
    return render_docx(
        template=template_path(kind="transcript", language="ru").read_bytes(),
        context=example_context(kind="transcript", language="ru"),
    )


def wait_for(condition: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.converter
def test_a_converter_that_is_not_running_is_started_on_demand() -> None:
    # Given no converter runs on the tests' port
    converter_stop()
    assert not converter_ready()

    # When a document is converted
    pdf = convert_docx_to_pdf(docx_with("Құжат ұлттық тілде: әғқңөұүһі"))

    # Then a supervised converter was started in the background and produced a PDF/A-2b
    assert "Құжат ұлттық тілде: әғқңөұүһі" in PdfText(pdf)
    assert pdfa_identification(pdf) == ("2", "B")
    assert supervisor_running(ConverterEndpoint.from_settings().files)


@pytest.mark.converter
def test_killing_the_converter_mid_run_restarts_it_and_the_conversion_still_succeeds() -> None:
    # Given a warm converter working on a two-page transcript
    converter_ensure_running()
    docx = transcript_docx()
    killed = converter_server_pid()
    assert killed
    outcome: dict[str, Any] = {}

    def convert() -> None:
        try:
            outcome["pdf"] = convert_docx_to_pdf(docx)
        except Exception as error:
            outcome["error"] = error

    worker = threading.Thread(target=convert)
    worker.start()

    # When the whole unoserver/LibreOffice process tree is killed
    time.sleep(0.15)
    os.killpg(killed, signal.SIGKILL)
    worker.join(timeout=240)

    # Then the supervisor brought up a new server and the conversion was retried on it
    assert "error" not in outcome
    assert "Өмірзақов Нұрлан Ғаниұлы" in PdfText(outcome["pdf"])
    assert converter_server_pid() not in (None, killed)
    assert not any(state != "Z" for _pid, _name, state in process_group_members(killed))
    # and the queue is not stuck: the next document converts as usual
    assert "Құжат" in PdfText(convert_docx_to_pdf(docx_with("Құжат")))


@pytest.mark.converter
def test_a_dead_libreoffice_is_replaced_before_the_next_conversion() -> None:
    # Given a warm converter whose LibreOffice dies while idle
    converter_ensure_running()
    before = converter_server_pid()
    for pid in office_pids():
        os.kill(pid, signal.SIGKILL)

    # When the next document is converted, then it succeeds on a replaced server
    assert "Келесі құжат" in PdfText(convert_docx_to_pdf(docx_with("Келесі құжат")))
    assert converter_server_pid() != before


def test_a_converter_that_accepts_but_never_answers_times_out_with_a_clear_error(settings: Any) -> None:
    # Given something on the converter's port that accepts connections and never answers
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        settings.QUJAT_CONVERTER_PORT = silent.getsockname()[1]
        settings.QUJAT_CONVERTER_TIMEOUT = 2

        # When a document is converted, then it fails after the timeout with a message saying so
        with pytest.raises(ConversionTimedOut, match="did not answer within 2 seconds"):
            convert_docx_to_pdf(docx_with("Жауап жоқ"))


@pytest.mark.converter
def test_a_hung_libreoffice_times_out_and_is_replaced(settings: Any) -> None:
    # Given a warm converter whose LibreOffice stops responding (SIGSTOP)
    converter_ensure_running()
    hung_server = converter_server_pid()
    assert hung_server
    offices = office_pids()
    assert offices
    settings.QUJAT_CONVERTER_TIMEOUT = 5
    for pid in offices:
        os.kill(pid, signal.SIGSTOP)
    try:
        # When a document is converted, then it fails with the timeout error
        with pytest.raises(ConversionTimedOut, match="it is being restarted"):
            convert_docx_to_pdf(docx_with("Тоқтап қалды"))
    finally:
        for pid in offices:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    # Then the hung server is killed and replaced, and the next conversion succeeds
    settings.QUJAT_CONVERTER_TIMEOUT = 60
    assert "Қайта іске қосылды" in PdfText(convert_docx_to_pdf(docx_with("Қайта іске қосылды")))
    assert converter_server_pid() != hung_server
    assert not any(state != "Z" for _pid, _name, state in process_group_members(hung_server))


@pytest.mark.converter
def test_a_second_supervisor_for_the_same_port_steps_aside() -> None:
    # Given the tests' converter is supervised
    converter_ensure_running()

    # When another `run_converter --exit-if-running` starts for the same port, then it exits at once
    result = subprocess.run(
        [sys.executable, "manage.py", "run_converter", "--exit-if-running"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "backend.config.settings.test"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "already running" in result.stderr


def ping(port: int) -> bool:
    with contextlib.suppress(OSError, xmlrpc.client.Error):
        xmlrpc.client.ServerProxy(f"http://127.0.0.1:{port}").system.listMethods()
        return True
    return False


def run_converter(port: int, uno_port: int, log: Path) -> subprocess.Popen[bytes]:
    """`manage.py run_converter` started the way the Procfile does, on ports of its own."""
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "manage.py", "run_converter", "--port", str(port), "--uno-port", str(uno_port)],
            cwd=ROOT,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "backend.config.settings.test"},
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def serving(files: ConverterFiles, port: int, supervisor: subprocess.Popen[bytes], *, not_server: int = 0) -> int:
    """Wait until the supervisor's own server (not `not_server`) answers; its pid."""

    def ready() -> bool:
        state = state_read(files)
        return (
            state is not None
            and state.supervisor_pid == supervisor.pid
            and state.server_pid not in (None, not_server)
            and ping(port)
        )

    assert wait_for(ready, 120)
    state = state_read(files)
    assert state is not None
    assert state.server_pid
    return state.server_pid


def cleanup(supervisors: list[subprocess.Popen[bytes]], servers: list[int]) -> None:
    for supervisor in supervisors:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()
    for server in servers:  # servers have sessions of their own: they outlive a killed supervisor
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server, signal.SIGKILL)


@pytest.mark.converter
def test_run_converter_serves_restarts_a_dead_server_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    # Given `manage.py run_converter` running as under `make run`
    port, uno_port = 2033, 2032
    files = ConverterFiles.for_port(port)
    supervisor = run_converter(port, uno_port, tmp_path / "run_converter.log")
    servers: list[int] = []
    try:
        # Then it serves conversions
        servers.append(serving(files, port, supervisor))

        # When its server dies, then it is brought back
        os.killpg(servers[0], signal.SIGKILL)
        servers.append(serving(files, port, supervisor, not_server=servers[0]))

        # When it receives SIGTERM, then it stops with its server, releasing the port
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=60) == 0
        assert not ping(port)
        assert not supervisor_running(files)
        assert not any(state != "Z" for _pid, _name, state in process_group_members(servers[1]))
    finally:
        cleanup([supervisor], servers)


@pytest.mark.converter
def test_a_new_supervisor_replaces_the_server_a_killed_supervisor_left_behind(tmp_path: Path) -> None:
    # Given a supervisor killed outright (SIGKILL), whose server lives on unsupervised
    port, uno_port = 2043, 2042
    files = ConverterFiles.for_port(port)
    log = tmp_path / "run_converter.log"
    first = run_converter(port, uno_port, log)
    supervisors, servers = [first], []
    try:
        servers.append(serving(files, port, first))
        first.kill()
        first.wait()
        assert ping(port)

        # When a new supervisor starts, then it kills the leftover and serves with a server of its own
        second = run_converter(port, uno_port, log)
        supervisors.append(second)
        servers.append(serving(files, port, second, not_server=servers[0]))
        assert not any(state != "Z" for _pid, _name, state in process_group_members(servers[0]))
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0
    finally:
        cleanup(supervisors, servers)
