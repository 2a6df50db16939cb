"""REST endpoints of inbox (included by backend/api/urls.py): the rich task list, a task's page, saved filters,
comments, attachments, documents, delegation and bulk approval. Claim, release and complete are /api/tasks/…."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from django.urls import path, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.models import User
from backend.api.jobs import JobSerializer
from backend.api.schema import bulk_body
from backend.core.exceptions import ValidationFailed
from backend.core.http import authenticated_user, private_file
from backend.core.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from backend.core.models import Job
from backend.inbox import selectors, services
from backend.inbox.filetypes import CONTENT_TYPES
from backend.inbox.models import Attachment, Comment, SavedFilter
from backend.inbox.timeline import TimelineEntry, timeline
from backend.workflow import forms
from backend.workflow import services as workflow
from backend.workflow.models import HumanTask, ProcessInstance
from backend.workflow.selectors import acting_capacity, visible_task


def _person(user: User | None) -> dict[str, Any] | None:
    return {"username": user.username, "name": user.full_name} if user is not None else None


class PersonSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField(source="full_name")


class InboxRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="task.pk")
    instance = serializers.IntegerField(source="task.instance_id")
    number = serializers.CharField(help_text="The case number, e.g. TR-2026-000123.")
    process = serializers.CharField(source="task.process_key")
    process_title = serializers.CharField()
    task = serializers.CharField(source="task.spec_id")
    title = serializers.CharField()
    subject = serializers.CharField()
    requester = serializers.CharField()
    created_at = serializers.DateTimeField(source="task.created_at")
    due_at = serializers.DateTimeField(source="task.due_at", allow_null=True)
    due_state = serializers.ChoiceField(choices=["overdue", "soon", "later", ""])
    priority = serializers.IntegerField(source="task.priority")
    unread = serializers.BooleanField()
    is_read_only = serializers.BooleanField(source="read_only", help_text="Claimed by a colleague: visible only.")
    claimed_by = PersonSerializer(allow_null=True)
    acting_for = PersonSerializer(allow_null=True, help_text="Set when the task is here because you substitute.")
    bulk = serializers.BooleanField(help_text="May be approved together with others.")


class InboxPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Tasks matching the filters.")
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    page_size = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = InboxRowSerializer(many=True)


_DATETIME = serializers.DateTimeField()


def _row_json(row: selectors.InboxRow) -> dict[str, Any]:
    """One row as InboxRowSerializer describes it, built directly: a page of 100 rows through DRF's field
    machinery costs more than all of the page's queries together."""
    task = row.task
    return {
        "id": task.pk,
        "instance": task.instance_id,
        "number": row.number,
        "process": task.process_key,
        "process_title": row.process_title,
        "task": task.spec_id,
        "title": row.title,
        "subject": row.subject,
        "requester": row.requester,
        "created_at": _DATETIME.to_representation(task.created_at),
        "due_at": _DATETIME.to_representation(task.due_at) if task.due_at else None,
        "due_state": row.due_state,
        "priority": task.priority,
        "unread": row.unread,
        "is_read_only": row.read_only,
        "claimed_by": _person(row.claimed_by),
        "acting_for": _person(row.acting_for),
        "bulk": row.bulk,
    }


INBOX_PARAMETERS = [
    OpenApiParameter("scope", str, enum=list(selectors.Scope.values)),
    OpenApiParameter("process", str),
    OpenApiParameter("overdue", bool),
    OpenApiParameter("due_week", bool, description="Due before the end of this week (and not overdue)."),
    OpenApiParameter("q", str, description="A person's name or a case number."),
    OpenApiParameter("sort", str, enum=list(selectors.SORTS)),
    OpenApiParameter("page", int),
    OpenApiParameter("page_size", int, description=f"1–{selectors.MAX_PAGE_SIZE}"),
]


class InboxListApi(APIView):
    """My tasks and my group's (claimed by colleagues: read-only), filtered, sorted and paginated."""

    @extend_schema(parameters=INBOX_PARAMETERS, responses=InboxPageSerializer)
    def get(self, request: Request) -> Response:
        user = authenticated_user(request)
        page = selectors.inbox_page(user=user, filters=selectors.InboxFilters.from_query(request.query_params))
        base = request.build_absolute_uri(request.path)
        return Response(
            {
                "count": page.total,
                "page": page.number,
                "pages": page.pages,
                "page_size": page.size,
                "next": f"{base}?{page.filters.query_string(page=page.number + 1)}" if page.has_next else None,
                "previous": f"{base}?{page.filters.query_string(page=page.number - 1)}" if page.has_previous else None,
                "results": [_row_json(row) for row in page.rows],
            }
        )


class CountSerializer(serializers.Serializer):
    count = serializers.IntegerField()


class UnreadApi(APIView):
    """How many tasks in my inbox I have not opened yet (the header counter)."""

    @extend_schema(responses=CountSerializer)
    def get(self, request: Request) -> Response:
        return Response({"count": selectors.unread_count(authenticated_user(request))})


# --- saved filters -----------------------------------------------------------------------------------------------


class SavedFilterSerializer(serializers.ModelSerializer):
    class Meta:
        model = SavedFilter
        fields = ["id", "name", "query", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"query": {"help_text": "The inbox's query string, e.g. overdue=1&process=journal_reopen"}}


class SavedFilterListApi(APIView):
    @extend_schema(responses=SavedFilterSerializer(many=True))
    def get(self, request: Request) -> Response:
        saved = selectors.saved_filters(authenticated_user(request))
        return Response(SavedFilterSerializer(saved, many=True).data)

    @extend_schema(request=SavedFilterSerializer, responses={201: SavedFilterSerializer})
    def post(self, request: Request) -> Response:
        body = SavedFilterSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        saved = services.saved_filter_save(
            user=authenticated_user(request),
            name=body.validated_data["name"],
            query=body.validated_data.get("query", ""),
        )
        return Response(SavedFilterSerializer(saved).data, status=status.HTTP_201_CREATED)


class SavedFilterDetailApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        services.saved_filter_delete(user=authenticated_user(request), filter_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- a task -----------------------------------------------------------------------------------------------------


class CommentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    text = serializers.CharField(max_length=services.MAX_COMMENT)
    author = serializers.SerializerMethodField()
    acting_for = serializers.SerializerMethodField()
    task = serializers.IntegerField(source="task_id", read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)

    def get_author(self, comment: Comment) -> dict[str, Any] | None:
        return _person(comment.author)

    def get_acting_for(self, comment: Comment) -> dict[str, Any] | None:
        return _person(comment.acting_for)


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    size = serializers.IntegerField()
    uploaded_by = serializers.SerializerMethodField()
    acting_for = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    download = serializers.SerializerMethodField()

    def get_uploaded_by(self, attachment: Attachment) -> dict[str, Any] | None:
        return _person(attachment.uploaded_by)

    def get_acting_for(self, attachment: Attachment) -> dict[str, Any] | None:
        return _person(attachment.acting_for)

    def get_download(self, attachment: Attachment) -> str:
        return reverse("api:inbox-task-attachment", args=[self.context["task_id"], attachment.pk])


class DocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    number = serializers.CharField()
    status = serializers.CharField()
    pdf = serializers.SerializerMethodField()

    def get_pdf(self, document: Any) -> str | None:
        if document.status != "ready" or not document.pdf:
            return None
        return reverse("api:inbox-task-document", args=[self.context["task_id"], document.pk])


class TimelineSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    kind = serializers.CharField()
    at = serializers.DateTimeField()
    actor = serializers.CharField()
    acting_for = serializers.CharField()
    text = serializers.CharField()
    details = serializers.SerializerMethodField()

    def get_details(self, entry: TimelineEntry) -> list[dict[str, str]]:
        return [{"label": label, "value": value} for label, value in entry.details]


class TaskPageSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="task.pk")
    instance = serializers.IntegerField(source="task.instance_id")
    number = serializers.CharField()
    process = serializers.CharField(source="task.process_key")
    process_title = serializers.CharField()
    task = serializers.CharField(source="task.spec_id")
    title = serializers.CharField()
    subject = serializers.CharField()
    status = serializers.CharField(source="task.status")
    instance_status = serializers.CharField(source="task.instance.status")
    requester = serializers.JSONField()
    assignee = serializers.JSONField()
    created_at = serializers.DateTimeField(source="task.created_at")
    due_at = serializers.DateTimeField(source="task.due_at", allow_null=True)
    priority = serializers.IntegerField(source="task.priority")
    can_complete = serializers.BooleanField()
    can_claim = serializers.BooleanField()
    can_release = serializers.BooleanField()
    can_comment = serializers.BooleanField()
    acting_for = serializers.JSONField()
    form = serializers.JSONField()
    delegates = serializers.JSONField()
    documents = serializers.JSONField()
    comments = serializers.JSONField()
    attachments = serializers.JSONField()
    history = serializers.JSONField()


def _task_page(task: HumanTask, user: User) -> dict[str, Any]:
    instance: ProcessInstance = task.instance
    definition = instance.definition
    may = selectors.task_permissions(task, user)
    context = {"task_id": task.pk}
    number = instance.shown_number
    return {
        "task": task,
        "number": number,
        "process_title": definition.title_in(get_language()),
        "title": task.title_in(get_language()),
        "subject": selectors.case_subject(task.subject_in(get_language()), definition.title_in(get_language()), number),
        "requester": _person(task.requester),
        "assignee": _person(task.assignee),
        "can_complete": may.can_complete,
        "can_claim": may.can_claim,
        "can_release": may.can_release,
        "can_comment": may.can_contribute,
        "acting_for": _person(may.acting_for),
        "form": forms.localized(definition.forms.get(task.spec_id, forms.EMPTY_FORM), get_language()),
        "delegates": [_person(p) for p in may.delegates],
        "documents": DocumentSerializer(selectors.documents_of(task), many=True, context=context).data,
        "comments": CommentSerializer(selectors.comments_of(instance), many=True).data,
        "attachments": AttachmentSerializer(selectors.attachments_of(instance), many=True, context=context).data,
        "history": TimelineSerializer(timeline(instance), many=True).data,
    }


class TaskPageApi(APIView):
    """Everything the task page shows: form, documents, history, comments, files, who may do what.

    Opening it marks the task as read for the unread counter."""

    @extend_schema(responses=TaskPageSerializer)
    def get(self, request: Request, pk: int) -> Response:
        user = authenticated_user(request)
        task = visible_task(pk, user)
        services.task_view_record(user=user, task=task)
        return Response(TaskPageSerializer(_task_page(task, user)).data)


class DelegatesApi(APIView):
    """Colleagues with the same role and scope, to whom the task may be handed."""

    @extend_schema(responses=PersonSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        user = authenticated_user(request)
        task = visible_task(pk, user)
        people = selectors.delegates(task, user) if acting_capacity(task, user)[0] else []
        return Response(PersonSerializer(people, many=True).data)


class DelegateSerializer(serializers.Serializer):
    to = serializers.CharField(help_text="The colleague's username.")


class DelegateApi(APIView):
    @extend_schema(request=DelegateSerializer, responses=InboxRowSerializer)
    def post(self, request: Request, pk: int) -> Response:
        user = authenticated_user(request)
        body = DelegateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        to_user = User.objects.filter(username=body.validated_data["to"], is_active=True).first()
        if to_user is None:
            visible_task(pk, user)  # someone else's task is a 404 before any word about the body
            raise ValidationFailed(
                _("Choose the colleague to hand the task to."), fields={"to": [_("There is no such person.")]}
            )
        task = workflow.task_delegate(task_id=pk, user=user, to_user=to_user)
        return Response({"id": task.pk, "assignee": _person(task.assignee)})


class CommentInputSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)


class CommentListApi(APIView):
    @extend_schema(responses=CommentSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        task = visible_task(pk, authenticated_user(request))
        return Response(CommentSerializer(selectors.comments_of(task.instance), many=True).data)

    @extend_schema(request=CommentInputSerializer, responses={201: CommentSerializer})
    def post(self, request: Request, pk: int) -> Response:
        user = authenticated_user(request)
        body = CommentInputSerializer(data=request.data)
        if not body.is_valid():
            visible_task(pk, user)  # someone else's task is a 404 before any word about the body
            body.is_valid(raise_exception=True)
        comment = services.comment_create(task_id=pk, user=user, text=body.validated_data["text"])
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class AttachmentListApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses=AttachmentSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        task = visible_task(pk, authenticated_user(request))
        attachments = selectors.attachments_of(task.instance)
        return Response(AttachmentSerializer(attachments, many=True, context={"task_id": pk}).data)

    @extend_schema(
        request={
            "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
        },
        responses={201: AttachmentSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        user = authenticated_user(request)
        upload = request.FILES.get("file")
        if upload is None:
            visible_task(pk, user)
            raise ValidationFailed(_("Choose a file to attach."), fields={"file": [_("This field is required.")]})
        attachment = services.attachment_create(task_id=pk, user=user, upload=upload)
        return Response(AttachmentSerializer(attachment, context={"task_id": pk}).data, status=status.HTTP_201_CREATED)


class AttachmentDownloadApi(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int, attachment_id: int) -> FileResponse:
        task = visible_task(pk, authenticated_user(request))
        attachment = selectors.attachment_of_task(task, attachment_id)
        return private_file(
            attachment.file,
            filename=attachment.name,
            content_type=CONTENT_TYPES.get(attachment.kind, "application/octet-stream"),
        )


class DocumentListApi(APIView):
    @extend_schema(responses=DocumentSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        task = visible_task(pk, authenticated_user(request))
        return Response(DocumentSerializer(selectors.documents_of(task), many=True, context={"task_id": pk}).data)


class DocumentPdfApi(APIView):
    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int, document_id: int) -> FileResponse:
        task = visible_task(pk, authenticated_user(request))
        document = selectors.document_of_task(task, document_id)
        return private_file(
            document.pdf,
            filename=f"{document.title or document.kind}.pdf",
            content_type="application/pdf",
            download=False,
        )


class HistoryApi(APIView):
    """The case's history in words: who did what and when, and for whom as a substitute."""

    @extend_schema(responses=TimelineSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        task = visible_task(pk, authenticated_user(request))
        return Response(TimelineSerializer(timeline(task.instance), many=True).data)


# --- bulk -------------------------------------------------------------------------------------------------------


class BulkSerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        # Declared here because a field named "data" would hide Serializer.data.
        return {
            "tasks": serializers.ListField(
                child=serializers.IntegerField(), max_length=services.MAX_BULK, allow_empty=False
            ),
            "data": serializers.DictField(
                help_text='The form data every task is completed with, e.g. {"decision": "approve"}.'
            ),
        }


class BulkCompleteApi(APIView):
    """Queue the completion of routine tasks (bulk="true") with the same data: 202 with the job at once.

    The job completes each task on its own; follow it at /api/jobs/<id>/ (each item says whether its task went
    through, and why not).
    """

    def schema_request_body(self, registry: Any) -> dict[str, Any]:
        return bulk_body(registry, services.MAX_BULK)

    @extend_schema(responses={202: JobSerializer}, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def post(self, request: Request) -> Response:
        body = BulkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        job = services.tasks_bulk_start(
            user=authenticated_user(request), task_ids=body.validated_data["tasks"], data=body.validated_data["data"]
        )
        job = Job.objects.prefetch_related("items").get(pk=job.pk)
        return Response(
            JobSerializer(job).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": reverse("api:job", args=[job.pk])},
        )


urlpatterns = [
    path("inbox/", InboxListApi.as_view(), name="inbox"),
    path("inbox/unread/", UnreadApi.as_view(), name="inbox-unread"),
    path("inbox/filters/", SavedFilterListApi.as_view(), name="inbox-filters"),
    path("inbox/filters/<int:pk>/", SavedFilterDetailApi.as_view(), name="inbox-filter"),
    path("inbox/bulk-complete/", BulkCompleteApi.as_view(), name="inbox-bulk-complete"),
    path("inbox/tasks/<int:pk>/", TaskPageApi.as_view(), name="inbox-task"),
    path("inbox/tasks/<int:pk>/delegates/", DelegatesApi.as_view(), name="inbox-task-delegates"),
    path("inbox/tasks/<int:pk>/delegate/", DelegateApi.as_view(), name="inbox-task-delegate"),
    path("inbox/tasks/<int:pk>/comments/", CommentListApi.as_view(), name="inbox-task-comments"),
    path("inbox/tasks/<int:pk>/attachments/", AttachmentListApi.as_view(), name="inbox-task-attachments"),
    path(
        "inbox/tasks/<int:pk>/attachments/<int:attachment_id>/",
        AttachmentDownloadApi.as_view(),
        name="inbox-task-attachment",
    ),
    path("inbox/tasks/<int:pk>/documents/", DocumentListApi.as_view(), name="inbox-task-documents"),
    path("inbox/tasks/<int:pk>/documents/<int:document_id>/pdf/", DocumentPdfApi.as_view(), name="inbox-task-document"),
    path("inbox/tasks/<int:pk>/history/", HistoryApi.as_view(), name="inbox-task-history"),
]
