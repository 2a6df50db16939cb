from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TranscriptsConfig(AppConfig):
    name = "backend.transcripts"
    label = "transcripts"
    verbose_name = _("Transcripts")

    def ready(self) -> None:
        # Registers the process's start hooks and the helpers its scripts call.
        from . import services  # noqa: F401
