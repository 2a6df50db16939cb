"""Shared fixtures: the demo university (seeded once per test database), API clients, service markers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from backend.accounts.models import OrgUnit, User
from backend.documents.pool import die_with_parent
from backend.workflow.models import ProcessDefinition
from signing.keys import generate_issuing_ca, generate_root_ca, issue_signer_certificate

REQUIRE_SERVICES = os.environ.get("QUJAT_REQUIRE_SERVICES") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PostgreSQL/Redis tests skip on the embedded default; under CI (QUJAT_REQUIRE_SERVICES=1) never."""
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql"))
    on_redis = bool(os.environ.get("REDIS_URL"))
    if REQUIRE_SERVICES and not (on_postgres and on_redis):
        raise pytest.UsageError("CI runs every test: set DATABASE_URL=postgres://… and REDIS_URL=redis://…")
    for item in items:
        if item.get_closest_marker("postgres") and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL (CI does)"))
        if item.get_closest_marker("redis") and not on_redis:
            item.add_marker(pytest.mark.skip(reason="needs Redis: set REDIS_URL (CI does)"))


def converter_start(*, port: int, log: Path, extra: tuple[str, ...] = ()) -> subprocess.Popen[bytes]:
    """`manage.py run_converter` as the Procfile runs it, on the given port (a managed child of the tests)."""
    root = Path(__file__).resolve().parents[1]
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "manage.py", "run_converter", "--port", str(port), *extra],
            cwd=root,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "backend.config.settings.test"},
            stdout=output,
            stderr=subprocess.STDOUT,
            # Ends with the test run even when the run itself is killed (no fixture teardown then).
            preexec_fn=die_with_parent,
        )


def converter_stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the converter stops its LibreOffices), then SIGKILL if it does not stop in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session", autouse=True)
def converter_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen[bytes] | None]:
    """The converter the tests convert with, on the tests' own port, stopped when the session ends.

    Started at once (LibreOffice warms up while the first tests run); a client waits for it to answer.
    """
    from django.conf import settings

    from backend.documents.converter import converter_ready

    if converter_ready():  # another test run of this checkout serves the port already
        yield None
        return
    process = converter_start(
        port=settings.QUJAT_CONVERTER_PORT, log=tmp_path_factory.mktemp("converter") / "run_converter.log"
    )
    time.sleep(0.2)
    try:
        yield process
    finally:
        converter_stop(process)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Throttle counters and cached pages must not leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> None:
    from backend.demo.seed import seed_demo

    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        seed_demo()


@pytest.fixture
def demo(db: None) -> None:
    """The demo university; seeded again if a transactional test flushed it."""
    if not OrgUnit.objects.filter(code="university").exists():
        from backend.demo.seed import seed_demo

        seed_demo()


@pytest.fixture
def transactional_demo(transactional_db: None) -> None:
    """The demo university for tests whose transactions really commit (threads, Celery, a live server).

    A transactional test empties every table afterwards, data from migrations included, so this puts back
    what migrations would have: the default grading scale and the deployed processes.
    """
    from backend.academics.grading import install_default_scale
    from backend.demo.seed import seed_demo
    from backend.transcripts.kinds import install_default_kinds
    from backend.workflow.deployment import default_diagrams, deploy_file

    install_default_scale()
    install_default_kinds()
    for path in default_diagrams():
        deploy_file(path)
    if not OrgUnit.objects.filter(code="university").exists():
        seed_demo()


@pytest.fixture
def engine_test_process(demo: None) -> ProcessDefinition:
    """The engine's test process (tests/workflow/engine_test.bpmn), deployed."""
    from pathlib import Path

    from backend.workflow.deployment import deploy_file
    from backend.workflow.models import ProcessDefinition

    deploy_file(Path(__file__).parent / "workflow" / "engine_test.bpmn")
    return ProcessDefinition.objects.get(key="qujat_engine_test")


def user(username: str) -> User:
    return User.objects.get(username=username)


def api_as(username: str) -> APIClient:
    """An API client authenticated the way real clients are: with an issued token."""
    from backend.accounts.services import api_token_issue

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user(username))}")
    return client


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


# A test national certification authority (NCALayer's signatures): RSA certificates for registrar_head1's IIN
# and for a stranger; the tests that trust it add its root as a trust anchor.
HEAD_IIN = "800101300111"


@pytest.fixture(scope="module")
def nca() -> dict[str, Any]:
    """A test national CA with RSA signing certificates for the head of the Registrar office and for a stranger."""
    root = generate_root_ca(common_name="NCA RK test root (RSA)", organisation="НУЦ РК тест")
    issuing = generate_issuing_ca(issuer=root, common_name="NCA RK test (RSA)", organisation="НУЦ РК тест")
    head = issue_signer_certificate(issuer=issuing, full_name="ОР басшысы", position="", organisation="", iin=HEAD_IIN)
    stranger = issue_signer_certificate(
        issuer=issuing, full_name="Бөгде адам", position="", organisation="", iin="900202400222"
    )
    return {"root": root, "head": head, "stranger": stranger}
