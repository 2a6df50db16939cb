from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "backend.documents"
    label = "documents"
    verbose_name = _("Documents")

    def ready(self) -> None:
        from backend.core.files import register_file_owner

        register_file_owner("documents/", "documents.GeneratedDocument", "docx", "pdf")
