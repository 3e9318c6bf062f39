"""Stage moves: allowed next stages, the event trace, and answers kept when still blocked."""

from __future__ import annotations

import datetime

import pytest

from jiepai.events.models import Event
from jiepai.files.models import Attachment
from jiepai.pipeline.models import GateRequirement, Pipeline, Stage
from jiepai.pipeline.stages import (
    GateAnswers,
    GateBlocked,
    StageMoveError,
    allowed_targets,
    move_opportunity,
)
from jiepai.pipeline.tests.conftest import upload


def _lose(deal, stages, actor, now):
    move_opportunity(
        opportunity=deal.opportunity,
        to_stage=stages["输单"],
        actor=actor,
        values={"loss_reason": "价格"},
        now=now,
    )


def test_move_writes_stage_changed_event_with_before_and_after(deal, stages, people, now):
    later = now + datetime.timedelta(hours=30)
    _lose(deal, stages, people.rep, later)
    event = Event.objects.get(verb="opportunity.stage_changed")
    assert event.subject_id == deal.opportunity.pk and event.actor == people.rep
    assert event.before["stage"] == stages["需求确认"].pk
    assert event.after["stage"] == stages["输单"].pk
    assert event.data["from_stage"] == "需求确认" and event.data["to_stage"] == "输单"
    assert event.data["dwell_hours"] == 30
    assert event.data["owner"] == people.rep.pk


def test_move_sets_stage_entered_and_closed_times(deal, stages, people, now):
    _lose(deal, stages, people.rep, now)
    deal.opportunity.refresh_from_db()
    assert deal.opportunity.stage_entered_at == now
    assert deal.opportunity.closed_at == now
    assert deal.opportunity.stall_due_at is None


def test_moving_back_between_open_stages_needs_no_gate(deal, stages, people, now):
    GateRequirement.objects.filter(stage=stages["方案演示"]).update(active=False)
    move_opportunity(
        opportunity=deal.opportunity, to_stage=stages["方案演示"], actor=people.rep, now=now
    )
    GateRequirement.objects.filter(stage=stages["方案演示"]).update(active=True)
    GateRequirement.objects.create(
        stage=stages["需求确认"], label="行业", kind="field", field_name="description"
    )
    move_opportunity(
        opportunity=deal.opportunity, to_stage=stages["需求确认"], actor=people.rep, now=now
    )
    assert deal.opportunity.stage.name == "需求确认"
    assert deal.opportunity.closed_at is None


def test_moving_to_the_current_stage_is_refused(deal, stages, people, now):
    with pytest.raises(StageMoveError):
        move_opportunity(
            opportunity=deal.opportunity, to_stage=stages["需求确认"], actor=people.rep, now=now
        )


def test_stage_of_another_pipeline_is_refused(deal, people, now):
    other = Pipeline.objects.create(name="渠道分销")
    stage = Stage.objects.create(pipeline=other, name="签约", position=1)
    with pytest.raises(StageMoveError):
        move_opportunity(opportunity=deal.opportunity, to_stage=stage, actor=people.rep, now=now)


def test_rep_cannot_reopen_a_closed_deal(deal, stages, people, now):
    _lose(deal, stages, people.rep, now)
    assert allowed_targets(deal.opportunity, people.rep) == []
    with pytest.raises(StageMoveError):
        move_opportunity(
            opportunity=deal.opportunity, to_stage=stages["需求确认"], actor=people.rep, now=now
        )


def test_manager_reopens_a_lost_deal_but_not_past_ungated_stages(deal, stages, people, now):
    _lose(deal, stages, people.rep, now)
    with pytest.raises(GateBlocked) as blocked:
        move_opportunity(
            opportunity=deal.opportunity, to_stage=stages["报价反馈"], actor=people.manager, now=now
        )
    assert [m.label for m in blocked.value.missing] == ["报价单已发送", "复盘时间已约"]
    move_opportunity(
        opportunity=deal.opportunity, to_stage=stages["需求确认"], actor=people.manager, now=now
    )
    deal.opportunity.refresh_from_db()
    assert deal.opportunity.closed_at is None
    assert deal.opportunity.stall_due_at == now + datetime.timedelta(hours=72)


def test_lost_to_won_is_not_a_shortcut_past_the_gates(deal, stages, people, now):
    _lose(deal, stages, people.rep, now)
    with pytest.raises(GateBlocked) as blocked:
        move_opportunity(
            opportunity=deal.opportunity, to_stage=stages["赢单"], actor=people.director, now=now
        )
    assert "合同草案" in [m.label for m in blocked.value.missing]


def test_valid_answers_are_kept_when_the_gate_is_still_blocked(deal, stages, people, now):
    demo = stages["方案演示"]
    quote = GateRequirement.objects.get(stage=demo, kind="attachment")
    with pytest.raises(GateBlocked) as blocked:
        move_opportunity(
            opportunity=deal.opportunity,
            to_stage=demo,
            actor=people.rep,
            answers=GateAnswers(files={quote.pk: upload()}),
            now=now,
        )
    assert [m.label for m in blocked.value.missing] == ["复盘时间已约"]
    assert blocked.value.saved == ["报价单已发送"]
    assert Attachment.objects.filter(object_id=deal.opportunity.pk, kind="quote").exists()
    assert not Event.objects.filter(verb="opportunity.stage_changed").exists()


def test_an_answer_for_a_field_outside_the_gate_is_refused(deal, stages, people, now):
    with pytest.raises(GateBlocked) as blocked:
        move_opportunity(
            opportunity=deal.opportunity,
            to_stage=stages["输单"],
            actor=people.rep,
            values={"loss_reason": "价格", "name": "改名"},
            now=now,
        )
    assert "name" in blocked.value.errors
    deal.opportunity.refresh_from_db()
    assert deal.opportunity.name == "影像设备采购"


def test_an_answer_for_a_requirement_of_another_stage_is_refused(deal, stages, people, now):
    draft = GateRequirement.objects.get(stage=stages["商务谈判"], kind="attachment")
    with pytest.raises(GateBlocked) as blocked:
        move_opportunity(
            opportunity=deal.opportunity,
            to_stage=stages["输单"],
            actor=people.rep,
            values={"loss_reason": "价格"},
            answers=GateAnswers(files={draft.pk: upload()}),
            now=now,
        )
    assert f"requirement.{draft.pk}" in blocked.value.errors
    assert not Attachment.objects.exists()


def test_empty_file_is_refused(deal, stages, people, now):
    quote = GateRequirement.objects.get(stage=stages["方案演示"], kind="attachment")
    with pytest.raises(GateBlocked) as blocked:
        move_opportunity(
            opportunity=deal.opportunity,
            to_stage=stages["方案演示"],
            actor=people.rep,
            answers=GateAnswers(files={quote.pk: upload(content=b"")}),
            now=now,
        )
    assert blocked.value.errors[f"requirement.{quote.pk}"] == ["文件是空的"]
