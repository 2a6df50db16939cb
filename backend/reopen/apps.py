from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReopenConfig(AppConfig):
    name = "backend.reopen"
    label = "reopen"
    verbose_name = _("Journal reopening")
