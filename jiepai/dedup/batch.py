"""The door check for a list of new records at once (an import's chunk of rows).

`find_duplicates_batch(entity, keys_per_item)` decides exactly what
jiepai.dedup.matcher.find_duplicates decides for each item on its own — the same keys
(dedup.keys.keys_for), the same candidates (records sharing a blocking key, looked up in the
stored kinds `keys.stored_kinds` names, so "张主任" meets every 张 at the company; a key held by
more than the policy's `generic_key_count` records is evidence of nothing), the same scorer with
the same key counts (dedup.scoring.score), the same threshold (the policy's show threshold unless
told) — with a handful of queries for the whole list instead of a few per item.

Items are checked in order as if each were saved before the next one is checked: an earlier
item of the list is a candidate like a stored record, and counts as one more holder of its keys.
A test (dedup/tests/test_batch.py) compares the two on the same records.

The writes of a batch: `taken_unique_keys` finds the keys a unique rule forbids before anything
is written, `index_new_records` writes the key rows of many new records in one INSERT run (what
dedup.index.write_keys does for one), and `flag_new_records` records the flags and events the
"allow and flag" policy writes (what dedup.services.record_saved writes for one).
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Model

from jiepai.core.entities import model_for
from jiepai.dedup.keys import BLOCKING_KINDS, ENTITY_KINDS, Keys, stored_kinds
from jiepai.dedup.models import DEDUP_ENTITIES, DuplicateFlag, MatchKey
from jiepai.dedup.reasons import reason_texts, reasons_json
from jiepai.dedup.scan import stored_features
from jiepai.dedup.scoring import Reason, score
from jiepai.dedup.selectors import enforced_kinds, policy_for
from jiepai.events.services import new_event, record_events
from jiepai.org.models import User

_BATCH = 900  # values per IN (...) list

Pair = tuple[str, str]  # (kind, value)


@dataclass
class BatchCandidate:
    """A likely duplicate of one item: a stored record (`object_id`) or an earlier item of the
    same list (`index`), with its score and the reasons."""

    object_id: int | None
    index: int | None
    score: float
    reasons: list[Reason] = field(default_factory=list)

    @property
    def reason_texts(self) -> list[str]:
        return reason_texts(self.reasons, positive_only=True)


def _pairs(keys: Keys, kinds: Iterable[str]) -> list[Pair]:
    return [(kind, value) for kind in kinds for value in keys.get(kind, ())]


def _batched(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _BATCH):
        yield values[start : start + _BATCH]


def _matching_keys(
    entity: str, stored: set[Pair], select: str, group: str = ""
) -> Iterable[tuple[Any, ...]]:
    """Rows of the key table for the stored (kind, value) pairs, an IN list of values at a time
    (plain SQL: the ORM's compiling of a 900-value IN list cost more than the query)."""
    table = MatchKey._meta.db_table
    kinds = sorted({kind for kind, _value in stored})
    values = sorted({value for _kind, value in stored})
    kind_marks = ", ".join(["%s"] * len(kinds))
    with connection.cursor() as cursor:
        for batch in _batched(values):
            cursor.execute(
                f"SELECT {select} FROM {table} WHERE entity = %s "  # noqa: S608 (names from code)
                f"AND kind IN ({kind_marks}) AND value IN ({', '.join(['%s'] * len(batch))})"
                f"{group}",
                [entity, *kinds, *batch],
            )
            yield from cursor.fetchall()


def _stored_counts(entity: str, stored: set[Pair]) -> Counter[Pair]:
    """How many records hold each stored (kind, value)."""
    counts: Counter[Pair] = Counter()
    rows = _matching_keys(entity, stored, "kind, value, COUNT(*)", " GROUP BY kind, value")
    for kind, value, number in rows:
        if (kind, value) in stored:
            counts[(kind, value)] = number
    return counts


def _stored_holders(entity: str, stored: set[Pair]) -> dict[Pair, list[int]]:
    holders: dict[Pair, list[int]] = {}
    for kind, value, object_id in _matching_keys(entity, stored, "kind, value, object_id"):
        if (kind, value) in stored:
            holders.setdefault((kind, value), []).append(object_id)
    return holders


def _live(entity: str, ids: set[int]) -> set[int]:
    """Records that still exist and are not tombstones (the door drops the others too)."""
    model = model_for(entity)
    live: set[int] = set()
    ordered = sorted(ids)
    for start in range(0, len(ordered), _BATCH):
        live.update(
            model._default_manager.filter(
                pk__in=ordered[start : start + _BATCH], merged_into__isnull=True
            ).values_list("pk", flat=True)
        )
    return live


def find_duplicates_batch(
    entity: str,
    keys_per_item: Sequence[Keys],
    *,
    threshold: float | None = None,
    limit: int = 5,
) -> list[list[BatchCandidate]]:
    """For each item (its keys), the stored records and earlier items of the list it likely
    duplicates, best first: at most `limit`, scoring at least `threshold` (default: the
    policy's show threshold, as at the door)."""
    results: list[list[BatchCandidate]] = [[] for _ in keys_per_item]
    if entity not in DEDUP_ENTITIES or not keys_per_item:
        return results
    policy = policy_for(entity)
    cap = policy.generic_key_count
    minimum = policy.show_threshold if threshold is None else threshold

    blocking = [kind for kind in BLOCKING_KINDS if kind in ENTITY_KINDS[entity]]
    wanted = {p for keys in keys_per_item for p in _pairs(keys, blocking)}
    stored_wanted = {(s, value) for kind, value in wanted for s in stored_kinds(kind)}
    stored_count = _stored_counts(entity, stored_wanted) if stored_wanted else Counter()
    names = {("name", keys["name"][0]) for keys in keys_per_item if keys.get("name")}
    name_count = _stored_counts(entity, names) if names else Counter()

    stored_as = {kind: stored_kinds(kind) for kind in blocking}
    # how many stored records hold each looked-up key (over the stored kinds it meets)
    held = {
        (kind, value): sum(stored_count.get((s, value), 0) for s in stored_as[kind])
        for kind, value in wanted
    }
    # Holders only of keys that are not generic already (the list can only add holders).
    useful = {
        (s, value)
        for (kind, value), number in held.items()
        if number <= cap
        for s in stored_as[kind]
        if stored_count.get((s, value))
    }
    holders = _stored_holders(entity, useful) if useful else {}
    features = stored_features(entity, sorted({pk for ids in holders.values() for pk in ids}))

    earlier: dict[Pair, list[int]] = {}  # stored-as (kind, value) → indexes of earlier items
    earlier_names: Counter[str] = Counter()
    for index, keys in enumerate(keys_per_item):
        own = _pairs(keys, blocking)
        counts: dict[Pair, int] = {}
        ids: set[int] = set()
        others: set[int] = set()
        for pair in own:
            kind, value = pair
            meets = [(s, value) for s in stored_as[kind]]
            number = held[pair] + sum(len(earlier.get(key, ())) for key in meets)
            counts[pair] = number
            if number > cap:
                continue  # a generic key: evidence of nothing
            for key in meets:
                ids.update(holders.get(key, ()))
                others.update(earlier.get(key, ()))
        name = keys["name"][0] if keys.get("name") else ""
        names_held = max(1, name_count[("name", name)] + earlier_names[name]) if name else 1

        def count(
            kind: str, value: str, counts: dict[Pair, int] = counts, names_held: int = names_held
        ) -> int:
            if kind == "name":
                return names_held
            number = counts.get((kind, value))
            return 2 if number is None else number + 1  # the item itself holds the key too

        found = results[index]
        for pk in ids:
            match = score(entity, keys, features.get(pk, {}), counts=count, generic=cap)
            if match.confidence >= minimum:
                found.append(BatchCandidate(pk, None, match.confidence, match.reasons))
        for other in others:
            match = score(entity, keys, keys_per_item[other], counts=count, generic=cap)
            if match.confidence >= minimum:
                found.append(BatchCandidate(None, other, match.confidence, match.reasons))
        for pair in own:
            earlier.setdefault(pair, []).append(index)
        if name:
            earlier_names[name] += 1

    live = _live(entity, {c.object_id for found in results for c in found if c.object_id})
    for index, found in enumerate(results):
        kept = [c for c in found if c.object_id is None or c.object_id in live]
        kept.sort(key=lambda c: (-c.score, c.object_id is None, c.object_id or 0, c.index or 0))
        results[index] = kept[:limit]
    return results


# --- writing ----------------------------------------------------------------------------------


def taken_unique_keys(entity: str, keys_per_item: Sequence[Keys]) -> list[list[Pair]]:
    """Per item, its keys that an admin made unique (dedup UniqueRule) and that a stored record
    — or an earlier item of the list — already holds."""
    taken_per_item: list[list[Pair]] = [[] for _ in keys_per_item]
    if entity not in DEDUP_ENTITIES:
        return taken_per_item
    enforced = enforced_kinds(entity)
    if not enforced:
        return taken_per_item
    wanted = {p for keys in keys_per_item for p in _pairs(keys, enforced)}
    taken: set[Pair] = set()
    for batch in _batched(sorted({value for _kind, value in wanted})):
        taken.update(
            pair
            for pair in MatchKey.objects.filter(
                entity=entity, kind__in=enforced, value__in=batch, enforced=True
            )
            .order_by()
            .values_list("kind", "value")
            if pair in wanted
        )
    seen: set[Pair] = set()
    for index, keys in enumerate(keys_per_item):
        for pair in _pairs(keys, enforced):
            if pair in taken or pair in seen:
                taken_per_item[index].append(pair)
            seen.add(pair)
    return taken_per_item


def index_new_records(entity: str, items: Sequence[tuple[int, Keys]]) -> None:
    """Write the key rows of newly created records in one INSERT run. Call inside the
    transaction that inserted the records, after taken_unique_keys turned away the items whose
    unique keys clash: a concurrent writer taking the same unique key meanwhile makes this raise
    IntegrityError (the partial unique index decides), which rolls that transaction back."""
    if entity not in DEDUP_ENTITIES or not items:
        return
    enforced = enforced_kinds(entity)
    rows = [
        (entity, object_id, kind, value, kind in enforced)
        for object_id, keys in items
        for kind, values in sorted(keys.items())
        for value in values
    ]
    # One prepared INSERT run: a chunk of 1,000 leads has ~10,000 keys, and a model instance
    # per key would cost more than the rest of the chunk's writes.
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


def flag_new_records(
    entity: str,
    flagged: Sequence[tuple[Model, Sequence[tuple[int, BatchCandidate]]]],
    *,
    actor: User | None,
    source: str,
    now: datetime.datetime,
) -> None:
    """For each new record and its likely duplicates (candidate record id, candidate), the
    review flags and the `<entity>.duplicate_flagged` event the "allow and flag" policy writes
    (dedup.services.record_saved), in a few inserts. Call inside the creating transaction."""
    by = actor if getattr(actor, "is_authenticated", False) else None
    flags: list[DuplicateFlag] = []
    events = []
    for instance, candidates in flagged:
        if not candidates:
            continue
        for candidate_id, candidate in candidates:
            flags.append(
                DuplicateFlag(
                    entity=entity,
                    object_id=instance.pk,
                    candidate_id=candidate_id,
                    confidence=round(candidate.score, 4),
                    reasons=reasons_json(candidate.reasons),
                    source=source[:50],
                    created_by=by,
                )
            )
        events.append(
            new_event(
                subject=instance,
                verb=f"{entity}.duplicate_flagged",
                actor=actor,
                data={
                    "candidates": [
                        {"id": candidate_id, "confidence": round(candidate.score, 4)}
                        for candidate_id, candidate in candidates
                    ]
                },
                now=now,
            )
        )
    DuplicateFlag.objects.bulk_create(flags, ignore_conflicts=True)
    record_events(events)
