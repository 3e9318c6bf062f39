from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from jiepai.customers.models import Contact
from jiepai.customfields.models import FieldDefinition
from jiepai.dedup.models import DuplicateFlag, Policy
from jiepai.dedup.selectors import policy_for
from jiepai.events.models import Event
from jiepai.intake.models import IdempotencyKey, Lead, LeadState, TagRule
from jiepai.intake.pipeline import (
    IdempotencyMismatch,
    IntakeRejected,
    complete_lead,
    intake_lead,
)
from jiepai.intake.services import update_lead
from jiepai.intake.tests.conftest import FORM
from jiepai.tagging.services import tags_of

pytestmark = pytest.mark.django_db


def _lead(answer) -> Lead:
    return Lead.objects.get(pk=answer.lead_id)


def test_payload_becomes_a_lead_with_mapped_and_normalised_fields(web, now):
    answer = intake_lead(channel=web, payload=FORM, now=now)
    lead = _lead(answer)
    assert answer.status == 201
    assert (lead.name, lead.company, lead.title) == ("王磊", "宁波恒锐智能装备有限公司", "采购经理")
    assert lead.mobile == "+8613800138000"
    assert lead.channel == web
    assert lead.source_detail["page_url"] == "https://example.com/product/plc/s7"


def test_raw_payload_is_stored_as_sent(web, now):
    payload = {**FORM, "自定义问题": "需要 3 台", "nested": {"x": [1, 2]}}
    lead = _lead(intake_lead(channel=web, payload=payload, now=now))
    assert lead.raw_payload == payload


def test_full_width_values_become_half_width_and_trimmed(web, now):
    payload = {**FORM, "手机号": "１３８００１３８０００", "公司": "  ＡＢＣ（上海）有限公司 "}
    payload.pop("公司名称")
    lead = _lead(intake_lead(channel=web, payload=payload, now=now))
    assert lead.mobile == "+8613800138000"
    assert lead.company == "ABC(上海)有限公司"


def test_complete_lead_is_unassigned_and_answer_lists_nothing_missing(web, now):
    answer = intake_lead(channel=web, payload=FORM, now=now)
    assert answer.body["state"] == LeadState.UNASSIGNED
    assert answer.body["missing_fields"] == []
    assert answer.body["id"] == answer.lead_id


def test_missing_required_fields_put_the_lead_in_the_incomplete_pool(web, now):
    payload = {"姓名": "王磊", "电话": "13800138000"}
    answer = intake_lead(channel=web, payload=payload, now=now)
    lead = _lead(answer)
    assert lead.state == LeadState.INCOMPLETE
    assert lead.missing_fields == ["company", "title"]
    assert answer.body["missing_fields"] == ["company", "title"]


def test_invalid_phone_is_left_out_listed_and_kept_raw(web, now):
    payload = {**FORM, "手机号": "12345"}
    answer = intake_lead(channel=web, payload=payload, now=now)
    lead = _lead(answer)
    assert lead.mobile == ""
    assert "mobile" in lead.field_errors
    assert lead.missing_fields == ["mobile"]
    assert lead.raw_payload["手机号"] == "12345"
    assert answer.body["field_errors"]["mobile"]


def test_invalid_optional_value_does_not_stop_routing(web, now):
    lead = _lead(intake_lead(channel=web, payload={**FORM, "邮箱": "not-an-email"}, now=now))
    assert lead.state == LeadState.UNASSIGNED
    assert "email" in lead.field_errors


def test_payload_without_any_contact_information_is_rejected(web, now):
    with pytest.raises(IntakeRejected) as caught:
        intake_lead(channel=web, payload={"foo": "bar", "page_url": "/x"}, now=now)
    assert caught.value.reason == "no_contact"
    assert "foo" in caught.value.detail
    assert not Lead.objects.exists()


def test_budget_in_chinese_units_is_parsed(web, now):
    lead = _lead(intake_lead(channel=web, payload={**FORM, "预算": "５０万"}, now=now))
    assert lead.budget == Decimal("500000.00")


def test_channel_alias_map_wins_over_default_aliases(web, now):
    web.alias_map = {"电话": "wechat"}
    web.save()
    lead = _lead(intake_lead(channel=web, payload={**FORM, "电话": "wx_wanglei"}, now=now))
    assert lead.wechat == "wx_wanglei"
    assert lead.mobile == "+8613800138000"


def test_unmapped_fields_are_listed_in_the_answer(web, now):
    answer = intake_lead(channel=web, payload={**FORM, "喜欢的颜色": "蓝"}, now=now)
    assert answer.body["unmapped"] == ["喜欢的颜色"]


def test_custom_field_is_filled_from_a_payload_key(web, now):
    FieldDefinition.objects.create(
        entity="lead", key="device_count", label="设备数量", field_type="number"
    )
    lead = _lead(intake_lead(channel=web, payload={**FORM, "device_count": "3"}, now=now))
    assert lead.custom == {"device_count": "3"}


def test_required_custom_field_missing_sends_lead_to_incomplete_pool(web, now):
    FieldDefinition.objects.create(
        entity="lead", key="hospital_level", label="医院等级", field_type="text", required=True
    )
    lead = _lead(intake_lead(channel=web, payload=FORM, now=now))
    assert lead.state == LeadState.INCOMPLETE
    assert lead.missing_fields == ["custom.hospital_level"]


def test_creation_writes_the_lead_created_event_with_values(web, now):
    lead = _lead(intake_lead(channel=web, payload=FORM, now=now))
    event = Event.objects.get(subject_type="lead", subject_id=lead.pk, verb="lead.created")
    assert event.after["mobile"] == "+8613800138000"
    assert event.after["channel"] == web.pk
    assert event.data["via"] == "intake"
    assert event.created_at == now


def test_source_tag_from_channel_is_applied(web, now):
    lead = _lead(intake_lead(channel=web, payload=FORM, now=now))
    assert "来源-官网表单" in [a.tag.name for a in tags_of("lead", lead.pk, now=now)]


def test_seed_rule_tags_plc_product_page_leads(web, now):
    lead = _lead(intake_lead(channel=web, payload=FORM, now=now))
    assert "PLC高意向" in [a.tag.name for a in tags_of("lead", lead.pk, now=now)]


def test_plc_rule_does_not_fire_for_other_pages(web, now):
    payload = {**FORM, "page_url": "https://example.com/product/servo"}
    lead = _lead(intake_lead(channel=web, payload=payload, now=now))
    assert "PLC高意向" not in [a.tag.name for a in tags_of("lead", lead.pk, now=now)]


def test_rule_bound_to_another_channel_does_not_fire(web, expo, now):
    TagRule.objects.create(name="展会", channel=expo, condition="True", tag_name="展会线索")
    lead = _lead(intake_lead(channel=web, payload=FORM, now=now))
    assert "展会线索" not in [a.tag.name for a in tags_of("lead", lead.pk, now=now)]


def test_booth_from_source_becomes_source_detail(expo, now):
    lead = _lead(intake_lead(channel=expo, payload=FORM, source={"booth": "A12"}, now=now))
    assert lead.source_detail["booth"] == "A12"


def test_same_phone_as_existing_lead_is_reported_as_duplicate(web, now):
    first = intake_lead(channel=web, payload=FORM, now=now)
    second = intake_lead(channel=web, payload={**FORM, "手机号": "+86 138-0013-8000"}, now=now)
    [match] = second.body["duplicates"]
    assert (match["entity"], match["id"]) == ("lead", first.lead_id)
    assert "mobile" in match["on"] and match["score"] >= 0.9
    assert DuplicateFlag.objects.filter(object_id=second.lead_id, candidate_id=first.lead_id)


def test_a_duplicate_lead_is_still_created_under_a_block_policy(web, now):
    policy = policy_for("lead")
    policy.policy = Policy.BLOCK
    policy.save()
    intake_lead(channel=web, payload=FORM, now=now)
    second = intake_lead(channel=web, payload=FORM, now=now)
    assert second.status == 201 and Lead.objects.count() == 2
    assert second.body["duplicates"]


def test_unique_rule_clash_keeps_the_lead_and_says_why(web, now, people):
    from jiepai.dedup.services import set_unique_rule

    intake_lead(channel=web, payload=FORM, now=now)
    set_unique_rule(entity="lead", kind="mobile", active=True, actor=people.admin)
    second = intake_lead(channel=web, payload=FORM, now=now)
    assert second.status == 201 and Lead.objects.count() == 2
    assert second.body["field_errors"]["duplicate"]


def test_contact_with_same_phone_links_the_lead_to_contact_and_account(web, now, people):
    from jiepai.customers.services import create_account, create_contact

    account = create_account(actor=people.rep, values={"name": "宁波恒锐智能装备有限公司"})
    contact = create_contact(
        actor=people.rep, values={"name": "王磊", "mobile": "13800138000", "account": account}
    )
    lead = _lead(intake_lead(channel=web, payload=FORM, now=now))
    assert (lead.contact_id, lead.account_id) == (contact.pk, account.pk)
    assert Contact.objects.count() == 1


def test_repeated_idempotency_key_answers_first_answer_without_second_lead(web, now):
    first = intake_lead(channel=web, payload=FORM, idempotency_key="k-1", now=now)
    again = intake_lead(channel=web, payload=FORM, idempotency_key="k-1", now=now)
    assert again.replayed and again.body == first.body and again.status == first.status
    assert Lead.objects.count() == 1
    assert IdempotencyKey.objects.get().lead_id == first.lead_id


def test_same_idempotency_key_on_another_channel_is_independent(web, expo, now):
    intake_lead(channel=web, payload=FORM, idempotency_key="k-1", now=now)
    intake_lead(channel=expo, payload=FORM, idempotency_key="k-1", now=now)
    assert Lead.objects.count() == 2


def test_idempotency_key_reused_for_another_payload_is_refused(web, now):
    intake_lead(channel=web, payload=FORM, idempotency_key="k-1", now=now)
    with pytest.raises(IdempotencyMismatch):
        intake_lead(channel=web, payload={**FORM, "姓名": "李娜"}, idempotency_key="k-1", now=now)
    assert Lead.objects.count() == 1


def test_rejected_payload_does_not_burn_its_idempotency_key(web, now):
    with pytest.raises(IntakeRejected):
        intake_lead(channel=web, payload={"x": 1}, idempotency_key="k-1", now=now)
    assert not IdempotencyKey.objects.exists()


def test_overlong_idempotency_key_is_rejected(web, now):
    with pytest.raises(IntakeRejected) as caught:
        intake_lead(channel=web, payload=FORM, idempotency_key="k" * 256, now=now)
    assert caught.value.reason == "bad_header"


def test_lead_score_follows_channel_weight(web, expo, now):
    from_web = _lead(intake_lead(channel=web, payload=FORM, now=now))
    from_expo = _lead(intake_lead(channel=expo, payload=FORM, now=now))
    assert from_expo.score == pytest.approx(from_web.score * 0.8, abs=0.1)
    assert from_web.score > 0


def test_completing_an_incomplete_lead_routes_it(web, now, people):
    lead = _lead(intake_lead(channel=web, payload={"姓名": "王磊", "电话": "13800138000"}, now=now))
    completed = complete_lead(
        lead=lead,
        actor=people.marketing,
        values={"company": "恒锐装备", "title": "采购经理"},
        now=now,
    )
    assert completed.state == LeadState.UNASSIGNED
    assert completed.missing_fields == []
    assert Event.objects.filter(subject_id=lead.pk, verb="lead.completed").exists()


def test_completing_with_fields_still_missing_is_refused_and_changes_nothing(web, now, people):
    lead = _lead(intake_lead(channel=web, payload={"姓名": "王磊", "电话": "13800138000"}, now=now))
    with pytest.raises(ValidationError) as caught:
        complete_lead(lead=lead, actor=people.marketing, values={"company": "恒锐"}, now=now)
    assert "title" in caught.value.message_dict
    lead.refresh_from_db()
    assert lead.state == LeadState.INCOMPLETE and lead.company == ""


def test_saving_an_incomplete_lead_without_routing_updates_what_is_missing(web, now, people):
    lead = _lead(intake_lead(channel=web, payload={"姓名": "王磊", "电话": "13800138000"}, now=now))
    saved = complete_lead(
        lead=lead, actor=people.marketing, values={"company": "恒锐"}, route=False, now=now
    )
    assert saved.state == LeadState.INCOMPLETE
    assert saved.missing_fields == ["title"]


def test_completing_normalises_the_phone(web, now, people):
    lead = _lead(intake_lead(channel=web, payload={**FORM, "手机号": "123"}, now=now))
    completed = complete_lead(
        lead=lead, actor=people.marketing, values={"mobile": "139 0000 1111"}, now=now
    )
    assert completed.mobile == "+8613900001111"
    assert "mobile" not in completed.field_errors


def test_completing_a_lead_not_in_the_pool_is_refused(web, now, people):
    lead = _lead(intake_lead(channel=web, payload=FORM, now=now))
    with pytest.raises(ValidationError):
        complete_lead(lead=lead, actor=people.marketing, values={}, now=now)


def test_people_edits_after_intake_go_through_update_lead(web, now, people):
    lead = _lead(intake_lead(channel=web, payload=FORM, now=now))
    update_lead(actor=people.marketing, lead=lead, values={"title": "总经理"}, now=now)
    assert Lead.objects.get(pk=lead.pk).title == "总经理"


def test_complete_lead_is_routed_to_an_online_rep(web, now, people):
    from jiepai.org.services import set_online_status
    from jiepai.routing.models import PolicyKind, RoutingPolicy, RoutingRule, default_weights

    for user in (people.rep, people.teammate):
        set_online_status(user=user, status="online", now=now)
    RoutingRule.objects.all().delete()
    RoutingPolicy.objects.update(is_default=False)
    policy, _ = RoutingPolicy.objects.update_or_create(
        key="round_robin",
        defaults={
            "name": "轮询",
            "kind": PolicyKind.ROUND_ROBIN,
            "is_default": True,
            "skip_offline": True,
            "weights": default_weights(),
        },
    )
    policy.departments.set([people.east])
    answer = intake_lead(channel=web, payload=FORM, now=now)
    assert answer.body["state"] == LeadState.ASSIGNED
    assert answer.body["owner"] in (people.rep.pk, people.teammate.pk)
    assert Event.objects.filter(subject_id=answer.lead_id, verb="lead.routed").exists()


def test_incomplete_lead_is_not_routed(web, now):
    answer = intake_lead(channel=web, payload={"姓名": "王磊"}, now=now)
    assert not Event.objects.filter(subject_id=answer.lead_id, verb="lead.routed").exists()
