"""The 方案演示 gate accepts a follow-up concluding "已发送报价" instead of a quote file: make that
conclusion one of the follow-up form's choices."""

from django.db import migrations


def create(apps, schema_editor):
    ConclusionChoice = apps.get_model("activities", "ConclusionChoice")
    last = ConclusionChoice.objects.order_by("-position").values_list("position", flat=True).first()
    ConclusionChoice.objects.get_or_create(
        label="已发送报价", defaults={"position": (last or 0) + 1}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("pipeline", "0004_default_gates"),
        ("activities", "0006_default_configuration"),
    ]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
