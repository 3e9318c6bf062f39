"""Fitting match weights to the data (Fellegi–Sunter with EM), no Django here.

The contact and account scorers (jiepai.dedup.scoring) use weights set by hand for Chinese
CRM data. For data whose fields we do not know in advance (a customer's own columns, the
public Febrl benchmark) the weights can be learnt without labels, the way splink does it:

- each candidate pair is a *pattern*: one comparison level per field (0 = a value is missing,
  1 = they disagree, higher = closer agreement);
- u (how often non-matches land in each level) is counted on random pairs;
- m (how often matches do) and λ (the share of matches among the candidates) come from
  expectation–maximisation over the pattern counts.

Because EM runs over *distinct patterns* (a few hundred) rather than pairs, fitting takes
milliseconds however many pairs there are. A pair's weight is Σ log2(m/u) plus, for exact
agreement on a field with term frequencies, log2(u_exact / frequency of the value).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

Pattern = tuple[int, ...]


@dataclass
class Model:
    names: list[str]
    levels: list[int]  # number of levels per comparison, level 0 included
    m: list[list[float]] = field(default_factory=list)
    u: list[list[float]] = field(default_factory=list)
    lam: float = 0.01

    def weights(self) -> list[list[float]]:
        out = []
        for m_levels, u_levels in zip(self.m, self.u, strict=True):
            row = [0.0]  # level 0: missing, no evidence either way
            for level in range(1, len(m_levels)):
                row.append(math.log2(max(m_levels[level], 1e-6) / max(u_levels[level], 1e-6)))
            out.append(row)
        return out

    def prior(self) -> float:
        return math.log2(self.lam / (1 - self.lam))


def estimate_u(random_patterns: Counter[Pattern], levels: Sequence[int]) -> list[list[float]]:
    """u per comparison and level from patterns of random (almost surely non-matching) pairs."""
    u = []
    for c, count in enumerate(levels):
        totals = [0] * count
        for pattern, n in random_patterns.items():
            totals[pattern[c]] += n
        seen = sum(totals[1:]) or 1
        # a level never seen among non-matches gets half an observation, not zero
        u.append([0.0] + [max(t, 0.5) / seen for t in totals[1:]])
    return u


def _initial_m(levels: Sequence[int]) -> list[list[float]]:
    """Matches mostly agree: the top level gets most of the mass."""
    m = []
    for count in levels:
        agreeing = count - 1
        if agreeing <= 1:
            m.append([0.0, 1.0])
            continue
        weights = [0.05] + [0.95 * 2**i for i in range(agreeing - 1)]
        total = sum(weights)
        m.append([0.0] + [w / total for w in weights])
    return m


def fit_em(
    patterns: Counter[Pattern],
    model: Model,
    *,
    iterations: int = 30,
    tolerance: float = 1e-5,
) -> Model:
    """Estimate m and λ from the candidate pairs' pattern counts; u stays as estimated."""
    if not model.m:
        model.m = _initial_m(model.levels)
    items = list(patterns.items())
    for _ in range(iterations):
        weights = model.weights()
        prior = model.prior()
        expected = []
        for pattern, n in items:
            score = prior + sum(weights[c][level] for c, level in enumerate(pattern))
            expected.append((pattern, n, n / (1 + 2 ** (-score))))
        matched = sum(p for _, _, p in expected) or 1e-9
        new_m = []
        for c, count in enumerate(model.levels):
            totals = [0.0] * count
            for pattern, _n, p in expected:
                totals[pattern[c]] += p
            seen = sum(totals[1:]) or 1e-9
            new_m.append([0.0] + [max(t / seen, 1e-6) for t in totals[1:]])
        change = max(
            abs(a - b)
            for old, new in zip(model.m, new_m, strict=True)
            for a, b in zip(old, new, strict=True)
        )
        model.m = new_m
        model.lam = min(max(matched / sum(n for _, n in items), 1e-9), 1 - 1e-9)
        if change < tolerance:
            break
    return model


def match_probability(weight: float) -> float:
    return 1.0 / (1.0 + 2 ** (-weight))
