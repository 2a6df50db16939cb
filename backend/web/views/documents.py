"""Generated documents, served only to people who may see the case they belong to."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest
from django.urls import re_path

from backend.core.http import authenticated_user, private_file
from backend.documents.models import GeneratedDocument
from backend.workflow.selectors import instances_for


@login_required
def document_file(request: HttpRequest, pk: int, fmt: str) -> FileResponse:
    user = authenticated_user(request)
    document = GeneratedDocument.objects.filter(pk=pk, status=GeneratedDocument.Status.READY).first()
    if document is None or document.instance_id is None:
        raise Http404
    if not instances_for(user).filter(pk=document.instance_id).exists():
        raise Http404
    return private_file(
        document.pdf if fmt == "pdf" else document.docx,
        filename=f"{document.kind}-{document.number or document.pk}.{fmt}",
        download=request.GET.get("download") == "1",
    )


urlpatterns = [
    re_path(r"^documents/(?P<pk>\d+)\.(?P<fmt>pdf|docx)$", document_file, name="document-file"),
]
