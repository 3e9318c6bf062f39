"""Gate checks for each requirement type, through the service (move_opportunity)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from jiepai.activities.models import Activity, Task
from jiepai.customers.models import Contact
from jiepai.customers.services import create_contact
from jiepai.customfields.models import FieldDefinition
from jiepai.files.models import Attachment
from jiepai.pipeline.models import GateRequirement, Stage
from jiepai.pipeline.stages import (
    ActivityAnswer,
    ContactAnswer,
    GateAnswers,
    GateBlocked,
    NextActionAnswer,
    move_opportunity,
    preview_move,
)
from jiepai.pipeline.tests.conftest import upload


def _labels(exc: GateBlocked) -> list[str]:
    return [m.label for m in exc.missing]


def _requirement(stage: Stage, label: str, kind: str | None = None) -> GateRequirement:
    rows = GateRequirement.objects.filter(stage=stage, label=label)
    if kind:
        rows = rows.filter(kind=kind)
    return rows.get()


def _to_demo(deal, stages, actor, now) -> None:
    """需求确认 → 方案演示 with a quote file and a booked review."""
    demo = stages["方案演示"]
    move_opportunity(
        opportunity=deal.opportunity,
        to_stage=demo,
        actor=actor,
        answers=GateAnswers(
            files={_requirement(demo, "报价单已发送", "attachment").pk: upload()},
            next_actions={
                _requirement(demo, "复盘时间已约").pk: NextActionAnswer(
                    title="方案复盘会", due_at=now + datetime.timedelta(days=2)
                )
            },
        ),
        now=now,
    )


def _to_quote_feedback(deal, stages, actor, now) -> None:
    _to_demo(deal, stages, actor, now)
    move_opportunity(
        opportunity=deal.opportunity, to_stage=stages["报价反馈"], actor=actor, now=now
    )


def test_first_stage_of_a_new_deal_is_needs_confirmation(deal):
    assert deal.opportunity.stage.name == "需求确认"


def test_demo_gate_names_quote_and_review_when_nothing_is_done(deal, stages, people, now):
    with pytest.raises(GateBlocked) as blocked:
        move_opportunity(
            opportunity=deal.opportunity, to_stage=stages["方案演示"], actor=people.rep, now=now
        )
    assert _labels(blocked.value) == ["报价单已发送", "复盘时间已约"]
    deal.opportunity.refresh_from_db()
    assert deal.opportunity.stage.name == "需求确认"


def test_quote_file_and_future_task_open_the_demo_gate(deal, stages, people, now):
    _to_demo(deal, stages, people.rep, now)
    deal.opportunity.refresh_from_db()
    assert deal.opportunity.stage.name == "方案演示"
    attachment = Attachment.objects.get(entity="opportunity", object_id=deal.opportunity.pk)
    assert attachment.kind == "quote" and attachment.uploaded_by == people.rep
    assert Task.objects.get(opportunity=deal.opportunity).title == "方案复盘会"


def test_follow_up_concluding_quote_sent_is_an_alternative_to_the_quote_file(
    deal, stages, people, now
):
    demo = stages["方案演示"]
    Activity.objects.create(
        kind="email",
        owner=people.rep,
        occurred_at=now,
        opportunity=deal.opportunity,
        account=deal.account,
        conclusion="已发送报价",
        next_action="复盘",
        next_action_due=now + datetime.timedelta(days=1),
    )
    assert preview_move(opportunity=deal.opportunity, to_stage=demo, now=now) == []
    move_opportunity(opportunity=deal.opportunity, to_stage=demo, actor=people.rep, now=now)
    assert deal.opportunity.stage == demo


def test_follow_up_with_another_conclusion_does_not_count_as_quote_sent(deal, stages, people, now):
    Activity.objects.create(
        kind="call",
        owner=people.rep,
        occurred_at=now,
        opportunity=deal.opportunity,
        conclusion="要求案例",
    )
    missing = preview_move(opportunity=deal.opportunity, to_stage=stages["方案演示"], now=now)
    assert "报价单已发送" in [m.label for m in missing]


def test_next_action_due_in_the_past_does_not_count_as_booked(deal, stages, people, now):
    Task.objects.create(
        title="复盘",
        owner=people.rep,
        opportunity=deal.opportunity,
        due_at=now - datetime.timedelta(hours=1),
    )
    missing = preview_move(opportunity=deal.opportunity, to_stage=stages["方案演示"], now=now)
    assert "复盘时间已约" in [m.label for m in missing]


def test_done_task_does_not_count_as_booked(deal, stages, people, now):
    Task.objects.create(
        title="复盘",
        owner=people.rep,
        opportunity=deal.opportunity,
        due_at=now + datetime.timedelta(days=1),
        done_at=now,
    )
    missing = preview_move(opportunity=deal.opportunity, to_stage=stages["方案演示"], now=now)
    assert "复盘时间已约" in [m.label for m in missing]


def test_booking_a_next_action_in_the_past_is_refused_with_a_message(deal, stages, people, now):
    demo = stages["方案演示"]
    with pytest.raises(GateBlocked) as blocked:
        move_opportunity(
            opportunity=deal.opportunity,
            to_stage=demo,
            actor=people.rep,
            answers=GateAnswers(
                next_actions={
                    _requirement(demo, "复盘时间已约").pk: NextActionAnswer(
                        title="复盘", due_at=now - datetime.timedelta(days=1)
                    )
                }
            ),
            now=now,
        )
    key = f"requirement.{_requirement(demo, '复盘时间已约').pk}"
    assert "已经过去" in blocked.value.errors[key][0]


def test_negotiation_gate_needs_contract_draft_budget_and_decision_maker(deal, stages, people, now):
    _to_quote_feedback(deal, stages, people.rep, now)
    with pytest.raises(GateBlocked) as blocked:
        move_opportunity(
            opportunity=deal.opportunity, to_stage=stages["商务谈判"], actor=people.rep, now=now
        )
    assert _labels(blocked.value) == ["合同草案", "预算范围", "决策链角色"]


def test_completing_negotiation_gate_inline_moves_in_one_call(deal, stages, people, now):
    _to_quote_feedback(deal, stages, people.rep, now)
    talks = stages["商务谈判"]
    move_opportunity(
        opportunity=deal.opportunity,
        to_stage=talks,
        actor=people.rep,
        values={"custom.budget_range": "10-50万"},
        answers=GateAnswers(
            files={_requirement(talks, "合同草案").pk: upload("合同草案.docx", b"draft")},
            contacts={_requirement(talks, "决策链角色").pk: ContactAnswer(name="王院长")},
        ),
        now=now,
    )
    deal.opportunity.refresh_from_db()
    assert deal.opportunity.stage == talks
    assert deal.opportunity.custom["budget_range"] == "10w_50w"
    assert Contact.objects.get(account=deal.account, name="王院长").role == "decision_maker"


def test_marking_an_existing_contact_satisfies_the_decision_chain_role(deal, stages, people, now):
    contact = create_contact(
        actor=people.rep, values={"name": "张主任", "account": deal.account, "role": "user"}
    )
    talks = stages["商务谈判"]
    requirement = _requirement(talks, "决策链角色")
    with pytest.raises(GateBlocked) as blocked:
        move_opportunity(
            opportunity=deal.opportunity,
            to_stage=talks,
            actor=people.rep,
            answers=GateAnswers(contacts={requirement.pk: ContactAnswer(contact_id=contact.pk)}),
            now=now,
        )
    assert "决策链角色" not in _labels(blocked.value)
    contact.refresh_from_db()
    assert contact.role == "decision_maker"


def test_contact_of_another_account_cannot_answer_the_role(deal, stages, people, now):
    from jiepai.customers.services import create_account

    other = create_account(actor=people.rep, values={"name": "华山医院"})
    stranger = create_contact(actor=people.rep, values={"name": "钱科长", "account": other})
    requirement = _requirement(stages["商务谈判"], "决策链角色")
    with pytest.raises(GateBlocked) as blocked:
        move_opportunity(
            opportunity=deal.opportunity,
            to_stage=stages["商务谈判"],
            actor=people.rep,
            answers=GateAnswers(contacts={requirement.pk: ContactAnswer(contact_id=stranger.pk)}),
            now=now,
        )
    assert blocked.value.errors[f"requirement.{requirement.pk}"]
    stranger.refresh_from_db()
    assert stranger.role == ""


def test_skipping_stages_checks_the_gates_skipped_over(deal, stages, people, now):
    with pytest.raises(GateBlocked) as blocked:
        move_opportunity(
            opportunity=deal.opportunity, to_stage=stages["商务谈判"], actor=people.rep, now=now
        )
    assert _labels(blocked.value) == [
        "报价单已发送",
        "复盘时间已约",
        "合同草案",
        "预算范围",
        "决策链角色",
    ]


def test_skipping_checks_only_the_target_when_gates_are_not_cumulative(deal, stages, people, now):
    pipeline = stages["商务谈判"].pipeline
    pipeline.gates_cumulative = False
    pipeline.save()
    missing = preview_move(opportunity=deal.opportunity, to_stage=stages["商务谈判"], now=now)
    assert [m.label for m in missing] == ["合同草案", "预算范围", "决策链角色"]


def test_lost_needs_only_a_loss_reason(deal, stages, people, now):
    lost = stages["输单"]
    with pytest.raises(GateBlocked) as blocked:
        move_opportunity(opportunity=deal.opportunity, to_stage=lost, actor=people.rep, now=now)
    assert _labels(blocked.value) == ["输单原因"]
    move_opportunity(
        opportunity=deal.opportunity,
        to_stage=lost,
        actor=people.rep,
        values={"loss_reason": "预算被砍"},
        now=now,
    )
    deal.opportunity.refresh_from_db()
    assert deal.opportunity.stage == lost
    assert deal.opportunity.loss_reason == "预算被砍"
    assert deal.opportunity.closed_at == now


def test_blank_loss_reason_does_not_open_the_gate(deal, stages, people, now):
    with pytest.raises(GateBlocked):
        move_opportunity(
            opportunity=deal.opportunity,
            to_stage=stages["输单"],
            actor=people.rep,
            values={"loss_reason": "   "},
            now=now,
        )


def test_amount_range_requirement_checks_both_bounds(deal, stages, people, now):
    feedback = stages["报价反馈"]
    GateRequirement.objects.create(
        stage=feedback,
        label="金额在审批范围内",
        kind="range",
        field_name="amount",
        min_value=Decimal("10000"),
        max_value=Decimal("500000"),
    )
    _to_demo(deal, stages, people.rep, now)
    with pytest.raises(GateBlocked) as blocked:
        move_opportunity(
            opportunity=deal.opportunity,
            to_stage=feedback,
            actor=people.rep,
            values={"amount": "80万"},
            now=now,
        )
    assert _labels(blocked.value) == ["金额在审批范围内"]
    move_opportunity(
        opportunity=deal.opportunity,
        to_stage=feedback,
        actor=people.rep,
        values={"amount": "45万"},
        now=now,
    )
    deal.opportunity.refresh_from_db()
    assert deal.opportunity.amount == Decimal("450000")
    assert deal.opportunity.stage == feedback


def test_bad_amount_answer_is_an_error_on_the_field(deal, stages, people, now):
    feedback = stages["报价反馈"]
    GateRequirement.objects.create(
        stage=feedback, label="金额", kind="range", field_name="amount", min_value=1
    )
    _to_demo(deal, stages, people.rep, now)
    with pytest.raises(GateBlocked) as blocked:
        move_opportunity(
            opportunity=deal.opportunity,
            to_stage=feedback,
            actor=people.rep,
            values={"amount": "很多"},
            now=now,
        )
    assert "amount" in blocked.value.errors


def test_field_requirement_on_a_builtin_date(deal, stages, people, now):
    feedback = stages["报价反馈"]
    GateRequirement.objects.create(
        stage=feedback, label="预计成交日期", kind="field", field_name="expected_close_date"
    )
    _to_demo(deal, stages, people.rep, now)
    move_opportunity(
        opportunity=deal.opportunity,
        to_stage=feedback,
        actor=people.rep,
        values={"expected_close_date": "2026年4月30日"},
        now=now,
    )
    deal.opportunity.refresh_from_db()
    assert deal.opportunity.expected_close_date == datetime.date(2026, 4, 30)


def test_activity_requirement_of_a_kind_is_completed_by_a_mini_follow_up(deal, stages, people, now):
    feedback = stages["报价反馈"]
    requirement = GateRequirement.objects.create(
        stage=feedback, label="已上门演示", kind="activity", activity_kind="visit"
    )
    _to_demo(deal, stages, people.rep, now)
    Activity.objects.create(
        kind="call", owner=people.rep, occurred_at=now, opportunity=deal.opportunity
    )
    assert [
        m.label for m in preview_move(opportunity=deal.opportunity, to_stage=feedback, now=now)
    ] == ["已上门演示"]
    move_opportunity(
        opportunity=deal.opportunity,
        to_stage=feedback,
        actor=people.rep,
        answers=GateAnswers(
            activities={requirement.pk: ActivityAnswer(summary="带样机到科室演示")}
        ),
        now=now,
    )
    visit = Activity.objects.get(opportunity=deal.opportunity, kind="visit")
    assert visit.summary == "带样机到科室演示" and visit.owner == people.rep


def test_condition_requirement_is_evaluated_on_the_deal(deal, stages, people, now):
    feedback = stages["报价反馈"]
    GateRequirement.objects.create(
        stage=feedback,
        label="大单需要预算",
        kind="condition",
        expression="amount < 1000000 or custom['budget_range'] != ''",
    )
    _to_demo(deal, stages, people.rep, now)
    deal.opportunity.amount = Decimal("2000000")
    deal.opportunity.save()
    assert [
        m.label for m in preview_move(opportunity=deal.opportunity, to_stage=feedback, now=now)
    ] == ["大单需要预算"]
    deal.opportunity.custom = {"budget_range": "gt_500w"}
    deal.opportunity.save()
    assert preview_move(opportunity=deal.opportunity, to_stage=feedback, now=now) == []


def test_condition_with_unknown_name_is_refused_when_saved(stages):
    requirement = GateRequirement(
        stage=stages["报价反馈"], label="x", kind="condition", expression="secret > 1"
    )
    with pytest.raises(ValidationError) as invalid:
        requirement.full_clean()
    assert "expression" in invalid.value.message_dict


def test_condition_cannot_call_into_python(stages):
    requirement = GateRequirement(
        stage=stages["报价反馈"],
        label="x",
        kind="condition",
        expression="__import__('os').system('true')",
    )
    with pytest.raises(ValidationError):
        requirement.full_clean()


def test_field_requirement_on_unknown_field_is_refused_when_saved(stages):
    requirement = GateRequirement(
        stage=stages["报价反馈"], label="x", kind="field", field_name="custom.nope"
    )
    with pytest.raises(ValidationError) as invalid:
        requirement.full_clean()
    assert "field_name" in invalid.value.message_dict


def test_range_on_a_text_field_is_refused_when_saved(stages):
    FieldDefinition.objects.create(
        entity="opportunity", key="competitor", label="竞品", field_type="text"
    )
    requirement = GateRequirement(
        stage=stages["报价反馈"],
        label="x",
        kind="range",
        field_name="custom.competitor",
        min_value=1,
    )
    with pytest.raises(ValidationError):
        requirement.full_clean()


def test_database_refuses_an_attachment_requirement_without_a_kind(stages):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        GateRequirement.objects.create(stage=stages["报价反馈"], label="x", kind="attachment")


def test_expired_file_does_not_count(deal, stages, people, now):
    talks = stages["商务谈判"]
    Attachment.objects.create(
        entity="opportunity",
        object_id=deal.opportunity.pk,
        kind="contract_draft",
        file="attachments/x.pdf",
        original_name="x.pdf",
        expires_on=datetime.date(2026, 1, 1),
    )
    assert "合同草案" in [
        m.label for m in preview_move(opportunity=deal.opportunity, to_stage=talks, now=now)
    ]


def test_inactive_requirement_is_not_checked(deal, stages, people, now):
    GateRequirement.objects.filter(stage=stages["输单"]).update(active=False)
    move_opportunity(
        opportunity=deal.opportunity, to_stage=stages["输单"], actor=people.rep, now=now
    )
    assert deal.opportunity.stage.name == "输单"


def test_booked_next_action_is_a_follow_up_with_a_task(deal, stages, people, now):
    _to_demo(deal, stages, people.rep, now)
    task = Task.objects.get(opportunity=deal.opportunity)
    assert task.activity is not None and task.activity.source == "gate"
    assert task.due_at == now + datetime.timedelta(days=2)


def test_quote_sent_is_a_conclusion_of_the_follow_up_form(db):
    from jiepai.activities.models import ConclusionChoice

    assert ConclusionChoice.objects.filter(label="已发送报价", active=True).exists()


def test_activity_gate_with_an_unknown_conclusion_is_refused_when_saved(stages):
    requirement = GateRequirement(
        stage=stages["报价反馈"], label="x", kind="activity", activity_conclusion="随便写的"
    )
    with pytest.raises(ValidationError) as invalid:
        requirement.full_clean()
    assert "activity_conclusion" in invalid.value.message_dict
