"""Reopening a closed electronic journal (DOMAIN.md "Process 1", RU SOP term 14 and its Kazakh variant)."""

from drawing import Flow, Lane, Node, Process

SLA = {"due": "P2D", "due_calendar": "working", "escalate_to": "registrar_head"}
DOCUMENTS = {"accept": "grade_sheet", "discipline": "disciplinary_proposal,grade_sheet"}


def titles(kk: str, ru: str, en: str) -> dict[str, str]:
    return {"title_kk": kk, "title_ru": ru, "title_en": en}


def visa(node_id: str, lane: str, col: float, name: str, kk: str, ru: str, form: str = "visa") -> Node:
    # Approvers see the explanatory note (the task page shows only the kinds named in `documents`).
    return Node(
        node_id,
        "user",
        lane,
        col,
        name,
        properties={
            **titles(kk, ru, name),
            "form": f"forms/journal_reopen/{form}.json",
            "documents": DOCUMENTS.get(form, "explanatory_note"),
            **SLA,
        },
    )


def decision(node_id: str, lane: str, col: float) -> Node:
    return Node(node_id, "xor", lane, col, "Decision?")


def refusal(node_id: str, lane: str, col: float) -> list[Node]:
    # Every end other than "Done" is a refusal: the reopen request reads its outcome from the finished case.
    return [Node(f"{node_id}_end", "end", lane, col + 0.5, "Refused", row=1)]


def refused_flows(gateway: str, node_id: str) -> list[Flow]:
    return [Flow(gateway, f"{node_id}_end", "refused", condition='decision == "refuse"')]


def returned(gateway: str) -> Flow:
    return Flow(gateway, "revise", "returned", condition='decision == "return"', via=6)


def _with(node: Node, **properties: str) -> Node:
    node.properties.update(properties)
    return node


PROCESS = Process(
    id="journal_reopen",
    name="Reopening a closed electronic journal",
    documentation=(
        "A teacher who entered wrong data asks, with an explanatory note, to reopen a closed journal. Visas: head "
        "of department, dean in charge of curation, dean of the students' school, vice-rector (or, in the Kazakh "
        "variant, the dean's council). The Registrar office reviews within 2 days and reopens the named journals "
        "for 2 days; the teacher corrects and submits the individual grade sheet; the reopen is counted and the "
        "disciplinary measure decided."
    ),
    properties={
        **titles(
            "Электрондық журналды қайта ашу",
            "Повторное открытие электронного журнала",
            "Reopening a closed electronic journal",
        ),
        "starters": "teacher",
    },
    lanes=[
        # `scope` is who steps in if the teacher has left: the head of their department.
        Lane("teacher", "Teacher", {"assignee": "initiator_id", "scope": "department"}),
        Lane("department_head", "Head of department", {"scope": "department"}),
        Lane("dean_curation", "Dean in charge of curation", {"scope": "teacher_school"}),
        Lane("school_dean", "Dean of the students' school", {"scope": "student_school"}),
        Lane("vice_rector", "Vice-rector"),
        Lane("registrar_inspector", "Senior inspector of the Registrar office"),
        Lane("registrar_head", "Head of the Registrar office"),
    ],
    nodes=[
        Node("start", "start", "teacher", 0, "Journal chosen, note filled"),
        Node(
            "prepare",
            "script",
            "teacher",
            1,
            "Generate the explanatory note",
            script=(
                "submissions = submissions + 1\n"
                "note_document = generate_note(submissions, wrong_entry_date, reason_category, reason)"
            ),
        ),
        Node("too_often", "xor", "teacher", 2, "Revised too often?", default="head_visa"),
        Node("withdrawn_end", "end", "teacher", 2.5, "Refused", row=1),
        Node(
            "revise",
            "user",
            "teacher",
            3,
            "Revise the note",
            properties={
                **titles("Түсініктемені түзету", "Исправить объяснительную", "Revise the note"),
                "form": "forms/journal_reopen/revise.json",
                **SLA,
            },
        ),
        visa(
            "head_visa",
            "department_head",
            4,
            "Head of department's visa",
            "Кафедра меңгерушісінің визасы",
            "Виза заведующего кафедрой",
        ),
        decision("head_gw", "department_head", 5),
        *refusal("head", "department_head", 5),
        visa(
            "curation_visa",
            "dean_curation",
            6,
            "Curation dean's visa",
            "Курация деканының визасы",
            "Виза декана по курации",
        ),
        decision("curation_gw", "dean_curation", 7),
        *refusal("curation", "dean_curation", 7),
        visa(
            "council",
            "school_dean",
            6,
            "Dean's council decision",
            "Деканат кеңесінің шешімі",
            "Решение совета деканата",
            form="council",
        ),
        decision("council_gw", "school_dean", 7),
        *refusal("council", "school_dean", 7),
        visa("school_visa", "school_dean", 8.5, "School dean's visa", "Мектеп деканының визасы", "Виза декана школы"),
        decision("school_gw", "school_dean", 9.5),
        *refusal("school", "school_dean", 9.5),
        visa("vice_visa", "vice_rector", 11, "Vice-rector's visa", "Проректордың визасы", "Виза проректора"),
        decision("vice_gw", "vice_rector", 12),
        *refusal("vice", "vice_rector", 12),
        Node("to_registrar", "xor", "registrar_inspector", 13),
        visa(
            "inspector_review",
            "registrar_inspector",
            14,
            "Registrar office review",
            "Тіркеуші офисінің қарауы",
            "Рассмотрение офисом регистратора",
            form="review",
        ),
        decision("inspector_gw", "registrar_inspector", 15),
        *refusal("inspector", "registrar_inspector", 15),
        _with(
            visa(
                "head_or_review",
                "registrar_head",
                16,
                "Head of the Registrar office's decision",
                "Тіркеуші офисі басшысының шешімі",
                "Решение руководителя офиса регистратора",
                form="decide",
            ),
            escalate_to="vice_rector",
        ),
        decision("head_or_gw", "registrar_head", 17),
        *refusal("head_or", "registrar_head", 17),
        Node(
            "open_journal",
            "script",
            "registrar_head",
            18,
            "Reopen the journal for 2 days",
            script='window_closes_at = reopen_journal(2, "working")',
        ),
        Node(
            "corrections",
            "user",
            "teacher",
            19,
            "Correct the journal, submit the grade sheet",
            properties={
                **titles(
                    "Журналды түзету, жеке ведомость тапсыру",
                    "Исправить журнал, сдать ведомость",
                    "Correct the journal, submit the grade sheet",
                ),
                "form": "forms/journal_reopen/corrections.json",
            },
        ),
        Node(
            "window_end",
            "boundary_timer",
            "teacher",
            19,
            "Window closed",
            attached_to="corrections",
            timer=("timeDate", "window_closes_at"),
        ),
        Node("expired", "script", "teacher", 19.9, "Close the journal (expired)", row=1, script="reopen_close(True)"),
        Node(
            "grade_sheet",
            "script",
            "teacher",
            21,
            "Generate the individual grade sheet",
            script="grade_sheet_document = generate_grade_sheet()",
        ),
        visa(
            "accept_sheet",
            "registrar_inspector",
            22,
            "Accept the grade sheet",
            "Ведомостьты қабылдау",
            "Принять ведомость",
            form="accept",
        ),
        Node("close_journal", "script", "registrar_inspector", 23, "Close the journal", script="reopen_close(False)"),
        Node("closed", "xor", "registrar_inspector", 24, default="count"),
        Node(
            "count",
            "script",
            "registrar_head",
            25,
            "Count the reopen, propose the measure",
            script="discipline = reopen_discipline()",
        ),
        Node("who_decides", "xor", "registrar_head", 26, "Variant?", default="dean_discipline"),
        _with(
            visa(
                "dean_discipline",
                "school_dean",
                27,
                "Dean's disciplinary decision",
                "Деканның тәртіптік шешімі",
                "Дисциплинарное решение декана",
                form="discipline",
            ),
            scope="teacher_school",
        ),
        _with(
            visa(
                "or_discipline",
                "registrar_head",
                27,
                "Registrar office's disciplinary decision",
                "Тіркеуші офисінің тәртіптік шешімі",
                "Дисциплинарное решение офиса регистратора",
                form="discipline",
            ),
            escalate_to="vice_rector",
        ),
        Node("decided", "xor", "registrar_head", 28, default="finish"),
        Node("finish", "script", "registrar_head", 29, "Record the outcome", script='outcome = "completed"'),
        Node("done", "end", "registrar_head", 30, "Done"),
    ],
    flows=[
        Flow("start", "prepare"),
        Flow("prepare", "too_often"),
        Flow("too_often", "withdrawn_end", "more than 5 revisions", condition="submissions > 6"),
        Flow("too_often", "head_visa"),
        Flow("revise", "prepare"),
        Flow("head_visa", "head_gw"),
        Flow("head_gw", "curation_visa", "approved", condition='decision == "approve" and routing != "deans_council"'),
        Flow(
            "head_gw",
            "council",
            "approved (dean's council)",
            condition='decision == "approve" and routing == "deans_council"',
        ),
        returned("head_gw"),
        *refused_flows("head_gw", "head"),
        Flow("curation_visa", "curation_gw"),
        Flow("curation_gw", "school_visa", "approved", condition='decision == "approve"'),
        returned("curation_gw"),
        *refused_flows("curation_gw", "curation"),
        Flow("council", "council_gw"),
        Flow("council_gw", "to_registrar", "approved", condition='decision == "approve"'),
        returned("council_gw"),
        *refused_flows("council_gw", "council"),
        Flow("school_visa", "school_gw"),
        Flow("school_gw", "vice_visa", "approved", condition='decision == "approve"'),
        returned("school_gw"),
        *refused_flows("school_gw", "school"),
        Flow("vice_visa", "vice_gw"),
        Flow("vice_gw", "to_registrar", "approved", condition='decision == "approve"'),
        returned("vice_gw"),
        *refused_flows("vice_gw", "vice"),
        Flow("to_registrar", "inspector_review"),
        Flow("inspector_review", "inspector_gw"),
        Flow("inspector_gw", "head_or_review", "approved", condition='decision == "approve"'),
        returned("inspector_gw"),
        *refused_flows("inspector_gw", "inspector"),
        Flow("head_or_review", "head_or_gw"),
        Flow("head_or_gw", "open_journal", "approved", condition='decision == "approve"'),
        *refused_flows("head_or_gw", "head_or"),
        Flow("open_journal", "corrections"),
        Flow("corrections", "grade_sheet"),
        Flow("window_end", "expired"),
        Flow("expired", "closed"),
        Flow("grade_sheet", "accept_sheet"),
        Flow("accept_sheet", "close_journal"),
        Flow("close_journal", "closed"),
        Flow("closed", "count"),
        Flow("count", "who_decides"),
        Flow(
            "who_decides",
            "or_discipline",
            "Kazakh variant: the Registrar office",
            condition='routing == "deans_council"',
        ),
        Flow("who_decides", "dean_discipline", "the dean"),
        Flow("dean_discipline", "decided"),
        Flow("or_discipline", "decided"),
        Flow("decided", "finish"),
        Flow("finish", "done"),
    ],
)
