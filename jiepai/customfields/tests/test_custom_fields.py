from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from jiepai.customers.services import create_account, update_account
from jiepai.customfields.models import FieldDefinition
from jiepai.customfields.services import check_definition_change, clean_custom_values
from jiepai.events.models import Event


@pytest.fixture
def fields(db):
    FieldDefinition.objects.create(
        entity="account", key="beds", label="床位数", field_type="number", required=True
    )
    FieldDefinition.objects.create(
        entity="account",
        key="level",
        label="医院等级",
        field_type="select",
        options=[
            {"value": "3A", "label": "三甲", "synonyms": ["三级甲等"]},
            {"value": "2A", "label": "二甲"},
        ],
    )
    FieldDefinition.objects.create(
        entity="account", key="license_no", label="许可证号", field_type="text", unique=True
    )


def test_values_are_cleaned_by_their_definitions(fields):
    values, errors = clean_custom_values("account", {"beds": "１,200", "level": "三级甲等"})
    assert errors == {}
    assert values == {"beds": "1200", "level": "3A"}


def test_wrong_type_and_unknown_option_are_named(fields):
    _, errors = clean_custom_values("account", {"beds": "很多", "level": "社区医院", "nope": 1})
    assert set(errors) == {"beds", "level", "nope"}
    assert "三甲" in errors["level"]


def test_required_custom_field_is_enforced_on_create(fields, people):
    with pytest.raises(ValidationError) as exc:
        create_account(actor=people.rep, values={"name": "瑞金医院"}, custom={})
    assert "custom.beds" in exc.value.message_dict


def test_unique_custom_field_rejects_second_record(fields, people):
    create_account(actor=people.rep, values={"name": "A"}, custom={"beds": 10, "license_no": "X-1"})
    with pytest.raises(ValidationError) as exc:
        create_account(
            actor=people.rep, values={"name": "B"}, custom={"beds": 10, "license_no": "x-1"}
        )
    assert "license_no" in exc.value.message_dict


def test_update_writes_only_changes_to_the_trace(fields, people):
    account = create_account(
        actor=people.rep, values={"name": "A", "city": "上海"}, custom={"beds": 10}
    )
    update_account(
        actor=people.rep, account=account, values={"name": "A", "city": "杭州"}, custom={"beds": 20}
    )
    event = Event.objects.filter(subject_id=account.pk, verb="account.updated").get()
    assert event.before == {"city": "上海", "custom": {"beds": "10"}}
    assert event.after == {"city": "杭州", "custom": {"beds": "20"}}


def test_making_a_field_required_is_refused_when_records_lack_it(fields):
    definition = FieldDefinition(
        entity="account", key="license_no", label="许可证号", field_type="number", required=True
    )
    problems = check_definition_change(definition, [{"license_no": "X-1"}, {}])
    assert len(problems) == 2
