from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from backend.core.http import authenticated_user

from .models import Authority, PublishedDocument, Signature, SignerCertificate, TrustAnchor
from .services import signer_certificate_revoke


@admin.register(Authority)
class AuthorityAdmin(admin.ModelAdmin):
    list_display = ["kind", "fingerprint", "created_at"]
    readonly_fields = ["kind", "certificate_pem", "fingerprint", "created_at"]
    exclude = ["encrypted_key_pem"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(TrustAnchor)
class TrustAnchorAdmin(admin.ModelAdmin):
    list_display = ["name", "fingerprint", "added_at"]


@admin.register(SignerCertificate)
class SignerCertificateAdmin(admin.ModelAdmin):
    list_display = ["user", "subject", "source", "not_after", "revoked_at"]
    list_filter = ["source", "revoked_at"]
    search_fields = ["user__last_name", "subject", "iin", "fingerprint"]
    readonly_fields = [
        "user",
        "source",
        "certificate_pem",
        "chain_pem",
        "fingerprint",
        "subject",
        "issuer",
        "iin",
        "sheet_text",
        "not_before",
        "not_after",
        "revoked_at",
        "revocation_reason",
        "created_at",
    ]
    exclude = ["encrypted_key_pem"]
    actions = ["revoke"]

    @admin.action(description=_("Revoke the selected certificates"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[SignerCertificate]) -> None:
        for certificate in queryset:
            signer_certificate_revoke(
                certificate=certificate, reason=str(_("revoked in the administration")), by=authenticated_user(request)
            )
        messages.success(request, _("Revoked."))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(PublishedDocument)
class PublishedDocumentAdmin(admin.ModelAdmin):
    list_display = ["document", "verification_id", "holder_public_name", "status", "issued_at"]
    list_filter = ["status"]
    search_fields = ["verification_id", "holder_public_name", "document__number"]
    readonly_fields = [f.name for f in PublishedDocument._meta.fields]


@admin.register(Signature)
class SignatureAdmin(admin.ModelAdmin):
    list_display = ["document", "signer", "kind", "signed_at", "certificate_fingerprint"]
    list_filter = ["kind"]
    readonly_fields = [f.name for f in Signature._meta.fields]
