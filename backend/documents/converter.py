"""docx → PDF/A-2b through the warm LibreOffice converter (unoserver), starting it when nobody has.

The client speaks unoserver's XML-RPC API 3 directly (the same `convert` call `unoserver.client.UnoClient`
makes) because UnoClient has no socket timeout, asks the server for its whole filter list on every call
and sleeps 10 s between its own connection retries; here a hang must end after
QUJAT_CONVERTER_TIMEOUT and a dead server must be replaced, not waited for.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import signal
import subprocess
import sys
import time
import xmlrpc.client
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .exceptions import ConversionFailed, ConversionTimedOut, ConverterUnavailable
from .supervisor import ConverterEndpoint, state_read, supervisor_running

logger = logging.getLogger("backend.documents.converter")

# PDF/A-2b: LibreOffice's writer_pdf_Export "SelectPdfVersion" 2 (1 would be PDF/A-1b, 3 PDF/A-3b).
PDF_FILTER_OPTIONS = ["SelectPdfVersion=2"]
ATTEMPTS = 3
# How long a (re)starting LibreOffice may take; a fresh profile needs ~18 s, a warm one ~7 s.
STARTUP_TIMEOUT_SECONDS = 120.0
PROBE_TIMEOUT_SECONDS = 5.0
# Two callers finding the converter down at once must not both start one.
SPAWN_INTERVAL_SECONDS = 5.0
# A converter this client started in the background stops after this long without conversions.
AUTOSTARTED_IDLE_SECONDS = 15 * 60

MAX_LOG_BYTES = 10 * 1024 * 1024

_spawned: list[subprocess.Popen[bytes]] = []


class _TimeoutTransport(xmlrpc.client.Transport):
    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def make_connection(self, host: str | tuple[str, dict[str, str]]) -> http.client.HTTPConnection:
        connection = super().make_connection(host)
        connection.timeout = self.timeout
        return connection


def _proxy(endpoint: ConverterEndpoint, timeout: float) -> xmlrpc.client.ServerProxy:
    return xmlrpc.client.ServerProxy(
        f"http://{endpoint.host}:{endpoint.port}", transport=_TimeoutTransport(timeout), allow_none=True
    )


# Errors that mean "nobody (or a dying server) answered", as opposed to an answer we did not like.
_CONNECTION_ERRORS = (OSError, http.client.HTTPException, xmlrpc.client.ProtocolError)


def convert_docx_to_pdf(docx: bytes) -> bytes:
    """The PDF/A-2b rendering of a .docx; starts, waits for or restarts the converter as needed."""
    endpoint = ConverterEndpoint.from_settings()
    timeout = float(settings.QUJAT_CONVERTER_TIMEOUT)
    last_error = ""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with _proxy(endpoint, timeout) as proxy:
                result = proxy.convert(
                    None,  # inpath: the document travels in the request, so a remote converter works too
                    xmlrpc.client.Binary(docx),
                    None,  # outpath: the PDF comes back in the response
                    "pdf",
                    None,  # export filter: chosen from the document type (writer_pdf_Export)
                    PDF_FILTER_OPTIONS,
                    False,  # update_index: our documents have no tables of contents to refresh
                    None,
                    None,
                )
        except TimeoutError:
            restarted = _request_restart(endpoint)
            logger.error("conversion timed out after %s s (converter restart requested: %s)", timeout, restarted)
            raise ConversionTimedOut(
                _(
                    "The PDF converter did not answer within %(seconds)s seconds; it is being restarted. "
                    "Try again in a minute."
                )
                % {"seconds": int(timeout)}
            ) from None
        except xmlrpc.client.Fault as fault:
            last_error = fault.faultString
            if "Could not load document" in fault.faultString:
                raise ConversionFailed(
                    _("LibreOffice could not open the document: %(error)s") % {"error": fault.faultString}
                ) from None
            # Anything else is LibreOffice failing underneath unoserver (a dead office answers with a
            # DisposedException): replace it and convert again.
            logger.warning("conversion failed (attempt %s): %s", attempt, fault.faultString)
            if attempt < ATTEMPTS:
                stale = _request_restart(endpoint)
                _wait_until_ready(endpoint, stale_server_pid=stale)
        except _CONNECTION_ERRORS as error:
            last_error = f"{type(error).__name__}: {error}"
            if attempt > 1 or not isinstance(error, ConnectionRefusedError):
                logger.warning("converter unreachable (attempt %s): %s", attempt, last_error)
            if attempt < ATTEMPTS:
                _wait_until_ready(endpoint)
        else:
            if not isinstance(result, xmlrpc.client.Binary):
                raise ConversionFailed(_("The PDF converter answered without a document."))
            _touch(endpoint)
            return bytes(result.data)
    raise ConverterUnavailable(
        _("The PDF converter failed %(attempts)s times in a row: %(error)s")
        % {"attempts": ATTEMPTS, "error": last_error}
    )


def converter_ready() -> bool:
    """Whether the configured converter answers right now (never starts it)."""
    return _ping(ConverterEndpoint.from_settings())


def converter_ensure_running() -> None:
    """Start the converter if needed and wait until it answers (ConverterUnavailable if it does not)."""
    endpoint = ConverterEndpoint.from_settings()
    if not _ping(endpoint):
        _wait_until_ready(endpoint)


def converter_stop(*, wait_seconds: float = 30.0) -> bool:
    """Ask this machine's supervisor of the configured port to stop; True if one was running."""
    files = ConverterEndpoint.from_settings().files
    state = state_read(files)
    if state is None or not supervisor_running(files):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(state.supervisor_pid, signal.SIGTERM)
    deadline = time.monotonic() + wait_seconds
    while supervisor_running(files) and time.monotonic() < deadline:
        time.sleep(0.2)
    return True


def _ping(endpoint: ConverterEndpoint) -> bool:
    try:
        with _proxy(endpoint, PROBE_TIMEOUT_SECONDS) as proxy:
            proxy.system.listMethods()
    except (*_CONNECTION_ERRORS, xmlrpc.client.Fault):
        return False
    return True


def _request_restart(endpoint: ConverterEndpoint) -> int | None:
    """Ask the local supervisor to replace its server; the replaced server's pid, if there was one."""
    if not endpoint.is_local:
        return None
    files = endpoint.files
    state = state_read(files)
    if state is None or state.server_pid is None or not supervisor_running(files):
        return None
    try:
        files.restart.write_text(str(state.server_pid))
        os.kill(state.supervisor_pid, signal.SIGUSR1)
    except OSError:  # the supervisor just exited, or the var directory is not writable
        return None
    return state.server_pid


def _wait_until_ready(endpoint: ConverterEndpoint, *, stale_server_pid: int | None = None) -> None:
    """Block until the converter answers, starting a supervisor in the background if none runs."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    last_spawn = -SPAWN_INTERVAL_SECONDS
    while True:
        replaced = True
        if stale_server_pid is not None:
            state = state_read(endpoint.files)
            replaced = state is None or state.server_pid != stale_server_pid
        if replaced and _ping(endpoint):
            return
        if (
            endpoint.is_local
            and time.monotonic() - last_spawn > SPAWN_INTERVAL_SECONDS
            and not supervisor_running(endpoint.files)
        ):
            _spawn_supervisor(endpoint)
            last_spawn = time.monotonic()
            stale_server_pid = None
        if time.monotonic() > deadline:
            raise ConverterUnavailable(
                _("The PDF converter on %(host)s:%(port)s did not start within %(seconds)s seconds.")
                % {"host": endpoint.host, "port": endpoint.port, "seconds": int(STARTUP_TIMEOUT_SECONDS)}
            )
        time.sleep(0.25)


def _spawn_supervisor(endpoint: ConverterEndpoint) -> None:
    # Reap supervisors started earlier that have exited since (idle), so none lingers as a zombie.
    _spawned[:] = [process for process in _spawned if process.poll() is None]
    files = endpoint.files
    files.log.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        # unoserver logs a few lines per conversion; keep one previous log instead of an ever-growing one.
        if files.log.stat().st_size > MAX_LOG_BYTES:
            files.log.replace(files.log.with_suffix(".log.1"))
    command = [
        sys.executable,
        str(Path(settings.BASE_DIR) / "manage.py"),
        "run_converter",
        "--interface",
        endpoint.host,
        "--port",
        str(endpoint.port),
        "--uno-port",
        str(endpoint.uno_port),
        "--idle-timeout",
        str(AUTOSTARTED_IDLE_SECONDS),
        "--exit-if-running",
    ]
    environment = dict(os.environ)
    # Under override_settings SETTINGS_MODULE reads as None; the environment still names the module.
    settings_module = getattr(settings, "SETTINGS_MODULE", None) or os.environ.get("DJANGO_SETTINGS_MODULE")
    if settings_module:
        environment["DJANGO_SETTINGS_MODULE"] = settings_module
    logger.info("starting the converter supervisor in the background: %s", " ".join(command))
    with files.log.open("ab") as log:
        # Detached: its own session, no terminal, so it outlives this process (a test run, a worker).
        process = subprocess.Popen(  # noqa: S603
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=settings.BASE_DIR,
            env=environment,
        )
    _spawned.append(process)


def _touch(endpoint: ConverterEndpoint) -> None:
    if endpoint.is_local:
        with contextlib.suppress(OSError):
            os.utime(endpoint.files.lock)
