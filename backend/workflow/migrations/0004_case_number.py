from django.db import migrations, models
from django.utils import timezone


def number_existing_cases(apps, schema_editor):
    """Cases started before numbers existed get theirs the way new cases do."""
    ProcessInstance = apps.get_model("workflow", "ProcessInstance")
    for instance in ProcessInstance.objects.select_related("definition").iterator():
        properties = instance.definition.routing.get("process", {})
        prefix = (
            properties.get("case_prefix")
            or "".join(part[:1] for part in instance.process_key.split("_") if part).upper()[:4]
        )
        year = timezone.localdate(instance.started_at).year
        ProcessInstance.objects.filter(pk=instance.pk).update(number=f"{prefix}-{year}-{instance.pk:06d}")


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0003_history_anchor"),
    ]

    operations = [
        migrations.AddField(
            model_name="processinstance",
            name="number",
            field=models.CharField(blank=True, max_length=40, null=True, unique=True, verbose_name="case number"),
        ),
        migrations.RunPython(number_existing_cases, migrations.RunPython.noop),
    ]
