from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitorConfig(AppConfig):
    name = "backend.monitor"
    verbose_name = _("Process monitor")
    default_auto_field = "django.db.models.BigAutoField"
