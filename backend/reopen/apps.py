from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReopenConfig(AppConfig):
    name = "backend.reopen"
    label = "reopen"
    verbose_name = _("Journal reopening")

    def ready(self) -> None:
        # Registers the process's start hooks and the helpers its scripts call.
        from . import services  # noqa: F401
