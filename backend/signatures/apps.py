from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SignaturesConfig(AppConfig):
    name = "backend.signatures"
    label = "signatures"
    verbose_name = _("Signatures")

    def ready(self) -> None:
        from backend.core.files import register_file_owner

        register_file_owner("signed/", "signatures.PublishedDocument", "signed_pdf")
        from . import batch  # noqa: F401 - registers the batch signing job kind
