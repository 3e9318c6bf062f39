"""Merging 2–5 duplicates into one record (合并客户), and undoing it.

A merge, in one transaction: the survivor takes the chosen value of each field (by default the
newest non-empty one, seed 002); activities, tasks, opportunities, contacts, leads, tags and
attachments of the others are re-pointed to the survivor; people and teams they were shared
with are added to it; the others become tombstones (`merged_into` = survivor) that keep their
own fields and events and lose their match keys. One Event (`<entity>.merged`) on the survivor.
Events themselves never move: the survivor's timeline reads
`events_for(entity, merged_ids(entity, survivor.pk))`.

Everything that moved is written down in a MergeRecord, so `undo_merge` (within the policy's
`undo_days`, 30 by default) puts back exactly those rows and fields and nothing else: rows
added to the survivor after the merge stay, fields edited after the merge keep the edit.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiepai.core.entities import ENTITY_LABELS, model_for
from jiepai.customfields.models import FieldDefinition
from jiepai.customfields.services import sync_unique_values
from jiepai.deadlines.registry import deadline_kinds
from jiepai.dedup.index import index_record, reindex, remove_keys
from jiepai.dedup.models import (
    DEDUP_ENTITIES,
    ClusterStatus,
    DuplicateCluster,
    FlagStatus,
    MergeRecord,
)
from jiepai.dedup.selectors import policy_for
from jiepai.dedup.services import resolve_flags
from jiepai.events.services import record_event, to_jsonable
from jiepai.notify.services import notify
from jiepai.org.models import User
from jiepai.org.visibility import visible_to

MIN_RECORDS, MAX_RECORDS = 2, 5

#: the fields a merge chooses values for, per entity (the ones the entity services write)
MERGE_FIELDS = {
    "account": (
        "name", "short_name", "credit_code", "industry", "province", "city", "address",
        "latitude", "longitude", "phone", "website", "tier", "notes", "owner", "external_id",
    ),
    "contact": (
        "account", "name", "title", "department_name", "role", "decision_weight", "mobile",
        "phone", "email", "wechat", "notes", "owner", "external_id",
    ),
    "lead": (
        "name", "title", "company", "mobile", "email", "wechat", "industry", "province", "city",
        "budget", "message", "channel", "owner", "external_id",
    ),
}  # fmt: skip

#: rows that belong to a record through a foreign key: "app.Model", field, per entity
MOVED_RELATIONS = {
    "account": (
        ("customers.Contact", "account"),
        ("pipeline.Opportunity", "account"),
        ("intake.Lead", "account"),
        ("activities.Activity", "account"),
        ("activities.Task", "account"),
    ),
    "contact": (
        ("activities.Activity", "contact"),
        ("pipeline.Opportunity", "contact"),
        ("intake.Lead", "contact"),
    ),
    "lead": (
        ("activities.Activity", "lead"),
        ("activities.Task", "lead"),
        ("pipeline.Opportunity", "lead"),
    ),
}

#: rows that refer to a record as (entity, object_id)
GENERIC_RELATIONS = ("tagging.TagAssignment", "files.Attachment")


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _value(record: models.Model, field: str) -> Any:
    if field.startswith("custom."):
        return (record.custom or {}).get(field[7:])
    model_field = record._meta.get_field(field)
    if model_field.is_relation:
        return getattr(record, model_field.attname)
    return getattr(record, field)


def merge_fields(entity: str) -> list[str]:
    custom = FieldDefinition.objects.filter(entity=entity, active=True).values_list(
        "key", flat=True
    )
    return [*MERGE_FIELDS[entity], *(f"custom.{key}" for key in custom)]


def default_sources(
    records: list[models.Model], fields: list[str], survivor: models.Model
) -> dict[str, int]:
    """For each field, the record whose value is kept: the newest non-empty one (seed 002).
    The owner stays the survivor's owner (the other owners keep access through a share)."""
    newest_first = sorted(records, key=lambda r: (r.updated_at, r.pk), reverse=True)
    sources = {}
    for field in fields:
        source = next((r for r in newest_first if not _is_empty(_value(r, field))), newest_first[0])
        sources[field] = source.pk
    if "owner" in sources and survivor.owner_id:  # type: ignore[attr-defined]
        sources["owner"] = survivor.pk
    return sources


def default_survivor(records: list[models.Model]) -> models.Model:
    """The oldest record: its id is the one people and other systems have known longest."""
    return min(records, key=lambda r: (r.created_at, r.pk))


@dataclass
class MergePreview:
    entity: str
    records: list[models.Model]
    fields: list[str]
    sources: dict[str, int]
    survivor: models.Model


def _load(entity: str, ids: list[int], actor: User, *, lock: bool) -> list[models.Model]:
    if entity not in DEDUP_ENTITIES:
        raise ValidationError(_("不支持合并这种记录"))
    ids = list(dict.fromkeys(int(i) for i in ids))
    if not MIN_RECORDS <= len(ids) <= MAX_RECORDS:
        raise ValidationError(
            _("一次合并 %(min)d 到 %(max)d 条记录") % {"min": MIN_RECORDS, "max": MAX_RECORDS}
        )
    model = model_for(entity)
    queryset = model._default_manager.filter(pk__in=ids).order_by("pk")
    if lock:
        # rows locked in pk order (Saleor's rule): two merges over overlapping records queue
        # instead of deadlocking; the second then sees the tombstones and is refused
        queryset = queryset.select_for_update()
    records = list(queryset)
    visible = set(
        visible_to(actor, model._default_manager.filter(pk__in=ids)).values_list("pk", flat=True)
    )
    if len(records) != len(ids) or visible != set(ids):
        raise PermissionDenied(_("只能合并你有权查看的记录"))
    if any(r.merged_into_id for r in records):
        raise ValidationError(_("其中有记录已被合并"))
    return records


def preview_merge(*, entity: str, ids: list[int], actor: User) -> MergePreview:
    records = _load(entity, ids, actor, lock=False)
    fields = merge_fields(entity)
    survivor = default_survivor(records)
    return MergePreview(
        entity, records, fields, default_sources(records, fields, survivor), survivor
    )


def _deadline_fields(model: type[models.Model]) -> list[str]:
    label = model._meta.label
    return sorted({k.due_field for k in deadline_kinds() if k.model == label})


def merge_records(
    *,
    entity: str,
    ids: list[int],
    actor: User,
    survivor_id: int | None = None,
    sources: dict[str, int] | None = None,
    now: datetime.datetime | None = None,
) -> MergeRecord:
    """Merge the records `ids` (2–5, all visible to `actor`) into `survivor_id` (default: the
    oldest). `sources` maps a field ("mobile", "custom.level") to the id of the record whose
    value to keep; fields not given take the newest non-empty value."""
    now = now or timezone.now()
    model = model_for(entity)
    with transaction.atomic():
        records = _load(entity, ids, actor, lock=True)
        by_id = {r.pk: r for r in records}
        survivor = by_id.get(survivor_id) if survivor_id else default_survivor(records)
        if survivor is None:
            raise ValidationError(_("保留的记录必须是被合并的记录之一"))
        others = [r for r in records if r.pk != survivor.pk]
        fields = merge_fields(entity)
        owners = {r.pk: r.owner for r in records}  # before any field changes
        chosen = default_sources(records, fields, survivor)
        for field, source in (sources or {}).items():
            if field in chosen and int(source) in by_id:
                chosen[field] = int(source)

        # 1. the survivor's fields
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        custom = dict(survivor.custom or {})
        for field, source in chosen.items():
            if source == survivor.pk:
                continue
            old, new = _value(survivor, field), _value(by_id[source], field)
            if old == new:
                continue
            before[field], after[field] = to_jsonable(old), to_jsonable(new)
            if field.startswith("custom."):
                if _is_empty(new):
                    custom.pop(field[7:], None)
                else:
                    custom[field[7:]] = new
            else:
                setattr(survivor, survivor._meta.get_field(field).attname, new)
        survivor.custom = custom

        # 2. the others give up their unique custom values and their keys before the
        #    survivor takes them (unique rules would otherwise see a clash with a tombstone)
        merged_unique = {}
        for other in others:
            merged_unique[str(other.pk)] = other.custom or {}
            sync_unique_values(entity, other.pk, {})
        remove_keys(entity, [o.pk for o in others])

        # 3. tombstones; their deadlines stop (a merged lead's response window must not fire)
        deadlines = _deadline_fields(model)
        tombstone_before = {
            str(o.pk): {f: to_jsonable(getattr(o, f)) for f in deadlines} for o in others
        }
        model._default_manager.filter(pk__in=[o.pk for o in others]).update(
            merged_into=survivor, updated_at=now, **{f: None for f in deadlines}
        )
        survivor.save()
        sync_unique_values(entity, survivor.pk, survivor.custom)

        # 4. what belonged to the others now belongs to the survivor
        moved = _move_relations(entity, survivor.pk, [o.pk for o in others])
        added_shares = _merge_shares(survivor, others, owners)
        index_record(survivor, actor=actor)
        if entity == "account":
            reindex(
                "contact",
                model_for("contact")
                ._default_manager.filter(account=survivor)
                .values_list("pk", flat=True),
            )

        merge = MergeRecord.objects.create(
            entity=entity,
            survivor_id=survivor.pk,
            merged_ids=[o.pk for o in others],
            actor=actor,
            field_sources={k: v for k, v in chosen.items()},
            survivor_before=before,
            survivor_after=after,
            moved={**moved, "_tombstones": tombstone_before},
            added_shares=added_shares,
            merged_unique_values=merged_unique,
            undo_until=now + datetime.timedelta(days=policy_for(entity).undo_days),
        )
        all_ids = [r.pk for r in records]
        resolve_flags(
            entity=entity, object_ids=all_ids, status=FlagStatus.MERGED, actor=actor, now=now
        )
        _close_clusters(entity, all_ids)
        record_event(
            subject=survivor,
            verb=f"{entity}.merged",
            actor=actor,
            before=before,
            after=after,
            data={
                "merge": merge.pk,
                "merged_ids": merge.merged_ids,
                "moved": {k: sum(len(v) for v in ids.values()) for k, ids in moved.items()},
            },
            now=now,
        )
        _notify_owners(entity, owners.values(), survivor, actor, merge, undone=False)
    return merge


def _move_relations(
    entity: str, survivor_id: int, other_ids: list[int]
) -> dict[str, dict[str, list[int]]]:
    moved: dict[str, dict[str, list[int]]] = {}
    for label, field in MOVED_RELATIONS[entity]:
        related = apps.get_model(label)
        for other_id in other_ids:
            row_ids = list(
                related._default_manager.filter(**{f"{field}_id": other_id}).values_list(
                    "pk", flat=True
                )
            )
            if not row_ids:
                continue
            related._default_manager.filter(pk__in=row_ids).update(**{f"{field}_id": survivor_id})
            moved.setdefault(f"{label}.{field}", {})[str(other_id)] = row_ids
    for label in GENERIC_RELATIONS:
        related = apps.get_model(label)
        taken: set[Any] = set()
        if label == "tagging.TagAssignment":
            # one assignment per tag and record: a tag the survivor already has stays behind
            taken = set(
                related._default_manager.filter(entity=entity, object_id=survivor_id).values_list(
                    "tag_id", flat=True
                )
            )
        for other_id in other_ids:
            rows = related._default_manager.filter(entity=entity, object_id=other_id)
            if taken:
                rows = rows.exclude(tag_id__in=taken)
            row_ids = list(rows.values_list("pk", flat=True))
            if not row_ids:
                continue
            if label == "tagging.TagAssignment":
                taken |= set(
                    related._default_manager.filter(pk__in=row_ids).values_list("tag_id", flat=True)
                )
            related._default_manager.filter(pk__in=row_ids).update(object_id=survivor_id)
            moved.setdefault(f"{label}.object_id", {})[str(other_id)] = row_ids
    return moved


def _merge_shares(
    survivor: models.Model, others: list[models.Model], owners: dict[int, Any]
) -> dict[str, list[int]]:
    """The survivor is shared with whoever the others were shared with, and with every owner
    of a merged record who is not its owner now: nobody loses sight of their customer."""
    added: dict[str, list[int]] = {"shared_with": [], "teams": []}
    for name in added:
        manager = getattr(survivor, name)
        have = set(manager.values_list("pk", flat=True))
        wanted = [
            pk for other in others for pk in getattr(other, name).values_list("pk", flat=True)
        ]
        if name == "shared_with":
            wanted += [o.pk for o in owners.values() if o is not None]
        for pk in wanted:
            if pk not in have and pk != survivor.owner_id:  # type: ignore[attr-defined]
                have.add(pk)
                added[name].append(pk)
        if added[name]:
            manager.add(*added[name])
    return added


def _close_clusters(entity: str, ids: list[int]) -> None:
    """Review clusters two of whose records were just merged are done (a leftover record
    shows up again in the next scan if it still looks like a duplicate)."""
    wanted = set(ids)
    for cluster in DuplicateCluster.objects.filter(entity=entity, status=ClusterStatus.OPEN):
        if len(set(cluster.record_ids) & wanted) >= 2:
            cluster.status = ClusterStatus.MERGED
            cluster.save(update_fields=["status", "updated_at"])


def _notify_owners(
    entity: str,
    owners: Iterable[User | None],
    survivor: models.Model,
    actor: User,
    merge: MergeRecord,
    *,
    undone: bool,
) -> None:
    """Merging (or un-merging) records of two or more owners tells each of them."""
    distinct = {o.pk: o for o in owners if o is not None}
    if len(distinct) < 2:
        return
    label = ENTITY_LABELS.get(entity, entity)
    template = (
        _("%(who)s 撤销了%(label)s“%(name)s”的合并")
        if undone
        else _("%(who)s 合并了 %(n)d 条%(label)s到“%(name)s”")
    )
    notify(
        recipients=distinct.values(),
        kind="dedup.merged",
        title=template
        % {"who": actor, "n": len(merge.merged_ids) + 1, "label": label, "name": survivor},
        url=survivor.get_absolute_url(),  # type: ignore[attr-defined]
        dedupe_key=f"dedup.merge:{merge.pk}:{'undo' if undone else 'merge'}",
    )


def can_undo(merge: MergeRecord, *, now: datetime.datetime | None = None) -> bool:
    now = now or timezone.now()
    return merge.undone_at is None and now <= merge.undo_until


def undo_merge(
    *, merge: MergeRecord, actor: User, now: datetime.datetime | None = None
) -> MergeRecord:
    """Put the tombstones back with what was theirs. Refused after `undo_until`, when a later
    merge involved these records (undo that one first), or for a user who cannot see them all."""
    now = now or timezone.now()
    entity = merge.entity
    model = model_for(entity)
    with transaction.atomic():
        merge = MergeRecord.objects.select_for_update().get(pk=merge.pk)
        if merge.undone_at is not None:
            raise ValidationError(_("这次合并已经撤销过了"))
        if now > merge.undo_until:
            raise ValidationError(_("合并已超过可撤销期限"))
        ids = [merge.survivor_id, *merge.merged_ids]
        later = [
            m
            for m in MergeRecord.objects.filter(
                entity=entity, undone_at__isnull=True, created_at__gte=merge.created_at
            ).exclude(pk=merge.pk)
            if m.survivor_id in ids or set(m.merged_ids) & set(ids)
        ]
        if later:
            raise ValidationError(_("这些记录之后又参与了合并,请先撤销之后的合并"))
        records = list(model._default_manager.select_for_update().filter(pk__in=ids).order_by("pk"))
        visible = set(
            visible_to(actor, model._default_manager.filter(pk__in=ids)).values_list(
                "pk", flat=True
            )
        )
        if len(records) != len(ids) or visible != set(ids):
            raise PermissionDenied(_("只能撤销你有权查看的记录的合并"))
        by_id = {r.pk: r for r in records}
        survivor = by_id[merge.survivor_id]

        # 1. the survivor's fields go back, unless someone edited them since
        custom = dict(survivor.custom or {})
        restored: dict[str, Any] = {}
        for field, old in merge.survivor_before.items():
            current = to_jsonable(_value(survivor, field))
            if current != merge.survivor_after.get(field):
                continue  # edited after the merge: the edit wins
            restored[field] = old
            if field.startswith("custom."):
                if _is_empty(old):
                    custom.pop(field[7:], None)
                else:
                    custom[field[7:]] = old
            else:
                model_field = survivor._meta.get_field(field)
                setattr(
                    survivor,
                    model_field.attname,
                    model_field.to_python(old) if not model_field.is_relation else old,
                )
        survivor.custom = custom
        survivor.save()
        sync_unique_values(entity, survivor.pk, survivor.custom)

        # 2. the rows that moved go back (those still on the survivor)
        for key, per_record in merge.moved.items():
            if key == "_tombstones":
                continue
            label, field = key.rsplit(".", 1)
            related = apps.get_model(label)
            for other_id, row_ids in per_record.items():
                if field == "object_id":
                    related._default_manager.filter(
                        pk__in=row_ids, entity=entity, object_id=survivor.pk
                    ).update(object_id=int(other_id))
                else:
                    related._default_manager.filter(
                        pk__in=row_ids, **{f"{field}_id": survivor.pk}
                    ).update(**{f"{field}_id": int(other_id)})
        for name, pks in merge.added_shares.items():
            if pks:
                getattr(survivor, name).remove(*pks)

        # 3. the tombstones come back
        for other_id, fields in merge.moved.get("_tombstones", {}).items():
            tomb = by_id[int(other_id)]
            tomb.merged_into = None
            for field, value in fields.items():
                setattr(tomb, field, tomb._meta.get_field(field).to_python(value))
            tomb.save()
            sync_unique_values(entity, tomb.pk, tomb.custom or {})
        for tomb_id in merge.merged_ids:
            index_record(by_id[tomb_id], actor=actor)
        index_record(survivor, actor=actor)
        if entity == "account":
            moved_contacts = [
                pk
                for ids_ in merge.moved.get("customers.Contact.account", {}).values()
                for pk in ids_
            ]
            reindex("contact", moved_contacts)

        merge.undone_at = now
        merge.undone_by = actor
        merge.save(update_fields=["undone_at", "undone_by", "updated_at"])
        record_event(
            subject=survivor,
            verb=f"{entity}.merge_undone",
            actor=actor,
            before={k: merge.survivor_after.get(k) for k in restored},
            after=restored,
            data={"merge": merge.pk, "restored_ids": merge.merged_ids},
            now=now,
        )
        owners = [survivor.owner, *(by_id[i].owner for i in merge.merged_ids)]
        _notify_owners(entity, owners, survivor, actor, merge, undone=True)
    return merge
