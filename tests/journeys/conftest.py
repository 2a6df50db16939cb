"""The product started the way `make run` starts it, for the journeys to walk in Chromium over real HTTP.

`product` (session): a temporary folder holds the var/ folder (SQLite database, Celery's folder broker, mail,
media) and a `.env` of fresh local secrets; `backend.config.settings.local` with DEBUG off, none of the test
run's DATABASE_URL/REDIS_URL; then `migrate`, `collectstatic`, `seed_demo`, `demo_logins` and honcho with the
Procfile (gunicorn, Celery worker, beat, the converter) on free ports — exactly `make run`'s recipe. Honcho
leads a process group of its own; it is stopped with SIGTERM at the end (then SIGKILL for whatever is left),
failed or not, and dies with the test run if the run itself is killed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from backend.documents.pool import die_with_parent
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
HONCHO = ROOT / ".venv" / "bin" / "honcho"
# Each set-up command and the start of the four processes; the walk's own steps are bounded by Playwright.
COMMAND_TIMEOUT_SECONDS = 300
START_TIMEOUT_SECONDS = 180
STOP_TIMEOUT_SECONDS = 60
# The whole session, as a last resort: a hung step fails the test instead of hanging CI.
SESSION_LIMIT_SECONDS = 20 * 60
PAGE_TIMEOUT_MS = 30_000
# Variables of the test run that `make run` does not have (or that would point the product at the test's
# database, broker, converter or settings).
NOT_INHERITED = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "EMAIL_URL",
    "DJANGO_SETTINGS_MODULE",
    "DEBUG",
    "QUJAT_TEST_CONVERTER_PORT",
    "QUJAT_REQUIRE_SERVICES",
    "CELERY_TASK_ALWAYS_EAGER",
    "AXES_ENABLED",
    "PORT",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Product:
    url: str
    var: Path
    env: dict[str, str]
    log: Path

    @property
    def mail(self) -> Path:
        return self.var / "mail"

    def manage(self, *args: str) -> str:
        """A `manage.py` command against the product's database, as an operator would run it."""
        done = subprocess.run(
            [str(PYTHON), "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
        assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def log_tail(self, lines: int = 80) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="session", autouse=True)
def converter_process() -> None:
    """The journeys use the product's own converter (the Procfile's), not the test run's."""
    return None


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (our own http://127.0.0.1)
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _converter_answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        return True
    return False


def _stop(honcho: subprocess.Popen[bytes]) -> None:
    """SIGTERM to honcho (it stops its processes, the converter its LibreOffices), SIGKILL to what is left."""
    if honcho.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            honcho.send_signal(signal.SIGTERM)
        try:
            honcho.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            honcho.kill()
            honcho.wait()
    # gunicorn, Celery and the converter run in honcho's process group; each LibreOffice leads its own but
    # gets SIGTERM when its converter dies.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(honcho.pid, signal.SIGKILL)


def _leftovers(home: Path) -> list[int]:
    """Processes still running whose command line names the product's folder (a LibreOffice profile, say)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            with contextlib.suppress(OSError):
                if str(home).encode() in (proc / "cmdline").read_bytes():
                    found.append(int(proc.name))
    return found


def _session_limit(signum: int, frame: Any) -> None:
    raise TimeoutError(f"the journeys ran longer than {SESSION_LIMIT_SECONDS} s")


@pytest.fixture(scope="session")
def product(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Product]:
    previous_handler = signal.signal(signal.SIGALRM, _session_limit)
    signal.alarm(SESSION_LIMIT_SECONDS)
    home = tmp_path_factory.mktemp("product")
    var = home / "var"
    env_file = home / ".env"
    # What `bin/write-local-env` writes on a fresh clone.
    local_secrets = {"SECRET_KEY": secrets.token_urlsafe(50), "QUJAT_KEY_ENCRYPTION_KEY": secrets.token_urlsafe(48)}
    env_file.write_text("".join(f"{key}={value}\n" for key, value in local_secrets.items()))
    port, converter_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    # The test run's settings put this checkout's .env into os.environ; the product gets its own secrets, the
    # same in every process (honcho reads the same file, as `make run`'s honcho reads .env).
    env.update(local_secrets)
    env.update(
        DJANGO_SETTINGS_MODULE="backend.config.settings.local",
        QUJAT_ENV_FILE=str(env_file),
        QUJAT_VAR_DIR=str(var),
        QUJAT_SITE_URL=url,  # what the Makefile's run target exports
        QUJAT_CONVERTER_PORT=str(converter_port),
        PYTHONUNBUFFERED="1",
    )
    log = home / "make-run.log"
    product = Product(url=url, var=var, env=env, log=log)
    # make run's recipe, in order.
    for command in (("migrate", "--no-input"), ("collectstatic", "--no-input", "--verbosity", "0")):
        product.manage(*command)
    product.manage("seed_demo")
    with log.open("a") as output:
        output.write(product.manage("demo_logins"))
    with log.open("ab") as output:
        honcho = subprocess.Popen(
            [str(HONCHO), "start", "-f", "Procfile", "-e", str(env_file), "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # one process group: stopped as a whole
            preexec_fn=die_with_parent,  # the group must not outlive a killed test run
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not (_answers(f"{url}/login/") and _converter_answers(converter_port)):
            assert honcho.poll() is None, f"make run's processes stopped:\n{product.log_tail()}"
            assert time.monotonic() < deadline, f"the product did not come up:\n{product.log_tail()}"
            time.sleep(1)
        yield product
    finally:
        _stop(honcho)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while _leftovers(home) and time.monotonic() < deadline:
            time.sleep(1)
        left = _leftovers(home)
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous_handler)
        assert not left, f"processes outlived `make run`'s stop: {left}"


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, one browser for the session; every login gets a fresh context of its own."""
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def open_page(chromium: Any, product: Product) -> Iterator[Callable[..., Any]]:
    """`open_page(language)`: a page of a fresh browser context in that language; closed after the test."""
    contexts: list[Any] = []

    def new_page(language: str) -> Any:
        context = chromium.new_context(
            locale={"kk": "kk-KZ", "ru": "ru-RU", "en": "en-US"}[language],
            viewport={"width": 1280, "height": 900},
            accept_downloads=True,
        )
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        context.add_cookies([{"name": "django_language", "value": language, "url": product.url}])
        contexts.append(context)
        return context.new_page()

    yield new_page
    from playwright.sync_api import Error

    for context in contexts:
        with contextlib.suppress(Error):  # a step may have closed its own already
            context.close()
