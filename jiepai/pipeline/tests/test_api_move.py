"""POST /api/v1/opportunities/{id}/move: a gate can never be bypassed through the API."""

from __future__ import annotations

import base64
import datetime
import json

import pytest
from django.test import Client
from django.utils import timezone

from jiepai.api.services import create_api_token
from jiepai.customers.models import Contact
from jiepai.events.models import Event
from jiepai.files.models import Attachment
from jiepai.pipeline.models import GateRequirement


class Api:
    def __init__(self, user):
        _, token = create_api_token(user=user, name="tests")
        self.client = Client(headers={"Authorization": f"Bearer {token}"})

    def move(self, deal, body):
        return self.client.post(
            f"/api/v1/opportunities/{deal.pk}/move",
            body if isinstance(body, str) else json.dumps(body),
            content_type="application/json",
        )


def _req(stage, label, kind=None):
    rows = GateRequirement.objects.filter(stage=stage, label=label)
    return (rows.filter(kind=kind) if kind else rows).get()


def _stage_of(deal):
    deal.refresh_from_db()
    return deal.stage.name


def test_api_move_without_the_gate_is_refused_with_what_is_missing(deal, people, stages):
    response = Api(people.rep).move(deal.opportunity, {"stage": stages["方案演示"].pk})
    assert response.status_code == 409
    body = response.json()
    assert [m["label"] for m in body["missing"]] == ["报价单已发送", "复盘时间已约"]
    quote = body["missing"][0]["any_of"]
    assert {o["kind"] for o in quote} == {"attachment", "activity"}
    assert _stage_of(deal.opportunity) == "需求确认"
    assert not Event.objects.filter(verb="opportunity.stage_changed").exists()


def test_api_cannot_skip_to_won(deal, people, stages):
    response = Api(people.rep).move(deal.opportunity, {"stage": stages["赢单"].pk})
    assert response.status_code == 409
    assert "合同草案" in [m["label"] for m in response.json()["missing"]]
    assert _stage_of(deal.opportunity) == "需求确认"


def test_api_stage_field_in_patch_does_not_move_the_deal(deal, people, stages):
    _, token = create_api_token(user=people.rep, name="t")
    client = Client(headers={"Authorization": f"Bearer {token}"})
    response = client.patch(
        f"/api/v1/opportunities/{deal.opportunity.pk}",
        json.dumps({"stage": stages["赢单"].pk}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert _stage_of(deal.opportunity) == "需求确认"


def test_api_completes_the_gate_and_moves_in_one_call(deal, people, stages):
    demo = stages["方案演示"]
    due = (timezone.now() + datetime.timedelta(days=2)).isoformat()
    response = Api(people.rep).move(
        deal.opportunity,
        {
            "stage": demo.pk,
            "files": {
                str(_req(demo, "报价单已发送", "attachment").pk): {
                    "name": "报价单.pdf",
                    "content_base64": base64.b64encode(b"%PDF quote").decode(),
                }
            },
            "next_actions": {
                str(_req(demo, "复盘时间已约").pk): {"title": "方案复盘会", "due_at": due}
            },
        },
    )
    assert response.status_code == 200, response.content
    assert response.json()["stage_name"] == "方案演示"
    assert Attachment.objects.get(object_id=deal.opportunity.pk).kind == "quote"


def test_api_follow_up_answer_counts_for_quote_sent(deal, people, stages):
    demo = stages["方案演示"]
    due = (timezone.now() + datetime.timedelta(days=1)).isoformat()
    response = Api(people.rep).move(
        deal.opportunity,
        {
            "stage": demo.pk,
            "activities": {
                str(_req(demo, "报价单已发送", "activity").pk): {"summary": "邮件发出报价单"}
            },
            "next_actions": {str(_req(demo, "复盘时间已约").pk): {"title": "复盘", "due_at": due}},
        },
    )
    assert response.status_code == 200, response.content


def test_api_contact_role_and_custom_value(deal, people, stages):
    talks = stages["商务谈判"]
    talks.pipeline.gates_cumulative = False
    talks.pipeline.save()
    response = Api(people.rep).move(
        deal.opportunity,
        {
            "stage": talks.pk,
            "values": {"custom.budget_range": "100-500万"},
            "contacts": {str(_req(talks, "决策链角色").pk): {"name": "陈院长"}},
        },
    )
    assert response.status_code == 409
    assert [m["label"] for m in response.json()["missing"]] == ["合同草案"]
    assert response.json()["saved"] == ["预算范围", "决策链角色"]
    assert Contact.objects.get(name="陈院长").role == "decision_maker"


def test_api_lost_with_reason(deal, people, stages):
    response = Api(people.rep).move(
        deal.opportunity, {"stage": stages["输单"].pk, "values": {"loss_reason": "竞品低价"}}
    )
    assert response.status_code == 200
    assert response.json()["loss_reason"] == "竞品低价"


def test_api_bad_answer_is_400_with_field_errors(deal, people, stages):
    response = Api(people.rep).move(
        deal.opportunity,
        {"stage": stages["商务谈判"].pk, "values": {"custom.budget_range": "一个亿"}},
    )
    assert response.status_code == 400
    assert "values.custom.budget_range" in response.json()["errors"]


def test_api_bad_base64_is_400(deal, people, stages):
    demo = stages["方案演示"]
    key = str(_req(demo, "报价单已发送", "attachment").pk)
    response = Api(people.rep).move(
        deal.opportunity,
        {"stage": demo.pk, "files": {key: {"name": "a.pdf", "content_base64": "%%%"}}},
    )
    assert response.status_code == 400
    assert f"files.{key}" in response.json()["errors"]


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        {},
        {"stage": "abc"},
        {"stage": -1},
        {"stage": 2**70},
        {"stage": 1, "surprise": True},
        {"stage": 1, "contacts": {"x": {"name": "a"}}},
        {"stage": 1, "next_actions": {"1": {"title": "a", "due_at": "明天"}}},
    ],
)
def test_api_move_bad_input_is_400_never_500(deal, people, stages, body):
    if isinstance(body, dict) and body.get("stage") == 1:
        body = {**body, "stage": stages["方案演示"].pk}
    response = Api(people.rep).move(deal.opportunity, body)
    assert response.status_code == 400
    assert "detail" in response.json()


def test_api_unknown_stage_is_400(deal, people):
    response = Api(people.rep).move(deal.opportunity, {"stage": 999999})
    assert response.status_code == 400
    assert "stage" in response.json()["errors"]


def test_api_rep_cannot_reopen_closed_deal(deal, people, stages):
    api = Api(people.rep)
    api.move(deal.opportunity, {"stage": stages["输单"].pk, "values": {"loss_reason": "x"}})
    response = api.move(deal.opportunity, {"stage": stages["需求确认"].pk})
    assert response.status_code == 409
    assert "主管" in response.json()["detail"]


def test_api_outsider_gets_404(deal, people, stages):
    response = Api(people.outsider).move(
        deal.opportunity, {"stage": stages["输单"].pk, "values": {"loss_reason": "x"}}
    )
    assert response.status_code == 404
    assert _stage_of(deal.opportunity) == "需求确认"


def test_api_requires_authentication(deal, stages):
    response = Client().post(
        f"/api/v1/opportunities/{deal.opportunity.pk}/move",
        json.dumps({"stage": stages["输单"].pk}),
        content_type="application/json",
    )
    assert response.status_code == 401


def _only_gate(stage, **fields):
    GateRequirement.objects.update(active=False)
    return GateRequirement.objects.create(stage=stage, label="门槛", **fields)


def test_api_range_requirement(deal, people, stages):
    _only_gate(stages["方案演示"], kind="range", field_name="amount", max_value=100000)
    api = Api(people.rep)
    blocked = api.move(deal.opportunity, {"stage": stages["方案演示"].pk})
    assert blocked.status_code == 409
    assert blocked.json()["missing"][0]["any_of"][0]["field"] == "amount"
    moved = api.move(
        deal.opportunity, {"stage": stages["方案演示"].pk, "values": {"amount": "8万"}}
    )
    assert moved.status_code == 200 and moved.json()["amount"] == "80000.00"


def test_api_condition_requirement_cannot_be_bypassed(deal, people, stages):
    _only_gate(stages["方案演示"], kind="condition", expression="tier == 'A'")
    response = Api(people.rep).move(deal.opportunity, {"stage": stages["方案演示"].pk})
    assert response.status_code == 409
    assert response.json()["missing"][0]["any_of"][0]["kind"] == "condition"
    assert _stage_of(deal.opportunity) == "需求确认"
