"""Candidate pairs and clusters, shared by the scan and the benchmarks. No Django here."""

from __future__ import annotations

from collections import Counter

from jiepai.dedup.scoring import Reason


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if ra > rb:
            ra, rb = rb, ra
        self.parent[rb] = ra
        return True


Edge = tuple[float, int, int, list[Reason]]


def add_pairs(pairs: set[int], ids: list[int]) -> None:
    """Every pair of `ids` (one blocking group) into `pairs`, each as low << 32 | high: one int
    per pair keeps millions of candidate pairs in little memory."""
    ids = sorted(set(ids))
    for i, low in enumerate(ids):
        for high in ids[i + 1 :]:
            pairs.add(low << 32 | high)


def cluster_edges(edges: list[Edge]) -> list[tuple[list[int], float, list[Reason]]]:
    """Join matched pairs into clusters (union–find), strongest pairs first (Kruskal): a
    cluster's confidence is the weakest pair that had to join it, its reasons the most common
    positive reasons of its joining pairs. Returns (sorted ids, confidence, reasons) per cluster."""
    union = _UnionFind()
    edges = sorted(edges, key=lambda e: (-e[0], e[1], e[2]))
    joining = [e for e in edges if union.union(e[1], e[2])]
    links: dict[int, list[Edge]] = {}
    for edge in joining:
        links.setdefault(union.find(edge[1]), []).append(edge)
    members: dict[int, list[int]] = {}
    for record_id in {e[1] for e in edges} | {e[2] for e in edges}:
        members.setdefault(union.find(record_id), []).append(record_id)
    out = []
    for root, ids in members.items():
        if len(ids) < 2:
            continue
        reason_count: Counter[tuple[str, int]] = Counter()
        for _c, _low, _high, reasons in links[root]:
            for reason in reasons:
                if reason.weight > 0:
                    reason_count[(reason.code, reason.percent)] += 1
        out.append(
            (
                sorted(ids),
                min(e[0] for e in links[root]),
                [Reason(code, percent) for (code, percent), _n in reason_count.most_common(4)],
            )
        )
    return out
