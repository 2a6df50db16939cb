"""Transcript benchmark: one 60-discipline transcript from approval to signed PDF, and a group batch.

    .venv/bin/python bench/transcripts.py [--runs 10] [--batch 15]

Uses DATABASE_URL when set (a `<name>_transcripts` database is created and dropped), otherwise SQLite.
The LibreOffice converter is started (warm) before measuring. Prints medians; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from decimal import Decimal

from database import bench_database, converter_running, setup_django


def student_with_60_disciplines() -> int:
    """A student whose record holds 60 final grades over 4 semesters, retakes included."""
    from backend.academics.models import AcademicPeriod, Discipline, Student
    from backend.academics.services import final_grade_record
    from backend.accounts.models import OrgUnit

    student = Student.objects.select_related("group").get(user__username="student2")
    student.grades.all().delete()
    department = OrgUnit.objects.get(code="dept-anatomy")
    periods = list(AcademicPeriod.objects.filter(term__in=[1, 2]).order_by("starts_on")[:4])
    for n in range(60):
        discipline = Discipline.objects.create(
            code=f"BEN {n:04d}",
            name_kk=f"Пән № {n} — ӘҒҚҢӨҰҮҺІ",
            name_ru=f"Дисциплина № {n} & «практика»",
            name_en=f"Discipline {n}",
            credits=3 + n % 4,
            department=department,
        )
        points = Decimal(40 + (n * 7) % 61)
        final_grade_record(student=student, discipline=discipline, period=periods[n % 4], points=points)
        if points < 50:
            final_grade_record(
                student=student, discipline=discipline, period=periods[n % 4], points=Decimal(75), attempt=2
            )
    return student.pk


def approve_one(username: str) -> tuple[float, float]:
    """(the approval's transaction, in which the number is taken; approval → generated → the signer's signature)."""
    from backend.accounts.models import User
    from backend.documents.services import document_generate
    from backend.workflow import services as workflow
    from backend.workflow.models import HumanTask

    student = User.objects.get(username=username)
    instance = workflow.instance_start(
        process_key="transcript_issuance", user=student, data={"reason": "benchmark", "language": "ru"}
    )
    task = HumanTask.objects.get(instance=instance, spec_id="review")
    staff = User.objects.get(username="registrar_staff1")
    began = time.perf_counter()
    workflow.task_complete(task_id=task.pk, user=staff, data={"decision": "approve", "problems_acknowledged": True})
    approved = time.perf_counter() - began
    instance.refresh_from_db()
    # What a worker does after the approval commits (run here, in this process, to time it), then the signer.
    document_generate(document_id=instance.transcript_request.document_id)
    from backend.signatures.task_signing import task_sign

    signature = HumanTask.objects.get(instance=instance, spec_id="sign_registrar")
    head = User.objects.get(username="registrar_head1")
    task_sign(task_id=signature.pk, user=head, passphrase="demo", data={"confirm": True})  # noqa: S106
    issued = time.perf_counter() - began
    instance.refresh_from_db()
    assert instance.transcript_request.issued_at is not None, instance.incident
    return approved, issued


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=15, help="students in the batch (the demo graduates: 15)")
    args = parser.parse_args()
    with bench_database("transcripts") as database:
        setup_django()
        with converter_running():
            run(args, database)


def run(args: argparse.Namespace, database: str) -> None:
    from backend.academics.models import Student
    from backend.transcripts.models import Batch, TranscriptKind
    from backend.transcripts.services import batch_run

    student_with_60_disciplines()
    print(
        f"Qujat transcript benchmark — {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, database: {database}"
    )
    approve_one("student2")  # warm the converter, fonts and caches
    pairs = [approve_one("student2") for _ in range(args.runs)]
    approvals = sorted(approved for approved, _issued in pairs)
    print(
        f"the approval's transaction, which takes the number (and so holds its lock) ({args.runs} runs): "
        f"median {statistics.median(approvals) * 1000:.0f} ms, max {approvals[-1] * 1000:.0f} ms"
    )
    times = [issued for _approved, issued in pairs]
    ordered = sorted(times)
    print(
        f"one transcript, 60 disciplines, approval → numbered, generated → the signer's signature ({args.runs} runs):"
    )
    print(
        f"    median {statistics.median(times):.3f} s, p95 {ordered[max(0, int(len(ordered) * 0.95) - 1)]:.3f} s, "
        f"min {ordered[0]:.3f} s, max {ordered[-1]:.3f} s"
    )

    graduates = Student.objects.filter(status="graduated").select_related("group").first()
    assert graduates is not None
    from backend.accounts.models import User

    batch = Batch.objects.create(
        group=graduates.group,
        kind=TranscriptKind.objects.get(code="standard"),
        language="kk",
        reason="benchmark",
        requested_by=User.objects.get(username="registrar_staff1"),
        total=min(args.batch, graduates.group.students.count()),
    )
    began = time.perf_counter()
    batch = batch_run(batch_id=batch.pk)
    elapsed = time.perf_counter() - began
    issued = batch.done  # numbered and generated; the signer signs them (bench/signing.py measures that)
    print(
        f"batch: {issued} transcripts (to sign) of ~20 disciplines for group {graduates.group.name} in {elapsed:.1f} s "
        f"= {issued / elapsed:.2f} transcripts/s ({elapsed / max(issued, 1):.2f} s each), failed: {batch.failed}"
    )


if __name__ == "__main__":
    main()
