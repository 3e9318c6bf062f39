"""Putting tags on records and taking them off. Rules, intake and notes all come through here."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from jiepai.events.services import record_event
from jiepai.tagging.models import Tag, TagAssignment


def get_or_create_tag(name: str, *, category: str = "") -> Tag:
    tag, _ = Tag.objects.get_or_create(name=name.strip()[:50], defaults={"category": category})
    return tag


def apply_tag(
    *,
    entity: str,
    object_id: int,
    tag: Tag | str,
    source: str = "manual",
    weight: float | None = None,
    actor: object = None,
    now: datetime.datetime | None = None,
) -> TagAssignment:
    """Tag a record, or refresh the tag's weight and expiry if it is already there."""
    now = now or timezone.now()
    tag = get_or_create_tag(tag) if isinstance(tag, str) else tag
    expires_at = now + datetime.timedelta(days=tag.ttl_days) if tag.ttl_days else None
    with transaction.atomic():
        assignment, created = TagAssignment.objects.update_or_create(
            tag=tag,
            entity=entity,
            object_id=object_id,
            defaults={
                "weight": tag.default_weight if weight is None else weight,
                "expires_at": expires_at,
                "source": source,
                "assigned_by": actor if getattr(actor, "is_authenticated", False) else None,
            },
        )
        if created:
            record_event(
                subject_type=entity,
                subject_id=object_id,
                verb="tag.added",
                actor=actor,
                after={"tag": tag.name, "source": source},
                now=now,
            )
    return assignment


def remove_tag(
    *,
    entity: str,
    object_id: int,
    tag: Tag,
    actor: object = None,
    now: datetime.datetime | None = None,
) -> None:
    with transaction.atomic():
        deleted, _ = TagAssignment.objects.filter(
            tag=tag, entity=entity, object_id=object_id
        ).delete()
        if deleted:
            record_event(
                subject_type=entity,
                subject_id=object_id,
                verb="tag.removed",
                actor=actor,
                before={"tag": tag.name},
                now=now or timezone.now(),
            )


def tags_of(
    entity: str, object_id: int, *, now: datetime.datetime | None = None
) -> list[TagAssignment]:
    """The record's live tags (expired ones are not shown), heaviest first."""
    now = now or timezone.now()
    return list(
        TagAssignment.objects.filter(entity=entity, object_id=object_id)
        .exclude(expires_at__lte=now)
        .select_related("tag")
        .order_by("-weight", "tag__name")
    )
