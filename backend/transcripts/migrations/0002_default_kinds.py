from django.db import migrations


def install(apps, schema_editor):
    from backend.transcripts.kinds import install_default_kinds

    install_default_kinds(apps.get_model("transcripts", "TranscriptKind"))


class Migration(migrations.Migration):
    dependencies = [("transcripts", "0001_initial")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
