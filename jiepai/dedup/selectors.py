"""Reading dedup configuration and merge history."""

from __future__ import annotations

from django.db.models import Model

from jiepai.core.entities import model_for
from jiepai.dedup.models import DedupPolicy, MatchKey, Policy, UniqueRule

DEFAULT_POLICIES = {
    # Seed 002: show the existing record while the rep types (warn); leads arriving from
    # channels are never refused, they are let in and flagged for review.
    "account": Policy.WARN,
    "contact": Policy.WARN,
    "lead": Policy.ALLOW_AND_FLAG,
}


def policy_for(entity: str) -> DedupPolicy:
    """The entity's policy row (created with the defaults the first time it is asked for)."""
    policy, _ = DedupPolicy.objects.get_or_create(
        entity=entity, defaults={"policy": DEFAULT_POLICIES.get(entity, Policy.WARN)}
    )
    return policy


def enforced_kinds(entity: str) -> set[str]:
    return set(UniqueRule.objects.filter(entity=entity, active=True).values_list("kind", flat=True))


def merged_ids(entity: str, object_id: int) -> list[int]:
    """The record and every record merged into it (transitively), for its timeline:

        events_for(entity, merged_ids(entity, pk))

    Events never move in a merge (they are immutable); the survivor's timeline reads the
    tombstones' events through this list.
    """
    model = model_for(entity)
    ids = [object_id]
    frontier = [object_id]
    while frontier:
        children = list(
            model._default_manager.filter(merged_into_id__in=frontier)
            .order_by()  # no sort: with it SQLite walks the created_at index over every row
            .values_list("pk", flat=True)
        )
        children = [c for c in children if c not in ids]
        ids += children
        frontier = children
    return ids


def survivor_of(entity: str, instance: Model) -> Model:
    """The live record a tombstone was merged into (following chains); the record itself when live."""
    model = model_for(entity)
    seen = set()
    current = instance
    while getattr(current, "merged_into_id", None) and current.pk not in seen:
        seen.add(current.pk)
        current = model._default_manager.get(pk=current.merged_into_id)
    return current


def keys_of(entity: str, object_id: int) -> dict[str, list[str]]:
    keys: dict[str, list[str]] = {}
    for kind, value in MatchKey.objects.filter(entity=entity, object_id=object_id).values_list(
        "kind", "value"
    ):
        keys.setdefault(kind, []).append(value)
    return keys
