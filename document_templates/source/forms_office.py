"""Office correspondence: explanatory note, login request (form No. 2), disciplinary proposal.

Wording follows the forms at the end of the SOP «Ведение электронного журнала» /
«Электрондық журналды жүргізу» (seeds ``sop_electronic_journal.ru.txt`` / ``.kk.txt``) and its term 20.
"""

from __future__ import annotations

from blocks import (
    addressee,
    body,
    letterhead,
    list_item,
    numbered_fields,
    optional_paragraphs,
    outgoing_line,
    signatures,
    title,
)
from docx.document import Document as DocxDocument
from layout import (
    STYLE_TABLE_HEAD,
    Cell,
    Span,
    add_page_number_footer,
    add_paragraph,
    add_row,
    new_document,
    new_table,
)
from wording import COMMON

# --------------------------------------------------------------------------- explanatory note

NOTE = {
    "ru": {
        "doc_title": "Объяснительная об ошибке заполнения электронного журнала",
        "title": "Объяснительная",
        "subtitle": "об ошибке заполнения электронного журнала",
        "text": [
            "{{ wrong_entry_date }} г. мною были неверно заполнены данные в АИС «{{ ais_name }}». "
            "Возникшая ошибка вызвана следующей причиной: {{ reason }}. Ошибку свою признаю. "
            "Обязуюсь в дальнейшем относиться более внимательно к работе по заполнению "
            "электронного журнала."
        ],
        "request": "Прошу открыть доступ к электронному журналу:",
        "fields": [
            ("Дисциплина/модуль", "{{ discipline }}"),
            ("Виды занятий", "{{ lesson_types }}"),
            ("Курс", "{{ course }}"),
            ("Группа", "{{ group }}"),
            ("Специальность, направление", "{{ specialty }}"),
            ("Дата неправильного заполнения эл. журнала", "{{ wrong_entry_date }}"),
            ("Причина", "{{ reason }}"),
        ],
        "late": "Подано с нарушением срока (позднее 2 дней после закрытия журнала), дней просрочки: {{ late_days }}.",
        "signatures": [
            ("{{ teacher.position }}", "{{ teacher.name }}"),
            ("Заведующий кафедрой/курсом\n{{ department.name }}", "{{ department_head.name }}"),
            ("Декан школы/факультета\n(по курации)", "{{ dean_curation.name }}"),
            ("Декан школы/факультета", "{{ school_dean.name }}"),
        ],
    },
    "kk": {
        "doc_title": "Электрондық журналды толтыру қатесі туралы түсініктеме",
        "title": "Түсініктеме",
        "subtitle": "электрондық журналды толтыру қатесі туралы",
        "text": [
            "{{ wrong_entry_date }} ж. мен «{{ ais_name }}» автоматтандырылған ақпараттық жүйесінде "
            "деректерді дұрыс толтырмадым. Туындаған қатенің себебі: {{ reason }}. Мен өз қателігімді "
            "мойындаймын. Бұдан әрі электрондық журналды толтыру жұмысына неғұрлым мұқият қарауға "
            "міндеттенемін."
        ],
        "request": "Электрондық журналға рұқсат ашуыңызды сұраймын:",
        "fields": [
            ("Пән/модуль", "{{ discipline }}"),
            ("Сабақ түрлері", "{{ lesson_types }}"),
            ("Курс", "{{ course }}"),
            ("Топ", "{{ group }}"),
            ("Мамандығы, бағыты", "{{ specialty }}"),
            ("Эл. журналдың дұрыс толтырылмаған күні", "{{ wrong_entry_date }}"),
            ("Себебі", "{{ reason }}"),
        ],
        "late": "Мерзімі бұзылып берілді (журнал жабылғаннан кейін 2 күннен кеш), "
        "кешіктірілген күндер саны: {{ late_days }}.",
        "signatures": [
            ("{{ teacher.position }}", "{{ teacher.name }}"),
            ("Кафедра/курс меңгерушісі\n{{ department.name }}", "{{ department_head.name }}"),
        ],
    },
}


def explanatory_note(lang: str) -> DocxDocument:
    words = NOTE[lang]
    document = new_document(lang=lang, title=words["doc_title"], body_pt=14)
    letterhead(document, lang)
    outgoing_line(document, lang)
    addressee(document)
    title(document, words["title"], words["subtitle"])
    for text in words["text"]:
        body(document, text)
    add_paragraph(document, words["request"], keep_next=True, space_before=6, space_after=2, first_line=1.25)
    numbered_fields(document, words["fields"])
    optional_paragraphs(
        document,
        "late",
        lambda: add_paragraph(document, Span(words["late"], bold=True, italic=True), space_before=6, align="justify"),
    )
    add_paragraph(document, COMMON[lang]["dated"], space_before=12)
    signatures(document, lang, words["signatures"])
    return document


# --------------------------------------------------------------------------- login request, form No. 2

LOGIN = {
    "ru": {
        "doc_title": "Служебная записка о выдаче логина и пароля (форма № 2)",
        "form": "Форма № 2",
        "title": "Служебная записка",
        "text": "Прошу выдать логин и пароль в АИС «{{ ais_name }}», электронный журнал для новых "
        "преподавателей согласно списку:",
        "columns": ["№", "Должность", "Ф.И.О. (полностью)", "E-mail", "Дата начала работы"],
        "signatures": [("Заведующий кафедрой/курсом\n{{ department.name }}", "{{ department_head.name }}")],
    },
    "kk": {
        "doc_title": "Логин мен құпиясөз беру туралы қызметтік хат (№ 2 нысан)",
        "form": "Нысан № 2",
        "title": "Қызметтік хат",
        "text": "Төмендегі тізім бойынша жаңа оқытушыларға «{{ ais_name }}» автоматтандырылған "
        "ақпараттық жүйесіне, электрондық журналға кіру үшін логин мен құпиясөз беруіңізді сұраймын:",
        "columns": ["№", "Лауазымы", "Т.А.Ә. (толық)", "E-mail", "Жұмысқа кірісу күні"],
        "signatures": [("Кафедра/курс меңгерушісі\n{{ department.name }}", "{{ department_head.name }}")],
    },
}


def login_request(lang: str) -> DocxDocument:
    words = LOGIN[lang]
    document = new_document(lang=lang, title=words["doc_title"], body_pt=14, table_pt=11)
    letterhead(document, lang)
    outgoing_line(document, lang, right=words["form"])
    addressee(document)
    title(document, words["title"])
    body(document, words["text"])

    grid = new_table(document, [0.8, 3.4, 4.6, 5.2, 2.5])
    add_row(grid, words["columns"], style=STYLE_TABLE_HEAD, header=True, valign="center")
    add_row(grid, [Cell("{%tr for teacher in teachers %}", span=5)])
    add_row(
        grid,
        [
            Cell("{{ loop.index }}", align="center"),
            "{{ teacher.position }}",
            "{{ teacher.full_name }}",
            "{{ teacher.email }}",
            Cell("{{ teacher.start_date }}", align="center"),
        ],
    )
    add_row(grid, [Cell("{%tr endfor %}", span=5)])
    add_paragraph(document, "")
    signatures(document, lang, words["signatures"])
    return document


# --------------------------------------------------------------------------- disciplinary proposal

PROPOSAL = {
    "ru": {
        "doc_title": "Представление о применении мер дисциплинарного взыскания",
        "title": "Представление",
        "subtitle": "о применении мер дисциплинарного взыскания",
        "basis": "В соответствии с пунктом 20 СОП «Ведение электронного журнала» меры дисциплинарного "
        "взыскания определяются кратностью повторного открытия электронного журнала. На основании "
        "объяснительных записок в {{ academic_year }} учебном году электронный журнал "
        "в АИС «{{ ais_name }}» был повторно открыт:",
        "counts": [
            [
                "преподаватель ",
                Span("{{ teacher.name }}", bold=True),
                " ({{ teacher.position }}) — количество повторных открытий: ",
                Span("{{ teacher_count }}", bold=True),
                ";",
            ],
            [
                "кафедра: ",
                Span("{{ department.name }}", bold=True),
                " — количество повторных открытий в целом по кафедре: ",
                Span("{{ department_count }}", bold=True),
                ".",
            ],
        ],
        "propose": "Предлагаю применить следующие меры дисциплинарного взыскания:",
        "measures": [
            ["в отношении преподавателя — ", Span("{{ teacher_measure }}", bold=True), ";"],
            ["в отношении кафедры — ", Span("{{ department_measure }}", bold=True), "."],
        ],
        "list": "Перечень случаев повторного открытия электронного журнала:",
        "columns": ["№", "Дата", "Дисциплина", "Группа", "Причина"],
    },
    "kk": {
        "doc_title": "Тәртіптік жазалау шараларын қолдану туралы ұсыныс",
        "title": "Ұсыныс",
        "subtitle": "тәртіптік жазалау шараларын қолдану туралы",
        "basis": "«Электрондық журналды жүргізу» СОР-ның 20-тармағына сәйкес тәртіптік жазалау "
        "шаралары электрондық журналды қайта ашу еселігімен анықталады. Түсіндірме "
        "жазбалар негізінде {{ academic_year }} оқу жылында «{{ ais_name }}» автоматтандырылған "
        "ақпараттық жүйесіндегі электрондық журнал қайта ашылды:",
        "counts": [
            [
                "оқытушы ",
                Span("{{ teacher.name }}", bold=True),
                " ({{ teacher.position }}) — қайта ашу саны: ",
                Span("{{ teacher_count }}", bold=True),
                ";",
            ],
            [
                "кафедра: ",
                Span("{{ department.name }}", bold=True),
                " — кафедра бойынша жалпы қайта ашу саны: ",
                Span("{{ department_count }}", bold=True),
                ".",
            ],
        ],
        "propose": "Мынадай тәртіптік жазалау шараларын қолдануды ұсынамын:",
        "measures": [
            ["оқытушыға қатысты — ", Span("{{ teacher_measure }}", bold=True), ";"],
            ["кафедраға қатысты — ", Span("{{ department_measure }}", bold=True), "."],
        ],
        "list": "Электрондық журналды қайта ашу жағдайларының тізбесі:",
        "columns": ["№", "Күні", "Пән", "Топ", "Себебі"],
    },
}


def disciplinary_proposal(lang: str) -> DocxDocument:
    words = PROPOSAL[lang]
    document = new_document(lang=lang, title=words["doc_title"], body_pt=14, table_pt=11)
    add_page_number_footer(document, COMMON[lang]["page"])
    letterhead(document, lang)
    outgoing_line(document, lang)
    addressee(document)
    title(document, words["title"], words["subtitle"])
    body(document, words["basis"], space_after=2)
    for line in words["counts"]:
        list_item(document, line)
    body(document, words["propose"], space_before=6, space_after=2)
    for line in words["measures"]:
        list_item(document, line)
    body(document, words["list"], space_before=6, keep_next=True)

    grid = new_table(document, [0.8, 2.3, 4.7, 3.0, 5.7])
    add_row(grid, words["columns"], style=STYLE_TABLE_HEAD, header=True, valign="center")
    add_row(grid, [Cell("{%tr for reopen in reopens %}", span=5)])
    add_row(
        grid,
        [
            Cell("{{ reopen.no }}", align="center"),
            Cell("{{ reopen.date }}", align="center"),
            "{{ reopen.discipline }}",
            "{{ reopen.group }}",
            "{{ reopen.reason }}",
        ],
    )
    add_row(grid, [Cell("{%tr endfor %}", span=5)])
    add_paragraph(document, "")
    signatures(document, lang, [("{{ head_of_or.position }}", "{{ head_of_or.name }}")])
    return document
