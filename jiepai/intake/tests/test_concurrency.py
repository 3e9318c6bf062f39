"""Races, on PostgreSQL (SQLite runs one writer at a time, so there is no race to lose)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import connection

from jiepai.conftest import on_postgresql, run_at_once
from jiepai.intake import pipeline, throttle
from jiepai.intake.models import IdempotencyKey, Lead, RejectedStatus
from jiepai.intake.rejected import keep_rejected, replay_rejected
from jiepai.intake.tests.conftest import FORM

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("not on_postgresql()", reason="races need PostgreSQL"),
]


def test_same_idempotency_key_posted_twice_at_once_makes_one_lead(web, now, monkeypatch):
    assert connection.vendor == "postgresql" and on_postgresql()
    create = pipeline._create

    def slow_create(**kwargs: Any) -> Any:
        # Hold the transaction open after the key is claimed, so the other request's INSERT
        # of the same key certainly arrives while this one is uncommitted.
        time.sleep(0.3)
        return create(**kwargs)

    monkeypatch.setattr(pipeline, "_create", slow_create)
    first, second = run_at_once(
        lambda: pipeline.intake_lead(channel=web, payload=FORM, idempotency_key="k", now=now),
        lambda: pipeline.intake_lead(channel=web, payload=FORM, idempotency_key="k", now=now),
    )
    assert not isinstance(first, Exception) and not isinstance(second, Exception)
    assert Lead.objects.count() == 1 and IdempotencyKey.objects.count() == 1
    assert first.body == second.body
    assert sorted([first.replayed, second.replayed]) == [False, True]


def test_concurrent_requests_each_get_a_distinct_count(web, now):
    web.rate_limit_per_minute = 5
    web.save()
    verdicts = run_at_once(*[lambda: throttle.hit(channel=web, now=now) for _ in range(8)])
    assert sorted(v.count for v in verdicts) == list(range(1, 9))
    assert sum(v.allowed for v in verdicts) == 5


def test_two_admins_replaying_one_payload_at_once_make_one_lead(web, people, now):
    row = keep_rejected(
        channel=web, reason="bad_json", detail="x", body=b"{", content_type="application/json"
    )
    fixed = '{"姓名": "王磊", "手机号": "13800138000"}'
    results = run_at_once(
        lambda: replay_rejected(rejected=row, actor=people.admin, body_text=fixed, now=now),
        lambda: replay_rejected(rejected=row, actor=people.marketing, body_text=fixed, now=now),
    )
    assert Lead.objects.count() == 1
    assert sum(isinstance(r, Exception) for r in results) == 1
    row.refresh_from_db()
    assert row.status == RejectedStatus.REPLAYED
