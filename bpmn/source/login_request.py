"""Login requests (DOMAIN.md "Process 3"): accounts for new teachers, for a student group, and deactivation.

One process kind, three variants chosen by `kind` at the start:
- teachers: the head of department's memo (form No. 2) is generated and signed, the head of IT approves, IT
  staff look at accounts that already have the e-mail or IIN (reuse or refuse), then create the accounts;
- students: the dean's office asks for a whole group; a background job creates one account per student;
- offboarding: a head of department asks to deactivate a teacher's account; IT approves and executes.
New account holders set their own password by a one-time link. The case waits for the activations, reminds
once with fresh links (after 48 hours) and, when the links run out (72 hours), hands the case back to IT (or
the dean's office) to resend or close.
"""

from drawing import Flow, Lane, Node, Process


def titles(kk: str, ru: str, en: str) -> dict[str, str]:
    return {"title_kk": kk, "title_ru": ru, "title_en": en}


def form(name: str) -> dict[str, str]:
    return {"form": f"forms/login_request/{name}.json"}


IT_SLA = {"due": "P3D", "due_calendar": "working"}
# IT staff's upper line sits a little higher, so a task on their lower line (row 1) may share its column.
UPPER = -0.35

PROCESS = Process(
    id="login_request",
    name="Login request",
    documentation=(
        "Accounts for new teachers on the head of department's memo (form No. 2), approved by the head of IT and "
        "created by IT staff; accounts for a student group on the dean's office's request; deactivation of a "
        "teacher's account. Nobody ever sees a password: each account holder sets their own by a one-time link. "
        "After the reminder the next reminder date moves past the links' end, so the reminder fires once per "
        "round of links."
    ),
    properties={
        **titles("Жүйеге кіру логинін сұрау", "Заявка на логин", "Login request"),
        "starters": "department_head,dean_office",
    },
    messages=["memo_signed", "memo_not_signed", "accounts_created", "accounts_activated"],
    lanes=[
        Lane("department_head", "Head of department", {"assignee": "initiator_id"}),
        Lane("dean_office", "Dean's office", {"scope": "school"}),
        Lane("it_head", "Head of the IT department"),
        Lane("it_staff", "IT department staff"),
        # Three rows: the wait, the reminder under it, the expiry under that.
        Lane("teacher", "New account holders (activation)", height=300),
    ],
    nodes=[
        # --- the request and the memo ----------------------------------------------------------------------------
        Node("start", "start", "department_head", 0, "Request filed"),
        Node("what", "xor", "department_head", 1, "What is asked?", default="memo"),
        Node(
            "memo",
            "script",
            "department_head",
            2,
            "Generate the memo (form No. 2)",
            script="memo_document = memo_generate()",
        ),
        Node(
            "sign",
            "user",
            "department_head",
            3,
            "Sign the memo",
            properties={
                **titles("Қызметтік хатқа қол қою", "Подписать служебную записку", "Sign the memo"),
                **form("sign"),
            },
        ),
        Node("sign_gw", "xor", "department_head", 4, "Sign?", default="queue_sign"),
        Node("withdrawn", "end", "department_head", 4.6, "Withdrawn", row=1),
        Node(
            "queue_sign",
            "script",
            "department_head",
            5,
            "Sign with the head's certificate",
            script="memo_sign()",
        ),
        Node("signing", "event_gateway", "department_head", 6),
        Node("memo_signed", "message", "department_head", 7, "Memo signed", message="memo_signed"),
        Node("memo_unsigned", "message", "department_head", 7, "Could not sign", row=1, message="memo_not_signed"),
        # --- the head of IT ---------------------------------------------------------------------------------------
        Node(
            "approve",
            "user",
            "it_head",
            8.2,
            "Approve the request",
            properties={
                **titles("Өтінішті мақұлдау", "Рассмотреть заявку", "Approve the request"),
                **form("approve"),
                **IT_SLA,
                "escalate_to": "vice_rector",
            },
        ),
        Node("approve_gw", "xor", "it_head", 9.2, "Decision?", default="match"),
        Node(
            "refuse",
            "script",
            "it_head",
            10.2,
            "Record the refusal",
            script="outcome = access_refuse(reason)",
        ),
        Node("refused", "end", "it_head", 11.1, "Refused"),
        # --- IT staff: deactivation -------------------------------------------------------------------------------
        Node(
            "deactivate_task",
            "user",
            "it_staff",
            10.2,
            "Deactivate the account",
            row=1,
            properties={
                **titles("Тіркелгіні өшіру", "Отключить учётную запись", "Deactivate the account"),
                **form("deactivate"),
                **IT_SLA,
                "escalate_to": "it_head",
                "priority": "1",
            },
        ),
        Node(
            "deactivate",
            "script",
            "teacher",
            11.3,
            "Deactivate, revoke sessions and tokens, move open tasks",
            script="outcome = access_deactivate()",
        ),
        Node("deactivated", "end", "teacher", 12.2, "Deactivated"),
        # --- IT staff: accounts for teachers ----------------------------------------------------------------------
        Node(
            "match",
            "script",
            "it_staff",
            10.2,
            "Look for existing accounts (e-mail, IIN)",
            row=UPPER,
            script="matches = access_match()",
        ),
        Node("match_gw", "xor", "it_staff", 11.2, "Existing account?", row=UPPER, default="provision_task"),
        Node(
            "duplicates",
            "user",
            "it_staff",
            12.4,
            "Existing account found: reuse or refuse",
            row=UPPER,
            properties={
                **titles(
                    "Тіркелгі бұрыннан бар: қайта пайдалану немесе бас тарту",
                    "Учётная запись уже есть: использовать или отказать",
                    "Existing account found: reuse or refuse",
                ),
                **form("duplicates"),
                **IT_SLA,
                "escalate_to": "it_head",
            },
        ),
        Node(
            "provision_task",
            "user",
            "it_staff",
            13.3,
            "Create the accounts",
            row=1,
            properties={
                **titles("Тіркелгілерді жасау", "Создать учётные записи", "Create the accounts"),
                **form("provision"),
                **IT_SLA,
                "escalate_to": "it_head",
            },
        ),
        Node(
            "provision",
            "script",
            "it_staff",
            14.3,
            "Create the accounts, send activation links",
            row=UPPER,
            script="access_provision()",
        ),
        # --- the dean's office: a whole group ---------------------------------------------------------------------
        Node(
            "batch",
            "script",
            "dean_office",
            13.4,
            "Create the group's accounts in the background",
            script="access_batch_start()",
        ),
        Node("batch_done", "message", "dean_office", 14.8, "Accounts created", message="accounts_created"),
        # --- waiting for the activations ----------------------------------------------------------------------------
        Node("pending", "xor", "teacher", 15.5, "Everyone activated?", default="wait"),
        Node(
            "wait", "receive", "teacher", 16.6, "Wait until everyone has set a password", message="accounts_activated"
        ),
        Node(
            "reminder",
            "boundary_timer",
            "teacher",
            16.6,
            "48 h",
            attached_to="wait",
            interrupting=False,
            timer=("timeDate", "access_remind_at()"),
        ),
        Node("remind", "script", "teacher", 17.6, "Remind with fresh links", row=1, script="access_remind()"),
        Node("reminded", "end", "teacher", 18.4, "Reminder sent", row=1),
        Node(
            "expired",
            "boundary_timer",
            "teacher",
            16.6,
            "72 h",
            attached_to="wait",
            slot=1,
            timer=("timeDate", "access_expires_at()"),
        ),
        Node("who_resends", "xor", "teacher", 18.9, "Who resends?", row=2, default="expired_it"),
        Node(
            "expired_it",
            "user",
            "it_staff",
            19.9,
            "Activation expired: resend or close",
            row=1,
            properties={
                **titles(
                    "Белсендіру мерзімі өтті: қайта жіберу немесе жабу",
                    "Срок активации истёк: отправить снова или закрыть",
                    "Activation expired: resend or close",
                ),
                **form("expired"),
                **IT_SLA,
                "escalate_to": "it_head",
            },
        ),
        Node(
            "expired_dean",
            "user",
            "dean_office",
            19.9,
            "Activation expired: resend or close",
            properties={
                **titles(
                    "Белсендіру мерзімі өтті: қайта жіберу немесе жабу",
                    "Срок активации истёк: отправить снова или закрыть",
                    "Activation expired: resend or close",
                ),
                **form("expired"),
                **IT_SLA,
                "escalate_to": "school_dean",
                # The dean's office that filed the request resends its own links.
                "sod": "false",
            },
        ),
        Node("resend_gw", "xor", "it_staff", 20.9, "Resend?", row=1, default="resend"),
        Node(
            "resend",
            "script",
            "it_staff",
            21.9,
            "Send fresh links for 72 hours",
            row=1,
            script="access_resend()",
        ),
        Node("close", "script", "it_staff", 22.7, "Close the request", row=UPPER, script="outcome = access_close()"),
        Node("closed", "end", "it_staff", 23.5, "Closed", row=UPPER),
        Node("finish", "script", "it_staff", 17.6, "Record the outcome", row=UPPER, script="outcome = access_finish()"),
        Node("done", "end", "it_staff", 18.4, "Done", row=UPPER),
    ],
    flows=[
        Flow("start", "what"),
        Flow("what", "batch", "a student group", condition='kind == "students"'),
        Flow("what", "approve", "deactivation", condition='kind == "offboarding"'),
        Flow("what", "memo", "new teachers"),
        Flow("memo", "sign"),
        Flow("sign", "sign_gw"),
        Flow("sign_gw", "withdrawn", condition='decision == "withdraw"'),
        Flow("sign_gw", "queue_sign"),
        Flow("queue_sign", "signing"),
        Flow("signing", "memo_signed"),
        Flow("signing", "memo_unsigned"),
        Flow("memo_unsigned", "sign", via=0),
        Flow("memo_signed", "approve"),
        Flow("approve", "approve_gw"),
        Flow("approve_gw", "refuse", "refused", condition='decision == "refuse"'),
        Flow("approve_gw", "deactivate_task", "deactivation", condition='kind == "offboarding"'),
        Flow("approve_gw", "match", "approved"),
        Flow("refuse", "refused"),
        Flow("deactivate_task", "deactivate"),
        Flow("deactivate", "deactivated"),
        Flow("match", "match_gw"),
        Flow("match_gw", "duplicates", "yes", condition="matches > 0"),
        Flow("match_gw", "provision_task", "no"),
        Flow("duplicates", "provision"),
        Flow("provision_task", "provision"),
        Flow("provision", "pending"),
        Flow("batch", "batch_done"),
        Flow("batch_done", "pending"),
        Flow("pending", "finish", "yes", condition="access_awaiting() == 0"),
        Flow("pending", "wait", "no"),
        Flow("wait", "finish"),
        Flow("reminder", "remind"),
        Flow("remind", "reminded"),
        Flow("expired", "who_resends"),
        Flow("who_resends", "expired_dean", "a student group", condition='kind == "students"'),
        Flow("who_resends", "expired_it", "teachers"),
        Flow("expired_it", "resend_gw"),
        Flow("expired_dean", "resend_gw"),
        Flow("resend_gw", "close", "close", condition='decision == "close"'),
        Flow("resend_gw", "resend", "resend"),
        Flow("resend", "pending"),
        Flow("close", "closed"),
        Flow("finish", "done"),
    ],
)
