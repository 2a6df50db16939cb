"""One journey of each user group, walked to its end in Chromium over real HTTP against the product started the
way `make run` starts it (see conftest.py): the test that would have caught the first hour's failures.

Each journey is a list of small named steps (`approve_as`, `sign_as`, …) so steps can be inserted where
the process gains one (the transcript's and the memo's signatures as the signer's own tasks). Every page the
walk opens is checked: no server error, no debug page or traceback, no raw internal key.

Run it alone: `.venv/bin/pytest tests/journeys -m browser -q` (about 5 minutes; it needs `make setup`).
"""

from __future__ import annotations

import email
import email.policy
import re
import subprocess
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests.journeys.conftest import ROOT, Product

pytestmark = [pytest.mark.browser, pytest.mark.converter]

# Long enough for a generated document (LibreOffice) or a background task (Celery's folder broker).
SLOW_MS = 90_000
ACTIVATION_LINK = re.compile(r"https?://\S+/access/activate/[A-Za-z0-9_-]+/")
# What must never reach a user: a debug page, a traceback, an internal identifier.
DEBUG_MARKS = ("Traceback", "Request Method:", "Exception Value", "DEBUG = True", "settings.py", "Django Version")
INTERNAL_KEYS = re.compile(
    r"\b(transcript_issuance|journal_reopen|login_request|[a-z]+(?:_[a-z]+)+|dept-[a-z]+|school-[a-z]+)\b"
)


@dataclass
class Walk:
    """What the journeys leave for the auditor: each finished case's page."""

    product: Product
    finished: dict[str, str] = field(default_factory=dict)


# --- what every page is checked for --------------------------------------------------------------------------


def watch(page: Any) -> Any:
    """Fail on any answer >= 500 the page receives (its own requests and htmx's alike)."""
    page.server_errors = []
    page.on(
        "response",
        lambda response: (
            page.server_errors.append(f"{response.status} {response.url}") if response.status >= 500 else None
        ),
    )
    return page


def looks_right(page: Any) -> None:
    """The page as a user sees it: no server error, no debug page, no internal key."""
    assert not page.server_errors, page.server_errors
    text = page.locator("body").inner_text()
    for mark in DEBUG_MARKS:
        assert mark not in text, f"{page.url} shows a debug page ({mark!r}):\n{text[:2000]}"
    found = INTERNAL_KEYS.findall(text)
    assert not found, f"{page.url} shows internal keys {found}:\n{text[:2000]}"


DEMO_PASSWORD = "demo"  # every demo login's


def log_in(open_page: Any, product: Product, username: str, language: str, password: str = DEMO_PASSWORD) -> Any:
    page = watch(open_page(language))
    page.goto(f"{product.url}/login/")
    looks_right(page)
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.press("#id_password", "Enter")  # the page also has the language switch's buttons
    page.wait_for_url(lambda url: "/login/" not in url)
    looks_right(page)
    assert page.evaluate("document.documentElement.lang") == language
    return page


def open_task(page: Any, product: Product, case: str) -> Any:
    """Find the case's open task in the inbox by its number and open it."""
    page.goto(f"{product.url}/inbox/?q={case}")
    looks_right(page)
    rows = page.locator("tr[data-task-id]")
    assert rows.count() == 1, f"{case}: {rows.all_inner_texts()}"
    rows.first.locator("a.task-link").click()
    page.wait_for_load_state()
    looks_right(page)
    return page.locator("[data-testid=task-form]")


def complete(page: Any, form: Any, *, decision: str | None = None, values: dict[str, Any] | None = None) -> None:
    """Fill the task's form, press the decision's button (or "Complete the task"), back in the inbox."""
    for name, value in (values or {}).items():
        field_input = form.locator(f"[name={name}]")
        kind = field_input.first.get_attribute("type")
        if kind == "radio":
            form.locator(f"input[name={name}][value={value}]").check()
        elif kind == "checkbox":
            field_input.first.set_checked(bool(value))
        else:
            field_input.fill(str(value))
    button = form.locator(f"button[data-decision={decision}]") if decision else form.locator("button.btn-primary")
    button.click()
    page.wait_for_url(re.compile(r"/inbox/"))
    looks_right(page)
    assert page.locator(".alert-success").count() == 1, page.locator("main").inner_text()[:1000]


def case_number(page: Any) -> str:
    """The case number the page shows (TR-2026-000001)."""
    text = page.locator("body").inner_text()
    found = re.search(r"\b[A-Z]{2}-\d{4}-\d{6}\b", text)
    assert found, text[:1000]
    return found.group(0)


# --- 1. a student's transcript (Kazakh) ----------------------------------------------------------------------


def request_transcript_as(open_page: Any, product: Product, student: str) -> tuple[Any, str]:
    page = log_in(open_page, product, student, "kk")
    page.goto(f"{product.url}/transcripts/new/")
    looks_right(page)
    page.fill("#id_reason", "Жұмыс берушіге ұсыну үшін")
    page.click("main form button[type=submit].btn-primary")
    page.wait_for_url(re.compile(r"/transcripts/\d+/$"))
    looks_right(page)
    return page, page.url


def approve_as(open_page: Any, product: Product, username: str, case: str, language: str = "ru") -> None:
    page = log_in(open_page, product, username, language)
    form = open_task(page, product, case)
    complete(page, form, decision="approve")
    page.context.close()  # one browser profile per person and step; a long walk keeps few open


SIGNING_PASSPHRASE = "demo"  # every demo signer's (seed_demo)


def open_signing_task(page: Any, product: Product, case: str) -> Any:
    """Open the case's signature step once its document is generated (a Celery worker generates it)."""
    form = open_task(page, product, case)
    deadline = timezone.now() + timedelta(milliseconds=SLOW_MS)
    while not page.get_by_test_id("pdf-viewer").count():
        assert timezone.now() < deadline, page.locator("main").inner_text()[:1500]
        page.wait_for_timeout(2_000)
        page.reload()
        looks_right(page)
    assert page.get_by_test_id("signing").count() == 1, page.locator("main").inner_text()[:1500]
    return form


def sign_as(
    open_page: Any,
    product: Product,
    username: str,
    case: str,
    *,
    language: str = "ru",
    decision: str | None = None,
    values: dict[str, Any] | None = None,
    page: Any = None,
) -> None:
    """The signer opens the signature step, sees the document, types the passphrase and signs."""
    own_page = page is None
    page = page if page is not None else log_in(open_page, product, username, language)
    form = open_signing_task(page, product, case)
    form.locator("#signing-passphrase").fill(SIGNING_PASSPHRASE)
    complete(page, form, decision=decision, values=values)
    if own_page:
        page.context.close()


def wait_until_numbered(page: Any, url: str) -> str:
    """The approval numbers the transcript in its own transaction; the student's page then shows the number."""
    deadline = timezone.now() + timedelta(milliseconds=SLOW_MS)
    while True:
        page.goto(url)
        looks_right(page)
        found = re.search(r"\b[A-Z]{2}-\d{4}-\d{6}\b", page.locator("body").inner_text())
        if found:
            return found.group(0)
        assert timezone.now() < deadline, page.locator("main").inner_text()[:1500]
        page.wait_for_timeout(2_000)


def wait_until_issued(page: Any, url: str) -> None:
    """The signer's signature issues the transcript; its registration may follow in a Celery worker."""
    deadline = timezone.now() + timedelta(milliseconds=SLOW_MS)
    while True:
        page.goto(url)
        looks_right(page)
        if page.locator("main a[href$='pdf?download=1']").count():
            return
        assert timezone.now() < deadline, page.locator("main").inner_text()[:1500]
        page.wait_for_timeout(2_000)


def download_signed_pdf(page: Any, into: Path) -> Path:
    with page.expect_download() as info:
        page.click("main a[href$='pdf?download=1']")
    target = into / info.value.suggested_filename
    info.value.save_as(target)
    return target


def assert_signed_pdf(product: Product, pdf: Path) -> None:
    """A PDF whose signature pyHanko's own command line finds intact and trusted (the university's root)."""
    assert pdf.read_bytes().startswith(b"%PDF-")
    root = pdf.parent / "root.pem"
    product.manage("export_trust_root", str(root))
    checked = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "pyhanko"),
            "sign",
            "validate",
            "--executive-summary",
            "--no-revocation-check",
            "--trust-replace",
            "--trust",
            str(root),
            str(pdf),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip().endswith(":VALID"), checked.stdout


def a_student_gets_a_signed_transcript(open_page: Any, walk: Walk, tmp_path: Path) -> None:
    product = walk.product
    student, url = request_transcript_as(open_page, product, "student2")
    # Before issuance the student's page names the student, not a number: the Registrar office finds the
    # request in the inbox by the student's surname.
    surname = student.locator("main h1").first.inner_text().split("—")[-1].split()[0]
    approve_as(open_page, product, "registrar_staff1", surname, language="kk")
    # The approval numbers the transcript; a worker generates the PDF; the head of the Registrar office signs it
    # in her own task ('Sign the transcript') with her passphrase; then the student downloads the signed PDF.
    case = wait_until_numbered(student, url)
    sign_as(open_page, product, "registrar_head1", case, language="kk", values={"confirm": True})
    wait_until_issued(student, url)
    pdf = download_signed_pdf(student, tmp_path)
    assert_signed_pdf(product, pdf)
    walk.finished["transcript"] = url


# --- 2. a teacher's reopen request (Russian) -----------------------------------------------------------------


def file_reopen_request_as(open_page: Any, product: Product, teacher: str) -> tuple[Any, str]:
    page = log_in(open_page, product, teacher, "ru")
    page.goto(f"{product.url}/reopen/new/")
    looks_right(page)
    page.select_option("#id_journal", index=1)
    page.fill("#id_wrong_entry_date", str(timezone.localdate() - timedelta(days=21)))
    page.select_option("#id_reason_category", "wrong_grade")
    page.fill("#id_reason", "Перепутаны баллы двух студентов при внесении")
    page.click("main form button[type=submit].btn-primary")
    page.wait_for_url(re.compile(r"/reopen/\d+/$"))
    looks_right(page)
    return page, page.url


def correct_a_mark(page: Any, url: str) -> None:
    page.goto(url)
    looks_right(page)
    cell = page.locator("main table form").first
    cell.locator("input[name=value]").fill("75")
    cell.locator("button[type=submit]").click()
    page.wait_for_load_state()
    looks_right(page)
    assert page.locator(".alert-success").count() == 1


def finish_corrections_as(page: Any, product: Product, case: str) -> None:
    form = open_task(page, product, case)
    complete(page, form, values={"done": True})


def accept_grade_sheet_as(open_page: Any, product: Product, username: str, case: str) -> None:
    page = log_in(open_page, product, username, "ru")
    form = open_task(page, product, case)
    complete(page, form, values={"accepted": True})
    page.context.close()


def decide_discipline_as(open_page: Any, product: Product, username: str, case: str) -> None:
    page = log_in(open_page, product, username, "ru")
    form = open_task(page, product, case)
    complete(
        page,
        form,
        values={
            "teacher_measure": "oral_warning",
            "department_measure": "none",
            "reference": "Справка № 17",
            "reference_date": str(timezone.localdate()),
        },
    )
    page.context.close()


def a_teacher_s_reopen_request_goes_through_its_visas(open_page: Any, walk: Walk) -> None:
    product = walk.product
    teacher, url = file_reopen_request_as(open_page, product, "teacher2")
    case = case_number(teacher)
    for visa in ("department_head1", "dean_curation1", "school_dean1", "vice_rector1"):
        approve_as(open_page, product, visa, case)
    approve_as(open_page, product, "registrar_inspector1", case)
    approve_as(open_page, product, "registrar_head1", case)
    correct_a_mark(teacher, url)
    finish_corrections_as(teacher, product, case)
    accept_grade_sheet_as(open_page, product, "registrar_inspector1", case)
    decide_discipline_as(open_page, product, "school_dean1", case)
    teacher.goto(url)
    looks_right(teacher)
    walk.finished["reopen"] = url


# --- 3. a department head's login request (Kazakh), the new teacher's first login (Russian) --------------------

NEW_TEACHER = {
    "position": "Ассистент",
    "last_name": "Әбдіғалиева",
    "first_name": "Гүлнұр",
    "patronymic": "Қайратқызы",
    "email": "g.abdigaliyeva@new.kaznmu.kz",
    "language": "ru",
}


def file_login_request_as(open_page: Any, product: Product, head: str) -> tuple[Any, str]:
    page = log_in(open_page, product, head, "kk")
    page.goto(f"{product.url}/access/new/")
    looks_right(page)
    for name in ("position", "last_name", "first_name", "patronymic", "email"):
        page.fill(f"#id_teachers-0-{name}", NEW_TEACHER[name])
    page.fill("#id_teachers-0-start_date", str(timezone.localdate() + timedelta(days=7)))
    page.select_option("#id_teachers-0-language", NEW_TEACHER["language"])
    page.select_option("#id_teachers-0-journals", index=0)
    page.click("main form button[name=send]")
    page.wait_for_url(re.compile(r"/access/\d+/$"))
    looks_right(page)
    return page, page.url


def provision_as(open_page: Any, product: Product, username: str, case: str) -> None:
    page = log_in(open_page, product, username, "ru")
    form = open_task(page, product, case)
    complete(page, form, values={"done": True})
    page.context.close()


def activation_link(product: Product, address: str) -> str:
    """The link in the mail written under var/mail/ (the embedded default's outbox)."""
    deadline = timezone.now() + timedelta(milliseconds=SLOW_MS)
    while True:
        for path in sorted(product.mail.glob("*.log")) if product.mail.exists() else []:
            for chunk in path.read_text().split("-" * 79):
                if not chunk.strip():
                    continue
                message = email.message_from_string(chunk.strip(), policy=email.policy.default)
                if address in str(message["To"]):
                    body = message.get_body(preferencelist=("plain",))
                    found = ACTIVATION_LINK.search(body.get_content() if body else "")
                    if found:
                        return found.group(0)
        assert timezone.now() < deadline, f"no activation link was mailed to {address}"
        time.sleep(1)


def set_password_and_log_in(open_page: Any, product: Product, link: str, password: str) -> None:
    page = watch(open_page("ru"))
    page.goto(link)
    looks_right(page)
    username = page.locator("main strong").first.inner_text()
    page.fill("input[name=password]", password)
    page.fill("input[name=password_again]", password)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    looks_right(page)
    assert page.locator("[data-testid=link-refused]").count() == 0
    log_in(open_page, product, username, "ru", password=password)


def a_department_head_s_login_request_ends_with_the_teacher_logged_in(open_page: Any, walk: Walk) -> None:
    product = walk.product
    head, url = file_login_request_as(open_page, product, "department_head1")
    case = case_number(head)
    # The head signs the memo in her own signature step, with her passphrase, once the memo is generated.
    sign_as(open_page, product, "department_head1", case, decision="sign", page=head)
    approve_as(open_page, product, "it_head1", case)
    provision_as(open_page, product, "it_staff1", case)
    link = activation_link(product, NEW_TEACHER["email"])
    set_password_and_log_in(open_page, product, link, "Kokterek-2030!")
    walk.finished["login request"] = url


# --- 4. an auditor opens the finished cases ------------------------------------------------------------------


def an_auditor_opens_the_finished_cases(open_page: Any, walk: Walk) -> None:
    page = log_in(open_page, walk.product, "auditor1", "ru")
    for url in walk.finished.values():
        page.goto(url)
        looks_right(page)
        history = page.locator("main .history-event")
        assert history.count() >= 3, f"{url}: {history.all_inner_texts()}"
    # A page that does not exist: the product's own 404 in the reader's language, no debug page.
    answer = page.goto(f"{walk.product.url}/no-such-page/")
    assert answer is not None
    assert answer.status == 404
    looks_right(page)


# --- the walk --------------------------------------------------------------------------------------------------


def test_one_journey_of_each_user_group_to_its_end(open_page: Any, product: Product, tmp_path: Path) -> None:
    """One test, so the auditor's step always follows the journeys it audits (also under pytest-xdist)."""
    walk = Walk(product=product)
    a_student_gets_a_signed_transcript(open_page, walk, tmp_path)
    a_teacher_s_reopen_request_goes_through_its_visas(open_page, walk)
    a_department_head_s_login_request_ends_with_the_teacher_logged_in(open_page, walk)
    an_auditor_opens_the_finished_cases(open_page, walk)
