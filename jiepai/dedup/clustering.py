"""Candidate pairs and clusters, shared by the scan and the benchmarks. No Django here."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from jiepai.dedup.scoring import Reason

#: the most member pairs checked for a contradiction when two clusters would join
MAX_CROSS_CHECKS = 400


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


def add_pairs(pairs: set[int], ids: list[int], *, anchors: set[int] | None = None) -> None:
    """Every pair of `ids` (one blocking group) into `pairs`, each as low << 32 | high: one int
    per pair keeps millions of candidate pairs in little memory. With `anchors`, only the pairs
    that include an anchor (one-sided blocking)."""
    ids = sorted(set(ids))
    if anchors:
        for anchor in anchors:
            for other in ids:
                if other != anchor:
                    low, high = min(anchor, other), max(anchor, other)
                    pairs.add(low << 32 | high)
        return
    for i, low in enumerate(ids):
        for high in ids[i + 1 :]:
            pairs.add(low << 32 | high)


def cluster_edges(
    edges: list[Edge], *, compatible: Callable[[int, int], bool] | None = None
) -> list[tuple[list[int], float, list[Reason]]]:
    """Join matched pairs into clusters, strongest pairs first (Kruskal): a cluster's confidence
    is the weakest pair that had to join it, its reasons the most common positive reasons of
    its joining pairs. Returns (sorted ids, confidence, reasons) per cluster.

    With `compatible`, two clusters join only if no member of one contradicts a member of the
    other: "张总" may match 张伟 and 张敏 at one company, but 张伟 and 张敏 are two people, so the
    second join is refused rather than chaining three records into one.
    """
    union = _UnionFind()
    members: dict[int, list[int]] = {}
    links: dict[int, list[Edge]] = {}
    for edge in sorted(edges, key=lambda e: (-e[0], e[1], e[2])):
        root_a, root_b = union.find(edge[1]), union.find(edge[2])
        if root_a == root_b:
            continue
        group_a = members.get(root_a, [edge[1]])
        group_b = members.get(root_b, [edge[2]])
        if compatible is not None and not _compatible(group_a, group_b, compatible):
            continue
        union.union(edge[1], edge[2])
        root = union.find(edge[1])
        members[root] = group_a + group_b
        links[root] = [*links.pop(root_a, []), *links.pop(root_b, []), edge]
        for old in (root_a, root_b):
            if old != root:
                members.pop(old, None)
    out = []
    for root, ids in members.items():
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


def _compatible(a: list[int], b: list[int], compatible: Callable[[int, int], bool]) -> bool:
    checked = 0
    for x in a:
        for y in b:
            if not compatible(x, y):
                return False
            checked += 1
            if checked >= MAX_CROSS_CHECKS:
                return True
    return True
