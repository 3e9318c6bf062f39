"""Loading a pool: the capped load count and the candidates' figures."""

from __future__ import annotations

import datetime

from jiepai.routing import candidates
from jiepai.routing.candidates import active_lead_counts, capped_active_counts, load_candidates
from jiepai.routing.models import PolicyKind
from jiepai.routing.tests.conftest import NOW, lead, open_deal, policy, won_deal


def test_capped_count_stops_at_the_limit_and_skips_closed_leads(team):
    for _ in range(5):
        lead(owner=team.rep, state="assigned")
    lead(owner=team.rep, state="converted")
    lead(owner=team.teammate, state="contacted")
    ids = [team.rep.pk, team.teammate.pk, team.outsider.pk]
    assert capped_active_counts(ids, 3) == {team.rep.pk: 3, team.teammate.pk: 1}
    assert (
        capped_active_counts(ids, 10)
        == active_lead_counts(ids)
        == {
            team.rep.pk: 5,
            team.teammate.pk: 1,
        }
    )
    assert capped_active_counts([], 3) == {}


def test_weighted_pool_candidates_carry_their_figures(team):
    weighted = policy("weighted_pool", PolicyKind.WEIGHTED_POOL, departments=[team.east])
    open_deal(team.rep)
    won_deal(team.teammate, amount=300_000, industry="医疗器械")
    lead(owner=team.teammate, industry="医疗器械", state="converted")
    lead(owner=team.teammate, industry="医疗器械", state="disqualified")
    sample = lead(industry="医疗器械")
    by_rep = {c.rep_id: c for c in load_candidates(policy=weighted, lead=sample, now=NOW)}
    assert set(by_rep) == {team.rep.pk, team.teammate.pk}
    assert by_rep[team.rep.pk].open_opportunities == 1
    assert by_rep[team.teammate.pk].won_revenue == 300_000
    assert by_rep[team.teammate.pk].industry_conversion == 0.5
    assert by_rep[team.rep.pk].name == "王磊" and by_rep[team.rep.pk].online


def test_weighted_pool_figures_are_shared_for_a_short_time(team, monkeypatch):
    weighted = policy("weighted_pool", PolicyKind.WEIGHTED_POOL, departments=[team.east])
    sample = lead(industry="医疗器械")
    by_rep = {c.rep_id: c for c in load_candidates(policy=weighted, lead=sample, now=NOW)}
    assert by_rep[team.rep.pk].open_opportunities == 0
    open_deal(team.rep)
    # within FIGURES_TTL (and the same clock bucket) the statistics are reused ...
    by_rep = {c.rep_id: c for c in load_candidates(policy=weighted, lead=sample, now=NOW)}
    assert by_rep[team.rep.pk].open_opportunities == 0
    # ... a clock in another bucket, a forced refresh, or FIGURES_TTL = 0 read them afresh
    later = NOW + datetime.timedelta(seconds=candidates.FIGURES_TTL)
    by_rep = {c.rep_id: c for c in load_candidates(policy=weighted, lead=sample, now=later)}
    assert by_rep[team.rep.pk].open_opportunities == 1
    open_deal(team.rep)
    candidates.forget_shared_figures()
    by_rep = {c.rep_id: c for c in load_candidates(policy=weighted, lead=sample, now=NOW)}
    assert by_rep[team.rep.pk].open_opportunities == 2
    monkeypatch.setattr(candidates, "FIGURES_TTL", 0)
    open_deal(team.rep)
    by_rep = {c.rep_id: c for c in load_candidates(policy=weighted, lead=sample, now=NOW)}
    assert by_rep[team.rep.pk].open_opportunities == 3
