"""Static wording shared by several forms, per template language (kk, ru, en).

Form-specific wording lives next to each form in ``forms_*.py``. Every string here is Jinja-ready:
``{{ … }}`` parts are filled by docxtpl at render time; the caller formats numbers and dates.
"""

# An empty outgoing number prints as a blank line to be filled in by hand.
NUMBER = "{{ number|default('______', true) }}"

COMMON = {
    "kk": {
        "city": "{{ university.city }} қ.",
        "outgoing": f"Шығ. № {NUMBER}, {{{{ date }}}} ж.",
        "signature": "(қолы)",
        "seal": "М.О.",
        "dated": "{{ date }} ж.",
        "page": "Бет ",
    },
    "ru": {
        "city": "г. {{ university.city }}",
        "outgoing": f"Исх. № {NUMBER} от {{{{ date }}}}",
        "signature": "(подпись)",
        "seal": "М.П.",
        "dated": "{{ date }} г.",
        "page": "Страница ",
    },
    "en": {
        "city": "{{ university.city }}",
        "outgoing": f"Ref. No. {NUMBER} of {{{{ date }}}}",
        "signature": "(signature)",
        "seal": "Seal",
        "dated": "{{ date }}",
        "page": "Page ",
    },
}
