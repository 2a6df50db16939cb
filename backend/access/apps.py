from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "backend.access"
    label = "access"
    verbose_name = _("Access requests")

    def ready(self) -> None:
        # Registers the process's start hooks and the helpers its scripts call.
        from . import scripts, starting  # noqa: F401
