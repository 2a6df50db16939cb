from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_delete, post_migrate, post_save
from django.utils.translation import gettext_lazy as _


def _deploy_after_migrate(sender: AppConfig, **kwargs: Any) -> None:
    if not getattr(settings, "QUJAT_DEPLOY_ON_MIGRATE", False):
        return
    from .deployment import default_diagrams, deploy_file
    from .services import instances_restage

    for path in default_diagrams():
        deploy_file(path)
    instances_restage()


def _reroute_on_change(sender: type, instance: Any, **kwargs: Any) -> None:
    """Open tasks offered to a role follow changes in who holds it (new head, acting head, ended term)."""
    from django.db import transaction

    from .models import HumanTask
    from .tasks import reroute_tasks

    role = getattr(instance, "role", "") or None
    open_tasks = HumanTask.objects.filter(status=HumanTask.Status.OPEN)
    if (open_tasks.filter(role=role) if role else open_tasks).exists():
        transaction.on_commit(lambda: reroute_tasks.delay(role))


class WorkflowConfig(AppConfig):
    name = "backend.workflow"
    label = "workflow"
    verbose_name = _("Processes")

    def ready(self) -> None:
        from backend.accounts.models import RoleAssignment, Substitution

        post_migrate.connect(_deploy_after_migrate, sender=self)
        for model in (RoleAssignment, Substitution):
            post_save.connect(_reroute_on_change, sender=model, dispatch_uid=f"reroute-save-{model.__name__}")
            post_delete.connect(_reroute_on_change, sender=model, dispatch_uid=f"reroute-delete-{model.__name__}")
