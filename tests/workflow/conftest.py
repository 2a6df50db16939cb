"""Variants of the engine's test diagram for tests that need a broken or changed one."""

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
