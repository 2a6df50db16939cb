"""Render every template with its example context, convert to PDF and check the result.

    .venv/bin/python document_templates/source/check_templates.py [kind ...] [--out DIR]

For each ``<kind>.<lang>.docx`` and ``examples/<kind>.<lang>.json``:

1. render once with ``StrictUndefined`` (a misspelt tag or a missing example key fails loudly), then for
   real exactly as the product does: docxtpl + ``SandboxedEnvironment(autoescape=True)``;
2. convert to PDF with ``soffice --headless --convert-to pdf`` and extract the text with
   ``pdftotext -layout``;
3. check that the text contains every leaf value of the example (names with Kazakh letters, ``&``, ``<``,
   quotes, every transcript row) and no leftover ``{{`` / ``{%`` / ``}}`` / ``%}``;
4. render the optional paragraphs' "off" variants (late note, transcript without verification URL) and
   check that they disappear;
5. print page counts and write a 60-dpi PNG of each first page next to the PDFs for a visual check.

This is a developer tool, not part of the test suite. It needs LibreOffice and poppler-utils.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from docx import Document
from docxtpl import DocxTemplate
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

TEMPLATES_DIR = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = TEMPLATES_DIR / "examples"
DEFAULT_OUT = Path(tempfile.gettempdir()) / "qujat_template_check"
LEFTOVER_TAGS = ("{{", "}}", "{%", "%}", "{#", "#}")

# Context keys a template deliberately does not print (every template receives the common keys), by
# kind or by "kind.lang".
NOT_PRINTED: dict[str, set[str]] = {
    "calendar_plan": {"number", "date", "ais_name"},
    "explanatory_note.kk": {"dean_curation", "school_dean"},  # the Kazakh form has no such signatures
    "transcript": {"ais_name", "holder.last_name", "holder.first_name", "holder.patronymic"},
    "approval_sheet": {"university", "ais_name"},
}

# Expected page counts (inclusive range) with the example contexts.
PAGES: dict[str, tuple[int, int]] = {"transcript": (2, 3), "approval_sheet": (1, 1)}


@dataclass(frozen=True)
class Variant:
    """A change to the example context and a phrase that must then be absent from the PDF."""

    suffix: str
    overrides: dict
    phrase: dict[str, str]


VARIANTS: dict[str, Variant] = {
    "explanatory_note": Variant(
        "on_time",
        {"late": False, "late_days": ""},
        {"ru": "нарушением срока", "kk": "Мерзімі бұзылып"},
    ),
    "transcript": Variant(
        "no_url",
        {"verification_url": ""},
        {"kk": "Түпнұсқалығын тексеру", "ru": "Проверить подлинность", "en": "Verify at"},
    ),
}


@dataclass
class Result:
    name: str
    pages: int = 0
    problems: list[str] = field(default_factory=list)
    wrapped: list[str] = field(default_factory=list)


def leaf_values(value, path: str = "") -> Iterator[tuple[str, str]]:
    """(dotted path, string) for every non-empty string leaf; list indexes are left out of the path."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaf_values(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for item in value:
            yield from leaf_values(item, path)
    elif isinstance(value, str) and value.strip():
        yield path, value


def is_printed(name: str, path: str) -> bool:
    kind = name.split(".")[0]
    skipped = NOT_PRINTED.get(kind, set()) | NOT_PRINTED.get(name, set())
    return not any(path == key or path.startswith(key + ".") for key in skipped)


def render(template: Path, context: dict, target: Path) -> None:
    strict = DocxTemplate(template)
    strict.render(context, jinja_env=SandboxedEnvironment(autoescape=True, undefined=StrictUndefined))
    document = DocxTemplate(template)
    document.render(context, jinja_env=SandboxedEnvironment(autoescape=True))
    document.save(target)


def docx_text(path: Path) -> str:
    """All paragraph texts of a .docx (body, tables, footers), one per line."""
    document = Document(path)
    lines = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                lines.extend(paragraph.text for paragraph in cell.paragraphs)
    for section in document.sections:
        lines.extend(paragraph.text for paragraph in section.footer.paragraphs)
    return "\n".join(lines)


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        sys.exit(f"{name} not found (install LibreOffice and poppler-utils)")
    return path


def convert_to_pdf(documents: list[Path], out_dir: Path) -> None:
    profile = out_dir / "lo-profile"
    subprocess.run(  # noqa: S603 - fixed arguments, our own files
        [
            tool("soffice"),
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out_dir),
            *map(str, documents),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )


def pdf_text(pdf: Path, mode: str = "-layout") -> str:
    return subprocess.run(  # noqa: S603
        [tool("pdftotext"), mode, str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def pdf_pages(pdf: Path) -> int:
    info = subprocess.run(  # noqa: S603
        [tool("pdfinfo"), str(pdf)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))


def first_page_png(pdf: Path) -> None:
    subprocess.run(  # noqa: S603
        [
            tool("pdftoppm"),
            "-r",
            "60",
            "-f",
            "1",
            "-l",
            "1",
            "-png",
            "-singlefile",
            str(pdf),
            str(pdf.with_suffix("")),
        ],
        check=True,
        capture_output=True,
    )


def contains(layout: str, raw: str, value: str) -> str | None:
    """Whether ``value`` is in the PDF text.

    "exact": in the ``-layout`` text with whitespace collapsed. "wrapped": a value wrapped inside a
    table cell is interleaved with its neighbours by ``-layout``, so look for it, ignoring whitespace, in
    the ``-raw`` text (content-stream order keeps a cell's lines together). None: missing.
    """
    if " ".join(value.split()) in " ".join(layout.split()):
        return "exact"
    if "".join(value.split()) in "".join(raw.split()):
        return "wrapped"
    return None


def check_text(result: Result, name: str, context: dict, pdf: str, raw: str, docx: str) -> None:
    for tag in LEFTOVER_TAGS:
        if tag in pdf:
            result.problems.append(f"PDF still contains {tag!r}")
        if tag in docx:
            result.problems.append(f"rendered .docx still contains {tag!r}")
    for path, value in leaf_values(context):
        if not is_printed(name, path):
            continue
        if value not in docx:
            result.problems.append(f"{path}: {value!r} missing from the rendered .docx text")
        found = contains(pdf, raw, value)
        if found is None:
            result.problems.append(f"{path}: {value!r} missing from the PDF text")
        elif found == "wrapped":
            result.wrapped.append(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kinds", nargs="*", help="template kinds to check (default: all)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"work directory (default {DEFAULT_OUT})")
    args = parser.parse_args()
    out_dir: Path = args.out
    out_dir.mkdir(parents=True, exist_ok=True)

    templates = sorted(TEMPLATES_DIR.glob("*.docx"))
    examples = {path.stem for path in EXAMPLES_DIR.glob("*.json")}
    names = {path.stem for path in templates}
    problems = [f"template {name}.docx has no example" for name in sorted(names - examples)]
    problems += [f"example {name}.json has no template" for name in sorted(examples - names)]
    if args.kinds:
        templates = [path for path in templates if path.stem.split(".")[0] in args.kinds]

    jobs: list[tuple[Result, str, str, dict, Path, Variant | None]] = []
    for template in templates:
        name = template.stem
        kind, lang = name.split(".")
        context = json.loads((EXAMPLES_DIR / f"{name}.json").read_text(encoding="utf-8"))
        rendered = out_dir / f"{name}.docx"
        result = Result(name)
        try:
            render(template, context, rendered)
        except Exception as error:  # report every template, not just the first failure
            result.problems.append(f"render failed: {type(error).__name__}: {error}")
            problems.extend(f"{name}: {problem}" for problem in result.problems)
            continue
        jobs.append((result, kind, lang, context, rendered, None))
        variant = VARIANTS.get(kind)
        if variant:
            variant_context = copy.deepcopy(context) | variant.overrides
            variant_doc = out_dir / f"{name}.{variant.suffix}.docx"
            render(template, variant_context, variant_doc)
            jobs.append((Result(f"{name}.{variant.suffix}"), kind, lang, variant_context, variant_doc, variant))

    convert_to_pdf([job[4] for job in jobs], out_dir)

    print(f"{'template':42} pages  wrapped  result")
    for result, kind, lang, context, rendered, variant in jobs:
        pdf = rendered.with_suffix(".pdf")
        text, raw, docx = pdf_text(pdf), pdf_text(pdf, "-raw"), docx_text(rendered)
        result.pages = pdf_pages(pdf)
        first_page_png(pdf)
        check_text(result, f"{kind}.{lang}", context, text, raw, docx)
        if variant is not None and variant.phrase[lang] in text:
            result.problems.append(f"{variant.phrase[lang]!r} should be absent in the {variant.suffix} variant")
        if variant is None and kind in VARIANTS and VARIANTS[kind].phrase[lang] not in text:
            result.problems.append(f"optional line {VARIANTS[kind].phrase[lang]!r} not printed")
        low, high = PAGES.get(kind, (1, 2))
        if not low <= result.pages <= high:
            result.problems.append(f"{result.pages} pages, expected {low}–{high}")
        status = "ok" if not result.problems else f"{len(result.problems)} problem(s)"
        print(f"{result.name:42} {result.pages:5}  {len(result.wrapped):7}  {status}")
        problems.extend(f"{result.name}: {problem}" for problem in result.problems)

    print(f"\nPDFs and first-page PNGs: {out_dir}")
    if problems:
        print("\nPROBLEMS:")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print("all templates render cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
