"""The demo company has some deals sitting stalled, and stage reports with data in them."""

from __future__ import annotations

import datetime

from django.utils import timezone

from jiepai.demo.generate import load_demo
from jiepai.org.models import User
from jiepai.pipeline.kanban import is_stalled
from jiepai.pipeline.models import Opportunity
from jiepai.pipeline.reports import Period, dwell_heatmap, stage_health


def test_demo_has_stalled_deals_and_report_data(db):
    now = timezone.now()
    demo = load_demo(scale=0.1, now=now)
    open_deals = list(
        Opportunity.objects.filter(stage__is_won=False, stage__is_lost=False).select_related(
            "stage"
        )
    )
    stalled = [d for d in open_deals if is_stalled(d, now)]
    assert 0 < len(stalled) < len(open_deals)
    assert all(d.stall_due_at is None for d in stalled)
    director = User.objects.filter(role="director").first()
    pipeline = open_deals[0].stage.pipeline
    period = Period(start=now - datetime.timedelta(days=120), end=now + datetime.timedelta(hours=1))
    assert dwell_heatmap(viewer=director, pipeline=pipeline, period=period).medians
    assert sum(
        r.stalled for r in stage_health(viewer=director, pipeline=pipeline, period=period).rows
    )
    assert demo.opportunities
