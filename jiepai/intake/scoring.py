"""The intent score (seed 004) and the lead score, as plain functions of their inputs.

Intent score = wechat_weight × WeChat interactions
             + stay_weight × (total site stay ≥ stay_threshold_seconds)
             + download_weight × whitepaper downloads
             + video_weight × video views                      (0 by default)
Defaults 0.3 / 0.5 (≥ 180 s) / 1.2 / 0: seed 004. "Site stay" is the sum of the page-view seconds
we know of; it counts once. Below `nurture_below` (2.5) a lead belongs in the nurture pool 培育池,
from `direct_at` (5.0) it goes straight to sales.

Lead score (0–100 for a channel of weight 1.0) =
    channel weight × (completeness × score_completeness_points + intent share × score_intent_points)
where completeness is the share of PROFILE_FIELDS filled and intent share is
min(intent score / direct_at, 1): a complete, high-intent lead from the best channel scores 100.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


class IntentWeights(Protocol):
    wechat_weight: float
    stay_weight: float
    stay_threshold_seconds: int
    download_weight: float
    video_weight: float
    nurture_below: float
    direct_at: float
    high_intent_stay_seconds: int
    score_completeness_points: float
    score_intent_points: float


#: the fields whose presence makes a lead "complete" for the lead score
PROFILE_FIELDS = ("name", "title", "company", "mobile", "email", "industry", "city")

NURTURE = "nurture"
NORMAL = "normal"
DIRECT = "direct"


@dataclass(frozen=True)
class BehaviourSummary:
    wechat_messages: int = 0
    stay_seconds: int = 0
    downloads: int = 0  # downloads of a counted kind (whitepapers by default)
    video_views: int = 0


def intent_score(summary: BehaviourSummary, weights: IntentWeights) -> float:
    score = weights.wechat_weight * summary.wechat_messages
    if summary.stay_seconds >= weights.stay_threshold_seconds:
        score += weights.stay_weight
    score += weights.download_weight * summary.downloads
    score += weights.video_weight * summary.video_views
    return round(score, 2)


def intent_class(score: float, weights: IntentWeights) -> str:
    if score >= weights.direct_at:
        return DIRECT
    if score < weights.nurture_below:
        return NURTURE
    return NORMAL


def is_high_intent(summary: BehaviourSummary, weights: IntentWeights) -> bool:
    """Seed 001: stayed more than 120 s and downloaded a whitepaper."""
    return summary.stay_seconds > weights.high_intent_stay_seconds and summary.downloads >= 1


def lead_score(
    *,
    channel_weight: Decimal | float,
    filled_fields: Iterable[str],
    intent: float,
    weights: IntentWeights,
) -> float:
    filled = set(filled_fields)
    completeness = sum(1 for name in PROFILE_FIELDS if name in filled) / len(PROFILE_FIELDS)
    intent_share = min(max(intent, 0.0) / weights.direct_at, 1.0) if weights.direct_at > 0 else 0.0
    points = (
        completeness * weights.score_completeness_points
        + intent_share * weights.score_intent_points
    )
    return round(float(channel_weight) * points, 1)
