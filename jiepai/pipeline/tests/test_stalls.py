"""Stall alerts: a deal untouched past its stage's limit notifies owner and manager once."""

from __future__ import annotations

import datetime

from jiepai.deadlines.sweeper import sweep_once
from jiepai.events.models import Event
from jiepai.notify.models import Notification
from jiepai.pipeline.services import update_opportunity
from jiepai.pipeline.stages import move_opportunity
from jiepai.pipeline.stalls import managers_of, touch_opportunity

HOUR = datetime.timedelta(hours=1)


def _alerts():
    return Notification.objects.filter(kind="opportunity.stalled")


def test_new_deal_gets_a_stall_deadline_from_its_stage(deal, now):
    assert deal.opportunity.touched_at == now
    assert deal.opportunity.stall_due_at == now + 72 * HOUR


def test_deal_is_not_stalled_before_the_limit(deal, now):
    sweep_once(now=now + 71 * HOUR)
    assert not _alerts().exists()


def test_stalled_deal_notifies_owner_and_manager(deal, people, now):
    sweep_once(now=now + 73 * HOUR)
    alerts = _alerts()
    assert {n.recipient for n in alerts} == {people.rep, people.manager}
    alert = alerts.first()
    assert "影像设备采购" in alert.title and "需求确认" in alert.title
    assert alert.url == f"/deals/{deal.opportunity.pk}/follow-up/"


def test_stall_is_alerted_exactly_once(deal, now):
    sweep_once(now=now + 73 * HOUR)
    sweep_once(now=now + 80 * HOUR)
    sweep_once(now=now + 200 * HOUR)
    assert _alerts().count() == 2
    assert Event.objects.filter(verb="opportunity.stalled").count() == 1


def test_stall_event_records_stage_and_owner(deal, people, stages, now):
    sweep_once(now=now + 73 * HOUR)
    event = Event.objects.get(verb="opportunity.stalled")
    assert event.subject_id == deal.opportunity.pk
    assert event.data["stage"] == stages["需求确认"].pk
    assert event.data["owner"] == people.rep.pk


def test_touch_restarts_the_stall_clock(deal, now):
    touch_opportunity(opportunity=deal.opportunity, now=now + 60 * HOUR)
    sweep_once(now=now + 73 * HOUR)
    assert not _alerts().exists()
    deal.opportunity.refresh_from_db()
    assert deal.opportunity.stall_due_at == now + 132 * HOUR


def test_an_older_touch_never_pulls_the_deadline_back(deal, now):
    touch_opportunity(opportunity=deal.opportunity, now=now + 10 * HOUR)
    touch_opportunity(opportunity=deal.opportunity, now=now + 5 * HOUR)
    deal.opportunity.refresh_from_db()
    assert deal.opportunity.touched_at == now + 10 * HOUR


def test_editing_the_deal_restarts_the_stall_clock(deal, people, now):
    update_opportunity(
        actor=people.rep,
        opportunity=deal.opportunity,
        values={"description": "客户要求月底前给方案"},
        now=now + 50 * HOUR,
    )
    deal.opportunity.refresh_from_db()
    assert deal.opportunity.stall_due_at == now + 122 * HOUR


def test_an_edit_that_changes_nothing_does_not_restart_the_clock(deal, people, now):
    update_opportunity(
        actor=people.rep,
        opportunity=deal.opportunity,
        values={"name": deal.opportunity.name},
        now=now + 50 * HOUR,
    )
    deal.opportunity.refresh_from_db()
    assert deal.opportunity.stall_due_at == now + 72 * HOUR


def test_a_new_stall_after_a_touch_alerts_again(deal, now):
    sweep_once(now=now + 73 * HOUR)
    touch_opportunity(opportunity=deal.opportunity, now=now + 74 * HOUR)
    sweep_once(now=now + 147 * HOUR)
    assert _alerts().count() == 4
    assert Event.objects.filter(verb="opportunity.stalled").count() == 2


def test_closed_deal_never_stalls(deal, stages, people, now):
    move_opportunity(
        opportunity=deal.opportunity,
        to_stage=stages["输单"],
        actor=people.rep,
        values={"loss_reason": "价格"},
        now=now,
    )
    touch_opportunity(opportunity=deal.opportunity, now=now + HOUR)
    sweep_once(now=now + 500 * HOUR)
    assert not _alerts().exists()


def test_stage_without_limit_never_stalls(deal, stages, now):
    stages["需求确认"].stall_hours = 0
    stages["需求确认"].save()
    touch_opportunity(opportunity=deal.opportunity, now=now + HOUR)
    deal.opportunity.refresh_from_db()
    assert deal.opportunity.stall_due_at is None


def test_manager_is_found_up_the_department_tree(people):
    assert managers_of(people.rep) == [people.manager]


def test_a_manager_is_not_their_own_manager(people):
    assert managers_of(people.manager) == []


def test_rep_without_department_has_no_manager(people):
    people.rep.department = None
    assert managers_of(people.rep) == []
