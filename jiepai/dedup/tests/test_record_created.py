"""record_created: the one-pass door check of a new record (index, flag, related entities)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jiepai.dedup.models import DuplicateFlag, MatchKey
from jiepai.dedup.selectors import keys_of, policy_for
from jiepai.dedup.services import record_created, set_unique_rule
from jiepai.events.models import Event
from jiepai.intake.models import Lead

pytestmark = pytest.mark.django_db


def _lead(**values) -> Lead:
    # written as intake writes it: the row first, then the door check in the same transaction
    return Lead.objects.create(
        **{"name": "张伟", "company": "上海交通大学医学院附属瑞金医院", **values}
    )


def test_new_lead_is_indexed_flagged_and_linked_to_the_contact_in_one_pass(people, zhang):
    first = _lead(mobile="+8613800138000")
    record_created(first, actor=None)
    second = _lead(mobile="+8613800138000")
    result = record_created(second, actor=None, related=("contact",))
    assert [c.object_id for c in result.candidates] == [first.pk]
    assert [(c.entity, c.object_id) for c in result.related] == [("contact", zhang.pk)]
    assert result.related[0].record.account_id == zhang.account_id
    assert DuplicateFlag.objects.filter(object_id=second.pk, candidate_id=first.pk).exists()
    assert Event.objects.filter(subject_id=second.pk, verb="lead.duplicate_flagged").exists()
    assert keys_of("lead", second.pk)["mobile"] == ["+8613800138000"]


def test_nothing_found_costs_the_lookup_and_the_key_insert(people):
    lead = _lead(mobile="+8613900139000")
    policies = {e: policy_for(e) for e in ("lead", "contact")}
    with CaptureQueriesContext(connection) as queries:
        result = record_created(
            lead, actor=None, related=("contact",), policies=policies, enforced=set()
        )
    assert result.candidates == [] and result.related == []
    advisory = 1 if connection.vendor == "postgresql" else 0
    assert len(queries.captured_queries) == 2 + advisory
    assert MatchKey.objects.filter(entity="lead", object_id=lead.pk).exists()


def test_a_unique_clash_kept_by_the_caller_writes_no_keys_and_no_flags(people):
    first = _lead(mobile="+8613800138000")
    record_created(first, actor=None)
    set_unique_rule(entity="lead", kind="mobile", active=True, actor=people.admin)
    second = _lead(mobile="+8613800138000")
    result = record_created(second, actor=None, keep_on_clash=True)
    assert result.clash and result.candidates == []
    assert not MatchKey.objects.filter(entity="lead", object_id=second.pk).exists()
    assert not DuplicateFlag.objects.filter(object_id=second.pk).exists()


def test_collected_events_are_left_to_the_caller(people):
    first = _lead(mobile="+8613800138000")
    record_created(first, actor=None)
    second = _lead(mobile="+8613800138000")
    events: list[Event] = []
    record_created(second, actor=None, events=events)
    assert [e.verb for e in events] == ["lead.duplicate_flagged"]
    assert not Event.objects.filter(subject_id=second.pk, verb="lead.duplicate_flagged").exists()
