"""The routing decisions themselves, as plain functions over plain data (no Django, no queries).

`jiepai.routing.services` loads one `Candidate` per rep in a policy's pool, then calls one of
`round_robin`, `weighted_pool` or `capability_match` here. Keeping the decision free of I/O is
what lets it be fast (one decision among 50 reps well under 1 ms, see bench/bench_routing.py),
easy to test on hand-built teams, and explainable: every function returns every candidate with
why it was or was not eligible and, where a policy scores, each factor's raw and normalised value.

Eligibility (all policies), checked in this order:
- `previous_owner`: the rep already had this lead (a reassignment goes to somebody else);
- `paused`: the rep paused receiving leads;
- `at_capacity`: the rep holds `capacity` or more active leads (the load cap: no new lead until
  one of theirs is converted or disqualified);
- `offline`: only when the policy skips offline reps (round-robin does by default);
- `no_skill`: only when a capability policy requires the lead's industry in the rep's profile.

Weighted pool score (seed 001): for each factor a *goodness* in [0, 1] is computed across the
eligible candidates, then score = sum(weight × goodness). Per factor the configuration says
- `weight` (defaults: open opportunities 0.30, 30-day won revenue 0.25, conversion in the lead's
  industry 0.25, online 0.20), and
- `direction`: "lower" means a smaller raw value is better (fewer open opportunities, less won
  lately: the lead goes where there is room and to who has had less lately), "higher" means a
  larger raw value is better (better conversion in this industry, being online).
Normalisation is per policy: "minmax" maps the smallest raw value among the candidates to 0 and
the largest to 1 (before applying the direction); "max" divides by the largest value. A factor on
which all candidates are equal gives everyone goodness 1 (it does not discriminate). Ties on
score go to the rep with fewer active leads, then the lower rep id (deterministic).

Capability match (seed 000, high-value leads): candidates are ranked, lexicographically, by
won deals in the lead's industry *and* deal-size band, then won deals in the industry, then won
deals in the band, then how many of (industry, band) their profile declares, then fewer active
leads, then the lower rep id.

Balance index: 1 − Gini coefficient of (leads per unit of capacity) across reps. 1.0 means every
rep received the same number of leads per unit of capacity; 0 would be everything to one rep of
infinitely many (with n reps, all to one gives 1/n).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

FACTORS = ("open_opportunities", "won_revenue", "industry_conversion", "online")
DIRECTIONS = ("lower", "higher")
NORMALISATIONS = ("minmax", "max")

#: seed 001's weights; the direction of each factor is explained in the module docstring
DEFAULT_WEIGHTS: dict[str, dict[str, float | str]] = {
    "open_opportunities": {"weight": 0.30, "direction": "lower"},
    "won_revenue": {"weight": 0.25, "direction": "lower"},
    "industry_conversion": {"weight": 0.25, "direction": "higher"},
    "online": {"weight": 0.20, "direction": "higher"},
}

#: deal-size bands, matching jiepai.org.models.DealSizeBand (小单 < 10万 ≤ 中单 ≤ 50万 < 大单)
BAND_SMALL_BELOW = Decimal(100_000)
BAND_LARGE_ABOVE = Decimal(500_000)


@dataclass(frozen=True, slots=True)
class Candidate:
    """What a decision needs to know about one rep, loaded once per decision."""

    rep_id: int
    name: str
    capacity: int
    active_leads: int
    paused: bool = False
    online: bool = True
    open_opportunities: int = 0
    won_revenue: float = 0.0
    industry_conversion: float = 0.0
    won_in_industry_band: int = 0
    won_in_industry: int = 0
    won_in_band: int = 0
    declares_industry: bool = False
    declares_band: bool = False


@dataclass(slots=True)
class Scored:
    candidate: Candidate
    excluded: str = ""  # "" when eligible, else the reason code (see module docstring)
    score: float | None = None
    factors: dict[str, float] = field(default_factory=dict)
    goodness: dict[str, float] = field(default_factory=dict)
    rank: int | None = None

    @property
    def eligible(self) -> bool:
        return not self.excluded

    def as_json(self) -> dict[str, object]:
        c = self.candidate
        return {
            "rep_id": c.rep_id,
            "name": c.name,
            "excluded": self.excluded,
            "score": None if self.score is None else round(self.score, 4),
            "rank": self.rank,
            "active_leads": c.active_leads,
            "capacity": c.capacity,
            "online": c.online,
            "paused": c.paused,
            "factors": {k: round(v, 4) for k, v in self.factors.items()},
            "goodness": {k: round(v, 4) for k, v in self.goodness.items()},
        }


@dataclass(slots=True)
class Choice:
    """The outcome of one decision: the chosen reps in order (one to assign, or up to N to offer
    to), every candidate as scored, and a reason code with its parameters for the timeline."""

    chosen: list[Candidate]
    scored: list[Scored]
    reason: str
    params: dict[str, object] = field(default_factory=dict)


def deal_size_band(amount: Decimal | float | None) -> str:
    if amount is None:
        return ""
    amount = Decimal(str(amount))
    if amount < BAND_SMALL_BELOW:
        return "small"
    if amount > BAND_LARGE_ABOVE:
        return "large"
    return "medium"


def exclusion(
    c: Candidate,
    *,
    skip_offline: bool,
    previous: frozenset[int] | set[int] = frozenset(),
    require_skill: bool = False,
) -> str:
    if c.rep_id in previous:
        return "previous_owner"
    if c.paused:
        return "paused"
    if c.active_leads >= c.capacity:
        return "at_capacity"
    if skip_offline and not c.online:
        return "offline"
    if require_skill and not c.declares_industry:
        return "no_skill"
    return ""


def _screen(
    candidates: Iterable[Candidate],
    *,
    skip_offline: bool,
    previous: frozenset[int] | set[int],
    require_skill: bool = False,
) -> list[Scored]:
    return [
        Scored(
            c,
            excluded=exclusion(
                c, skip_offline=skip_offline, previous=previous, require_skill=require_skill
            ),
        )
        for c in candidates
    ]


def round_robin(
    candidates: Sequence[Candidate],
    *,
    last_rep_id: int | None,
    skip_offline: bool = True,
    previous: frozenset[int] | set[int] = frozenset(),
) -> Choice:
    """The first eligible rep after `last_rep_id` in rep-id order, wrapping around."""
    scored = _screen(
        sorted(candidates, key=lambda c: c.rep_id), skip_offline=skip_offline, previous=previous
    )
    eligible = [s for s in scored if s.eligible]
    if not eligible:
        return Choice([], scored, "no_eligible")
    after = [s for s in eligible if last_rep_id is None or s.candidate.rep_id > last_rep_id]
    winner = (after or eligible)[0]
    winner.rank = 1
    return Choice(
        [winner.candidate],
        scored,
        "round_robin_next",
        {"last_rep_id": last_rep_id, "eligible": len(eligible)},
    )


def _goodness(values: list[float], direction: str, normalisation: str) -> list[float]:
    low, high = min(values), max(values)
    if high == low:
        return [1.0] * len(values)
    if normalisation == "max" and low >= 0:
        ratios = [v / high for v in values]
    else:
        ratios = [(v - low) / (high - low) for v in values]
    return ratios if direction == "higher" else [1.0 - r for r in ratios]


def _raw_factors(c: Candidate) -> dict[str, float]:
    return {
        "open_opportunities": float(c.open_opportunities),
        "won_revenue": float(c.won_revenue),
        "industry_conversion": float(c.industry_conversion),
        "online": 1.0 if c.online else 0.0,
    }


def weighted_pool(
    candidates: Sequence[Candidate],
    *,
    weights: dict[str, dict[str, float | str]],
    normalisation: str = "minmax",
    top: int = 3,
    skip_offline: bool = False,
    previous: frozenset[int] | set[int] = frozenset(),
) -> Choice:
    """Score every eligible rep and choose the best `top` (offered the lead, or the first one
    assigned when the lead is being reassigned)."""
    scored = _screen(candidates, skip_offline=skip_offline, previous=previous)
    eligible = [s for s in scored if s.eligible]
    if not eligible:
        return Choice([], scored, "no_eligible")
    raw = [_raw_factors(s.candidate) for s in eligible]
    for s, values in zip(eligible, raw, strict=True):
        s.factors = values
        s.score = 0.0
    for name, spec in weights.items():
        weight = float(spec["weight"])
        column = _goodness([r[name] for r in raw], str(spec["direction"]), normalisation)
        for s, good in zip(eligible, column, strict=True):
            s.goodness[name] = good
            s.score = (s.score or 0.0) + weight * good
    eligible.sort(key=lambda s: (-(s.score or 0.0), s.candidate.active_leads, s.candidate.rep_id))
    for position, s in enumerate(eligible, start=1):
        s.rank = position
    chosen = eligible[:top]
    runner_up = eligible[top].score if len(eligible) > top else None
    return Choice(
        [s.candidate for s in chosen],
        sorted(scored, key=lambda s: (s.rank is None, s.rank or 0, s.candidate.rep_id)),
        "highest_score",
        {
            "top": top,
            "best_score": round(chosen[0].score or 0.0, 4),
            "cutoff_score": round(chosen[-1].score or 0.0, 4),
            "next_score": None if runner_up is None else round(runner_up, 4),
        },
    )


def capability_match(
    candidates: Sequence[Candidate],
    *,
    skip_offline: bool = False,
    require_skill: bool = False,
    previous: frozenset[int] | set[int] = frozenset(),
) -> Choice:
    """Rank by won history in the lead's industry and deal-size band (module docstring)."""
    scored = _screen(
        candidates, skip_offline=skip_offline, previous=previous, require_skill=require_skill
    )
    eligible = [s for s in scored if s.eligible]
    if not eligible:
        return Choice([], scored, "no_eligible")
    for s in eligible:
        c = s.candidate
        s.factors = {
            "won_in_industry_band": float(c.won_in_industry_band),
            "won_in_industry": float(c.won_in_industry),
            "won_in_band": float(c.won_in_band),
            "declared_skills": float(c.declares_industry) + float(c.declares_band),
        }
    eligible.sort(
        key=lambda s: (
            -s.candidate.won_in_industry_band,
            -s.candidate.won_in_industry,
            -s.candidate.won_in_band,
            -(s.candidate.declares_industry + s.candidate.declares_band),
            s.candidate.active_leads,
            s.candidate.rep_id,
        )
    )
    for position, s in enumerate(eligible, start=1):
        s.rank = position
    winner = eligible[0]
    decided_by = "rep_id"
    if len(eligible) > 1:
        second = eligible[1].candidate
        for name, a, b in (
            (
                "won_in_industry_band",
                winner.candidate.won_in_industry_band,
                second.won_in_industry_band,
            ),
            ("won_in_industry", winner.candidate.won_in_industry, second.won_in_industry),
            ("won_in_band", winner.candidate.won_in_band, second.won_in_band),
            (
                "declared_skills",
                winner.candidate.declares_industry + winner.candidate.declares_band,
                second.declares_industry + second.declares_band,
            ),
            ("active_leads", -winner.candidate.active_leads, -second.active_leads),
        ):
            if a != b:
                decided_by = name
                break
    else:
        decided_by = "only_candidate"
    return Choice(
        [winner.candidate],
        sorted(scored, key=lambda s: (s.rank is None, s.rank or 0, s.candidate.rep_id)),
        "best_capability",
        {"decided_by": decided_by},
    )


def gini(values: Sequence[float]) -> float:
    """Gini coefficient of non-negative values (0 = all equal). O(n log n)."""
    n = len(values)
    total = sum(values)
    if n == 0 or total == 0:
        return 0.0
    ordered = sorted(values)
    weighted = sum((2 * i - n + 1) * v for i, v in enumerate(ordered))
    return weighted / (n * total)


def balance_index(leads: Sequence[float], capacities: Sequence[float]) -> float | None:
    """1 − Gini of leads per unit of capacity (reps with no capacity are left out).

    None when there is nobody to compare; 1.0 when nobody received any lead (nothing uneven).
    """
    per_capacity = [lead / cap for lead, cap in zip(leads, capacities, strict=True) if cap > 0]
    if not per_capacity:
        return None
    return 1.0 - gini(per_capacity)


def validate_weights(weights: object) -> list[str]:
    """Problems with a weighted-pool configuration, as plain English codes for the form layer."""
    problems: list[str] = []
    if not isinstance(weights, dict) or not weights:
        return ["not_a_mapping"]
    for name, spec in weights.items():
        if name not in FACTORS:
            problems.append(f"unknown_factor:{name}")
            continue
        if not isinstance(spec, dict):
            problems.append(f"not_a_mapping:{name}")
            continue
        weight = spec.get("weight")
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            problems.append(f"bad_weight:{name}")
        if spec.get("direction") not in DIRECTIONS:
            problems.append(f"bad_direction:{name}")
    if not problems and sum(float(s["weight"]) for s in weights.values()) <= 0:
        problems.append("zero_total")
    return problems
