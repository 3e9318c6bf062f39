from __future__ import annotations

import datetime

import pytest

from jiepai.customers.models import Account
from jiepai.events.models import Event, ImmutableError
from jiepai.events.services import new_event, record_event, record_events


def test_event_records_before_and_after(people):
    account = Account.objects.create(name="瑞金医院", owner=people.rep)
    event = record_event(
        subject=account,
        verb="account.updated",
        actor=people.rep,
        before={"name": "瑞金"},
        after={"name": "瑞金医院"},
    )
    assert (event.subject_type, event.subject_id) == ("account", account.pk)
    assert event.before == {"name": "瑞金"} and event.after == {"name": "瑞金医院"}


def test_events_cannot_be_updated_or_deleted(people):
    account = Account.objects.create(name="瑞金医院", owner=people.rep)
    event = record_event(subject=account, verb="account.created", actor=people.rep)
    event.verb = "tampered"
    with pytest.raises(ImmutableError):
        event.save()
    with pytest.raises(ImmutableError):
        event.delete()
    with pytest.raises(ImmutableError):
        Event.objects.filter(pk=event.pk).update(verb="x")
    with pytest.raises(ImmutableError):
        Event.objects.all().delete()


def test_record_events_writes_them_in_the_order_given(db):
    now = datetime.datetime(2026, 3, 2, 1, 0, tzinfo=datetime.UTC)
    record_events(
        [
            new_event(subject_type="lead", subject_id=5, verb=verb, data={"n": i}, now=now)
            for i, verb in enumerate(["lead.created", "tag.added", "lead.routed"])
        ],
        batch=2,
    )
    written = Event.objects.filter(subject_id=5).order_by("id")
    assert [(e.verb, e.data["n"], e.created_at) for e in written] == [
        ("lead.created", 0, now),
        ("tag.added", 1, now),
        ("lead.routed", 2, now),
    ]
