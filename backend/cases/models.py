"""Who looked at which case, and when: the access log the head of the Registrar office reads."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from backend.workflow.models import ProcessInstance


class CaseAccess(models.Model):
    """One look at a case or one export, written when it happens (append-only)."""

    class Action(models.TextChoices):
        OPENED = "opened", _("opened the case")
        LIST_EXPORTED = "list_exported", _("exported the list of cases")
        EVIDENCE = "evidence", _("downloaded the evidence package")
        EVIDENCE_SET = "evidence_set", _("asked for evidence packages of several cases")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("who"), on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("what"), max_length=20, choices=Action.choices)
    instance = models.ForeignKey(
        ProcessInstance,
        verbose_name=_("case"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accesses",
    )
    # The filters of an exported list, or the number of cases in an evidence set.
    detail = models.JSONField(_("details"), default=dict, blank=True)
    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("case access")
        verbose_name_plural = _("case accesses")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["instance", "at"], name="case_access_instance")]

    def __str__(self) -> str:
        return f"{self.user} {self.action} {self.instance or ''}"
