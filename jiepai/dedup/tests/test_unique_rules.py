"""Uniqueness rules as configuration, enforced by a partial unique index on the key table."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from jiepai.customers.models import Contact
from jiepai.customers.services import create_account, create_contact, update_contact
from jiepai.dedup.models import MatchKey, UniqueRule
from jiepai.dedup.services import set_unique_rule


def test_default_rules_exist_switched_off(db):
    assert UniqueRule.objects.filter(entity="contact", kind="mobile", active=False).exists()


def test_mobile_unique_among_contacts_refuses_second_with_field_message(people, zhang):
    set_unique_rule(entity="contact", kind="mobile", active=True, actor=people.admin)
    with pytest.raises(ValidationError) as error:
        create_contact(actor=people.rep, values={"name": "李娜", "mobile": "+86 13800138000"})
    assert "手机号" in error.value.message_dict["mobile"][0]
    assert "张伟" in error.value.message_dict["mobile"][0]
    assert Contact.objects.count() == 1


def test_clash_message_hides_a_record_the_actor_cannot_see(people, zhang):
    set_unique_rule(entity="contact", kind="mobile", active=True, actor=people.admin)
    with pytest.raises(ValidationError) as error:
        create_contact(actor=people.outsider, values={"name": "李娜", "mobile": "13800138000"})
    message = error.value.message_dict["mobile"][0]
    assert "张伟" not in message and "王磊" in message


def test_update_into_a_taken_mobile_is_refused(people, zhang):
    set_unique_rule(entity="contact", kind="mobile", active=True, actor=people.admin)
    other = create_contact(actor=people.rep, values={"name": "李娜", "mobile": "13900139000"})
    with pytest.raises(ValidationError):
        update_contact(actor=people.rep, contact=other, values={"mobile": "13800138000"})


def test_company_full_name_plus_contact_name_rule(people, ruijin, zhang):
    set_unique_rule(entity="contact", kind="name_company_full", active=True, actor=people.admin)
    with pytest.raises(ValidationError) as error:
        create_contact(actor=people.teammate, values={"name": "张伟", "account": ruijin})
    assert "name" in error.value.message_dict
    other = create_account(actor=people.rep, values={"name": "复旦大学附属华山医院"})
    create_contact(
        actor=people.rep, values={"name": "张伟", "account": other}
    )  # another company: fine


def test_switching_on_while_records_clash_is_refused_with_the_values(people, zhang):
    create_contact(actor=people.rep, values={"name": "李娜", "mobile": "13800138000"})
    with pytest.raises(ValidationError) as error:
        set_unique_rule(entity="contact", kind="mobile", active=True, actor=people.admin)
    assert "+8613800138000" in str(error.value)
    assert not UniqueRule.objects.get(entity="contact", kind="mobile").active


def test_database_refuses_a_second_enforced_key(people, zhang):
    set_unique_rule(entity="contact", kind="mobile", active=True, actor=people.admin)
    with pytest.raises(IntegrityError), transaction.atomic():
        MatchKey.objects.create(
            entity="contact",
            object_id=zhang.pk + 1000,
            kind="mobile",
            value="+8613800138000",
            enforced=True,
        )


def test_switching_off_lets_duplicates_in_again(people, zhang):
    set_unique_rule(entity="contact", kind="mobile", active=True, actor=people.admin)
    set_unique_rule(entity="contact", kind="mobile", active=False, actor=people.admin)
    create_contact(actor=people.rep, values={"name": "李娜", "mobile": "13800138000"})
    assert Contact.objects.count() == 2


def test_kind_that_cannot_be_unique_is_refused(people):
    with pytest.raises(ValidationError):
        set_unique_rule(entity="contact", kind="pinyin", active=True, actor=people.admin)
