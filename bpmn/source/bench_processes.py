"""Processes the benchmarks run: three user tasks in a row, and a loop of one task that grows an instance."""

from drawing import Flow, Lane, Node, Process

THREE_TASKS = Process(
    id="qujat_bench_three_tasks",
    name="Benchmark: three user tasks",
    properties={"title_en": "Benchmark: three user tasks"},
    lanes=[Lane("registrar_staff", "Registrar", {"assignee": "initiator_id"})],
    nodes=[
        Node("start", "start", "registrar_staff", 0),
        Node("first", "user", "registrar_staff", 1, "First", properties={"form": "forms/step.json"}),
        Node("second", "user", "registrar_staff", 2, "Second", properties={"form": "forms/step.json"}),
        Node("third", "user", "registrar_staff", 3, "Third", properties={"form": "forms/step.json"}),
        Node("end", "end", "registrar_staff", 4),
    ],
    flows=[Flow("start", "first"), Flow("first", "second"), Flow("second", "third"), Flow("third", "end")],
)

LOOP = Process(
    id="qujat_bench_loop",
    name="Benchmark: a task repeated until done",
    properties={"title_en": "Benchmark: loop"},
    lanes=[Lane("registrar_staff", "Registrar", {"assignee": "initiator_id"})],
    nodes=[
        Node("start", "start", "registrar_staff", 0),
        Node("step", "user", "registrar_staff", 1, "Step", properties={"form": "forms/step.json"}),
        Node("more", "xor", "registrar_staff", 2, "More?", default="end"),
        Node("end", "end", "registrar_staff", 3),
    ],
    flows=[
        Flow("start", "step"),
        Flow("step", "more"),
        Flow("more", "step", "again", condition="not done", via=0),
        Flow("more", "end", "done"),
    ],
)
