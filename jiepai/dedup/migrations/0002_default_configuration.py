"""Default duplicate policies (seed 002), the weekly report's schedule row, and the uniqueness
rules an admin can switch on (off by default: existing data may clash; switching on checks first).

The schedule starts switched off (next_run_at empty): `jiepai dedup schedule-report` switches it
on. A migration cannot know whether it builds a production database or a test one, and a
report firing inside other features' deadline tests would be a flaky surprise.
"""

from django.db import migrations

POLICIES = {"account": "warn", "contact": "warn", "lead": "allow_and_flag"}
RULES = [
    ("contact", "mobile"),
    ("contact", "email"),
    ("contact", "name_company_full"),
    ("account", "credit_code"),
    ("account", "company_full"),
    ("lead", "mobile"),
    ("lead", "email"),
]


def forwards(apps, schema_editor):
    DedupPolicy = apps.get_model("dedup", "DedupPolicy")
    UniqueRule = apps.get_model("dedup", "UniqueRule")
    ReportSchedule = apps.get_model("dedup", "ReportSchedule")
    for entity, policy in POLICIES.items():
        DedupPolicy.objects.get_or_create(entity=entity, defaults={"policy": policy})
    for entity, kind in RULES:
        UniqueRule.objects.get_or_create(entity=entity, kind=kind, defaults={"active": False})
    ReportSchedule.objects.get_or_create(name="weekly_duplicates")


def backwards(apps, schema_editor):
    apps.get_model("dedup", "ReportSchedule").objects.filter(name="weekly_duplicates").delete()
    apps.get_model("dedup", "UniqueRule").objects.filter(active=False).delete()
    apps.get_model("dedup", "DedupPolicy").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("dedup", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
