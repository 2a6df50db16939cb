from django.db import migrations, models


def anchor_existing_chains(apps, schema_editor):
    """Existing cases take their current last event as the anchor."""
    ProcessInstance = apps.get_model("workflow", "ProcessInstance")
    HistoryEvent = apps.get_model("workflow", "HistoryEvent")
    for instance_id in ProcessInstance.objects.values_list("pk", flat=True).iterator():
        last = HistoryEvent.objects.filter(instance_id=instance_id).order_by("-seq").values("seq", "hash").first()
        if last:
            ProcessInstance.objects.filter(pk=instance_id).update(history_count=last["seq"], history_head=last["hash"])


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0002_alter_historyevent_kind_alter_processdefinition_spec_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="processinstance",
            name="history_count",
            field=models.PositiveIntegerField(default=0, verbose_name="history events"),
        ),
        migrations.AddField(
            model_name="processinstance",
            name="history_head",
            field=models.CharField(
                default="0000000000000000000000000000000000000000000000000000000000000000",
                max_length=64,
                verbose_name="last history hash",
            ),
        ),
        migrations.RunPython(anchor_existing_chains, migrations.RunPython.noop),
    ]
