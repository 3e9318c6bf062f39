"""The configuration every intake reads (the lead's custom-field definitions, the intent-score
weights, the active tag rules, the duplicate policies of leads and contacts and the unique rules
of leads, the tags by name), kept in memory while it has not changed.

Each intake asks one cheap question of the database: the row count and latest `updated_at` of
those tables (each an index lookup). While the answer is the same as last time, the snapshot
read then is used again; when an admin changes any of them, the next intake in every worker
reads them afresh. This replaces ~8 ORM reads per intake with one small raw query and never
serves a stale rule: the pipeline asks inside its transaction (`intake_settings`), and prepares
the payload before it with the last snapshot (`last_intake_settings`), again if it changed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from jiepai.customfields.models import FieldDefinition
from jiepai.dedup.models import DedupPolicy, UniqueRule
from jiepai.dedup.selectors import enforced_kinds, policy_for
from jiepai.events.prepared import prepared_cursor
from jiepai.intake.models import IntentConfig, TagRule
from jiepai.tagging.models import Tag


@dataclass(frozen=True)
class IntakeSettings:
    definitions: list[FieldDefinition]
    intent: IntentConfig
    rules: list[TagRule]
    #: entity → its duplicate policy ("lead", "contact")
    policies: dict[str, DedupPolicy] = field(default_factory=dict)
    #: the kinds of key under an active unique rule among leads
    lead_unique_kinds: set[str] = field(default_factory=set)
    #: tags read since the snapshot was taken (filled as intakes need them; see tags_named)
    tags: dict[str, Tag] = field(default_factory=dict)

    def rules_for(self, channel_id: int) -> list[TagRule]:
        return [r for r in self.rules if r.channel_id in (None, channel_id)]


_TABLES = (FieldDefinition, IntentConfig, TagRule, DedupPolicy, UniqueRule, Tag)
_lock = threading.Lock()
_cached: tuple[Any, IntakeSettings] | None = None


def _fingerprint() -> tuple[Any, ...]:
    parts = []
    for model in _TABLES:
        table = connection.ops.quote_name(model._meta.db_table)
        # table names come from the models, never from input
        parts.append(f"(SELECT COUNT(*) FROM {table}), (SELECT MAX(updated_at) FROM {table})")  # noqa: S608
    # prepared: 12 sub-selects cost the server more to parse and plan than to run
    with prepared_cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        row = cursor.fetchone()
    return (connection.settings_dict["NAME"], *row)


def last_intake_settings() -> IntakeSettings:
    """The snapshot the last intake in this process used, without asking the database whether it
    is still current (one is read when there is none yet). For work done before the transaction,
    checked against `intake_settings()` inside it."""
    cached = _cached
    if cached is not None and cached[0][0] == connection.settings_dict["NAME"]:
        return cached[1]
    return intake_settings()


def intake_settings() -> IntakeSettings:
    global _cached
    fingerprint = _fingerprint()
    cached = _cached
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    snapshot = IntakeSettings(
        definitions=list(FieldDefinition.objects.filter(entity="lead", active=True)),
        intent=IntentConfig.current(),
        rules=list(TagRule.objects.filter(active=True).order_by("position", "id")),
        policies={entity: policy_for(entity) for entity in ("lead", "contact")},
        lead_unique_kinds=enforced_kinds("lead"),
    )
    with _lock:
        _cached = (fingerprint, snapshot)
    return snapshot
