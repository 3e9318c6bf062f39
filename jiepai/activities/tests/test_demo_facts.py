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
    counts = (Task.objects.count(), Visit.objects.count(), VisitFlag.objects.count())
    load_demo(scale=0.02, now=now)
    assert (Task.objects.count(), Visit.objects.count(), VisitFlag.objects.count()) == counts
