"""The demo step adds tasks, closure checks and visits with a few review flags."""

from __future__ import annotations

from django.utils import timezone

from jiepai.activities.models import ClosureCheck, Task, Visit, VisitFlag
from jiepai.demo.generate import load_demo


def test_demo_has_tasks_closure_checks_visits_and_flags(db) -> None:
    now = timezone.now()
    load_demo(scale=0.02, now=now)
    assert Task.objects.filter(done_at__isnull=True, remind_at__gt=now).exists()
    assert ClosureCheck.objects.filter(result__in=["passed", "failed"]).exists()
    assert Visit.objects.count() >= 12
    assert not Visit.objects.filter(started_at__gt=now).exists()
    assert VisitFlag.objects.exists()
    raised_at_check_in = VisitFlag.objects.filter(visit__isnull=False).select_related("visit")
    assert raised_at_check_in.exists()
    for flag in raised_at_check_in:
        assert flag.created_at == flag.visit.started_at  # dated when raised, at check-in
    counts = (Task.objects.count(), Visit.objects.count(), VisitFlag.objects.count())
    load_demo(scale=0.02, now=now)
    assert (Task.objects.count(), Visit.objects.count(), VisitFlag.objects.count()) == counts
