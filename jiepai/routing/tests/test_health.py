"""The routing health report's figures and the timeline rendering of routing events."""

from __future__ import annotations

import datetime

import pytest
from django.template import Context, Template

from jiepai.events.models import Event
from jiepai.intake.models import Lead
from jiepai.routing.selectors import health_report, load_board
from jiepai.routing.services import mark_contacted, reassign_lead, route_lead
from jiepai.routing.tests.conftest import NOW, lead

DAY = NOW.date()


@pytest.fixture
def history(east_round_robin, team):
    """Four leads at NOW: rep gets 2, teammate 2; rep contacts one after 4 min, teammate one
    after 10 min; the manager moves one of teammate's to rep; rep converts one."""
    leads = [lead(name=f"客户{i}") for i in range(4)]
    for item in leads:
        route_lead(lead=item, now=NOW)
    for item in leads:
        item.refresh_from_db()
    rep_leads = [x for x in leads if x.owner == team.rep]
    mate_leads = [x for x in leads if x.owner == team.teammate]
    mark_contacted(lead=rep_leads[0], rep=team.rep, now=NOW + datetime.timedelta(minutes=4))
    mark_contacted(lead=mate_leads[0], rep=team.teammate, now=NOW + datetime.timedelta(minutes=10))
    reassign_lead(lead=mate_leads[1], to=team.rep, reason="交接", actor=team.manager, now=NOW)
    Lead.objects.filter(pk=rep_leads[0].pk).update(state="converted", converted_at=NOW)
    return leads


def test_funnel_and_response_times_per_rep(history, team):
    report = health_report(team.manager, start=DAY, end=DAY)
    rows = {h.rep: h for h in report.reps}
    rep, mate = rows[team.rep], rows[team.teammate]
    assert (rep.assigned, rep.contacted, rep.qualified, rep.converted) == (3, 1, 1, 1)
    assert (mate.assigned, mate.contacted, mate.reassigned) == (2, 1, 1)
    assert rep.median_response_minutes == 4.0 and mate.median_response_minutes == 10.0
    assert mate.reassigned_share == 0.5
    assert report.totals["assigned"] == 5


def test_balance_index_over_the_period(history, team):
    report = health_report(team.manager, start=DAY, end=DAY)
    # assignments per unit of capacity: rep 3/8, teammate 2/8, manager 0/8 (a selling manager)
    # Gini of (0, 2, 3) = (2 + 3 + 1) * 2 / (2 * 9 * 5/3) = 0.4 → index 0.6
    assert report.balance == pytest.approx(0.6)
    assert report.balance_series[-1] == (DAY, pytest.approx(0.6))


def test_report_of_a_manager_leaves_other_regions_out(history, team):
    assert {h.rep for h in health_report(team.manager, start=DAY, end=DAY).reps} == {
        team.rep,
        team.teammate,
        team.manager,
    }


def test_report_of_a_rep_is_empty(history, team):
    assert health_report(team.rep, start=DAY, end=DAY).reps == []


def test_load_board_counts(history, team):
    rows = {r.rep: r for r in load_board(team.manager, NOW)}
    # rep: one converted (not active), one assigned by round-robin, one handed over by the manager
    assert rows[team.rep].active == 2
    assert rows[team.rep].waiting == 2
    assert rows[team.rep].converted_this_week == 1
    stale = load_board(team.manager, NOW + datetime.timedelta(days=3))
    # three days on, teammate's one active lead (contacted at NOW + 10 min) has gone stale
    assert {r.rep: r.stale for r in stale}[team.teammate] == 1


def test_routing_event_renders_policy_winner_and_candidates(history, team):
    event = Event.objects.filter(verb="lead.routed").order_by("id").first()
    html = Template("{% load routing_tags %}{% routing_event event %}").render(
        Context({"event": event})
    )
    assert "round_robin" in html  # the policy's name in these tests
    assert "王磊" in html and "轮到此人" in html
    assert "2 位候选人" in html


def test_reassigned_event_renders_the_reason(history, team):
    event = Event.objects.get(verb="lead.reassigned")
    html = Template("{% load routing_tags %}{% routing_event event %}").render(
        Context({"event": event})
    )
    assert "交接" in html and "赵主管" in html
