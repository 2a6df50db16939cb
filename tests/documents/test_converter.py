"""The converter process: a queue in front of warm LibreOffices, replacing dead and hung ones, refusing
clearly when too much waits, stopping with everything it started; the client never starts it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.documents.converter import convert_docx_to_pdf, converter_ready
from backend.documents.exceptions import ConversionTimedOut, ConverterBusy, ConverterUnavailable
from backend.documents.rendering import example_context, render_docx, template_path
from tests.conftest import converter_start, converter_stop

from .conftest import PdfText, alive_in_group, docx_with, office_pids, pdfa_identification


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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def status(port: int) -> dict[str, Any]:
    with xmlrpc.client.ServerProxy(f"http://127.0.0.1:{port}") as proxy:
        return proxy.status()  # type: ignore[no-any-return]


def ready_workers(port: int) -> list[dict[str, Any]]:
    try:
        return [w for w in status(port)["workers"] if w["ready"] and not w["retired"]]
    except OSError:
        return []


class OwnConverter:
    """A converter of one test module, on a port of its own, with one worker and a short timeout."""

    def __init__(self, tmp: Path, *extra: str) -> None:
        self.port = free_port()
        self.process = converter_start(port=self.port, log=tmp / "run_converter.log", extra=extra)
        assert wait_for(lambda: ready_workers(self.port), 120), (tmp / "run_converter.log").read_text()

    def worker_pid(self) -> int:
        assert wait_for(lambda: ready_workers(self.port), 120)
        return int(ready_workers(self.port)[0]["pid"])


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnConverter]:
    converter = OwnConverter(tmp_path_factory.mktemp("own"), "--workers", "1", "--timeout", "8", "--queue", "2")
    yield converter
    converter_stop(converter.process)


@pytest.fixture
def use_own(own: OwnConverter, settings: Any) -> OwnConverter:
    settings.QUJAT_CONVERTER_PORT = own.port
    return own


@pytest.mark.converter
def test_a_document_in_kazakh_becomes_a_pdfa_2b() -> None:
    pdf = convert_docx_to_pdf(docx_with("Құжат ұлттық тілде: әғқңөұүһі"))

    assert "Құжат ұлттық тілде: әғқңөұүһі" in PdfText(pdf)
    assert pdfa_identification(pdf) == ("2", "B")


@pytest.mark.converter
def test_killing_the_worker_mid_conversion_replaces_it_and_the_conversion_still_succeeds(use_own: OwnConverter) -> None:
    # Given a warm worker busy with a two-page transcript
    killed = use_own.worker_pid()
    docx = transcript_docx()
    outcome: dict[str, Any] = {}

    def convert() -> None:
        try:
            outcome["pdf"] = convert_docx_to_pdf(docx)
        except Exception as error:
            outcome["error"] = error

    worker = threading.Thread(target=convert)
    worker.start()

    # When its whole unoserver/LibreOffice process tree is killed
    time.sleep(0.15)
    os.killpg(killed, signal.SIGKILL)
    worker.join(timeout=240)

    # Then a new worker took over and the conversion was tried again on it
    assert "error" not in outcome
    assert "Өмірзақов Нұрлан Ғаниұлы" in PdfText(outcome["pdf"])
    assert use_own.worker_pid() != killed
    assert not alive_in_group(killed)


@pytest.mark.converter
def test_a_libreoffice_that_died_while_idle_is_replaced_for_the_next_conversion(use_own: OwnConverter) -> None:
    # Given a warm worker whose LibreOffice dies while idle
    before = use_own.worker_pid()
    offices = office_pids(before)
    assert offices
    for pid in offices:
        os.kill(pid, signal.SIGKILL)

    # When the next document is converted, then it succeeds on a replaced worker
    assert "Келесі құжат" in PdfText(convert_docx_to_pdf(docx_with("Келесі құжат")))
    assert use_own.worker_pid() != before


@pytest.mark.converter
def test_a_hung_libreoffice_times_out_with_a_clear_error_and_is_replaced(use_own: OwnConverter) -> None:
    # Given a warm worker whose LibreOffice stops responding (SIGSTOP)
    hung = use_own.worker_pid()
    offices = office_pids(hung)
    assert offices
    for pid in offices:
        os.kill(pid, signal.SIGSTOP)

    # When a document is converted, then it fails after the converter's timeout (8 s) saying so
    began = time.monotonic()
    with pytest.raises(ConversionTimedOut, match="took longer than"):
        convert_docx_to_pdf(docx_with("Тоқтап қалды"))
    assert time.monotonic() - began < 30

    # Then the hung worker is killed with its LibreOffice, and the next conversion succeeds on a new one
    assert "Қайта іске қосылды" in PdfText(convert_docx_to_pdf(docx_with("Қайта іске қосылды")))
    assert use_own.worker_pid() != hung
    assert wait_for(lambda: not alive_in_group(hung), 30)


@pytest.mark.converter
def test_more_documents_than_the_queue_holds_are_refused_at_once_and_the_rest_converted(
    use_own: OwnConverter,
) -> None:
    # Given one worker and room for two waiting documents
    use_own.worker_pid()
    results: list[str] = []
    lock = threading.Lock()

    def convert(index: int) -> None:
        try:
            convert_docx_to_pdf(transcript_docx())
            outcome = "converted"
        except ConverterBusy as error:
            outcome = f"busy: {error.message}"
        with lock:
            results.append(outcome)

    # When eight documents arrive at once
    threads = [threading.Thread(target=convert, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)

    # Then the one being converted and the two waiting are converted; the others are told it is busy
    assert len(results) == 8
    assert results.count("converted") >= 3
    busy = [r for r in results if r.startswith("busy")]
    assert busy
    assert all("busy with other documents" in r for r in busy)
    # and the converter still serves afterwards
    assert "Құжат" in PdfText(convert_docx_to_pdf(docx_with("Құжат")))


def test_a_converter_that_accepts_but_never_answers_times_out_with_a_clear_error(settings: Any) -> None:
    # Given something on the converter's port that accepts connections and never answers
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        settings.QUJAT_CONVERTER_PORT = silent.getsockname()[1]
        settings.QUJAT_CONVERTER_TIMEOUT = 1
        settings.QUJAT_CONVERTER_QUEUE_WAIT = 1

        # When a document is converted, then it fails after the timeout with a message saying so
        with pytest.raises(ConversionTimedOut, match="did not answer within"):
            convert_docx_to_pdf(docx_with("Жауап жоқ"))


def test_no_converter_running_is_a_clear_error_and_nothing_is_started(settings: Any) -> None:
    # Given nothing listens on the converter's port
    settings.QUJAT_CONVERTER_PORT = free_port()
    settings.QUJAT_CONVERTER_CONNECT_WAIT = 1

    # When a document is converted, then the error names the command that runs the converter
    with pytest.raises(ConverterUnavailable, match="run_converter"):
        convert_docx_to_pdf(docx_with("Ешкім жоқ"))

    # and the client started none
    assert not converter_ready()


@pytest.mark.converter
def test_run_converter_stops_with_its_libreoffices_on_sigterm(tmp_path: Path) -> None:
    # Given `manage.py run_converter` serving as under honcho
    converter = OwnConverter(tmp_path, "--workers", "1")
    worker = converter.worker_pid()
    assert office_pids(worker)

    # When it receives SIGTERM, then it exits, its workers and their LibreOffices with it, releasing the port
    converter.process.send_signal(signal.SIGTERM)
    assert converter.process.wait(timeout=60) == 0
    assert wait_for(lambda: not alive_in_group(worker), 30)
    with pytest.raises(OSError):  # noqa: PT011 - refused connection
        status(converter.port)


@pytest.mark.converter
def test_a_converter_killed_outright_leaves_no_libreoffice_behind(tmp_path: Path) -> None:
    # Given a converter killed with SIGKILL (it can clean nothing up itself)
    converter = OwnConverter(tmp_path, "--workers", "1")
    worker = converter.worker_pid()
    converter.process.kill()
    converter.process.wait()

    # Then its workers learn of it from the kernel and stop their LibreOffice: nothing is left over
    try:
        assert wait_for(lambda: not alive_in_group(worker), 60)
    finally:
        with contextlib.suppress(ProcessLookupError):  # only if the test failed
            os.killpg(worker, signal.SIGKILL)
