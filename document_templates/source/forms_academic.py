"""Academic records: calendar-thematic plan (form No. 1), individual grade sheet, transcript, and the
approval and signing sheet appended to signed documents.

Transcript content follows terms 5–6 of SOP СОР-2/21 «Транскрипт» (seed ``sop_transcript.kk.txt``);
the approval sheet copies the «Келісу және қол қою парағы» at the end of that seed.
"""

from __future__ import annotations

from blocks import info_table, letterhead, optional_paragraphs, right_block, signatures, title
from docx.document import Document as DocxDocument
from layout import (
    STYLE_SMALL,
    STYLE_TABLE_HEAD,
    STYLE_TITLE,
    Cell,
    Span,
    add_page_number_footer,
    add_paragraph,
    add_row,
    new_document,
    new_table,
)
from wording import COMMON, NUMBER

SHADE_PERIOD = "E7E6E6"
SHADE_TOTAL = "D9D9D9"

# --------------------------------------------------------------------------- calendar-thematic plan

PLAN = {
    "ru": {
        "doc_title": "Календарно-тематический план (форма № 1)",
        "form": "Форма № 1",
        "agreed": "«СОГЛАСОВАНО»",
        "title": "Календарно-тематический план {{ lesson_kind }}",
        "subtitles": [
            "по дисциплине «{{ discipline }}»",
            "для студентов {{ course }} курса специальности {{ specialty }}",
            "на {{ academic_year }} учебный год",
        ],
        "columns": [
            "№ п/п",
            "Дата",
            "Время проведения",
            "Тема",
            "Объем учебных часов",
            "Ф.И.О. преподавателя",
            "Кабинет",
        ],
        "minutes": "Рассмотрено и одобрено на заседании кафедры, протокол № {{ minutes.number }} "
        "от {{ minutes.date }}.",
        "signatures": [
            ("Заведующий кафедрой", "{{ department_head.name }}"),
            ("Методист", "{{ methodologist.name }}"),
        ],
    },
    "kk": {
        "doc_title": "Күнтізбелік-тақырыптық жоспар (№ 1 нысан)",
        "form": "Нысан № 1",
        "agreed": "«КЕЛІСІЛДІ»",
        "title": "Күнтізбелік-тақырыптық жоспар",
        "subtitles": [
            "«{{ discipline }}» пәні бойынша {{ lesson_kind }}",
            "{{ specialty }} мамандығының {{ course }} курс студенттеріне арналған",
            "{{ academic_year }} оқу жылына",
        ],
        "columns": [
            "№ р/с",
            "Күні",
            "Өткізу уақыты",
            "Тақырып",
            "Оқу сағаттарының көлемі",
            "Оқытушының аты-жөні",
            "Кабинет",
        ],
        "minutes": "Кафедра отырысында қаралды және мақұлданды, {{ minutes.date }} № {{ minutes.number }} хаттама.",
        "signatures": [
            ("Кафедра меңгерушісі", "{{ department_head.name }}"),
            ("Әдіскер", "{{ methodologist.name }}"),
        ],
    },
}


def calendar_plan(lang: str) -> DocxDocument:
    words = PLAN[lang]
    document = new_document(lang=lang, title=words["doc_title"], body_pt=12, table_pt=10)
    add_page_number_footer(document, COMMON[lang]["page"])
    letterhead(document, lang)
    add_paragraph(document, words["form"], align="right", space_before=6, space_after=6)
    right_block(
        document,
        [
            Span(words["agreed"], bold=True),
            "{{ approved_by.position }}",
            "______________ {{ approved_by.name }}",
            "{{ approved_by.date }}",
        ],
        bold=False,
    )
    title(document, words["title"], *words["subtitles"])

    grid = new_table(document, [0.9, 2.0, 2.3, 4.4, 2.4, 3.0, 1.5])
    add_row(grid, words["columns"], style=STYLE_TABLE_HEAD, header=True, valign="center")
    add_row(grid, [Cell("{%tr for row in rows %}", span=7)])
    add_row(
        grid,
        [
            Cell("{{ row.no }}", align="center"),
            Cell("{{ row.date }}", align="center"),
            Cell("{{ row.time }}", align="center"),
            "{{ row.topic }}",
            Cell("{{ row.hours }}", align="center"),
            "{{ row.teacher }}",
            Cell("{{ row.room }}", align="center"),
        ],
    )
    add_row(grid, [Cell("{%tr endfor %}", span=7)])
    add_paragraph(document, words["minutes"], space_before=12)
    signatures(document, lang, words["signatures"], space_before=12)
    return document


# --------------------------------------------------------------------------- individual grade sheet

SHEET = {
    "ru": {
        "doc_title": "Индивидуальная ведомость",
        "title": "Индивидуальная ведомость",
        "subtitles": [
            "внесения изменений в электронный журнал АИС «{{ ais_name }}»",
            f"№ {NUMBER} от {{{{ date }}}}",
        ],
        "info": [
            ("Дисциплина/модуль", "{{ discipline }}"),
            ("Виды занятий", "{{ lesson_types }}"),
            ("Академический период", "{{ academic_period }}"),
            ("Курс", "{{ course }}"),
            ("Группа", "{{ group }}"),
            ("Специальность", "{{ specialty }}"),
            ("Преподаватель", "{{ teacher.name }}"),
            ("Кафедра", "{{ department.name }}"),
            (
                "Основание",
                "повторное открытие электронного журнала № {{ reopen.number }} от {{ reopen.date }}",
            ),
            ("Срок внесения изменений", "с {{ reopen.window_from }} по {{ reopen.window_to }}"),
        ],
        "columns": [
            "№",
            "Ф.И.О. обучающегося",
            "ID",
            "Дата занятия",
            "Вид занятия",
            "Прежняя оценка",
            "Новая оценка",
            "Дата и время изменения",
        ],
        "signatures": [
            ("Преподаватель", "{{ teacher.name }}"),
            ("Принял(а):\n{{ registrar.position }}", "{{ registrar.name }}"),
        ],
    },
    "kk": {
        "doc_title": "Жеке ведомость",
        "title": "Жеке ведомость",
        "subtitles": [
            "«{{ ais_name }}» АИС электрондық журналына өзгерістер енгізу туралы",
            f"№ {NUMBER}, {{{{ date }}}} ж.",
        ],
        "info": [
            ("Пән/модуль", "{{ discipline }}"),
            ("Сабақ түрлері", "{{ lesson_types }}"),
            ("Академиялық кезең", "{{ academic_period }}"),
            ("Курс", "{{ course }}"),
            ("Топ", "{{ group }}"),
            ("Мамандығы", "{{ specialty }}"),
            ("Оқытушы", "{{ teacher.name }}"),
            ("Кафедра", "{{ department.name }}"),
            ("Негіздеме", "электрондық журналды қайта ашу № {{ reopen.number }}, {{ reopen.date }} ж."),
            ("Өзгерістер енгізу мерзімі", "{{ reopen.window_from }} – {{ reopen.window_to }}"),
        ],
        "columns": [
            "№",
            "Білім алушының аты-жөні",
            "ID",
            "Сабақ күні",
            "Сабақ түрі",
            "Бұрынғы баға",
            "Жаңа баға",
            "Өзгертілген күні мен уақыты",
        ],
        "signatures": [
            ("Оқытушы", "{{ teacher.name }}"),
            ("Қабылдады:\n{{ registrar.position }}", "{{ registrar.name }}"),
        ],
    },
}


def grade_sheet(lang: str) -> DocxDocument:
    words = SHEET[lang]
    document = new_document(lang=lang, title=words["doc_title"], body_pt=12, table_pt=10)
    add_page_number_footer(document, COMMON[lang]["page"])
    letterhead(document, lang)
    title(document, words["title"], *words["subtitles"])
    info_table(document, words["info"], label_width=5.0)

    grid = new_table(document, [0.7, 3.8, 1.9, 1.9, 2.5, 1.6, 1.4, 2.7])
    add_row(grid, words["columns"], style=STYLE_TABLE_HEAD, header=True, valign="center")
    add_row(grid, [Cell("{%tr for row in rows %}", span=8)])
    add_row(
        grid,
        [
            Cell("{{ row.no }}", align="center"),
            "{{ row.student }}",
            Cell("{{ row.student_id }}", align="center"),
            Cell("{{ row.lesson_date }}", align="center"),
            "{{ row.lesson_type }}",
            Cell("{{ row.old }}", align="center"),
            Cell("{{ row.new }}", align="center"),
            Cell("{{ row.changed_at }}", align="center"),
        ],
    )
    add_row(grid, [Cell("{%tr endfor %}", span=8)])
    signatures(document, lang, words["signatures"])
    return document


# --------------------------------------------------------------------------- transcript

TRANSCRIPT = {
    "kk": {
        "doc_title": "Транскрипт",
        "title": "ТРАНСКРИПТ",
        "holder": [
            ("Білім алушының тегі, аты, әкесінің аты", Span("{{ holder.full_name }}", bold=True)),
            ("Білім алушының ID", "{{ holder.student_id }}"),
            ("Мектеп/факультет", "{{ school }}"),
            ("Мамандығы", "{{ specialty.code }} {{ specialty.name }}"),
            ("Курсы", "{{ course }}"),
            ("Оқу нысаны", "{{ study_form }}"),
            ("Оқу ұзақтығы", "{{ duration }}"),
        ],
        "columns": [
            "Пән коды",
            "Пәннің атауы",
            "Кредит саны",
            "Балл",
            "Әріптік баға",
            "Сандық балама",
            "Қайта тапсыру",
        ],
        "subtotal": "Кезең бойынша барлығы:",
        "total": "Барлығы (кредиттер саны, жалпы GPA):",
        "issued": f"Транскрипт № {NUMBER}, берілген күні: {{{{ date }}}}",
        "verify": "Түпнұсқалығын тексеру: ",
        "footer": "Транскрипт № {{ number }} · {{ holder.full_name }} · Бет ",
    },
    "ru": {
        "doc_title": "Транскрипт",
        "title": "ТРАНСКРИПТ",
        "holder": [
            ("Фамилия, имя, отчество обучающегося", Span("{{ holder.full_name }}", bold=True)),
            ("ID обучающегося", "{{ holder.student_id }}"),
            ("Школа/факультет", "{{ school }}"),
            ("Специальность", "{{ specialty.code }} {{ specialty.name }}"),
            ("Курс", "{{ course }}"),
            ("Форма обучения", "{{ study_form }}"),
            ("Срок обучения", "{{ duration }}"),
        ],
        "columns": [
            "Код",
            "Наименование дисциплины",
            "Кредиты",
            "Баллы",
            "Буквенная оценка",
            "Цифровой эквивалент",
            "Пересдача",
        ],
        "subtotal": "Итого за период:",
        "total": "Всего (кредиты, общий GPA):",
        "issued": f"Транскрипт № {NUMBER}, дата выдачи: {{{{ date }}}}",
        "verify": "Проверить подлинность: ",
        "footer": "Транскрипт № {{ number }} · {{ holder.full_name }} · Страница ",
    },
    "en": {
        "doc_title": "Transcript",
        "title": "TRANSCRIPT",
        "holder": [
            ("Student's full name", Span("{{ holder.full_name }}", bold=True)),
            ("Student ID", "{{ holder.student_id }}"),
            ("School/faculty", "{{ school }}"),
            ("Specialty", "{{ specialty.code }} {{ specialty.name }}"),
            ("Year of study", "{{ course }}"),
            ("Mode of study", "{{ study_form }}"),
            ("Duration of study", "{{ duration }}"),
        ],
        "columns": [
            "Course code",
            "Course title",
            "Credits",
            "Points",
            "Letter grade",
            "Grade points",
            "Retake",
        ],
        "subtotal": "Period total:",
        "total": "Total (credits, overall GPA):",
        "issued": f"Transcript No. {NUMBER}, date of issue: {{{{ date }}}}",
        "verify": "Verify at: ",
        "footer": "Transcript No. {{ number }} · {{ holder.full_name }} · Page ",
    },
}

TRANSCRIPT_WIDTHS = [1.9, 6.5, 1.5, 1.2, 1.8, 1.9, 1.7]


def transcript(lang: str) -> DocxDocument:
    words = TRANSCRIPT[lang]
    document = new_document(lang=lang, title=words["doc_title"], body_pt=12, table_pt=10)
    add_page_number_footer(document, words["footer"])
    letterhead(document, lang)
    title(document, words["title"], space_after=8)
    info_table(document, words["holder"], label_width=7.0)

    span = len(TRANSCRIPT_WIDTHS)
    grid = new_table(document, TRANSCRIPT_WIDTHS, cell_margin_cm=0.08)
    add_row(grid, words["columns"], style=STYLE_TABLE_HEAD, header=True, valign="center")
    add_row(grid, [Cell("{%tr for period in periods %}", span=span)])
    add_row(grid, [Cell("{{ period.title }}", span=span, bold=True)], shade=SHADE_PERIOD, keep_next=True)
    add_row(grid, [Cell("{%tr for row in period.rows %}", span=span)])
    add_row(
        grid,
        [
            "{{ row.code }}",
            "{{ row.name }}",
            Cell("{{ row.credits }}", align="center"),
            Cell("{{ row.points }}", align="center"),
            Cell("{{ row.letter }}", align="center"),
            Cell("{{ row.grade_point }}", align="center"),
            Cell("{{ row.retake }}", align="center"),
        ],
    )
    add_row(grid, [Cell("{%tr endfor %}", span=span)])
    add_row(
        grid,
        [
            Cell(words["subtotal"], span=2, align="right", bold=True),
            Cell("{{ period.credits }}", align="center", bold=True),
            Cell("GPA", span=2, align="center", bold=True),
            Cell("{{ period.gpa }}", align="center", bold=True),
            "",
        ],
    )
    add_row(grid, [Cell("{%tr endfor %}", span=span)])
    add_row(
        grid,
        [
            Cell(words["total"], span=2, align="right", bold=True),
            Cell("{{ total_credits }}", align="center", bold=True),
            Cell("GPA", span=2, align="center", bold=True),
            Cell("{{ gpa }}", align="center", bold=True),
            "",
        ],
        shade=SHADE_TOTAL,
    )

    add_paragraph(document, words["issued"], space_before=10)
    signatures(document, lang, [("{{ signer.position }}", "{{ signer.name }}")], space_before=12)
    add_paragraph(document, COMMON[lang]["seal"], left_indent=1.0)
    optional_paragraphs(
        document,
        "verification_url",
        lambda: add_paragraph(document, [words["verify"], "{{ verification_url }}"], style=STYLE_SMALL, space_before=6),
    )
    return document


# --------------------------------------------------------------------------- approval and signing sheet

APPROVAL = {
    "kk": {
        "doc_title": "Келісу және қол қою парағы",
        "title": "Келісу және қол қою парағы",
        "document": "Құжат: ",
        "requisites": f"№ {NUMBER}, {{{{ date }}}} ж.",
        "columns": ["АЖӘ", "Әрекет түрі", "Келісу немесе қол қою уақыты мен күні", "ЭЦҚ бойынша деректер"],
    },
    "ru": {
        "doc_title": "Лист согласования и подписания",
        "title": "Лист согласования и подписания",
        "document": "Документ: ",
        "requisites": f"№ {NUMBER} от {{{{ date }}}}",
        "columns": ["Ф.И.О.", "Вид действия", "Время и дата согласования или подписания", "Данные по ЭЦП"],
    },
    "en": {
        "doc_title": "Approval and signing sheet",
        "title": "Approval and signing sheet",
        "document": "Document: ",
        "requisites": f"No. {NUMBER} of {{{{ date }}}}",
        "columns": [
            "Full name",
            "Action",
            "Date and time of approval or signing",
            "Digital signature certificate data",
        ],
    },
}


def approval_sheet(lang: str) -> DocxDocument:
    """One-table sheet appended as the last page of a signed document (docx composition).

    The title paragraph has "page break before", so the sheet always starts on a new page when it is
    appended, and a standalone rendering has no blank first page.
    """
    words = APPROVAL[lang]
    document = new_document(lang=lang, title=words["doc_title"], body_pt=12, table_pt=10)
    add_paragraph(document, words["title"], style=STYLE_TITLE, page_break_before=True, space_before=0, space_after=6)
    add_paragraph(document, [words["document"], Span("{{ document_title }}", bold=True)], align="center")
    add_paragraph(document, words["requisites"], align="center", space_after=10)

    grid = new_table(document, [3.6, 2.6, 3.3, 7.0])
    add_row(grid, words["columns"], style=STYLE_TABLE_HEAD, header=True, valign="center")
    add_row(grid, [Cell("{%tr for row in rows %}", span=4)])
    add_row(
        grid,
        ["{{ row.name }}", "{{ row.action }}", Cell("{{ row.at }}", align="center"), "{{ row.certificate }}"],
    )
    add_row(grid, [Cell("{%tr endfor %}", span=4)])
    return document
