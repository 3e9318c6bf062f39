"""Fitting match weights without labels (EM over comparison patterns)."""

from __future__ import annotations

import random
from collections import Counter

from jiepai.dedup.fellegi_sunter import Model, estimate_u, fit_em, match_probability


def _simulate(rng, n, match_rate, m, u):
    patterns = Counter()
    for _ in range(n):
        table = m if rng.random() < match_rate else u
        patterns[tuple(rng.choices(range(1, len(p) + 1), weights=p)[0] for p in table)] += 1
    return patterns


def test_em_recovers_the_match_share_and_separates_matches():
    rng = random.Random(7)
    m = [[0.05, 0.95], [0.1, 0.9], [0.2, 0.8]]  # levels 1 (disagree) and 2 (agree)
    u = [[0.9, 0.1], [0.8, 0.2], [0.95, 0.05]]
    candidates = _simulate(rng, 20_000, 0.3, m, u)
    randoms = _simulate(rng, 20_000, 0.0, m, u)
    model = Model(names=["a", "b", "c"], levels=[3, 3, 3])
    model.u = estimate_u(randoms, model.levels)
    fit_em(candidates, model)
    assert abs(model.lam - 0.3) < 0.03
    assert abs(model.m[0][2] - 0.95) < 0.03
    weights = model.weights()
    agree_all = model.prior() + sum(w[2] for w in weights)
    disagree_all = model.prior() + sum(w[1] for w in weights)
    assert match_probability(agree_all) > 0.99
    assert match_probability(disagree_all) < 0.01


def test_missing_values_are_no_evidence():
    model = Model(names=["a"], levels=[3], m=[[0.0, 0.1, 0.9]], u=[[0.0, 0.9, 0.1]])
    assert model.weights()[0][0] == 0.0
