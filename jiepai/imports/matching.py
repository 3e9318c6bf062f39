"""Duplicates of imported rows: jiepai.dedup's matcher, asked for a whole chunk at once.

`find_existing` is the batch form of jiepai.dedup.matcher.find_duplicates: the same keys
(dedup.keys.keys_for), the same candidate generation (records sharing a blocking key, a key held
by more than the policy's `generic_key_count` records being no evidence), the same scorer
(dedup.scoring.score) and the policy's `act_threshold` — but a handful of queries per chunk of
rows instead of ~10 per row, which is what lets a 100,000-row file be checked in seconds. Rows of
the same chunk (not yet in the key table) are scored against each other the same way. It
belongs in jiepai.dedup.matcher; it lives here until that module offers a batch entry point.

External ids are matched exactly for every entity (opportunities have no other key).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Model
from django.utils.translation import gettext as _

from jiepai.core.entities import model_for
from jiepai.dedup.keys import (
    BLOCKING_KINDS,
    Keys,
    keys_for,
    kind_label,
    stored_kinds,
    values_of,
)
from jiepai.dedup.models import DEDUP_ENTITIES, MatchKey
from jiepai.dedup.reasons import reason_texts
from jiepai.dedup.scoring import score
from jiepai.dedup.selectors import enforced_kinds, policy_for

_BATCH = 900  # values per IN (...) list


@dataclass
class Found:
    """One likely duplicate of a row: an existing record id, or the index of an earlier row of
    the same chunk (`row`), with the reasons in words."""

    object_id: int | None
    row: int | None
    confidence: float
    reasons: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return "、".join(self.reasons[:3]) or ""


def can_flag(entity: str) -> bool:
    """Only the dedup entities have a review queue; elsewhere a flagged duplicate is skipped."""
    return entity in DEDUP_ENTITIES


def record_keys(entity: str, instance: Model) -> Keys:
    if entity not in DEDUP_ENTITIES:
        return {}
    return keys_for(entity, values_of(entity, instance))


def _pairs(keys: Keys, kinds: Iterable[str]) -> list[tuple[str, str]]:
    return [(kind, value) for kind in kinds for value in keys.get(kind, ())]


def _batched(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), _BATCH):
        yield values[start : start + _BATCH]


def _stored_as(pairs: set[tuple[str, str]]) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Stored (kind, value) → the looked-up pairs it answers: a key is compared with the stored
    kinds `dedup.keys.stored_kinds` names (张主任's surname key meets 张伟's full-name key)."""
    stored: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for kind, value in pairs:
        for stored_kind in stored_kinds(kind):
            stored.setdefault((stored_kind, value), []).append((kind, value))
    return stored


def _key_counts(entity: str, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    stored = _stored_as(pairs)
    kinds = {k for k, _v in stored}
    values = sorted({v for _k, v in pairs})
    for batch in _batched(values):
        for row in (
            MatchKey.objects.filter(entity=entity, kind__in=kinds, value__in=batch)
            .values("kind", "value")
            .annotate(n=Count("id"))
            .order_by()
        ):
            for looked_up in stored.get((row["kind"], row["value"]), ()):
                counts[looked_up] = counts.get(looked_up, 0) + row["n"]
    return counts


def _holders(entity: str, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], list[int]]:
    holders: dict[tuple[str, str], list[int]] = {}
    stored = _stored_as(pairs)
    kinds = {k for k, _v in stored}
    values = sorted({v for _k, v in pairs})
    for batch in _batched(values):
        for kind, value, object_id in (
            MatchKey.objects.filter(entity=entity, kind__in=kinds, value__in=batch)
            .order_by()
            .values_list("kind", "value", "object_id")
        ):
            for looked_up in stored.get((kind, value), ()):
                holders.setdefault(looked_up, []).append(object_id)
    return holders


def _features(entity: str, ids: set[int]) -> dict[int, Keys]:
    features: dict[int, Keys] = {}
    for batch in _batched(sorted(ids)):  # type: ignore[arg-type]
        for object_id, kind, value in (
            MatchKey.objects.filter(entity=entity, object_id__in=batch)
            .order_by()
            .values_list("object_id", "kind", "value")
        ):
            features.setdefault(object_id, {}).setdefault(kind, []).append(value)
    return features


def _external(entity: str, values: list[str]) -> dict[str, list[int]]:
    model = model_for(entity)
    qs = model._default_manager.all()
    if any(f.name == "merged_into" for f in model._meta.get_fields()):
        qs = qs.filter(merged_into__isnull=True)
    found: dict[str, list[int]] = {}
    for batch in _batched(sorted(set(values))):
        for pk, external in qs.filter(external_id__in=batch).values_list("pk", "external_id"):
            found.setdefault(external, []).append(pk)
    return found


def find_existing(
    entity: str, keys_per_row: list[Keys], external_ids: list[str]
) -> list[list[Found]]:
    """For each row (its dedup keys and external id), the records and earlier rows of the same
    list it likely duplicates, strongest first, at or above the policy's act threshold."""
    results: list[list[Found]] = [[] for _ in keys_per_row]
    by_external = _external(entity, [e for e in external_ids if e])
    for index, external in enumerate(external_ids):
        for pk in by_external.get(external, []) if external else []:
            results[index].append(Found(pk, None, 1.0, [_("外部编号相同")]))
    if entity not in DEDUP_ENTITIES:
        return _with_external_rows(results, external_ids)
    policy = policy_for(entity)
    cap, threshold = policy.generic_key_count, policy.act_threshold
    wanted = {p for keys in keys_per_row for p in _pairs(keys, BLOCKING_KINDS)}
    names = {p for keys in keys_per_row for p in _pairs(keys, ("name",))}
    counts = _key_counts(entity, wanted | names) if wanted else {}
    # A key held by more than `cap` records is evidence of nothing (find_duplicates skips it).
    holders = _holders(entity, {p for p in wanted if counts.get(p, 0) <= cap and p in counts})
    candidate_ids = {pk for ids in holders.values() for pk in ids}
    features = _features(entity, candidate_ids)
    in_chunk: dict[tuple[str, str], list[int]] = {}
    for index, keys in enumerate(keys_per_row):
        row_pairs = _pairs(keys, BLOCKING_KINDS)

        def count(kind: str, value: str, row_pairs: list[tuple[str, str]] = row_pairs) -> int:
            if kind == "name":
                return counts.get((kind, value), 0) or 1
            # the row itself holds the key too, as in find_duplicates
            return counts.get((kind, value), 0) + 1 if (kind, value) in row_pairs else 2

        ids = {pk for pair in row_pairs for pk in holders.get(pair, [])}
        earlier = {i for pair in row_pairs for i in in_chunk.get(pair, [])}
        found = results[index]
        for pk in sorted(ids):
            match = score(entity, keys, features.get(pk, {}), counts=count, generic=cap)
            if match.confidence >= threshold:
                found.append(
                    Found(
                        pk, None, match.confidence, reason_texts(match.reasons, positive_only=True)
                    )
                )
        for other in sorted(earlier):
            match = score(entity, keys, keys_per_row[other], counts=count, generic=cap)
            if match.confidence >= threshold:
                found.append(
                    Found(
                        None,
                        other,
                        match.confidence,
                        reason_texts(match.reasons, positive_only=True),
                    )
                )
        found.sort(key=lambda f: -f.confidence)
        for pair in row_pairs:
            in_chunk.setdefault(pair, []).append(index)
    return _with_external_rows(results, external_ids)


def _with_external_rows(results: list[list[Found]], external_ids: list[str]) -> list[list[Found]]:
    """Two rows of one chunk with the same external id are the same record."""
    first: dict[str, int] = {}
    for index, external in enumerate(external_ids):
        if not external:
            continue
        if external in first:
            results[index].insert(0, Found(None, first[external], 1.0, [_("外部编号相同")]))
        else:
            first[external] = index
    return results


def unique_clashes(entity: str, keys_per_row: list[Keys]) -> list[list[tuple[str, str]]]:
    """Per row, its keys that an admin made unique (dedup UniqueRule) and that an existing
    record — or an earlier row of the list — already holds."""
    clashes: list[list[tuple[str, str]]] = [[] for _ in keys_per_row]
    if entity not in DEDUP_ENTITIES:
        return clashes
    enforced = enforced_kinds(entity)
    if not enforced:
        return clashes
    wanted = {p for keys in keys_per_row for p in _pairs(keys, enforced)}
    taken: set[tuple[str, str]] = set()
    for batch in _batched(sorted({v for _k, v in wanted})):
        taken.update(
            pair
            for pair in MatchKey.objects.filter(
                entity=entity, kind__in=enforced, value__in=batch, enforced=True
            )
            .order_by()
            .values_list("kind", "value")
            if pair in wanted
        )
    seen: set[tuple[str, str]] = set()
    for index, keys in enumerate(keys_per_row):
        for pair in _pairs(keys, enforced):
            if pair in taken or pair in seen:
                clashes[index].append(pair)
            seen.add(pair)
    return clashes


def index_rows(entity: str, items: list[tuple[int, Keys]]) -> None:
    """Write the key rows of newly created records in one insert (what dedup.index.write_keys
    does for one record). Rows whose unique keys clash were rejected before (unique_clashes); a
    concurrent writer taking the same unique key makes this raise IntegrityError, which rolls
    the chunk back."""
    if entity not in DEDUP_ENTITIES or not items:
        return
    enforced = enforced_kinds(entity)
    rows = [
        (entity, object_id, kind, value, kind in enforced)
        for object_id, keys in items
        for kind, values in sorted(keys.items())
        for value in values
    ]
    # One prepared INSERT run for all rows: a chunk of 1,000 leads has ~10,000 keys, and
    # building a model instance per key would cost more than the rest of the chunk's writes.
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(MatchKey._meta.get_field(name).column)
        for name in ("entity", "object_id", "kind", "value", "enforced")
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {quote(MatchKey._meta.db_table)} ({columns}) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s)",
            rows,
        )


def clash_message(kind: str, value: str) -> str:
    return _("%(kind)s“%(value)s”已被其他记录使用(唯一性规则)") % {
        "kind": kind_label(kind),
        "value": value,
    }
