"""route_leads: a batch gives the same outcome as route_lead one by one, with one summary
notification per person."""

from __future__ import annotations

import pytest
from django.db import transaction

from jiepai.events.models import Event
from jiepai.intake.models import Lead, LeadState
from jiepai.notify.models import Notification
from jiepai.org.models import RepProfile
from jiepai.org.services import create_user, set_online_status, set_paused
from jiepai.routing.batch import route_leads
from jiepai.routing.models import (
    Assignment,
    LeadOffer,
    LeadRouting,
    PolicyKind,
    RoundRobinPointer,
    RoutingPolicy,
    RoutingRule,
)
from jiepai.routing.services import route_lead
from jiepai.routing.tests.conftest import NOW, channel, lead, open_deal, policy, won_deal


def _outcomes(leads) -> list[tuple]:
    """What routing left on each lead: state, owner, offers by rank, queue."""
    rows = []
    for row in Lead.objects.filter(pk__in=[x.pk for x in leads]).order_by("pk"):
        offers = list(
            LeadOffer.objects.filter(lead=row).order_by("rank").values_list("rep_id", flat=True)
        )
        routing = LeadRouting.objects.filter(lead=row).first()
        rows.append(
            (
                row.state,
                row.owner_id,
                row.response_due_at,
                offers,
                routing.policy_id if routing else None,
                routing.queue_department_id if routing else None,
            )
        )
    return rows


def _one_by_one(leads) -> tuple[list[tuple], int | None]:
    """route_lead on each lead in order, the outcome, then everything rolled back."""
    with transaction.atomic():
        for row in Lead.objects.filter(pk__in=[x.pk for x in leads]).order_by("pk"):
            route_lead(lead=row, now=NOW)
        outcome = _outcomes(leads)
        pointers = sorted(RoundRobinPointer.objects.values_list("policy_id", "last_rep_id"))
        transaction.set_rollback(True)
    return outcome, pointers


def _same_as_one_by_one(leads) -> dict[str, int]:
    expected, pointers = _one_by_one(leads)
    counts = route_leads(lead_ids=[x.pk for x in leads], now=NOW)
    assert _outcomes(leads) == expected
    assert sorted(RoundRobinPointer.objects.values_list("policy_id", "last_rep_id")) == pointers
    return counts


@pytest.fixture
def three_reps(east_round_robin, team):
    team.third = create_user(
        username="rep3", password=None, department=team.east_shanghai, display_name="陈静"
    )
    set_online_status(user=team.third, status="online", now=NOW)
    return team


def test_round_robin_batch_matches_one_by_one_with_load_caps(three_reps):
    team = three_reps
    RepProfile.objects.filter(user=team.rep).update(capacity=1)
    RepProfile.objects.filter(user=team.teammate).update(capacity=3)
    RepProfile.objects.filter(user=team.third).update(capacity=2)
    lead(owner=team.third, state=LeadState.ASSIGNED)  # already holds one
    web = channel(window=15)
    leads = [lead(f"客户{i}", channel=web if i % 2 else None) for i in range(9)]
    counts = _same_as_one_by_one(leads)
    assert counts == {"assigned": 5, "offered": 0, "unassigned": 4, "skipped": 0}
    owners = [x.owner_id for x in Lead.objects.filter(pk__in=[x.pk for x in leads]).order_by("pk")]
    assert owners[:5] == [team.rep.pk, team.teammate.pk, team.third.pk, team.teammate.pk] + [
        team.teammate.pk
    ]


def test_paused_and_offline_reps_are_skipped_as_one_by_one(three_reps):
    team = three_reps
    set_paused(user=team.rep, paused=True, actor=team.rep, now=NOW)
    RepProfile.objects.filter(user=team.third).update(online_status="offline", last_seen_at=None)
    leads = [lead(f"客户{i}") for i in range(4)]
    assert _same_as_one_by_one(leads)["assigned"] == 4
    assert {x.owner_id for x in Lead.objects.filter(pk__in=[x.pk for x in leads])} == {
        team.teammate.pk
    }


def test_rules_channels_and_every_policy_kind_match_one_by_one(three_reps):
    team = three_reps
    policy("weighted_pool", PolicyKind.WEIGHTED_POOL, departments=[team.east])
    policy("capability_match", PolicyKind.CAPABILITY_MATCH, departments=[team.east])
    RoutingRule.objects.create(
        name="高净值",
        condition="budget > 500000",
        policy_id=policy("capability_match", PolicyKind.CAPABILITY_MATCH, [team.east]).pk,
    )
    RepProfile.objects.filter(user=team.teammate).update(capacity=2)
    won_deal(team.teammate, amount=900_000, industry="医疗器械")
    won_deal(team.third, amount=700_000, industry="半导体")
    open_deal(team.rep)
    fair = channel("fair", policy_key="weighted_pool", window=240)
    web = channel("web", window=15)
    leads = [
        lead("甲", budget=900_000, industry="医疗器械"),
        lead("乙", channel=fair, industry="半导体"),
        lead("丙", budget=800_000, industry="医疗器械", channel=web),
        lead("丁", channel=web),
        lead("戊", budget=2_000_000, industry="医疗器械"),
        lead("己", channel=fair, industry="医疗器械"),
        lead("庚"),
    ]
    counts = _same_as_one_by_one(leads)
    assert counts == {"assigned": 5, "offered": 2, "unassigned": 0, "skipped": 0}


def test_leads_nobody_can_take_wait_in_the_queue_and_the_manager_hears_once(three_reps):
    team = three_reps
    for user in (team.rep, team.teammate, team.third):
        set_paused(user=user, paused=True, actor=user, now=NOW)
    leads = [lead(f"客户{i}") for i in range(5)]
    counts = _same_as_one_by_one(leads)
    assert counts["unassigned"] == 5
    notes = Notification.objects.filter(recipient=team.manager, kind="routing.unassigned")
    assert [n.title for n in notes] == ["5 条线索无人可分,请处理"]
    event = Event.objects.get(subject_id=leads[0].pk, verb="lead.routed")
    assert event.data["outcome"] == "unassigned"
    assert event.data["reason"] == "no_eligible"
    assert event.data["excluded"] == {"paused": 3}
    assert event.data["notified"] == [{"id": team.manager.pk, "name": "赵主管"}]
    assert event.data["policy"]["key"] == "round_robin"


def test_each_rep_gets_one_summary_notification(three_reps):
    team = three_reps
    leads = [lead(f"客户{i}") for i in range(7)]
    route_leads(lead_ids=[x.pk for x in leads], now=NOW)
    titles = {n.recipient_id: n.title for n in Notification.objects.filter(kind="routing.assigned")}
    assert titles == {
        team.rep.pk: "3 条新线索",
        team.teammate.pk: "2 条新线索",
        team.third.pk: "2 条新线索",
    }


def test_batch_event_explains_the_winner(three_reps):
    team = three_reps
    routed = lead()
    route_leads(lead_ids=[routed.pk], now=NOW)
    data = Event.objects.get(subject_id=routed.pk, verb="lead.routed").data
    assert data["batch"] is True
    assert data["outcome"] == "assigned"
    assert data["winner"] == {"id": team.rep.pk, "name": "王磊"}
    assert data["reason"] == "round_robin_next"
    assert data["source"] == "default"
    assert data["eligible"] == 3
    assert Assignment.objects.get(lead=routed).method == "round_robin"


def test_weighted_pool_batch_offers_and_tells_each_rep_once(three_reps):
    team = three_reps
    RoutingPolicy.objects.update(is_default=False)
    policy("weighted_pool", PolicyKind.WEIGHTED_POOL, departments=[team.east], is_default=True)
    leads = [lead(f"客户{i}") for i in range(4)]
    assert route_leads(lead_ids=[x.pk for x in leads], now=NOW)["offered"] == 4
    assert LeadOffer.objects.filter(lead__in=leads).count() == 12
    assert Notification.objects.filter(recipient=team.rep, kind="routing.assigned").count() == 1
    data = Event.objects.get(subject_id=leads[0].pk, verb="lead.routed").data
    assert len(data["offered_to"]) == 3 and data["closes_at"]


def test_leads_already_routed_or_missing_are_skipped(three_reps):
    done = lead()
    route_lead(lead=done, now=NOW)
    fresh = lead("新")
    counts = route_leads(lead_ids=[done.pk, fresh.pk, fresh.pk, 999_999], now=NOW)
    assert counts == {"assigned": 1, "offered": 0, "unassigned": 0, "skipped": 2}
    assert Assignment.objects.filter(lead=done).count() == 1


def test_without_any_policy_leads_go_to_the_company_queue(three_reps):
    team = three_reps
    RoutingPolicy.objects.update(is_default=False)
    leads = [lead(f"客户{i}") for i in range(2)]
    assert _same_as_one_by_one(leads)["unassigned"] == 2
    assert Notification.objects.get(recipient=team.director, kind="routing.unassigned").title == (
        "2 条线索无人可分,请处理"
    )


def test_batch_spanning_several_chunks_keeps_turns(three_reps, monkeypatch):
    monkeypatch.setattr("jiepai.routing.batch.CHUNK", 2)
    leads = [lead(f"客户{i}") for i in range(7)]
    _same_as_one_by_one(leads)
