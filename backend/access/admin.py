"""Login requests in the admin: read-only (they change only through their case)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import AccessEntry, AccessRequest, ActivationToken, BatchProgress


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EntryInline(admin.TabularInline):
    model = AccessEntry
    extra = 0
    fields = ("order", "full_name", "email", "status", "account", "match", "matched_by", "note", "activated_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AccessRequest)
class AccessRequestAdmin(ReadOnly):
    list_display = ["instance", "kind", "requested_by", "department", "group", "outcome", "submitted_at"]
    list_filter = ["kind", "outcome"]
    search_fields = ["requested_by__username", "entries__email", "entries__last_name"]
    inlines = [EntryInline]


@admin.register(ActivationToken)
class ActivationTokenAdmin(ReadOnly):
    list_display = ["user", "created_at", "expires_at", "used_at", "revoked_at"]
    # Only the hash is stored; it is not shown either (it identifies a link).
    exclude = ["token_hash"]


@admin.register(BatchProgress)
class BatchProgressAdmin(ReadOnly):
    list_display = ["request", "state", "total", "done", "skipped", "finished_at"]
