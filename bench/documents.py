"""Render + convert a 60-row transcript: one `soffice --convert-to pdf` per document vs the warm converter.

    .venv/bin/python bench/documents.py [--warm-runs 10] [--cold-runs 5] [--fresh-profile]

Both sides render the same example (document_templates/examples/transcript.ru.json) with the product's
sandboxed docxtpl step and produce PDF/A-2b; each timed run covers render + conversion + reading the PDF.
(a) cold: a new `soffice --headless --convert-to pdf` process per document, each in a fresh temporary
directory; its LibreOffice profile is created once before timing (pass --fresh-profile to also pay for a
new profile per document, as a worker without a persistent HOME would).
(b) warm: the converter the product uses, `manage.py run_converter` (started first if none answers; start-up
not timed). (c) the same converter given --concurrent documents at once (its queue in front of its workers).
Target: (b) median ≤ 1.0 s and at least 3× faster than (a).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings.local")

import django  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))

django.setup()

from database import converter_running  # noqa: E402

from backend.documents.converter import convert_docx_to_pdf  # noqa: E402
from backend.documents.rendering import example_context, render_docx, template_path  # noqa: E402

PDFA_2B = 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}'


def render() -> bytes:
    return render_docx(
        template=template_path(kind="transcript", language="ru").read_bytes(),
        context=example_context(kind="transcript", language="ru"),
    )


def cold_convert(profile: Path | None) -> bytes:
    with tempfile.TemporaryDirectory(prefix="qujat-bench-") as work:
        workdir = Path(work)
        source = workdir / "transcript.docx"
        source.write_bytes(render())
        user_profile = profile or workdir / "profile"
        subprocess.run(
            [
                shutil.which("soffice") or "soffice",
                f"-env:UserInstallation={user_profile.as_uri()}",
                "--headless",
                "--convert-to",
                PDFA_2B,
                "--outdir",
                str(workdir),
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
        return (workdir / "transcript.pdf").read_bytes()


def warm_convert() -> bytes:
    return convert_docx_to_pdf(render())


def concurrent_convert(count: int) -> tuple[float, float]:
    """(seconds until all are done, the slowest single request) for `count` documents sent at once."""
    from concurrent.futures import ThreadPoolExecutor

    def one(_index: int) -> float:
        began = time.perf_counter()
        warm_convert()
        return time.perf_counter() - began

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=count) as pool:
        slowest = max(pool.map(one, range(count)))
    return time.perf_counter() - began, slowest


def timed(runs: int, convert: Callable[[], bytes]) -> list[float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        pdf = convert()
        seconds.append(time.perf_counter() - started)
        assert pdf.startswith(b"%PDF"), "the converter did not return a PDF"
    return seconds


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]


def describe(label: str, seconds: list[float]) -> str:
    return (
        f"{label:<42} n={len(seconds):<3} median {statistics.median(seconds):6.3f} s   "
        f"p95 {p95(seconds):6.3f} s   mean {statistics.fmean(seconds):6.3f} s   "
        f"throughput {len(seconds) / sum(seconds):5.2f} docs/s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm-runs", type=int, default=10)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--concurrent", type=int, default=20, help="documents sent at once for (c)")
    parser.add_argument("--fresh-profile", action="store_true", help="a new LibreOffice profile per cold run")
    args = parser.parse_args()

    soffice_version = subprocess.run(
        ["soffice", "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    print(f"machine      {platform.node()}: {os.cpu_count()} CPUs, {platform.platform()}")
    print(f"python       {platform.python_version()}")
    print(f"libreoffice  {soffice_version}")
    print(
        f"packages     unoserver {metadata.version('unoserver')}, docxtpl {metadata.version('docxtpl')}, "
        f"Django {metadata.version('Django')}"
    )
    print(f"settings     {os.environ['DJANGO_SETTINGS_MODULE']}")
    print("document     transcript.ru, 60 disciplines over 4 periods, 2 pages, PDF/A-2b")
    print()

    began = time.perf_counter()
    with converter_running() as started_here:
        if started_here:
            print(f"warm converter started for the benchmark in {time.perf_counter() - began:.1f} s (not timed)")
        warm_convert()  # the first conversion loads Writer's filters; not a steady-state number

        with tempfile.TemporaryDirectory(prefix="qujat-bench-profile-") as shared_profile:
            profile = None if args.fresh_profile else Path(shared_profile)
            if profile is not None:
                cold_convert(profile)  # create the profile once, outside the timing
            cold = timed(args.cold_runs, lambda: cold_convert(profile))
        warm = timed(args.warm_runs, warm_convert)
        concurrent = concurrent_convert(args.concurrent)

    cold_label = "(a) soffice per document" + (" (fresh profile)" if args.fresh_profile else "")
    print(describe(cold_label, cold))
    print(describe("(b) warm converter (unoserver)", warm))
    print(
        f"{'(c) ' + str(args.concurrent) + ' at once through the queue':<42} all done in {concurrent[0]:6.3f} s   "
        f"slowest wait+convert {concurrent[1]:6.3f} s   {args.concurrent / concurrent[0]:5.2f} docs/s"
    )
    ratio = statistics.median(cold) / statistics.median(warm)
    print(f"ratio        (a) median / (b) median = {ratio:.1f}×")
    print()
    fast = statistics.median(warm) <= 1.0
    faster = ratio >= 3.0
    print(
        f"target       (b) median ≤ 1.0 s: {'met' if fast else 'MISSED'}; ≥ 3× faster than (a): "
        f"{'met' if faster else 'MISSED'}"
    )
    return 0 if fast and faster else 1


if __name__ == "__main__":
    sys.exit(main())
