"""Writes the diagrams described in this folder: `.venv/bin/python bpmn/source/build.py`."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from drawing import draw  # noqa: E402

ROOT = HERE.parents[1]
TARGETS = {
    ("journal_reopen", "PROCESS"): ROOT / "bpmn" / "journal_reopen.bpmn",
    ("login_request", "PROCESS"): ROOT / "bpmn" / "login_request.bpmn",
    ("transcript_issuance", "PROCESS"): ROOT / "bpmn" / "transcript_issuance.bpmn",
    ("engine_test", "PROCESS"): ROOT / "tests" / "workflow" / "engine_test.bpmn",
    ("bench_processes", "THREE_TASKS"): ROOT / "bench" / "diagrams" / "three_tasks.bpmn",
    ("bench_processes", "LOOP"): ROOT / "bench" / "diagrams" / "loop.bpmn",
}


def main() -> None:
    import importlib

    for (module_name, attribute), target in TARGETS.items():
        module = importlib.import_module(module_name)
        target.write_text(draw(getattr(module, attribute)), encoding="utf-8")
        print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
