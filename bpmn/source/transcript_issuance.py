"""Transcript issuance from the student's personal cabinet (DOMAIN.md "Process 2", СОР-2/21)."""

from drawing import Flow, Lane, Node, Process


def titles(kk: str, ru: str, en: str) -> dict[str, str]:
    return {"title_kk": kk, "title_ru": ru, "title_en": en}


# The service time is 3 days from the request: every registrar step shares that one deadline.
SLA = {"due_from": "issue_due", "escalate_to": "registrar_head"}


def sign_task(node_id: str, lane: str) -> Node:
    return Node(
        node_id,
        "user",
        lane,
        6,
        "Sign the transcript",
        properties={
            **titles("Транскриптке қол қою", "Подписать транскрипт", "Sign the transcript"),
            "form": "forms/transcript_issuance/sign.json",
            "scope": "signer_unit",
            "documents": "transcript",
            **SLA,
        },
    )


PROCESS = Process(
    id="transcript_issuance",
    name="Transcript issuance",
    documentation=(
        "A student or graduate asks in the personal cabinet for a transcript of the whole study or chosen periods, "
        "stating the reason. Registrar staff check the preview computed from the records and approve, ask the student "
        "a question, or refuse. On approval the transcript gets the next number of a continuous sequence, is generated "
        "and signed with a QR code by the configured signer, and is placed in the cabinet; a paper copy is sealed and "
        "handed over against the applicant's signature. Service time: 3 working days."
    ),
    properties={
        **titles("Транскрипт беру", "Выдача транскрипта", "Transcript issuance"),
        "starters": "student,registrar_staff",
    },
    lanes=[
        Lane("student", "Student", {"assignee": "student_user_id"}),
        Lane("registrar_staff", "Registrar office staff"),
        Lane("registrar_head", "Head of the Registrar office", {"scope": "signer_unit"}),
        Lane("school_dean", "Dean of the school", {"scope": "signer_unit"}),
        Lane("department_head", "Head of department", {"scope": "signer_unit"}),
    ],
    nodes=[
        Node("start", "start", "student", 0, "Transcript requested"),
        Node("batch_gw", "xor", "registrar_staff", 1, "Ordered for a whole group?", default="draft"),
        Node(
            "draft", "script", "registrar_staff", 2, "Prepare the preview", script="draft_document = transcript_draft()"
        ),
        Node(
            "review",
            "user",
            "registrar_staff",
            3,
            "Check and approve the request",
            properties={
                **titles(
                    "Өтінімді тексеру және мақұлдау", "Проверить и одобрить заявку", "Check and approve the request"
                ),
                "form": "forms/transcript_issuance/review.json",
                "bulk": "true",
                "documents": "transcript",
                **SLA,
            },
        ),
        Node("review_gw", "xor", "registrar_staff", 4, "Decision?"),
        Node("refused_end", "end", "registrar_staff", 4.3, "Refused", row=1),
        Node(
            "answer",
            "user",
            "student",
            4.6,
            "Answer the Registrar office's question",
            properties={
                **titles(
                    "Тіркеуші офисінің сұрағына жауап беру",
                    "Ответить на вопрос офиса регистратора",
                    "Answer the Registrar office's question",
                ),
                "form": "forms/transcript_issuance/answer.json",
            },
        ),
        Node("how_signed", "xor", "registrar_staff", 5, "Who signs?", default="signed"),
        sign_task("sign_registrar", "registrar_head"),
        sign_task("sign_dean", "school_dean"),
        sign_task("sign_department", "department_head"),
        Node("signed", "xor", "registrar_staff", 7),
        Node(
            "issue",
            "script",
            "registrar_staff",
            8,
            "Number, generate, sign, place in the cabinet",
            script='transcript = issue_transcript()\noutcome = "issued"',
        ),
        Node("paper_gw", "xor", "registrar_staff", 9, "Paper copy?", default="done"),
        Node(
            "hand_over",
            "user",
            "registrar_staff",
            10,
            "Seal and hand over the paper copy",
            row=1,
            properties={
                **titles(
                    "Мөр басып, қағаз нұсқасын беру",
                    "Заверить печатью и выдать бумажный экземпляр",
                    "Seal and hand over the paper copy",
                ),
                "form": "forms/transcript_issuance/hand_over.json",
                "due": "P5D",
                "due_calendar": "working",
            },
        ),
        Node(
            "handed_over",
            "script",
            "registrar_staff",
            11,
            "Record the hand-over in the registry",
            row=1,
            script="transcript_handed_over(received_by, received_on)",
        ),
        Node("done", "end", "registrar_staff", 12, "Issued"),
    ],
    flows=[
        Flow("start", "batch_gw"),
        Flow("batch_gw", "how_signed", "ordered by the Registrar office", condition="batch", via=-1),
        Flow("batch_gw", "draft"),
        Flow("draft", "review"),
        Flow("review", "review_gw"),
        Flow("review_gw", "how_signed", "approved", condition='decision == "approve"'),
        Flow("review_gw", "answer", "question to the student", condition='decision == "return"'),
        Flow("review_gw", "refused_end", "refused", condition='decision == "refuse"'),
        Flow("answer", "review", via=0),
        Flow(
            "how_signed",
            "sign_registrar",
            "the head of the Registrar office",
            condition='sign_manually and signer_role == "registrar_head"',
        ),
        Flow("how_signed", "sign_dean", "the dean", condition='sign_manually and signer_role == "school_dean"'),
        Flow(
            "how_signed",
            "sign_department",
            "the head of department",
            condition='sign_manually and signer_role == "department_head"',
        ),
        Flow("how_signed", "signed", "signed automatically on approval"),
        Flow("sign_registrar", "signed"),
        Flow("sign_dean", "signed"),
        Flow("sign_department", "signed"),
        Flow("signed", "issue"),
        Flow("issue", "paper_gw"),
        Flow("paper_gw", "hand_over", "paper", condition="paper"),
        Flow("paper_gw", "done"),
        Flow("hand_over", "handed_over"),
        Flow("handed_over", "done"),
    ],
)
