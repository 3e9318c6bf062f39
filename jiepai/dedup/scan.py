"""The whole-database duplicate scan: clusters of likely duplicates of one entity.

1. Blocking in SQL over the key table: the (kind, value) groups of blocking keys held by 2 to
   `generic_key_count` records (bigger groups are generic keys and say nothing). Only those
   rows come back to Python, so memory follows the number of candidates, not of records.
2. Every pair inside a group is scored once (jiepai.dedup.scoring) from the stored keys; no
   record is normalised again.
3. Pairs at or above the policy's `scan_threshold` are joined into clusters (union–find);
   a cluster's confidence is its weakest joining pair. Pairs a person dismissed are skipped.

`jiepai dedup scan --entity contacts --format json` prints the clusters; `save_clusters` stores
them for the manager's review page and the weekly report.
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from jiepai.core.entities import model_for
from jiepai.dedup.clustering import Edge, add_pairs, cluster_edges
from jiepai.dedup.keys import BLOCKING_KINDS, ENTITY_KINDS, stored_kinds
from jiepai.dedup.models import ClusterStatus, DismissedPair, DuplicateCluster, MatchKey
from jiepai.dedup.reasons import reason_text
from jiepai.dedup.scoring import Reason, contradicts, score
from jiepai.dedup.selectors import policy_for
from jiepai.org.models import User
from jiepai.org.visibility import visible_to

CHUNK = 5000
#: a pair scoring below this log-odds (confidence ≈ 2%) contradicts: never in one cluster
CANNOT_LINK = -4.0


@dataclass
class Cluster:
    entity: str
    record_ids: list[int]
    confidence: float
    reason_codes: list[Reason] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        return [reason_text(r) for r in self.reason_codes]


@dataclass
class ScanStats:
    groups: int = 0
    pairs: int = 0
    matched_pairs: int = 0
    records: int = 0


def _blocking_groups(entity: str, cap: int) -> Iterator[tuple[str, str, list[int], set[int]]]:
    """(kind, value, object ids, anchors) for every blocking key held by 2..cap records.

    For a symmetric kind (a mobile) every pair in the group is a candidate and `anchors` is
    empty. For a one-sided family (surname_company ~ surname_company_full, see keys.KINDS)
    the group spans the family's kinds and only pairs with an anchor (a record of the kind
    that looks up the others) are candidates.
    """
    table = MatchKey._meta.db_table
    own = [k for k in BLOCKING_KINDS if k in ENTITY_KINDS[entity]]
    symmetric = [k for k in own if stored_kinds(k) == (k,)]
    one_sided = [k for k in own if stored_kinds(k) != (k,) and k in stored_kinds(k)]
    placeholders = ", ".join(["%s"] * len(symmetric))
    queries: list[tuple[str, list[object], str | None]] = [
        (
            f"""
            SELECT k.kind, k.value, k.object_id
            FROM {table} k
            JOIN (
                SELECT kind, value FROM {table}
                WHERE entity = %s AND kind IN ({placeholders})
                GROUP BY kind, value HAVING COUNT(*) BETWEEN 2 AND %s
            ) g ON g.kind = k.kind AND g.value = k.value
            WHERE k.entity = %s
            ORDER BY k.kind, k.value
            """,  # noqa: S608 (table name from the model, values bound)
            [entity, *symmetric, cap, entity],
            None,
        )
    ]
    for anchor in one_sided:
        family = stored_kinds(anchor)
        marks = ", ".join(["%s"] * len(family))
        queries.append(
            (
                f"""
                SELECT k.kind, k.value, k.object_id
                FROM {table} k
                JOIN (
                    SELECT value FROM {table}
                    WHERE entity = %s AND kind IN ({marks})
                    GROUP BY value
                    HAVING COUNT(*) BETWEEN 2 AND %s
                    AND SUM(CASE WHEN kind = %s THEN 1 ELSE 0 END) >= 1
                ) g ON g.value = k.value
                WHERE k.entity = %s AND k.kind IN ({marks})
                ORDER BY k.value
                """,  # noqa: S608
                [entity, *family, cap, anchor, entity, *family],
                anchor,
            )
        )
    with connection.cursor() as cursor:
        for sql, params, anchor in queries:
            cursor.execute(sql, params)
            rows = iter(lambda: cursor.fetchmany(CHUNK), [])
            flat = (row for chunk in rows for row in chunk)
            if anchor is None:
                for (kind, value), group in groupby(flat, key=lambda r: (r[0], r[1])):
                    yield kind, value, [r[2] for r in group], set()
            else:
                for value, group in groupby(flat, key=lambda r: r[1]):
                    members = list(group)
                    anchors = {r[2] for r in members if r[0] == anchor}
                    yield anchor, value, [r[2] for r in members], anchors


#: the kinds the scorers read, per entity: only these are loaded for the candidate records
SCORED_KINDS = {
    "contact": (
        "mobile", "landline", "email", "wechat", "name", "pinyin", "title", "company",
        "surname_company", "surname_company_full",
    ),
    "account": (
        "credit_code", "company_full", "company_core", "brand", "branch", "phone", "website",
        "city",
    ),
}  # fmt: skip
SCORED_KINDS["lead"] = SCORED_KINDS["contact"]
#: values many records share (a company, a title): one string object for all of them
SHARED_KINDS = frozenset({"title", "company", "surname_company", "surname_company_full", "city"})


def stored_features(entity: str, ids: list[int]) -> dict[int, dict[str, tuple[str, ...]]]:
    """The scored keys of `ids`, as compact as Python allows: a million candidate records
    must fit in the scan's memory budget (shared values interned, tuples not lists)."""
    kinds = SCORED_KINDS[entity]
    table = MatchKey._meta.db_table
    features: dict[int, dict[str, tuple[str, ...]]] = {}
    kind_marks = ", ".join(["%s"] * len(kinds))
    intern = sys.intern
    with connection.cursor() as cursor:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            cursor.execute(
                f"SELECT object_id, kind, value FROM {table} "  # noqa: S608
                f"WHERE entity = %s AND kind IN ({kind_marks}) "
                f"AND object_id IN ({', '.join(['%s'] * len(chunk))})",
                [entity, *kinds, *chunk],
            )
            for object_id, kind, value in cursor.fetchall():
                record = features.get(object_id)
                if record is None:
                    record = features[object_id] = {}
                kind = intern(kind)
                if kind in SHARED_KINDS:
                    value = intern(value)
                record[kind] = (*record[kind], value) if kind in record else (value,)
    return features


def _name_counts(entity: str) -> dict[str, int]:
    table = MatchKey._meta.db_table
    sql = f"""
        SELECT value, COUNT(*) FROM {table} WHERE entity = %s AND kind = 'name'
        GROUP BY value HAVING COUNT(*) > 1
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [entity])
        return dict(cursor.fetchall())


def _dismissed(entity: str) -> set[tuple[int, int]]:
    return set(DismissedPair.objects.filter(entity=entity).values_list("low_id", "high_id"))


def scan(
    entity: str, *, threshold: float | None = None, stats: ScanStats | None = None
) -> list[Cluster]:
    """Clusters of likely duplicates among the live records of `entity`, most confident first."""
    policy = policy_for(entity)
    cap = policy.generic_key_count
    minimum = policy.scan_threshold if threshold is None else threshold
    stats = stats or ScanStats()
    pairs: set[int] = set()
    counts: dict[tuple[str, str], int] = {}
    for kind, value, ids, anchors in _blocking_groups(entity, cap):
        stats.groups += 1
        counts[(kind, value)] = len(ids)
        add_pairs(pairs, ids, anchors=anchors)
    stats.pairs = len(pairs)
    involved = sorted({p >> 32 for p in pairs} | {p & 0xFFFFFFFF for p in pairs})
    stats.records = len(involved)
    features = stored_features(entity, involved)
    names = _name_counts(entity)
    dismissed = _dismissed(entity)

    def count(kind: str, value: str) -> int:
        if kind == "name":
            return names.get(value, 1)
        return counts.get((kind, value), 1)

    edges: list[Edge] = []
    for pair in pairs:
        low, high = pair >> 32, pair & 0xFFFFFFFF
        if (low, high) in dismissed:
            continue
        a, b = features.get(low), features.get(high)
        if a is None or b is None:
            continue
        match = score(entity, a, b, counts=count, generic=cap)
        if match.confidence >= minimum:
            edges.append((match.confidence, low, high, match.reasons))
    stats.matched_pairs = len(edges)

    def compatible(x: int, y: int) -> bool:
        """Not two different people/companies: no strong evidence against the pair."""
        low, high = min(x, y), max(x, y)
        if (low, high) in dismissed:
            return False
        a, b = features.get(low), features.get(high)
        if a is None or b is None:
            return True
        if contradicts(entity, a, b):
            return False
        return score(entity, a, b, counts=count, generic=cap).logit > CANNOT_LINK

    clusters = [
        Cluster(entity=entity, record_ids=ids, confidence=confidence, reason_codes=reasons)
        for ids, confidence, reasons in cluster_edges(edges, compatible=compatible)
    ]
    clusters.sort(key=lambda c: (-c.confidence, c.record_ids))
    return clusters


def visible_clusters(clusters: list[Cluster], viewer: User) -> list[Cluster]:
    """Only clusters whose every record the viewer may see (you merge only what you see)."""
    if not clusters:
        return []
    model = model_for(clusters[0].entity)
    ids = sorted({i for c in clusters for i in c.record_ids})
    visible: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        visible |= set(
            visible_to(
                viewer, model._default_manager.filter(pk__in=ids[start : start + CHUNK])
            ).values_list("pk", flat=True)
        )
    return [c for c in clusters if set(c.record_ids) <= visible]


def describe_records(entity: str, ids: list[int]) -> dict[int, dict[str, Any]]:
    """id → {"id", "external_id", "name"} for the JSON output and the review page."""
    model = model_for(entity)
    described: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), CHUNK):
        for record in model._default_manager.filter(pk__in=ids[start : start + CHUNK]):
            described[record.pk] = {
                "id": record.pk,
                "external_id": record.external_id,
                "name": str(record),
            }
    return described


def clusters_json(clusters: list[Cluster]) -> dict[str, Any]:
    """The CLI's JSON: {"clusters": [{"confidence", "reasons", "records": [{"id",
    "external_id", "name"}, ...]}, ...]}."""
    if not clusters:
        return {"clusters": []}
    described = describe_records(
        clusters[0].entity, sorted({i for c in clusters for i in c.record_ids})
    )
    return {
        "clusters": [
            {
                "confidence": round(c.confidence, 3),
                "reasons": c.reasons,
                "records": [described[i] for i in c.record_ids if i in described],
            }
            for c in clusters
        ]
    }


def save_clusters(
    entity: str, clusters: list[Cluster], *, now: datetime.datetime | None = None
) -> int:
    """Replace the open review clusters of `entity` with this scan's (decided ones stay)."""
    now = now or timezone.now()
    with transaction.atomic():
        DuplicateCluster.objects.filter(entity=entity, status=ClusterStatus.OPEN).delete()
        DuplicateCluster.objects.bulk_create(
            [
                DuplicateCluster(
                    entity=entity,
                    record_ids=c.record_ids,
                    confidence=round(c.confidence, 4),
                    reasons=[{"code": r.code, "percent": r.percent} for r in c.reason_codes],
                    scanned_at=now,
                )
                for c in clusters
            ],
            batch_size=1000,
        )
    return len(clusters)
