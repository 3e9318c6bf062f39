"""Keeping the key table in step with the records. Call inside the transaction that saves."""

from __future__ import annotations

import zlib
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from jiepai.core.entities import entity_of, model_for
from jiepai.dedup.keys import BLOCKING_KINDS, Keys, keys_for, kind_label, values_of
from jiepai.dedup.models import DEDUP_ENTITIES, MatchKey
from jiepai.dedup.selectors import enforced_kinds
from jiepai.events.prepared import prepared_cursor
from jiepai.org.models import User
from jiepai.org.visibility import can_see

#: the form field a clash on each unique kind is reported on
KIND_FIELDS = {
    "mobile": "mobile",
    "landline": "phone",
    "email": "email",
    "wechat": "wechat",
    "name_company_full": "name",
    "credit_code": "credit_code",
    "company_full": "name",
}


def lock_keys(entity: str, keys: Keys) -> None:
    """Serialise concurrent saves that share a blocking or unique key (PostgreSQL).

    Two reps creating the same contact at the same moment would each check, find nothing
    (the other's row is not committed) and both insert. A transaction-scoped advisory lock per
    key, taken in a fixed order (no deadlock), makes the second wait until the first commits;
    its check then sees the first record. SQLite needs nothing: its IMMEDIATE transactions
    already let one writer in at a time.
    """
    if connection.vendor != "postgresql":
        return
    hashes = sorted(
        {
            zlib.crc32(f"dedup|{entity}|{kind}|{value}".encode()) - 2**31
            for kind, values in keys.items()
            if kind in BLOCKING_KINDS or kind in KIND_FIELDS
            for value in values
        }
    )
    if not hashes:
        return
    with prepared_cursor() as cursor:
        # one round trip; the locks are taken in the array's (sorted) order
        cursor.execute(
            "SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) WITH ORDINALITY AS t(k, n) "
            "ORDER BY n",
            [hashes],
        )


def _clash_message(entity: str, kind: str, value: str, other_id: int, actor: User | None) -> str:
    model = model_for(entity)
    other = model._default_manager.select_related("owner").filter(pk=other_id).first()
    label = kind_label(kind)
    if other is None:
        return _("%(label)s已被其他记录使用") % {"label": label}
    owner = str(other.owner) if other.owner else _("无负责人")
    if actor is not None and can_see(actor, other):
        return _("%(label)s已被“%(name)s”使用(负责人:%(owner)s)") % {
            "label": label,
            "name": str(other),
            "owner": owner,
        }
    return _("%(label)s已被另一条记录使用(负责人:%(owner)s),可申请查看") % {
        "label": label,
        "owner": owner,
    }


def _raise_clash(entity: str, kind: str, value: str, other_id: int, actor: User | None) -> None:
    field = KIND_FIELDS.get(kind, "__all__")
    raise ValidationError({field: _clash_message(entity, kind, value, other_id, actor)})


def write_keys(
    entity: str,
    object_id: int,
    keys: Keys,
    *,
    actor: User | None = None,
    created: bool = False,
    enforced: set[str] | None = None,
) -> None:
    """Replace the record's keys with `keys`. A clash with a unique rule raises
    ValidationError on the form field concerned; the database's partial unique index decides
    when two transactions race (the loser gets the same message). `created`: the record was
    inserted in this transaction, so it has no keys yet (nothing to read or delete).
    `enforced`: the kinds under an active unique rule, when the caller has read them."""
    enforced = enforced_kinds(entity) if enforced is None else enforced
    wanted = {(kind, value) for kind, values in keys.items() for value in values}
    existing = (
        {}
        if created
        else {
            (kind, value): pk
            for pk, kind, value in MatchKey.objects.filter(entity=entity, object_id=object_id)
            .order_by()
            .values_list("pk", "kind", "value")
        }
    )
    for kind, value in sorted(wanted - set(existing)):
        if kind not in enforced:
            continue
        other = (
            MatchKey.objects.filter(entity=entity, kind=kind, value=value, enforced=True)
            .exclude(object_id=object_id)
            .values_list("object_id", flat=True)
            .first()
        )
        if other is not None:
            _raise_clash(entity, kind, value, other, actor)
    stale = [pk for key, pk in existing.items() if key not in wanted]
    if stale:
        MatchKey.objects.filter(pk__in=stale).delete()
    rows = [
        MatchKey(
            entity=entity, object_id=object_id, kind=kind, value=value, enforced=kind in enforced
        )
        for kind, value in sorted(wanted - set(existing))
    ]
    if not rows:
        return
    if not any(row.enforced for row in rows):
        # no row falls under the partial unique index: nothing for the database to refuse
        _insert_keys(rows)
        return
    try:
        with transaction.atomic():
            _insert_keys(rows)
    except IntegrityError:
        # another transaction committed the same unique key between our check and insert
        for row in rows:
            if row.enforced:
                other = (
                    MatchKey.objects.filter(
                        entity=entity, kind=row.kind, value=row.value, enforced=True
                    )
                    .exclude(object_id=object_id)
                    .values_list("object_id", flat=True)
                    .first()
                )
                if other is not None:
                    _raise_clash(entity, row.kind, row.value, other, actor)
        raise


def _insert_keys(rows: list[MatchKey]) -> None:
    """One multi-row INSERT (every save of a record writes its keys: the ORM's bulk_create
    costs three times as much for these five plain columns)."""
    quote = connection.ops.quote_name
    with prepared_cursor() as cursor:  # one shape per number of keys
        # table name from the model, never from input
        cursor.execute(
            f"INSERT INTO {quote(MatchKey._meta.db_table)} "  # noqa: S608
            "(entity, object_id, kind, value, enforced) VALUES "
            + ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows)),
            [v for r in rows for v in (r.entity, r.object_id, r.kind, r.value, r.enforced)],
        )


def remove_keys(entity: str, object_ids: Iterable[int]) -> None:
    MatchKey.objects.filter(entity=entity, object_id__in=list(object_ids)).delete()


def index_record(instance: Model, *, actor: User | None = None) -> Keys:
    """(Re)compute and store the keys of one record; a tombstone loses its keys."""
    entity = entity_of(instance)
    if entity not in DEDUP_ENTITIES:
        return {}
    if getattr(instance, "merged_into_id", None):
        remove_keys(entity, [instance.pk])
        return {}
    keys = keys_for(entity, values_of(entity, instance))
    write_keys(entity, instance.pk, keys, actor=actor)
    return keys


def reindex(entity: str, object_ids: Iterable[int]) -> int:
    """Recompute the keys of many records (after a merge, an account rename, a rule change)."""
    model = model_for(entity)
    queryset = model._default_manager.filter(pk__in=list(object_ids))
    if entity == "contact":
        queryset = queryset.select_related("account")
    done = 0
    for instance in queryset:
        index_record(instance)
        done += 1
    return done


def reindex_all(entity: str, *, batch: int = 2000) -> int:
    """Rebuild the key table of an entity (the `jiepai dedup reindex` command)."""
    model = model_for(entity)
    ids = list(model._default_manager.filter(merged_into__isnull=True).values_list("pk", flat=True))
    done = 0
    for start in range(0, len(ids), batch):
        with transaction.atomic():
            done += reindex(entity, ids[start : start + batch])
    return done


def index_many(entity: str, instances: Iterable[Model]) -> int:
    """Write the keys of many freshly inserted records at once (bulk writers such as imports).

    Call inside the transaction of the insert. Unlike `write_keys` it does not look for
    clashes with unique rules first: the partial unique index still refuses a clash, with an
    IntegrityError for the whole batch, so a bulk writer checks its rows with
    `jiepai.dedup.matcher.find_duplicates` (or inserts row by row) when a rule is on.
    """
    enforced = enforced_kinds(entity)
    rows: list[MatchKey] = []
    ids: list[int] = []
    for instance in instances:
        if getattr(instance, "merged_into_id", None):
            continue
        ids.append(instance.pk)
        keys = keys_for(entity, values_of(entity, instance))
        rows += [
            MatchKey(
                entity=entity,
                object_id=instance.pk,
                kind=kind,
                value=value,
                enforced=kind in enforced,
            )
            for kind, values in keys.items()
            for value in values
        ]
    remove_keys(entity, ids)
    MatchKey.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
