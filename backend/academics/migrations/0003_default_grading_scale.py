from decimal import Decimal

from django.db import migrations

# Kazakhstan's credit-system letter scale (order No. 152); editable afterwards in the admin.
BANDS = [
    ("A", 95, 100, "4.00", True),
    ("A-", 90, 94, "3.67", True),
    ("B+", 85, 89, "3.33", True),
    ("B", 80, 84, "3.00", True),
    ("B-", 75, 79, "2.67", True),
    ("C+", 70, 74, "2.33", True),
    ("C", 65, 69, "2.00", True),
    ("C-", 60, 64, "1.67", True),
    ("D+", 55, 59, "1.33", True),
    ("D", 50, 54, "1.00", True),
    ("FX", 25, 49, "0.00", False),
    ("F", 0, 24, "0.00", False),
]


def install(apps, schema_editor):
    GradingScale = apps.get_model("academics", "GradingScale")
    GradeBand = apps.get_model("academics", "GradeBand")
    if GradingScale.objects.filter(is_default=True).exists():
        return
    scale = GradingScale.objects.create(code="kz-152", name="Order No. 152 (0–100)", is_default=True)
    for letter, low, high, gp, passing in BANDS:
        GradeBand.objects.create(
            scale=scale,
            letter=letter,
            min_points=low,
            max_points=high,
            grade_point=Decimal(gp),
            is_passing=passing,
        )


class Migration(migrations.Migration):
    dependencies = [("academics", "0002_initial")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
