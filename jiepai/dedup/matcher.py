"""Finding the existing records a new or edited record duplicates: the door check.

    find_duplicates("contact", {"name": "张主任", "company": "瑞金医院", "mobile": "138..."},
                    viewer=request.user)

1. normalise the values into keys (jiepai.dedup.keys);
2. look each blocking key up in the key table (an index lookup each); a key held by more than
   the policy's `generic_key_count` records finds nothing (it would find half the database);
3. score each candidate against the values (jiepai.dedup.scoring) and keep those at or above
   the policy's `show_threshold`, best first.

The intake pipeline calls this for every lead (with `include_related=True` a lead is also
checked against contacts); the services call it through `jiepai.dedup.services.record_saved`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Model

from jiepai.core.entities import model_for
from jiepai.dedup.keys import BLOCKING_KINDS, Keys, keys_for, stored_kinds
from jiepai.dedup.models import MatchKey
from jiepai.dedup.reasons import reason_texts
from jiepai.dedup.scoring import Reason, score
from jiepai.dedup.selectors import policy_for
from jiepai.events.prepared import prepared_cursor
from jiepai.org.models import User
from jiepai.org.visibility import visible_to

#: the input fields the door check reads, per entity (the create forms' and API's names)
CHECK_FIELDS = {
    "account": ("name", "short_name", "credit_code", "phone", "website", "city"),
    "contact": ("name", "title", "mobile", "phone", "email", "wechat", "company"),
    "lead": ("name", "title", "company", "mobile", "email", "wechat"),
}

#: with include_related: a person entered as a lead may already be a contact, and vice versa
RELATED = {"lead": ("lead", "contact"), "contact": ("contact", "lead"), "account": ("account",)}


@dataclass
class Candidate:
    entity: str
    object_id: int
    score: float
    reasons: list[Reason]
    record: Model | None = None
    visible: bool = True  # False: the viewer may learn it exists and who owns it, nothing more
    shared_keys: list[str] = field(default_factory=list)

    @property
    def reason_texts(self) -> list[str]:
        return reason_texts(self.reasons, positive_only=True)

    @property
    def percent(self) -> int:
        return round(self.score * 100)


@dataclass(frozen=True)
class Search:
    """One entity to look a record's keys up in: how many holders make a key generic (`cap`),
    the ids to leave out (the record itself), and the entity to score the pair as."""

    entity: str
    cap: int
    exclude: frozenset[int] = frozenset()


@dataclass
class _Found:
    ids: set[int]
    counts: dict[tuple[str, str], int]
    name_count: int


def _lookup_many(searches: list[Search], keys: Keys) -> dict[str, _Found]:
    """Per searched entity: candidate ids by blocking key, how many records hold each key
    (capped at cap + 1), and how many hold the name (capped at 20 × cap). One round trip for
    all the entities, an index range per key."""
    table = MatchKey._meta.db_table
    parts: list[str] = []
    params: list[object] = []
    lookups = [(k, v) for k in BLOCKING_KINDS for v in keys.get(k, ())]
    names = keys.get("name") or ()
    for search in searches:
        for kind, value in lookups:
            for stored in stored_kinds(kind):
                parts.append(
                    "SELECT * FROM (SELECT CAST(%s AS VARCHAR(20)), CAST(%s AS VARCHAR(24)), "  # noqa: S608
                    f"value, object_id FROM {table} "
                    "WHERE entity = %s AND kind = %s AND value = %s LIMIT %s) AS k"
                )
                params += [search.entity, kind, search.entity, stored, value, search.cap + 1]
        if names:
            parts.append(
                "SELECT CAST(%s AS VARCHAR(20)), 'name', CAST(%s AS VARCHAR(255)), COUNT(*) "  # noqa: S608
                f"FROM (SELECT 1 FROM {table} "
                "WHERE entity = %s AND kind = 'name' AND value = %s LIMIT %s) AS n"
            )
            params += [search.entity, names[0], search.entity, names[0], search.cap * 20]
    results: dict[str, _Found] = {}
    if not parts:
        return results
    found: dict[str, dict[tuple[str, str], list[int]]] = {
        s.entity: {key: [] for key in lookups} for s in searches
    }
    name_counts = dict.fromkeys(found, 1)
    with prepared_cursor() as cursor:  # a handful of shapes, one per set of key kinds
        cursor.execute(" UNION ALL ".join(parts), params)
        for entity, kind, value, number in cursor.fetchall():
            if kind == "name" and (kind, value) not in found[entity]:
                name_counts[entity] = max(1, int(number))
            else:
                found[entity][(kind, value)].append(int(number))
    for search in searches:
        ids: set[int] = set()
        counts: dict[tuple[str, str], int] = {}
        for key, object_ids in found[search.entity].items():
            # the record being checked counts too, whether it is already indexed or not
            counts[key] = len(object_ids) + (0 if search.exclude & set(object_ids) else 1)
            if len(object_ids) > search.cap:
                continue  # a generic key: evidence of nothing
            ids.update(i for i in object_ids if i not in search.exclude)
        results[search.entity] = _Found(ids, counts, name_counts[search.entity])
    return results


def _lookup(
    entity: str, keys: Keys, cap: int, exclude: set[int]
) -> tuple[set[int], dict[tuple[str, str], int], int]:
    """Candidate ids by blocking key, how many records hold each key (capped at cap + 1), and
    how many hold the name (capped at 20 × cap): one round trip, an index range per key."""
    found = _lookup_many([Search(entity, cap, frozenset(exclude))], keys).get(entity)
    if found is None:
        return set(), {}, 1
    return found.ids, found.counts, found.name_count


def _features_many(wanted: dict[str, set[int]]) -> dict[str, dict[int, Keys]]:
    """The stored keys of the given records, per entity: one round trip."""
    features: dict[str, dict[int, Keys]] = {entity: {} for entity in wanted}
    parts: list[str] = []
    params: list[object] = []
    table = MatchKey._meta.db_table
    for entity, ids in wanted.items():
        if not ids:
            continue
        marks = ", ".join(["%s"] * len(ids))
        parts.append(
            f"SELECT entity, object_id, kind, value FROM {table} "  # noqa: S608
            f"WHERE entity = %s AND object_id IN ({marks})"
        )
        params += [entity, *sorted(ids)]
    if not parts:
        return features
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for entity, object_id, kind, value in cursor.fetchall():
            features[entity].setdefault(object_id, {}).setdefault(kind, []).append(value)
    return features


def _features(entity: str, ids: Iterable[int]) -> dict[int, Keys]:
    return _features_many({entity: set(ids)})[entity]


def search_candidates(keys: Keys, searches: list[Search]) -> dict[str, list[Candidate]]:
    """Every record of the searched entities that shares a blocking key with `keys`, scored
    (not yet filtered by any threshold, records not attached), best first per entity. Two
    round trips whatever the number of entities: the key lookups, then the candidates' keys."""
    found = _lookup_many(searches, keys)
    features = _features_many({e: f.ids for e, f in found.items() if f.ids})
    out: dict[str, list[Candidate]] = {s.entity: [] for s in searches}
    for search in searches:
        hits = found.get(search.entity)
        if hits is None or not hits.ids:
            continue

        def count(
            kind: str, value: str, counts: dict = hits.counts, name_count: int = hits.name_count
        ) -> int:
            if kind == "name":
                return name_count
            return counts.get((kind, value), 2)

        for object_id, stored in features.get(search.entity, {}).items():
            match = score(search.entity, keys, stored, counts=count, generic=search.cap)
            shared = [k for k in BLOCKING_KINDS if set(keys.get(k, ())) & set(stored.get(k, ()))]
            out[search.entity].append(
                Candidate(
                    search.entity, object_id, match.confidence, match.reasons, shared_keys=shared
                )
            )
        out[search.entity].sort(key=lambda c: (-c.score, c.entity, c.object_id))
    return out


def find_duplicates(
    entity: str,
    values: Mapping[str, Any] | None = None,
    *,
    keys: Keys | None = None,
    viewer: User | None = None,
    limit: int = 5,
    exclude: Iterable[int] = (),
    include_related: bool = False,
    threshold: float | None = None,
) -> list[Candidate]:
    """Existing records that look like `values` (raw field values, as typed), best first.

    `values` uses the entity's field names; for a contact, `company` is the account's name
    (or pass `account`, an Account). Pass `keys` instead when they are already computed.
    With `viewer`, each candidate says whether the viewer may see it (`visible`); callers show
    an invisible candidate's owner and last update only. `exclude`: ids of the record itself.
    Returns at most `limit` candidates scoring at least `threshold` (default: the policy's
    show threshold).
    """
    if keys is None:
        values = dict(values or {})
        account = values.get("account")
        if entity == "contact" and not values.get("company") and account is not None:
            values["company"] = getattr(account, "name", "")
        keys = keys_for(entity, values)
    policy = policy_for(entity)
    cap = policy.generic_key_count
    minimum = policy.show_threshold if threshold is None else threshold
    excluded = frozenset(exclude)
    searches = [
        Search(searched, cap, excluded if searched == entity else frozenset())
        for searched in (RELATED[entity] if include_related else (entity,))
    ]
    candidates = [
        c
        for found in search_candidates(keys, searches).values()
        for c in found
        if c.score >= minimum
    ]
    candidates.sort(key=lambda c: (-c.score, c.entity, c.object_id))
    candidates = candidates[:limit]
    attach_records(candidates, viewer)
    return [c for c in candidates if c.record is not None]


def attach_records(candidates: list[Candidate], viewer: User | None) -> None:
    """Load each candidate's record (None when gone or merged) and whether `viewer` may see it
    (everyone visible without a viewer): one query per entity, plus one for visibility."""
    by_entity: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_entity.setdefault(candidate.entity, []).append(candidate)
    for entity, group in by_entity.items():
        model = model_for(entity)
        ids = [c.object_id for c in group]
        queryset = model._default_manager.filter(pk__in=ids, merged_into__isnull=True)
        if entity == "contact":
            queryset = queryset.select_related("owner", "account")
        else:
            queryset = queryset.select_related("owner")
        records = {r.pk: r for r in queryset}
        visible = (
            set(
                visible_to(viewer, model._default_manager.filter(pk__in=ids)).values_list(
                    "pk", flat=True
                )
            )
            if viewer is not None
            else set(ids)
        )
        for candidate in group:
            candidate.record = records.get(candidate.object_id)
            candidate.visible = candidate.object_id in visible


_attach_records = attach_records  # the former name
