from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    name = "backend.inbox"
    label = "inbox"
    verbose_name = _("Inbox")

    def ready(self) -> None:
        from . import notifications  # services registers the bulk approval job

        notifications.connect()
