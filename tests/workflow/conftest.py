"""Variants of the engine's test diagram for tests that need a broken or changed one."""

import re
from pathlib import Path

DIAGRAM = Path(__file__).with_name("engine_test.bpmn")


def diagram_variant(directory: Path, name: str, old: str, new: str) -> Path:
    """A copy of the test diagram (with its forms) with one change."""
    import shutil

    text = DIAGRAM.read_text()
    assert old in text, old
    shutil.copytree(DIAGRAM.with_name("forms"), directory / "forms", dirs_exist_ok=True)
    path = directory / name
    path.write_text(text.replace(old, new, 1))
    return path


# Attributes that name an element by id; property values (purpose="review", stage="review") stay as they are.
_REFERENCES = re.compile(r'\b(id|sourceRef|targetRef|bpmnElement|attachedToRef|default)="([^"]+)"')


def diagram_with_renamed_steps(source: Path, directory: Path, renamed: dict[str, str]) -> Path:
    """A copy of a diagram (with its forms) whose steps got new ids, as a modeler renaming them would leave it."""
    import shutil

    text = _REFERENCES.sub(lambda m: f'{m.group(1)}="{renamed.get(m.group(2), m.group(2))}"', source.read_text())
    for old, new in renamed.items():
        text = text.replace(
            f"<bpmn:flowNodeRef>{old}</bpmn:flowNodeRef>", f"<bpmn:flowNodeRef>{new}</bpmn:flowNodeRef>"
        )
    shutil.copytree(source.parent / "forms", directory / "forms")
    path = directory / source.name
    path.write_text(text)
    return path
