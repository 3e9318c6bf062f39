"""The demo company is a team at work right now: routing history for the health report, offers
to claim, live response windows, room for the next lead, and nothing overdue for the worker."""

from __future__ import annotations

import datetime
import json

import pytest
from django.test import Client
from django.utils import timezone

from jiepai.deadlines.sweeper import sweep_once
from jiepai.demo.generate import HEADROOM, load_demo
from jiepai.events.models import Event
from jiepai.intake.models import Channel, Lead
from jiepai.org.models import RepProfile
from jiepai.routing.candidates import active_lead_counts
from jiepai.routing.models import Assignment, EndReason, LeadOffer, OfferRound
from jiepai.routing.selectors import health_report

SCALE = 0.05  # 250 leads: enough that every rep's places fill up


@pytest.fixture
def demo(db):
    return load_demo(scale=SCALE)


def test_demo_routes_web_leads_through_the_weighted_pool(demo):
    assert Channel.objects.get(slug="web-form").routing_policy == "weighted_pool"
    assert Channel.objects.get(slug="phone-in").routing_policy == "round_robin"


def test_every_owned_demo_lead_has_its_current_assignment(demo):
    owned = Lead.objects.filter(owner__isnull=False, assigned_at__isnull=False)
    current = Assignment.objects.filter(ended_at__isnull=True)
    assert current.count() == owned.count()
    assert not current.exclude(rep_id__in=owned.values("owner_id")).exists()


def test_a_reassigned_demo_lead_was_taken_from_a_colleague_when_the_window_ran_out(demo):
    reassigned = Lead.objects.filter(reassign_count=1)
    assert reassigned.exists()
    for lead in reassigned:
        earlier, current = Assignment.objects.filter(lead=lead).order_by("assigned_at")
        assert earlier.end_reason == EndReason.WINDOW_EXPIRED and earlier.rep_id != lead.owner_id
        assert earlier.ended_at == current.assigned_at == lead.assigned_at
        assert lead.contacted_at > lead.assigned_at


def test_no_demo_rep_is_at_capacity(demo):
    capacity = dict(RepProfile.objects.values_list("user_id", "capacity"))
    loads = active_lead_counts(list(capacity))
    for rep_id, active in loads.items():
        assert active <= capacity[rep_id] - HEADROOM
    assert any(active == capacity[rep_id] - HEADROOM for rep_id, active in loads.items())


def test_every_waiting_demo_lead_has_its_response_window_still_running(demo):
    waiting = Lead.objects.filter(state="assigned")
    assert waiting.exists()
    assert not waiting.filter(response_due_at__isnull=True).exists()
    assert not Lead.objects.filter(response_due_at__lte=demo.now).exists()
    for lead in waiting:
        current = Assignment.objects.get(lead=lead, ended_at__isnull=True)
        assert current.response_due_at == lead.response_due_at
        assert lead.assigned_at <= demo.now < lead.response_due_at


def test_demo_reps_have_open_offers_to_claim(demo):
    offered = Lead.objects.filter(state="offered")
    rounds = OfferRound.objects.filter(state="open")
    assert offered.exists() and rounds.count() == offered.count()
    assert set(offered.values_list("channel__routing_policy", flat=True)) == {"weighted_pool"}
    assert set(rounds.values_list("policy__key", flat=True)) == {"weighted_pool"}
    assert not rounds.filter(closes_at__lte=demo.now).exists()
    assert not rounds.filter(lock_due_at__lte=demo.now).exists()
    capacity = dict(RepProfile.objects.values_list("user_id", "capacity"))
    loads = active_lead_counts(list(capacity))
    for offer in LeadOffer.objects.filter(round__in=rounds):
        assert offer.rep.role == "rep"
        assert loads.get(offer.rep_id, 0) < capacity[offer.rep_id]  # the claim would succeed


def test_worker_first_pass_after_the_demo_reassigns_nothing(demo):
    owners = dict(Lead.objects.values_list("pk", "owner_id"))
    now = timezone.now()
    sweep_once(now=now)
    worked = Event.objects.filter(created_at__gte=now, subject_type="lead")
    assert not worked.filter(verb__in=["lead.reassigned", "lead.escalated"]).exists()
    assert dict(Lead.objects.values_list("pk", "owner_id")) == owners
    assert (
        OfferRound.objects.filter(state="open").count()
        == Lead.objects.filter(state="offered").count()
    )


def test_a_lead_posted_right_after_the_demo_is_routed_to_a_demo_rep(demo):
    def post(slug: str, mobile: str) -> Lead:
        channel = Channel.objects.get(slug=slug)
        body = {"name": "陈立", "company": "杭州启明医疗器械有限公司", "title": "采购经理"}
        body.update({"mobile": mobile, "province": "浙江", "city": "杭州"})
        answer = Client(headers={"X-Jiepai-Key": channel.intake_key}).post(
            f"/api/v1/intake/{slug}",
            json.dumps(body, ensure_ascii=False),
            content_type="application/json",
        )
        assert answer.status_code == 201, answer.content
        return Lead.objects.get(pk=answer.json()["id"])

    demo_reps = {rep.pk for reps in demo.reps.values() for rep in reps}
    round_robin = post("phone-in", "13905710001")
    assert round_robin.state == "assigned" and round_robin.owner_id in demo_reps
    assert round_robin.response_due_at > timezone.now()
    pooled = post("web-form", "13905710002")
    assert pooled.state == "offered"
    assert set(LeadOffer.objects.filter(lead=pooled).values_list("rep_id", flat=True)) <= demo_reps


def test_demo_routing_history_feeds_the_health_report(demo):
    now = timezone.now()
    report = health_report(
        demo.users["director"], start=(now - datetime.timedelta(days=90)).date(), end=now.date()
    )
    assert report.totals["assigned"] > 0 and report.balance is not None


def test_loading_the_demo_again_opens_no_more_offers(demo):
    rounds = OfferRound.objects.count()
    load_demo(scale=SCALE)
    assert OfferRound.objects.count() == rounds
    assert OfferRound.objects.filter(state="open").count() == (
        Lead.objects.filter(state="offered").count()
    )
