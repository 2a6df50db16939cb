from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Attachment, Comment, Notice, SavedFilter


@admin.register(SavedFilter)
class SavedFilterAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "query", "created_at"]
    search_fields = ["user__username", "name"]
    raw_id_fields = ["user"]


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    """Read-only: a comment is part of the case's audited history."""

    list_display = ["instance", "author", "acting_for", "created_at"]
    search_fields = ["author__username", "text"]
    raw_id_fields = ["instance", "task", "author", "acting_for"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    """Read-only: files are added on the task page, where their type and size are checked."""

    list_display = ["name", "kind", "size", "instance", "uploaded_by", "created_at"]
    search_fields = ["name", "uploaded_by__username"]
    raw_id_fields = ["instance", "task", "uploaded_by", "acting_for"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ["user", "task", "kind", "created_at", "sent_at"]
    list_filter = ["kind"]
    search_fields = ["user__username"]
    raw_id_fields = ["user", "task"]
