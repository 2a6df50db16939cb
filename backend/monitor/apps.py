from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitorConfig(AppConfig):
    name = "backend.monitor"
    verbose_name = _("Process monitor")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from .percentiles import register_sqlite_aggregates

        connection_created.connect(register_sqlite_aggregates, dispatch_uid="monitor-percentile-sqlite")
