from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from jiepai.conftest import on_postgresql
from jiepai.deadlines.registry import DeadlineKind
from jiepai.deadlines.sweeper import sweep_once
from jiepai.events.models import Event
from jiepai.events.services import record_event
from jiepai.intake.models import Lead

NOW = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def _expire(lead: Lead, now: datetime.datetime) -> None:
    record_event(subject=lead, verb="test.expired", now=now)


def _explode(lead: Lead, now: datetime.datetime) -> None:
    raise RuntimeError("broken handler")


@pytest.fixture
def expiry_kind(monkeypatch):
    """Only the test's kind is swept (features register real kinds on the same columns)."""
    kind = DeadlineKind("test_expiry", "intake.Lead", "response_due_at", _expire)
    monkeypatch.setattr("jiepai.deadlines.sweeper.deadline_kinds", lambda: [kind])


def test_overdue_row_is_acted_on_once(db, expiry_kind):
    lead = Lead.objects.create(name="张三", response_due_at=NOW - datetime.timedelta(minutes=1))
    assert sweep_once(now=NOW) == 1
    assert sweep_once(now=NOW) == 0
    assert Event.objects.filter(subject_id=lead.pk, verb="test.expired").count() == 1
    lead.refresh_from_db()
    assert lead.response_due_at is None


def test_row_not_yet_due_is_left_alone(db, expiry_kind):
    Lead.objects.create(name="张三", response_due_at=NOW + datetime.timedelta(minutes=1))
    assert sweep_once(now=NOW) == 0


def test_failing_handler_pushes_due_time_ahead(db, monkeypatch):
    kind = DeadlineKind("test_boom", "intake.Lead", "response_due_at", _explode)
    monkeypatch.setattr("jiepai.deadlines.sweeper.deadline_kinds", lambda: [kind])
    lead = Lead.objects.create(name="张三", response_due_at=NOW - datetime.timedelta(minutes=1))
    assert sweep_once(now=NOW) == 0
    lead.refresh_from_db()
    assert lead.response_due_at == NOW + datetime.timedelta(minutes=5)


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_act_twice_on_one_deadline(expiry_kind):
    if not on_postgresql():
        pytest.skip("real row-level concurrency needs PostgreSQL")
    due = timezone.now() - datetime.timedelta(seconds=5)
    leads = [Lead.objects.create(name=f"客户{i}", response_due_at=due) for i in range(40)]
    barrier = threading.Barrier(2)
    acted: list[int] = []

    def worker() -> None:
        barrier.wait()
        try:
            acted.append(sweep_once())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(acted) == len(leads)
    for lead in leads:
        assert Event.objects.filter(subject_id=lead.pk, verb="test.expired").count() == 1
