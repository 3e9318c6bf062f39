"""The demo company carries routing history: the health report, offers and live windows."""

from __future__ import annotations

import datetime

from django.utils import timezone

from jiepai.demo.generate import load_demo
from jiepai.intake.models import Channel, Lead
from jiepai.org.models import User
from jiepai.routing.models import Assignment, LeadOffer, OfferRound
from jiepai.routing.selectors import health_report


def test_demo_has_routing_history_offers_and_a_few_live_windows(db):
    demo = load_demo(scale=0.05)
    assert Channel.objects.get(slug="web-form").routing_policy == "weighted_pool"
    assert (
        Assignment.objects.filter(ended_at__isnull=True).count()
        == Lead.objects.filter(owner__isnull=False, assigned_at__isnull=False).count()
    )
    assert (
        OfferRound.objects.filter(state="open").count()
        == Lead.objects.filter(state="offered").count()
    )
    assert LeadOffer.objects.exists()
    now = timezone.now()
    waiting = Lead.objects.filter(state="assigned", response_due_at__isnull=False)
    reps = User.objects.filter(role="rep").count()
    assert waiting.filter(response_due_at__gt=now).count() <= 2 * reps
    assert waiting.filter(response_due_at__lte=now).count() <= 3  # one per region
    director = demo.users["director"]
    report = health_report(
        director, start=(now - datetime.timedelta(days=90)).date(), end=now.date()
    )
    assert report.totals["assigned"] > 0 and report.balance is not None
    load_demo(scale=0.05)  # idempotent
    assert (
        OfferRound.objects.filter(state="open").count()
        == Lead.objects.filter(state="offered").count()
    )
