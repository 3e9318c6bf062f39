"""apply_tags: several tags of one record at once, with the events apply_tag would write."""

from __future__ import annotations

import datetime

import pytest

from jiepai.events.models import Event
from jiepai.tagging.models import Tag, TagAssignment
from jiepai.tagging.services import apply_tag, apply_tags, tags_named

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 2, 1, 0, tzinfo=datetime.UTC)


def _added(object_id: int) -> list[str]:
    events = Event.objects.filter(subject_id=object_id, verb="tag.added").order_by("id")
    return [e.after["tag"] for e in events]


def test_each_tag_is_assigned_once_and_announced_in_order(db):
    apply_tags(entity="lead", object_id=7, tags=["展会线索", "PLC高意向", "展会线索"], now=NOW)
    assert sorted(a.tag.name for a in TagAssignment.objects.filter(object_id=7)) == [
        "PLC高意向",
        "展会线索",
    ]
    assert _added(7) == ["展会线索", "PLC高意向"]


def test_a_tag_already_there_is_refreshed_without_a_second_event(db):
    tag = Tag.objects.create(name="重点", ttl_days=30)
    apply_tag(entity="lead", object_id=8, tag=tag, source="manual", now=NOW)
    later = NOW + datetime.timedelta(days=10)
    apply_tags(entity="lead", object_id=8, tags=[tag, "新标签"], source="rule", now=later)
    refreshed = TagAssignment.objects.get(object_id=8, tag=tag)
    assert refreshed.source == "rule"
    assert refreshed.expires_at == later + datetime.timedelta(days=30)
    assert _added(8) == ["重点", "新标签"]


def test_a_fresh_record_gets_the_same_tags_and_events_collected_for_the_caller(db):
    events: list[Event] = []
    apply_tags(entity="lead", object_id=9, tags=["a", "b"], now=NOW, events=events, fresh=True)
    assert TagAssignment.objects.filter(object_id=9).count() == 2
    assert [e.after["tag"] for e in events] == ["a", "b"] and _added(9) == []


def test_known_tags_are_not_read_again_and_created_ones_are_not_remembered(db):
    Tag.objects.create(name="已有")
    known: dict[str, Tag] = {}
    tags_named(["已有", "新建"], known=known)
    assert list(known) == ["已有"]
