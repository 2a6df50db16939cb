from django.db import migrations


def install(apps, schema_editor):
    from backend.academics.grading import install_default_scale

    install_default_scale(apps.get_model("academics", "GradingScale"), apps.get_model("academics", "GradeBand"))


class Migration(migrations.Migration):
    dependencies = [("academics", "0002_initial")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
