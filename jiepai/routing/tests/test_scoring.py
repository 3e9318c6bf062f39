"""The decisions on small hand-built teams (no database)."""

from __future__ import annotations

import pytest

from jiepai.routing.scoring import (
    DEFAULT_WEIGHTS,
    Candidate,
    balance_index,
    capability_match,
    deal_size_band,
    gini,
    round_robin,
    validate_weights,
    weighted_pool,
)


def rep(rep_id: int, **kw) -> Candidate:
    defaults = {"name": f"rep{rep_id}", "capacity": 8, "active_leads": 0}
    return Candidate(rep_id=rep_id, **{**defaults, **kw})


# --- round-robin -------------------------------------------------------------------------------


def test_round_robin_takes_the_rep_after_the_pointer():
    team = [rep(1), rep(2), rep(3)]
    assert round_robin(team, last_rep_id=1).chosen[0].rep_id == 2


def test_round_robin_wraps_around_after_the_last_rep():
    team = [rep(1), rep(2), rep(3)]
    assert round_robin(team, last_rep_id=3).chosen[0].rep_id == 1


def test_round_robin_starts_with_the_first_rep_without_a_pointer():
    assert round_robin([rep(5), rep(2)], last_rep_id=None).chosen[0].rep_id == 2


def test_round_robin_skips_paused_offline_and_full_reps():
    team = [rep(1), rep(2, paused=True), rep(3, online=False), rep(4, active_leads=8), rep(5)]
    choice = round_robin(team, last_rep_id=1)
    assert choice.chosen[0].rep_id == 5
    reasons = {s.candidate.rep_id: s.excluded for s in choice.scored}
    assert reasons == {1: "", 2: "paused", 3: "offline", 4: "at_capacity", 5: ""}


def test_round_robin_may_include_offline_reps_when_configured():
    choice = round_robin([rep(1), rep(2, online=False)], last_rep_id=1, skip_offline=False)
    assert choice.chosen[0].rep_id == 2


def test_rep_below_capacity_is_eligible_again():
    assert round_robin([rep(1, active_leads=7)], last_rep_id=None).chosen[0].rep_id == 1


def test_round_robin_with_nobody_eligible_chooses_nobody():
    choice = round_robin([rep(1, paused=True)], last_rep_id=None)
    assert choice.chosen == [] and choice.reason == "no_eligible"


def test_previous_owners_are_not_chosen_again():
    choice = round_robin([rep(1), rep(2), rep(3)], last_rep_id=1, previous={2})
    assert choice.chosen[0].rep_id == 3


# --- weighted pool -----------------------------------------------------------------------------


def test_weighted_pool_offers_to_the_best_three_by_default_weights():
    team = [
        rep(1, open_opportunities=10, won_revenue=900_000, industry_conversion=0.1),  # loaded
        rep(2, open_opportunities=2, won_revenue=100_000, industry_conversion=0.5),
        rep(3, open_opportunities=4, won_revenue=200_000, industry_conversion=0.4),
        rep(4, open_opportunities=3, won_revenue=300_000, industry_conversion=0.3, online=False),
        rep(5, open_opportunities=6, won_revenue=500_000, industry_conversion=0.2),
    ]
    choice = weighted_pool(team, weights=DEFAULT_WEIGHTS, top=3)
    # rep 4 is offline (−0.20) but still beats rep 5 on the other factors: 0.575 vs 0.5375
    assert [c.rep_id for c in choice.chosen] == [2, 3, 4]
    scores = {s.candidate.rep_id: s.score for s in choice.scored}
    assert scores[4] == pytest.approx(0.575) and scores[5] == pytest.approx(0.5375)
    best = next(s for s in choice.scored if s.candidate.rep_id == 2)
    # fewest opportunities, least won, best conversion, online: full marks on every factor
    assert best.score == pytest.approx(1.0)
    assert best.goodness == {
        "open_opportunities": 1.0,
        "won_revenue": 1.0,
        "industry_conversion": 1.0,
        "online": 1.0,
    }


def test_weighted_pool_score_is_the_weighted_sum_of_normalised_factors():
    team = [
        rep(1, open_opportunities=0),
        rep(2, open_opportunities=10),
        rep(3, open_opportunities=5),
    ]
    weights = {"open_opportunities": {"weight": 1.0, "direction": "lower"}}
    scores = {s.candidate.rep_id: s.score for s in weighted_pool(team, weights=weights).scored}
    assert scores == {1: pytest.approx(1.0), 2: pytest.approx(0.0), 3: pytest.approx(0.5)}


def test_direction_higher_rewards_larger_values():
    team = [rep(1, won_revenue=100.0), rep(2, won_revenue=300.0)]
    weights = {"won_revenue": {"weight": 1.0, "direction": "higher"}}
    assert weighted_pool(team, weights=weights, top=1).chosen[0].rep_id == 2


def test_max_normalisation_divides_by_the_largest_value():
    team = [rep(1, won_revenue=100.0), rep(2, won_revenue=400.0)]
    weights = {"won_revenue": {"weight": 1.0, "direction": "higher"}}
    scored = weighted_pool(team, weights=weights, normalisation="max").scored
    assert {s.candidate.rep_id: s.score for s in scored} == {1: 0.25, 2: 1.0}


def test_online_factor_counts_twenty_percent_by_default():
    choice = weighted_pool([rep(1, online=False), rep(2)], weights=DEFAULT_WEIGHTS, top=1)
    scores = {s.candidate.rep_id: s.score for s in choice.scored}
    assert choice.chosen[0].rep_id == 2
    assert scores[2] - scores[1] == pytest.approx(0.20)


def test_weighted_pool_tie_goes_to_fewer_active_leads():
    choice = weighted_pool(
        [rep(1, active_leads=3), rep(2, active_leads=1)], weights=DEFAULT_WEIGHTS, top=1
    )
    assert choice.chosen[0].rep_id == 2


def test_weighted_pool_never_offers_to_a_rep_at_capacity():
    team = [rep(1, active_leads=8), rep(2, open_opportunities=50)]
    choice = weighted_pool(team, weights=DEFAULT_WEIGHTS, top=3)
    assert [c.rep_id for c in choice.chosen] == [2]


def test_weighted_pool_explains_cutoff_and_next_score():
    team = [rep(i, open_opportunities=i) for i in range(1, 6)]
    choice = weighted_pool(
        team, weights={"open_opportunities": {"weight": 1.0, "direction": "lower"}}, top=3
    )
    assert choice.params["best_score"] == 1.0
    assert choice.params["cutoff_score"] == 0.5
    assert choice.params["next_score"] == 0.25


def test_weights_validation_rejects_unknown_factors_and_directions():
    assert validate_weights({"mood": {"weight": 1, "direction": "lower"}}) == [
        "unknown_factor:mood"
    ]
    assert validate_weights({"online": {"weight": -1, "direction": "up"}}) == [
        "bad_weight:online",
        "bad_direction:online",
    ]
    assert validate_weights(DEFAULT_WEIGHTS) == []
    assert validate_weights([]) == ["not_a_mapping"]


# --- capability match --------------------------------------------------------------------------


def test_capability_match_prefers_won_deals_in_industry_and_band():
    team = [
        rep(1, won_in_industry=5, won_in_band=5, won_in_industry_band=0),
        rep(2, won_in_industry=2, won_in_band=2, won_in_industry_band=2),
        rep(3, won_in_industry=1, won_in_band=1, won_in_industry_band=1),
    ]
    choice = capability_match(team)
    assert choice.chosen[0].rep_id == 2
    assert choice.params["decided_by"] == "won_in_industry_band"


def test_capability_match_breaks_ties_with_declared_skills():
    team = [rep(1, won_in_industry=1), rep(2, won_in_industry=1, declares_industry=True)]
    choice = capability_match(team)
    assert choice.chosen[0].rep_id == 2
    assert choice.params["decided_by"] == "declared_skills"


def test_capability_match_can_require_declared_industry():
    team = [rep(1, won_in_industry=9), rep(2, declares_industry=True)]
    assert capability_match(team, require_skill=True).chosen[0].rep_id == 2


def test_deal_size_bands_follow_the_profile_labels():
    assert deal_size_band(None) == ""
    assert deal_size_band(99_999) == "small"
    assert deal_size_band(100_000) == "medium"
    assert deal_size_band(500_000) == "medium"
    assert deal_size_band(500_001) == "large"


# --- balance index -----------------------------------------------------------------------------


def test_balance_index_is_one_for_an_even_distribution():
    assert balance_index([5, 5, 5, 5], [8, 8, 8, 8]) == pytest.approx(1.0)


def test_balance_index_accounts_for_capacity():
    # twice the capacity, twice the leads: still perfectly even
    assert balance_index([4, 8], [4, 8]) == pytest.approx(1.0)


def test_balance_index_when_one_rep_gets_everything_is_one_over_n():
    assert balance_index([12, 0, 0, 0], [8, 8, 8, 8]) == pytest.approx(0.25)


def test_balance_index_on_a_known_distribution():
    # Gini of (1, 2, 3, 4) = sum|xi - xj| / (2 n² mean) = 20 / (2 * 16 * 2.5) = 0.25
    assert gini([1, 2, 3, 4]) == pytest.approx(0.25)
    assert balance_index([1, 2, 3, 4], [1, 1, 1, 1]) == pytest.approx(0.75)


def test_balance_index_with_no_leads_is_even_and_with_no_reps_undefined():
    assert balance_index([0, 0], [8, 8]) == 1.0
    assert balance_index([], []) is None
