"""PostgreSQL: re-analyse the match-key table after 2 % of it changed, not the default 10 %.

With statistics taken while the table held only contacts' keys (e.g. right after a large
import), the planner believes a new lead has no keys and looks them up through the
(entity, object_id) index, reading every lead key. Autovacuum's default would wait for ~800,000
changes on an 8-million-row table before it looks again. SQLite needs nothing: its planner has
no such statistics unless ANALYZE is run.
"""

from django.db import migrations

FORWARD = "ALTER TABLE dedup_matchkey SET (autovacuum_analyze_scale_factor = 0.02)"
BACKWARD = "ALTER TABLE dedup_matchkey RESET (autovacuum_analyze_scale_factor)"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("dedup", "0004_scan_threshold_rows")]

    operations = [migrations.RunPython(forward, backward)]
