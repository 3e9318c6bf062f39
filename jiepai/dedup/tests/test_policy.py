"""The duplicate policy per entity, enforced in the services: block, warn, allow and flag."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from jiepai.customers.models import Contact
from jiepai.customers.services import create_contact
from jiepai.dedup.models import DuplicateFlag, Policy
from jiepai.dedup.selectors import policy_for
from jiepai.dedup.services import dismiss_pair
from jiepai.events.models import Event
from jiepai.intake.services import create_lead

SAME = {"name": "张主任", "mobile": "13800138000"}


def _set(entity, policy):
    row = policy_for(entity)
    row.policy = policy
    row.save()


def test_block_refuses_and_names_the_candidate(people, ruijin, zhang):
    _set("contact", Policy.BLOCK)
    with pytest.raises(ValidationError) as error:
        create_contact(actor=people.rep, values={**SAME, "account": ruijin})
    assert "张伟" in str(error.value)
    assert Contact.objects.count() == 1


def test_block_does_not_name_a_record_the_actor_cannot_see(people, ruijin, zhang):
    _set("contact", Policy.BLOCK)
    with pytest.raises(ValidationError) as error:
        create_contact(actor=people.outsider, values=SAME)
    assert "张伟" not in str(error.value)
    assert "王磊" in str(error.value)  # the owner's name is fine


def test_block_leaves_no_event_behind(people, ruijin, zhang):
    _set("contact", Policy.BLOCK)
    before = Event.objects.count()
    with pytest.raises(ValidationError):
        create_contact(actor=people.rep, values={**SAME, "account": ruijin})
    assert Event.objects.count() == before


def test_warn_lets_the_duplicate_in(people, ruijin, zhang):
    _set("contact", Policy.WARN)
    create_contact(actor=people.rep, values={**SAME, "account": ruijin})
    assert Contact.objects.count() == 2
    assert not DuplicateFlag.objects.exists()


def test_allow_and_flag_records_a_flag_and_an_event(people, ruijin, zhang):
    _set("contact", Policy.ALLOW_AND_FLAG)
    second = create_contact(actor=people.teammate, values={**SAME, "account": ruijin})
    flag = DuplicateFlag.objects.get()
    assert (flag.object_id, flag.candidate_id) == (second.pk, zhang.pk)
    assert flag.confidence > 0.9
    assert Event.objects.filter(
        subject_type="contact", subject_id=second.pk, verb="contact.duplicate_flagged"
    ).exists()


def test_leads_are_flagged_by_default(people):
    first = create_lead(
        actor=people.rep, values={"name": "刘洋", "company": "华山医院", "mobile": "13700137000"}
    )
    second = create_lead(
        actor=people.rep,
        values={"name": "刘洋", "company": "复旦大学附属华山医院", "mobile": "137-0013-7000"},
    )
    assert DuplicateFlag.objects.filter(
        entity="lead", object_id=second.pk, candidate_id=first.pk
    ).exists()


def test_caller_may_override_the_policy(people, ruijin, zhang):
    _set("contact", Policy.BLOCK)
    create_contact(
        actor=people.rep, values={**SAME, "account": ruijin}, on_duplicate=Policy.ALLOW_AND_FLAG
    )
    assert DuplicateFlag.objects.count() == 1


def test_dismissed_pair_is_not_flagged_again(people, ruijin, zhang):
    _set("contact", Policy.ALLOW_AND_FLAG)
    second = create_contact(actor=people.rep, values={**SAME, "account": ruijin})
    dismiss_pair(entity="contact", ids=[zhang.pk, second.pk], actor=people.rep)
    assert DuplicateFlag.objects.get().status == "dismissed"
