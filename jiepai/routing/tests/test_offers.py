"""Offers to the best three: claims, the timed lock, and who wins a race."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from jiepai.conftest import on_postgresql, run_at_once
from jiepai.deadlines.sweeper import sweep_once
from jiepai.events.models import Event
from jiepai.intake.models import LeadState
from jiepai.notify.models import Notification
from jiepai.org.models import RepProfile
from jiepai.org.services import create_user, set_online_status, set_paused
from jiepai.routing.models import (
    Assignment,
    LeadOffer,
    OfferRound,
    PolicyKind,
    RoutingPolicy,
    RoutingRule,
)
from jiepai.routing.services import claim_offer, route_lead
from jiepai.routing.tests.conftest import NOW, lead, policy

LATER = NOW + datetime.timedelta(minutes=5)
AFTER_LOCK = NOW + datetime.timedelta(minutes=31)


@pytest.fixture
def offered(team):
    """A lead offered to rep (rank 1), teammate and a third rep under the weighted pool."""
    RoutingRule.objects.all().delete()
    RoutingPolicy.objects.update(is_default=False)
    policy("weighted_pool", PolicyKind.WEIGHTED_POOL, departments=[team.east], is_default=True)
    team.third = create_user(username="rep3", password=None, department=team.east_shanghai)
    set_online_status(user=team.third, status="online", now=NOW)
    RepProfile.objects.filter(user=team.third).update(online_status="offline", last_seen_at=None)
    RepProfile.objects.filter(user=team.teammate).update(online_status="busy")
    routed = lead()
    route_lead(lead=routed, now=NOW)
    return routed


def _offer(lead_obj, user) -> LeadOffer:
    return LeadOffer.objects.select_related("round").get(lead=lead_obj, rep=user)


def test_ranks_follow_the_scores(offered, team):
    ranks = {o.rep: o.rank for o in LeadOffer.objects.filter(lead=offered)}
    assert ranks[team.rep] == 1  # online; the others are busy / offline


def test_first_claim_wins(offered, team):
    claimed = claim_offer(offer=_offer(offered, team.teammate), rep=team.teammate, now=LATER)
    assert claimed.owner == team.teammate
    assert claimed.state == LeadState.ASSIGNED
    assert claimed.response_due_at == LATER + datetime.timedelta(minutes=240)
    states = {o.rep: o.state for o in LeadOffer.objects.filter(lead=offered)}
    assert states == {team.teammate: "won", team.rep: "lost", team.third: "lost"}
    offer_round = OfferRound.objects.get(lead=offered)
    assert offer_round.state == "claimed" and offer_round.lock_due_at is None
    event = Event.objects.get(subject_id=offered.pk, verb="lead.claimed")
    assert event.actor == team.teammate and event.data["seconds_to_claim"] == 300
    assert Assignment.objects.get(lead=offered).method == "offer_claimed"


def test_second_claim_on_offered_lead_is_rejected(offered, team):
    claim_offer(offer=_offer(offered, team.teammate), rep=team.teammate, now=LATER)
    with pytest.raises(ValidationError) as raised:
        claim_offer(offer=_offer(offered, team.rep), rep=team.rep, now=LATER)
    assert raised.value.code == "taken"
    offered.refresh_from_db()
    assert offered.owner == team.teammate


def test_claiming_somebody_elses_offer_is_rejected(offered, team):
    with pytest.raises(ValidationError):
        claim_offer(offer=_offer(offered, team.rep), rep=team.outsider, now=LATER)


def test_claim_over_capacity_is_rejected(offered, team):
    RepProfile.objects.filter(user=team.rep).update(capacity=1)
    lead(owner=team.rep, state="assigned")
    with pytest.raises(ValidationError) as raised:
        claim_offer(offer=_offer(offered, team.rep), rep=team.rep, now=LATER)
    assert raised.value.code == "at_capacity"
    assert OfferRound.objects.get(lead=offered).state == "open"


def test_unclaimed_offer_is_locked_to_the_best_scored_rep(offered, team):
    assert sweep_once(now=NOW + datetime.timedelta(minutes=29)) == 0
    assert sweep_once(now=AFTER_LOCK) == 1
    offered.refresh_from_db()
    assert offered.owner == team.rep and offered.state == LeadState.ASSIGNED
    assert offered.response_due_at == AFTER_LOCK + datetime.timedelta(minutes=240)
    assert OfferRound.objects.get(lead=offered).state == "locked"
    assert Assignment.objects.get(lead=offered).method == "offer_locked"
    event = Event.objects.get(subject_id=offered.pk, verb="lead.locked")
    assert event.data["winner"]["id"] == team.rep.pk
    assert Notification.objects.filter(recipient=team.rep, kind="routing.assigned").exists()


def test_lock_acts_exactly_once(offered, team):
    assert sweep_once(now=AFTER_LOCK) == 1
    assert sweep_once(now=AFTER_LOCK + datetime.timedelta(minutes=5)) == 0
    assert Event.objects.filter(subject_id=offered.pk, verb="lead.locked").count() == 1


def test_lock_skips_a_rep_who_paused_meanwhile(offered, team):
    set_paused(user=team.rep, paused=True, actor=team.rep, now=LATER)
    sweep_once(now=AFTER_LOCK)
    offered.refresh_from_db()
    second = LeadOffer.objects.get(lead=offered, rank=2).rep
    assert offered.owner == second
    skipped = Event.objects.get(subject_id=offered.pk, verb="lead.locked").data["skipped"]
    assert skipped == [{"id": team.rep.pk, "name": "王磊", "excluded": "paused"}]


def test_lock_with_nobody_able_to_take_it_goes_to_the_queue(offered, team):
    for user in (team.rep, team.teammate, team.third):
        set_paused(user=user, paused=True, actor=user, now=LATER)
    sweep_once(now=AFTER_LOCK)
    offered.refresh_from_db()
    assert offered.state == LeadState.UNASSIGNED and offered.owner is None
    assert Notification.objects.filter(recipient=team.manager, kind="routing.unassigned").exists()


def test_claim_after_the_lock_is_rejected(offered, team):
    sweep_once(now=AFTER_LOCK)
    with pytest.raises(ValidationError):
        claim_offer(offer=_offer(offered, team.teammate), rep=team.teammate, now=AFTER_LOCK)


def test_a_claim_before_the_sweeper_runs_wins_over_the_lock(offered, team):
    claim_offer(offer=_offer(offered, team.third), rep=team.third, now=AFTER_LOCK)
    assert sweep_once(now=AFTER_LOCK) == 0
    offered.refresh_from_db()
    assert offered.owner == team.third


@pytest.mark.django_db(transaction=True)
def test_two_reps_claiming_at_once_exactly_one_wins(people):
    if not on_postgresql():
        pytest.skip("real row-level concurrency needs PostgreSQL")
    for user in (people.rep, people.teammate):
        set_online_status(user=user, status="online", now=NOW)
    RoutingRule.objects.all().delete()
    RoutingPolicy.objects.update(is_default=False)
    policy("weighted_pool", PolicyKind.WEIGHTED_POOL, departments=[people.east], is_default=True)
    for attempt in range(5):
        routed = lead(name=f"客户{attempt}")
        route_lead(lead=routed, now=NOW)
        offers = {
            o.rep_id: o for o in LeadOffer.objects.select_related("round").filter(lead=routed)
        }
        results = [
            "won" if not isinstance(r, Exception) else r.code
            for r in run_at_once(
                *[
                    lambda user=user, offers=offers: claim_offer(
                        offer=offers[user.pk], rep=user, now=LATER
                    )
                    for user in (people.rep, people.teammate)
                ]
            )
        ]
        assert sorted(results) == ["taken", "won"]
        routed.refresh_from_db()
        assert routed.owner_id in (people.rep.pk, people.teammate.pk)
        assert Assignment.objects.filter(lead=routed).count() == 1
        assert Event.objects.filter(subject_id=routed.pk, verb="lead.claimed").count() == 1
        routed.state = LeadState.CONVERTED  # keep both reps under capacity for the next round
        routed.save()


@pytest.mark.django_db(transaction=True)
def test_two_workers_lock_each_expired_offer_once(people):
    if not on_postgresql():
        pytest.skip("real row-level concurrency needs PostgreSQL")
    for user in (people.rep, people.teammate):
        set_online_status(user=user, status="online", now=NOW)
    RoutingRule.objects.all().delete()
    RoutingPolicy.objects.update(is_default=False)
    policy("weighted_pool", PolicyKind.WEIGHTED_POOL, departments=[people.east], is_default=True)
    leads = [lead(name=f"客户{i}") for i in range(6)]
    for item in leads:
        route_lead(lead=item, now=NOW)
    acted = run_at_once(lambda: sweep_once(now=AFTER_LOCK), lambda: sweep_once(now=AFTER_LOCK))
    assert sum(acted) == len(leads)
    for item in leads:
        assert Event.objects.filter(subject_id=item.pk, verb="lead.locked").count() == 1
        assert Assignment.objects.filter(lead=item).count() == 1
