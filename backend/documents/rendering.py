"""Filling .docx templates: the only place that runs docxtpl, always sandboxed and autoescaped."""

from __future__ import annotations

import json
import logging
import zipfile
from collections.abc import Iterator, Mapping
from io import BytesIO
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from docx import Document
from docxcompose.composer import Composer
from docxtpl import DocxTemplate
from jinja2 import ChainableUndefined, TemplateError, TemplateSyntaxError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree

from .exceptions import TemplateRefused

logger = logging.getLogger(__name__)

LEFTOVER_TAGS = ("{{", "}}", "{%", "%}", "{#", "#}")
WORD_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
# The parts of a .docx that docxtpl renders and that a reader sees.
TEXT_PARTS = ("word/document.xml", "word/header", "word/footer", "word/footnotes.xml", "word/endnotes.xml")


class _Sandbox(SandboxedEnvironment):
    """Jinja's sandbox, but unsafe attribute access fails at once instead of printing nothing.

    The stock sandbox turns `{{ cycler.__init__ }}` into a silent blank and only raises one step later;
    an administrator probing it should see a refusal, not an empty line in an official document.
    """

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        raise SecurityError(f"access to attribute {attribute!r} of {type(obj).__name__!r} object is not allowed")


def sandbox() -> SandboxedEnvironment:
    # Autoescape: without it `&` and `<` in data silently vanish from the document (lxml drops them).
    # ChainableUndefined: a missing key prints as a blank even when nested (`teacher.name` without a
    # `teacher`), as the templates README promises, instead of failing the whole document.
    return _Sandbox(autoescape=True, undefined=ChainableUndefined)


def template_path(*, kind: str, language: str) -> Path:
    return Path(settings.DOCUMENT_TEMPLATES_DIR) / f"{kind}.{language}.docx"


def example_context(*, kind: str, language: str) -> dict[str, Any]:
    """The realistic example shipped with the template (document_templates/examples/<kind>.<lang>.json)."""
    path = Path(settings.DOCUMENT_TEMPLATES_DIR) / "examples" / f"{kind}.{language}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def render_docx(*, template: bytes, context: Mapping[str, Any]) -> bytes:
    """Fill a .docx template with the context; refuse unsafe, broken or incompletely rendered templates."""
    try:
        document = DocxTemplate(BytesIO(template))
        document.init_docx()
    except Exception as error:  # python-docx raises many types for a file that is not a .docx
        raise TemplateRefused(
            _("The file is not a Word document (.docx): %(error)s") % {"error": error},
            fields={"file": [str(_("Not a Word document (.docx)."))]},
        ) from error
    try:
        document.render(dict(context), jinja_env=sandbox())
        output = BytesIO()
        document.save(output)
    except SecurityError as error:
        raise TemplateRefused(
            _("The template was refused: it tries to reach Python internals, which templates may not do (%(error)s).")
            % {"error": error},
            code="template_unsafe",
            fields={"file": [str(_("The template tries to reach Python internals."))]},
        ) from error
    except TemplateSyntaxError as error:
        raise TemplateRefused(
            _("The template has a broken tag: %(error)s. Retype the tag in one go (see the templates README).")
            % {"error": error.message},
            fields={"file": [str(_("The template has a broken tag."))]},
        ) from error
    except TemplateError as error:
        raise TemplateRefused(
            _("The template could not be filled: %(error)s.") % {"error": error},
            fields={"file": [str(_("The template could not be filled."))]},
        ) from error
    except Exception as error:  # broken XML after rendering, a filter fed the wrong type, ...
        logger.exception("rendering a template failed")
        raise TemplateRefused(
            _("The template could not be filled: %(error)s.") % {"error": f"{type(error).__name__}: {error}"},
            fields={"file": [str(_("The template could not be filled."))]},
        ) from error
    rendered = output.getvalue()
    leftovers = leftover_tags(docx=rendered, context=context)
    if leftovers:
        raise TemplateRefused(
            _(
                "The template leaves Jinja tags in the document, probably a tag that Word split or that "
                "was mistyped: %(where)s. Retype the tag in one go (see the templates README)."
            )
            % {"where": "; ".join(f"“{snippet}”" for snippet in leftovers[:3])},
            fields={"file": [str(_("The template leaves Jinja tags in the document."))]},
        )
    return rendered


def template_check(*, kind: str, language: str, template: bytes) -> None:
    """Refuse (TemplateRefused) a template that does not render cleanly with its kind's example."""
    render_docx(template=template, context=example_context(kind=kind, language=language))


def docx_append(*, main: bytes, appendix: bytes) -> bytes:
    """One .docx: the main document followed by the appendix (the approval sheet starts a new page)."""
    composer = Composer(Document(BytesIO(main)))
    composer.append(Document(BytesIO(appendix)))
    output = BytesIO()
    composer.save(output)
    return output.getvalue()


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def _paragraph_texts(docx: bytes) -> Iterator[str]:
    with zipfile.ZipFile(BytesIO(docx)) as package:
        for name in package.namelist():
            if not name.startswith(TEXT_PARTS) or not name.endswith(".xml"):
                continue
            root = etree.fromstring(package.read(name))
            for paragraph in root.iter(f"{{{WORD_NS}}}p"):
                yield "".join(node.text or "" for node in paragraph.iter(f"{{{WORD_NS}}}t"))


def leftover_tags(*, docx: bytes, context: Mapping[str, Any]) -> list[str]:
    """Paragraph snippets that still hold a Jinja tag after rendering.

    Data is printed literally (a value may legitimately contain "{{"), so text that comes from the
    context is taken out before looking.
    """
    data = sorted(
        {text for text in _strings(context) if any(tag in text for tag in LEFTOVER_TAGS)},
        key=len,
        reverse=True,
    )
    found = []
    for text in _paragraph_texts(docx):
        for value in data:
            text = text.replace(value, " ")
        for tag in LEFTOVER_TAGS:
            position = text.find(tag)
            if position >= 0:
                found.append(text[max(position - 20, 0) : position + 40].strip())
                break
    return found
