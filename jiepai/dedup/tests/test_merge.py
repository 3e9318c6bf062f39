"""Merging 2–5 records without loss, and undoing it."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from jiepai.activities.models import Activity, Task
from jiepai.customers.models import Account, Contact
from jiepai.customers.services import create_account, create_contact, update_contact
from jiepai.customfields.models import FieldDefinition, UniqueValue
from jiepai.dedup.matcher import find_duplicates
from jiepai.dedup.merge import merge_records, preview_merge, undo_merge
from jiepai.dedup.models import DuplicateCluster, MatchKey
from jiepai.dedup.selectors import merged_ids, survivor_of
from jiepai.events.models import Event
from jiepai.events.selectors import events_for
from jiepai.files.models import Attachment
from jiepai.intake.models import Lead
from jiepai.intake.services import create_lead
from jiepai.notify.models import Notification
from jiepai.pipeline.services import create_opportunity
from jiepai.tagging.models import TagAssignment
from jiepai.tagging.services import apply_tag

T0 = timezone.now()


def _later(record, minutes):
    """Make `record` look edited `minutes` after T0 (the merge's default picks the newest)."""
    type(record).objects.filter(pk=record.pk).update(
        updated_at=T0 + datetime.timedelta(minutes=minutes)
    )
    record.refresh_from_db()
    return record


@pytest.fixture
def pair(people, ruijin):
    """Seed 002: the same person entered twice, by two reps, each with some history."""
    old = create_contact(
        actor=people.rep,
        values={"name": "张主任", "account": ruijin, "mobile": "13800138000", "title": "主任"},
    )
    new = create_contact(
        actor=people.teammate,
        values={"name": "张伟", "account": ruijin, "mobile": "", "email": "zhangwei@rjh.com.cn"},
    )
    _later(old, 1)
    _later(new, 2)
    return old, new


def _history(people, account, contact):
    activity = Activity.objects.create(
        kind="call", owner=people.teammate, occurred_at=T0, account=account, contact=contact
    )
    apply_tag(entity="contact", object_id=contact.pk, tag="采购决策人", actor=people.teammate)
    attachment = Attachment.objects.create(
        entity="contact", object_id=contact.pk, file="attachments/x.pdf", original_name="名片.pdf"
    )
    return activity, attachment


def test_newest_non_empty_value_is_the_default(people, pair):
    old, new = pair
    preview = preview_merge(entity="contact", ids=[old.pk, new.pk], actor=people.manager)
    assert preview.sources["name"] == new.pk  # both set: the newer wins
    assert preview.sources["mobile"] == old.pk  # the newer is empty
    assert preview.survivor == old  # the oldest record survives by default


def test_merge_moves_history_and_leaves_a_tombstone(people, ruijin, pair):
    old, new = pair
    activity, attachment = _history(people, ruijin, new)
    opportunity = create_opportunity(
        actor=people.teammate, values={"name": "耗材采购", "account": ruijin, "contact": new}
    )
    merge = merge_records(entity="contact", ids=[old.pk, new.pk], actor=people.manager)
    old.refresh_from_db()
    new.refresh_from_db()
    assert new.merged_into_id == old.pk
    assert (old.name, old.mobile, old.email) == ("张伟", "13800138000", "zhangwei@rjh.com.cn")
    assert Activity.objects.get(pk=activity.pk).contact_id == old.pk
    assert TagAssignment.objects.get(tag__name="采购决策人").object_id == old.pk
    assert Attachment.objects.get(pk=attachment.pk).object_id == old.pk
    opportunity.refresh_from_db()
    assert opportunity.contact_id == old.pk
    assert merge.merged_ids == [new.pk]


def test_chosen_value_overrides_the_default(people, pair):
    old, new = pair
    merge_records(
        entity="contact", ids=[old.pk, new.pk], actor=people.manager, sources={"name": old.pk}
    )
    old.refresh_from_db()
    assert old.name == "张主任"


def test_merge_writes_exactly_one_event(people, pair):
    old, new = pair
    before = Event.objects.count()
    merge = merge_records(entity="contact", ids=[old.pk, new.pk], actor=people.manager)
    event = Event.objects.exclude(verb__startswith="tag.").latest("id")
    assert Event.objects.count() == before + 1
    assert event.verb == "contact.merged"
    assert event.data["merged_ids"] == [new.pk]
    assert event.data["merge"] == merge.pk


def test_survivor_timeline_includes_the_tombstones_events(people, pair):
    old, new = pair
    merge_records(entity="contact", ids=[old.pk, new.pk], actor=people.manager)
    assert set(merged_ids("contact", old.pk)) == {old.pk, new.pk}
    subjects = set(
        events_for("contact", merged_ids("contact", old.pk)).values_list("subject_id", flat=True)
    )
    assert subjects == {old.pk, new.pk}


def test_tombstone_resolves_to_its_survivor(people, pair):
    old, new = pair
    merge_records(entity="contact", ids=[old.pk, new.pk], actor=people.manager)
    new.refresh_from_db()
    assert survivor_of("contact", new) == old


def test_tombstone_loses_its_keys_and_is_no_longer_a_candidate(people, pair):
    old, new = pair
    merge_records(entity="contact", ids=[old.pk, new.pk], actor=people.manager)
    assert not MatchKey.objects.filter(entity="contact", object_id=new.pk).exists()
    found = find_duplicates(
        "contact", {"name": "张伟", "company": "瑞金医院", "email": "zhangwei@rjh.com.cn"}
    )
    assert [c.object_id for c in found] == [old.pk]


def test_merging_records_of_two_owners_notifies_both(people, pair):
    old, new = pair
    merge_records(entity="contact", ids=[old.pk, new.pk], actor=people.manager)
    notified = set(
        Notification.objects.filter(kind="dedup.merged").values_list("recipient", flat=True)
    )
    assert notified == {people.rep.pk, people.teammate.pk}


def test_other_owner_keeps_seeing_the_merged_record(people, pair):
    old, new = pair
    merge_records(entity="contact", ids=[old.pk, new.pk], actor=people.manager)
    assert old.shared_with.filter(pk=people.teammate.pk).exists()


def test_outsider_cannot_merge_what_they_cannot_see(people, pair):
    old, new = pair
    with pytest.raises(PermissionDenied):
        merge_records(entity="contact", ids=[old.pk, new.pk], actor=people.outsider)
    assert Contact.objects.filter(merged_into__isnull=False).count() == 0


def test_rep_cannot_merge_a_teammates_record_they_cannot_see(people, pair):
    old, new = pair
    with pytest.raises(PermissionDenied):
        merge_records(entity="contact", ids=[old.pk, new.pk], actor=people.rep)


def test_merge_takes_two_to_five_records(people, ruijin):
    contacts = [
        create_contact(actor=people.rep, values={"name": f"张伟{i}", "account": ruijin})
        for i in range(6)
    ]
    with pytest.raises(ValidationError):
        merge_records(entity="contact", ids=[contacts[0].pk], actor=people.rep)
    with pytest.raises(ValidationError):
        merge_records(entity="contact", ids=[c.pk for c in contacts], actor=people.rep)
    merge_records(entity="contact", ids=[c.pk for c in contacts[:5]], actor=people.rep)
    assert Contact.objects.filter(merged_into=contacts[0]).count() == 4


def test_a_tombstone_cannot_be_merged_again(people, pair):
    old, new = pair
    merge_records(entity="contact", ids=[old.pk, new.pk], actor=people.manager)
    with pytest.raises(ValidationError):
        merge_records(entity="contact", ids=[old.pk, new.pk], actor=people.manager)


def test_undo_restores_the_tombstone_with_what_was_its(people, ruijin, pair):
    old, new = pair
    activity, attachment = _history(people, ruijin, new)
    merge = merge_records(entity="contact", ids=[old.pk, new.pk], actor=people.manager)
    undo_merge(merge=merge, actor=people.manager)
    old.refresh_from_db()
    new.refresh_from_db()
    assert new.merged_into_id is None
    assert (old.name, old.email) == ("张主任", "")
    assert Activity.objects.get(pk=activity.pk).contact_id == new.pk
    assert TagAssignment.objects.get(tag__name="采购决策人").object_id == new.pk
    assert Attachment.objects.get(pk=attachment.pk).object_id == new.pk
    assert not old.shared_with.filter(pk=people.teammate.pk).exists()
    assert MatchKey.objects.filter(entity="contact", object_id=new.pk, kind="email").exists()
    assert Event.objects.filter(verb="contact.merge_undone", subject_id=old.pk).count() == 1


def test_undo_keeps_what_was_added_and_edited_after_the_merge(people, ruijin, pair):
    old, new = pair
    merge = merge_records(entity="contact", ids=[old.pk, new.pk], actor=people.manager)
    later = Activity.objects.create(kind="visit", owner=people.rep, occurred_at=T0, contact=old)
    update_contact(
        actor=people.manager, contact=Contact.objects.get(pk=old.pk), values={"name": "张伟主任"}
    )
    undo_merge(merge=merge, actor=people.manager)
    old.refresh_from_db()
    assert old.name == "张伟主任"
    assert Activity.objects.get(pk=later.pk).contact_id == old.pk


def test_undo_after_thirty_days_is_refused(people, pair):
    old, new = pair
    merge = merge_records(entity="contact", ids=[old.pk, new.pk], actor=people.manager)
    with pytest.raises(ValidationError):
        undo_merge(
            merge=merge, actor=people.manager, now=timezone.now() + datetime.timedelta(days=31)
        )
    undo_merge(merge=merge, actor=people.manager, now=timezone.now() + datetime.timedelta(days=29))


def test_undo_twice_is_refused(people, pair):
    old, new = pair
    merge = merge_records(entity="contact", ids=[old.pk, new.pk], actor=people.manager)
    undo_merge(merge=merge, actor=people.manager)
    with pytest.raises(ValidationError):
        undo_merge(merge=merge, actor=people.manager)


def test_outsider_cannot_undo(people, pair):
    old, new = pair
    merge = merge_records(entity="contact", ids=[old.pk, new.pk], actor=people.manager)
    with pytest.raises(PermissionDenied):
        undo_merge(merge=merge, actor=people.outsider)


def test_undo_of_an_earlier_merge_waits_for_the_later_one(people, ruijin, pair):
    old, new = pair
    third = create_contact(actor=people.rep, values={"name": "张伟", "account": ruijin})
    first = merge_records(entity="contact", ids=[old.pk, new.pk], actor=people.manager)
    second = merge_records(entity="contact", ids=[old.pk, third.pk], actor=people.manager)
    with pytest.raises(ValidationError):
        undo_merge(merge=first, actor=people.manager)
    undo_merge(merge=second, actor=people.manager)
    undo_merge(merge=first, actor=people.manager)
    assert Contact.objects.filter(merged_into__isnull=False).count() == 0


def test_merging_accounts_moves_contacts_opportunities_leads_and_tasks(people):
    a = create_account(actor=people.rep, values={"name": "上海瑞金医院"})
    b = create_account(
        actor=people.rep, values={"name": "瑞金医院", "credit_code": "12310000425002723F"}
    )
    contact = create_contact(actor=people.rep, values={"name": "李娜", "account": b})
    deal = create_opportunity(actor=people.rep, values={"name": "设备", "account": b})
    lead = create_lead(actor=people.rep, values={"name": "王芳", "company": "瑞金医院"})
    Lead.objects.filter(pk=lead.pk).update(account=b)
    task = Task.objects.create(title="回访", owner=people.rep, account=b)
    merge = merge_records(entity="account", ids=[a.pk, b.pk], actor=people.rep)
    contact.refresh_from_db()
    deal.refresh_from_db()
    assert contact.account_id == deal.account_id == a.pk
    assert Lead.objects.get(pk=lead.pk).account_id == a.pk
    assert Task.objects.get(pk=task.pk).account_id == a.pk
    assert Account.objects.get(pk=a.pk).credit_code == "12310000425002723F"
    assert (
        MatchKey.objects.get(entity="contact", object_id=contact.pk, kind="company").value
        == "瑞金医院"
    )
    undo_merge(merge=merge, actor=people.rep)
    contact.refresh_from_db()
    assert contact.account_id == b.pk


def test_merging_leads_stops_the_tombstones_response_window(people):
    a = create_lead(actor=people.rep, values={"name": "刘洋", "mobile": "13700137000"})
    b = create_lead(actor=people.rep, values={"name": "刘洋", "mobile": "13700137000"})
    due = T0 + datetime.timedelta(minutes=15)
    Lead.objects.filter(pk=b.pk).update(response_due_at=due)
    merge = merge_records(entity="lead", ids=[a.pk, b.pk], actor=people.rep)
    assert Lead.objects.get(pk=b.pk).response_due_at is None
    undo_merge(merge=merge, actor=people.rep)
    assert Lead.objects.get(pk=b.pk).response_due_at == due


def test_unique_custom_value_moves_to_the_survivor_and_back(people, pair):
    old, new = pair
    FieldDefinition.objects.create(
        entity="contact", key="his_id", label="HIS 编号", field_type="text", unique=True
    )
    update_contact(actor=people.teammate, contact=new, values={}, custom={"his_id": "H-001"})
    merge = merge_records(entity="contact", ids=[old.pk, new.pk], actor=people.manager)
    assert UniqueValue.objects.get(value_key="h-001").object_id == old.pk
    undo_merge(merge=merge, actor=people.manager)
    assert UniqueValue.objects.get(value_key="h-001").object_id == new.pk


def test_merge_closes_the_review_cluster(people, pair):
    old, new = pair
    cluster = DuplicateCluster.objects.create(
        entity="contact", record_ids=[old.pk, new.pk], confidence=0.95, scanned_at=T0
    )
    merge_records(entity="contact", ids=[old.pk, new.pk], actor=people.manager)
    cluster.refresh_from_db()
    assert cluster.status == "merged"
