"""Manual reassignment by a manager, with a reason."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from jiepai.events.models import Event
from jiepai.intake.models import LeadState
from jiepai.notify.models import Notification
from jiepai.org.services import set_paused
from jiepai.routing.models import Assignment, LeadRouting, OfferRound, PolicyKind
from jiepai.routing.services import reassign_lead, route_lead
from jiepai.routing.tests.conftest import NOW, lead, policy


@pytest.fixture
def assigned(east_round_robin, team):
    routed = lead()
    route_lead(lead=routed, now=NOW)
    routed.refresh_from_db()
    return routed


def test_manager_reassigns_with_a_reason(assigned, team):
    reassign_lead(
        lead=assigned, to=team.teammate, reason="客户指定李娜对接", actor=team.manager, now=NOW
    )
    assigned.refresh_from_db()
    assert assigned.owner == team.teammate and assigned.state == LeadState.ASSIGNED
    event = Event.objects.get(subject_id=assigned.pk, verb="lead.reassigned")
    assert event.actor == team.manager
    assert event.data["note"] == "客户指定李娜对接"
    assert event.data["from"]["id"] == team.rep.pk and event.data["to"]["id"] == team.teammate.pk
    assert Assignment.objects.get(lead=assigned, rep=team.rep).end_reason == "manual_reassign"
    assert Assignment.objects.get(lead=assigned, rep=team.teammate).method == "manual"
    assert Notification.objects.filter(recipient=team.teammate, kind="routing.assigned").exists()
    assert Notification.objects.filter(recipient=team.rep, kind="routing.reassigned_away").exists()


def test_reason_is_required(assigned, team):
    with pytest.raises(ValidationError) as raised:
        reassign_lead(lead=assigned, to=team.teammate, reason="  ", actor=team.manager, now=NOW)
    assert "reason" in raised.value.message_dict


def test_a_rep_cannot_reassign(assigned, team):
    with pytest.raises(ValidationError):
        reassign_lead(lead=assigned, to=team.teammate, reason="x", actor=team.rep, now=NOW)


def test_manager_cannot_hand_a_lead_to_another_region(assigned, team):
    with pytest.raises(ValidationError) as raised:
        reassign_lead(lead=assigned, to=team.outsider, reason="x", actor=team.manager, now=NOW)
    assert "to" in raised.value.message_dict


def test_manager_cannot_reassign_a_lead_outside_their_scope(team, east_round_robin):
    foreign = lead(owner=team.outsider, state="assigned")
    with pytest.raises(ValidationError):
        reassign_lead(lead=foreign, to=team.rep, reason="x", actor=team.manager, now=NOW)


def test_contacted_lead_keeps_its_state_when_reassigned(assigned, team):
    from jiepai.routing.services import mark_contacted

    mark_contacted(lead=assigned, rep=team.rep, method="phone", now=NOW)
    reassign_lead(lead=assigned, to=team.teammate, reason="离职交接", actor=team.manager, now=NOW)
    assigned.refresh_from_db()
    assert assigned.state == LeadState.CONTACTED and assigned.response_due_at is None


def test_reassigning_an_offered_lead_cancels_the_offers(team):
    policy("weighted_pool", PolicyKind.WEIGHTED_POOL, departments=[team.east], is_default=False)
    from jiepai.routing.tests.conftest import channel

    offered = lead(channel=channel("fair", policy_key="weighted_pool"))
    route_lead(lead=offered, now=NOW)
    reassign_lead(lead=offered, to=team.rep, reason="指定", actor=team.manager, now=NOW)
    offer_round = OfferRound.objects.get(lead=offered)
    assert offer_round.state == "cancelled" and offer_round.lock_due_at is None
    offered.refresh_from_db()
    assert offered.owner == team.rep and offered.state == LeadState.ASSIGNED


def test_assigning_an_escalated_lead_clears_the_escalation(east_round_robin, team):
    for user in (team.rep, team.teammate):
        set_paused(user=user, paused=True, actor=user, now=NOW)
    stuck = lead()
    route_lead(lead=stuck, now=NOW)
    assert LeadRouting.objects.get(lead=stuck).escalated_at == NOW
    reassign_lead(lead=stuck, to=team.teammate, reason="手动分配", actor=team.manager, now=NOW)
    routing = LeadRouting.objects.get(lead=stuck)
    assert routing.escalated_at is None
    event = Event.objects.get(subject_id=stuck.pk, verb="lead.reassigned")
    assert event.data["from"] is None
