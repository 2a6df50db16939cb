"""The list of cases as a table (CSV/XLSX): the same rows for the page's and the API's download."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext as _

from backend.accounts.models import User
from backend.core.exceptions import ValidationFailed
from backend.core.exports import table_download
from backend.inbox.wording import local_text

from .models import CaseAccess
from .selectors import LIST_COLUMNS, CaseFilters, cases_filtered, count_up_to
from .services import case_access_record

# A download is made in the request; a larger list is refused (narrow the search), never cut short silently.
MAX_ROWS = 20_000


def cases_download(*, user: User, filters: CaseFilters, fmt: str) -> HttpResponse:
    cases = cases_filtered(user, filters).only(*LIST_COLUMNS)
    count = count_up_to(cases, MAX_ROWS)
    if count > MAX_ROWS:
        raise ValidationFailed(
            _("The list has more than %(max)s cases, more than a download holds. Narrow the search.")
            % {"max": MAX_ROWS},
            code="too_many",
        )
    header = [
        _("Case number"),
        _("Process"),
        _("Version"),
        _("Subject"),
        _("Requester"),
        _("Status"),
        _("Stage"),
        _("Started"),
        _("Finished"),
    ]
    rows = [header]
    for case in cases.iterator(chunk_size=2000):
        rows.append(
            [
                case.number or "",
                case.definition.title_in(),
                str(case.definition.version),
                case.subject_in(),
                case.started_by.full_name if case.started_by else "",
                case.get_status_display(),
                case.get_stage_display() if case.stage else "",
                local_text(case.started_at),
                local_text(case.completed_at) if case.completed_at else "",
            ]
        )
    case_access_record(
        user=user, action=CaseAccess.Action.LIST_EXPORTED, detail={"filters": filters.as_params(), "rows": count}
    )
    return table_download(rows, name="cases", fmt=fmt, sheet_title=_("Cases"))
