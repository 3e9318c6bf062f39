"""The default pipeline from the seed articles: 需求确认 → 方案演示 → 报价反馈 → 商务谈判 → 赢单 / 输单."""

from django.db import migrations

STAGES = [
    ("需求确认", 10, 10, False, False),
    ("方案演示", 20, 30, False, False),
    ("报价反馈", 30, 50, False, False),
    ("商务谈判", 40, 70, False, False),
    ("赢单", 90, 100, True, False),
    ("输单", 99, 0, False, True),
]


def create(apps, schema_editor):
    Pipeline = apps.get_model("pipeline", "Pipeline")
    Stage = apps.get_model("pipeline", "Stage")
    if Pipeline.objects.exists():
        return
    pipeline = Pipeline.objects.create(name="标准销售流程", is_default=True)
    for name, position, probability, won, lost in STAGES:
        Stage.objects.create(
            pipeline=pipeline, name=name, position=position, probability=probability,
            is_won=won, is_lost=lost,
        )


def remove(apps, schema_editor):
    apps.get_model("pipeline", "Pipeline").objects.filter(name="标准销售流程").delete()


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
