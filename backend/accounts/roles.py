"""The roles of DOMAIN.md. A lane in a BPMN diagram is named by one of these keys."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    TEACHER = "teacher", _("Teacher")
    DEPARTMENT_HEAD = "department_head", _("Head of department")
    DEAN_CURATION = "dean_curation", _("Dean in charge of curation")
    SCHOOL_DEAN = "school_dean", _("Dean of the school")
    VICE_RECTOR = "vice_rector", _("Vice-rector for academic affairs")
    REGISTRAR_INSPECTOR = "registrar_inspector", _("Senior inspector of the Registrar office")
    REGISTRAR_STAFF = "registrar_staff", _("Registrar office staff")
    REGISTRAR_HEAD = "registrar_head", _("Head of the Registrar office")
    IT_HEAD = "it_head", _("Head of the IT department")
    IT_STAFF = "it_staff", _("IT department staff")
    DEAN_OFFICE = "dean_office", _("Dean's office")
    STUDENT = "student", _("Student")
    AUDITOR = "auditor", _("Auditor")
    SEAL_CUSTODIAN = "seal_custodian", _("Keeper of the university's e-seal")
    ADMINISTRATOR = "administrator", _("Administrator")


# "The level above" when nobody competent is left at a role's own level (separation of duties).
SUPERIOR_ROLE: dict[str, str] = {
    Role.TEACHER: Role.DEPARTMENT_HEAD,
    Role.STUDENT: Role.DEAN_OFFICE,
    Role.DEPARTMENT_HEAD: Role.DEAN_CURATION,
    Role.DEAN_CURATION: Role.SCHOOL_DEAN,
    Role.SCHOOL_DEAN: Role.VICE_RECTOR,
    Role.REGISTRAR_INSPECTOR: Role.REGISTRAR_HEAD,
    Role.REGISTRAR_STAFF: Role.REGISTRAR_HEAD,
    Role.REGISTRAR_HEAD: Role.VICE_RECTOR,
    Role.IT_STAFF: Role.IT_HEAD,
    Role.IT_HEAD: Role.VICE_RECTOR,
    Role.DEAN_OFFICE: Role.SCHOOL_DEAN,
    Role.SEAL_CUSTODIAN: Role.VICE_RECTOR,
}
