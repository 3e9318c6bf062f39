from __future__ import annotations

import datetime

import pytest

from jiepai.deadlines.sweeper import sweep_once
from jiepai.intake.housekeeping import IDEMPOTENCY_RETENTION
from jiepai.intake.models import Channel, IdempotencyKey, Lead
from jiepai.intake.pipeline import intake_lead
from jiepai.intake.tests.conftest import FORM

pytestmark = pytest.mark.django_db


def test_new_channel_has_a_housekeeping_deadline(web, now):
    assert web.housekeeping_due_at is not None


def test_sweeper_clears_week_old_idempotency_keys_and_reschedules(web, now):
    intake_lead(channel=web, payload=FORM, idempotency_key="old", now=now)
    later = now + IDEMPOTENCY_RETENTION + datetime.timedelta(days=1)
    intake_lead(channel=web, payload={**FORM, "姓名": "李"}, idempotency_key="new", now=later)
    Channel.objects.filter(pk=web.pk).update(housekeeping_due_at=later)
    assert sweep_once(now=later) >= 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
    assert Channel.objects.get(pk=web.pk).housekeeping_due_at > later
    assert Lead.objects.count() == 2  # the leads themselves stay


def test_channel_without_a_deadline_gets_one_at_its_first_keyed_intake(web, now):
    Channel.objects.filter(pk=web.pk).update(housekeeping_due_at=None)
    web.refresh_from_db()
    intake_lead(channel=web, payload=FORM, idempotency_key="k", now=now)
    assert Channel.objects.get(pk=web.pk).housekeeping_due_at is not None
