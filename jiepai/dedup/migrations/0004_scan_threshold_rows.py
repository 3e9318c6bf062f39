"""Policies still at the old default scan threshold (0.85) take the new one (0.8): measured on
bench/bench_dedup_cn.py, 0.8 keeps precision ≥ 0.99 since clusters refuse contradicting
records, and finds the 张主任-style duplicates that score 0.82."""

from django.db import migrations


def forwards(apps, schema_editor):
    apps.get_model("dedup", "DedupPolicy").objects.filter(scan_threshold=0.85).update(
        scan_threshold=0.8
    )


def backwards(apps, schema_editor):
    apps.get_model("dedup", "DedupPolicy").objects.filter(scan_threshold=0.8).update(
        scan_threshold=0.85
    )


class Migration(migrations.Migration):
    dependencies = [("dedup", "0003_scan_threshold_default")]

    operations = [migrations.RunPython(forwards, backwards)]
