from __future__ import annotations

import pytest

from jiepai.customers.models import Account
from jiepai.events.models import Event, ImmutableError
from jiepai.events.services import record_event


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
