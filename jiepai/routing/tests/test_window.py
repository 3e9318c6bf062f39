"""The golden response window: contacted in time, or reassigned by the sweeper, exactly once."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from jiepai.conftest import on_postgresql, run_at_once
from jiepai.deadlines.sweeper import sweep_once
from jiepai.events.models import Event
from jiepai.intake.models import Lead, LeadState
from jiepai.notify.models import Notification
from jiepai.org.services import create_user, set_online_status
from jiepai.routing.models import Assignment, LeadRouting, RoutingPolicy
from jiepai.routing.services import mark_contacted, route_lead
from jiepai.routing.tests.conftest import NOW, channel, lead

EXPIRED = NOW + datetime.timedelta(minutes=16)


@pytest.fixture
def assigned(east_round_robin, team):
    """A web-form lead (15-minute window) assigned to rep by round-robin at NOW."""
    routed = lead(channel=channel(window=15))
    route_lead(lead=routed, now=NOW)
    routed.refresh_from_db()
    assert routed.owner == team.rep
    return routed


def test_marking_contacted_stops_the_window(assigned, team):
    contacted = mark_contacted(
        lead=assigned, rep=team.rep, method="phone", now=NOW + datetime.timedelta(minutes=3)
    )
    assert contacted.state == LeadState.CONTACTED
    assert contacted.response_due_at is None
    assert contacted.contacted_at == NOW + datetime.timedelta(minutes=3)
    assignment = Assignment.objects.get(lead=assigned)
    assert assignment.contact_method == "phone"
    event = Event.objects.get(subject_id=assigned.pk, verb="lead.contacted")
    assert event.data == {"method": "phone", "response_seconds": 180, "within_window": True}
    assert sweep_once(now=EXPIRED) == 0


def test_marking_contacted_twice_is_harmless(assigned, team):
    mark_contacted(lead=assigned, rep=team.rep, method="wechat", now=NOW)
    mark_contacted(lead=assigned, rep=team.rep, method="phone", now=NOW)
    assert Event.objects.filter(subject_id=assigned.pk, verb="lead.contacted").count() == 1


def test_only_the_owner_can_mark_contacted(assigned, team):
    with pytest.raises(ValidationError):
        mark_contacted(lead=assigned, rep=team.teammate, method="phone", now=NOW)


def test_unknown_contact_method_is_rejected(assigned, team):
    with pytest.raises(ValidationError):
        mark_contacted(lead=assigned, rep=team.rep, method="pigeon", now=NOW)


def test_expired_window_reassigns_to_the_next_rep_and_notifies_the_manager(assigned, team):
    assert sweep_once(now=NOW + datetime.timedelta(minutes=14)) == 0
    assert sweep_once(now=EXPIRED) == 1
    assigned.refresh_from_db()
    assert assigned.owner == team.teammate
    assert assigned.state == LeadState.ASSIGNED
    assert assigned.reassign_count == 1
    assert assigned.response_due_at == EXPIRED + datetime.timedelta(minutes=15)
    event = Event.objects.get(subject_id=assigned.pk, verb="lead.reassigned")
    assert event.data["reason"] == "window_expired"
    assert event.data["from"]["id"] == team.rep.pk and event.data["to"]["id"] == team.teammate.pk
    assert Notification.objects.filter(
        recipient=team.manager, kind="routing.window_reassigned"
    ).exists()
    assert Notification.objects.filter(recipient=team.rep, kind="routing.window_expired").exists()
    assert Notification.objects.filter(recipient=team.teammate, kind="routing.assigned").exists()
    ended = Assignment.objects.get(lead=assigned, rep=team.rep)
    assert ended.end_reason == "window_expired" and ended.ended_at == EXPIRED


def test_reassignment_never_goes_back_to_a_previous_owner(assigned, team):
    third = create_user(username="rep3", password=None, department=team.east_shanghai)
    set_online_status(user=third, status="online", now=NOW)
    sweep_once(now=EXPIRED)  # rep → teammate
    sweep_once(now=EXPIRED + datetime.timedelta(minutes=16))  # teammate → third, not rep
    assigned.refresh_from_db()
    assert assigned.owner == third


def test_after_max_reassignments_the_lead_goes_to_the_manager_queue(assigned, team):
    RoutingPolicy.objects.filter(pk=assigned.routing.policy_id).update(max_reassignments=1)
    sweep_once(now=EXPIRED)  # rep → teammate (1 reassignment)
    sweep_once(now=EXPIRED + datetime.timedelta(minutes=16))  # limit reached
    assigned.refresh_from_db()
    assert assigned.owner is None and assigned.state == LeadState.UNASSIGNED
    assert assigned.response_due_at is None
    routing = LeadRouting.objects.get(lead=assigned)
    assert routing.escalation_reason == "max_reassignments"
    assert Event.objects.get(subject_id=assigned.pk, verb="lead.escalated").data["escalation"] == (
        "max_reassignments"
    )
    assert Notification.objects.filter(recipient=team.manager, kind="routing.unassigned").exists()


def test_with_nobody_left_to_take_it_the_lead_goes_to_the_manager_queue(assigned, team):
    sweep_once(now=EXPIRED)  # rep → teammate; the east team has nobody else
    sweep_once(now=EXPIRED + datetime.timedelta(minutes=16))
    assigned.refresh_from_db()
    assert assigned.state == LeadState.UNASSIGNED
    assert LeadRouting.objects.get(lead=assigned).escalation_reason == "no_eligible"


def test_contacted_lead_is_never_reassigned(assigned, team):
    mark_contacted(
        lead=assigned, rep=team.rep, method="phone", now=NOW + datetime.timedelta(minutes=20)
    )
    assert sweep_once(now=NOW + datetime.timedelta(minutes=30)) == 0
    assigned.refresh_from_db()
    assert assigned.owner == team.rep


def test_late_contact_is_recorded_as_outside_the_window(east_round_robin, team):
    routed = lead(channel=channel(window=15))
    route_lead(lead=routed, now=NOW)
    # the sweeper has not run yet: the owner is still the owner and may mark it
    mark_contacted(lead=routed, rep=team.rep, method="phone", now=EXPIRED)
    event = Event.objects.get(subject_id=routed.pk, verb="lead.contacted")
    assert event.data["within_window"] is False


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_expired_window_reassign_once(people):
    if not on_postgresql():
        pytest.skip("real row-level concurrency needs PostgreSQL")
    from jiepai.routing.models import RoutingRule
    from jiepai.routing.tests.conftest import policy

    for user in (people.rep, people.teammate):
        set_online_status(user=user, status="online", now=NOW)
    RoutingRule.objects.all().delete()
    RoutingPolicy.objects.update(is_default=False)
    policy("round_robin", departments=[people.east], is_default=True)
    leads = []
    for index in range(6):  # 3 each: after swapping, 6 each stays under the cap of 8
        routed = lead(name=f"客户{index}", channel=channel(window=15))
        route_lead(lead=routed, now=NOW)
        leads.append(routed)
    acted = run_at_once(lambda: sweep_once(now=EXPIRED), lambda: sweep_once(now=EXPIRED))
    assert sum(acted) == len(leads)
    for routed in leads:
        assert Event.objects.filter(subject_id=routed.pk, verb="lead.reassigned").count() == 1
        assert Lead.objects.get(pk=routed.pk).reassign_count == 1
        assert Assignment.objects.filter(lead=routed).count() == 2
