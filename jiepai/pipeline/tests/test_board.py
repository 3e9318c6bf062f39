"""The board, the move page/dialog and the follow-up link, through the test client."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from jiepai.conftest import PASSWORD
from jiepai.customers.models import Contact
from jiepai.customers.services import create_account
from jiepai.events.models import Event
from jiepai.files.models import Attachment
from jiepai.pipeline.models import GateRequirement, Opportunity
from jiepai.pipeline.services import create_opportunity
from jiepai.pipeline.tests.conftest import upload


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _req(stage, label, kind=None):
    rows = GateRequirement.objects.filter(stage=stage, label=label)
    return (rows.filter(kind=kind) if kind else rows).get()


@pytest.fixture
def live_deal(people):
    """A deal created at the real current time (the pages use timezone.now())."""
    account = create_account(actor=people.rep, values={"name": "杭州云栖科技"})
    return create_opportunity(
        actor=people.rep,
        values={"name": "私有云扩容", "account": account, "amount": Decimal("200000")},
    )


def test_board_shows_columns_with_weighted_amounts(client, people, live_deal, stages):
    response = _login(client, people.rep).get(reverse("pipeline:board"))
    assert response.status_code == 200
    columns = {c.stage.name: c for c in response.context["columns"]}
    assert columns["需求确认"].count == 1
    assert columns["需求确认"].weighted == Decimal("20000.00")  # 200,000 × 10 %
    assert "私有云扩容" in response.content.decode()


def test_board_hides_deals_the_viewer_cannot_see(client, people, live_deal):
    response = _login(client, people.outsider).get(reverse("pipeline:board"))
    assert "私有云扩容" not in response.content.decode()
    assert response.context["totals"]["count"] == 0


def test_manager_sees_the_department_deals_on_the_board(client, people, live_deal):
    response = _login(client, people.manager).get(reverse("pipeline:board"))
    assert "私有云扩容" in response.content.decode()


def test_board_filters_by_owner(client, people, live_deal):
    account = create_account(actor=people.teammate, values={"name": "苏州精工"})
    create_opportunity(actor=people.teammate, values={"name": "产线改造", "account": account})
    page = _login(client, people.manager).get(
        reverse("pipeline:board"), {"owner": people.teammate.pk}
    )
    body = page.content.decode()
    assert "产线改造" in body and "私有云扩容" not in body


def test_board_filters_by_team(client, people, live_deal):
    from jiepai.org.models import Team

    team = Team.objects.create(name="医疗大客户组")
    team.members.add(people.teammate)
    account = create_account(actor=people.teammate, values={"name": "苏州精工"})
    create_opportunity(actor=people.teammate, values={"name": "产线改造", "account": account})
    page = _login(client, people.director).get(reverse("pipeline:board"), {"team": team.pk})
    body = page.content.decode()
    assert "产线改造" in body and "私有云扩容" not in body


def test_board_ignores_garbage_filters(client, people, live_deal):
    page = _login(client, people.rep).get(
        reverse("pipeline:board"), {"owner": "abc", "team": "9" * 40, "pipeline": "x"}
    )
    assert page.status_code == 200


def test_board_list_view(client, people, live_deal):
    page = _login(client, people.rep).get(reverse("pipeline:board"), {"view": "list"})
    assert page.status_code == 200
    assert 'data-testid="board-list"' in page.content.decode()


def test_move_page_lists_exactly_what_is_missing(client, people, live_deal, stages):
    page = _login(client, people.rep).get(
        reverse("pipeline:move", args=[live_deal.pk]), {"stage": stages["商务谈判"].pk}
    )
    body = page.content.decode()
    assert page.status_code == 200
    for label in ("报价单已发送", "复盘时间已约", "合同草案", "预算范围", "决策链角色"):
        assert label in body
    assert 'type="file"' in body and 'type="datetime-local"' in body


def test_move_page_completes_the_gate_and_moves(client, people, live_deal, stages):
    demo = stages["方案演示"]
    due = (timezone.localtime() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = _login(client, people.rep).post(
        reverse("pipeline:move", args=[live_deal.pk]),
        {
            "stage": demo.pk,
            f"req.{_req(demo, '报价单已发送', 'attachment').pk}.file": upload(),
            f"req.{_req(demo, '复盘时间已约').pk}.title": "方案复盘会",
            f"req.{_req(demo, '复盘时间已约').pk}.due": due,
        },
    )
    assert response.status_code == 302
    live_deal.refresh_from_db()
    assert live_deal.stage == demo


def test_move_page_reshows_what_is_still_missing_and_keeps_the_input(
    client, people, live_deal, stages
):
    demo = stages["方案演示"]
    review = _req(demo, "复盘时间已约")
    response = _login(client, people.rep).post(
        reverse("pipeline:move", args=[live_deal.pk]),
        {
            "stage": demo.pk,
            f"req.{_req(demo, '报价单已发送', 'attachment').pk}.file": upload(),
            f"req.{review.pk}.title": "方案复盘会",
            f"req.{review.pk}.due": "明天吧",
        },
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "不是有效的时间" in body
    assert 'value="方案复盘会"' in body
    live_deal.refresh_from_db()
    assert live_deal.stage.name == "需求确认"


def test_move_dialog_answers_200_for_htmx_and_refreshes_on_success(
    client, people, live_deal, stages
):
    _login(client, people.rep)
    url = reverse("pipeline:move", args=[live_deal.pk])
    blocked = client.post(url, {"stage": stages["输单"].pk}, HTTP_HX_REQUEST="true")
    assert blocked.status_code == 200
    assert "输单原因" in blocked.content.decode()
    moved = client.post(
        url,
        {"stage": stages["输单"].pk, "value.loss_reason": "预算取消"},
        HTTP_HX_REQUEST="true",
    )
    assert moved.status_code == 204 and moved["HX-Refresh"] == "true"
    live_deal.refresh_from_db()
    assert live_deal.loss_reason == "预算取消" and live_deal.stage.is_lost


def test_move_page_contact_role_and_budget_inline(client, people, live_deal, stages):
    talks = stages["商务谈判"]
    pipeline = talks.pipeline
    pipeline.gates_cumulative = False
    pipeline.save()
    _login(client, people.rep).post(
        reverse("pipeline:move", args=[live_deal.pk]),
        {
            "stage": talks.pk,
            f"req.{_req(talks, '合同草案').pk}.file": upload("合同草案.pdf"),
            "value.custom.budget_range": "50w_100w",
            f"req.{_req(talks, '决策链角色').pk}.name": "刘总",
        },
    )
    live_deal.refresh_from_db()
    assert live_deal.stage == talks
    assert Contact.objects.get(name="刘总").role == "decision_maker"
    assert Attachment.objects.get(object_id=live_deal.pk).kind == "contract_draft"


def test_move_to_unknown_stage_is_a_clear_400(client, people, live_deal):
    response = _login(client, people.rep).post(
        reverse("pipeline:move", args=[live_deal.pk]), {"stage": "999999"}
    )
    assert response.status_code == 400
    assert "请选择要进入的阶段" in response.content.decode()


def test_rep_reopening_a_closed_deal_gets_a_message_not_a_500(client, people, live_deal, stages):
    _login(client, people.rep)
    url = reverse("pipeline:move", args=[live_deal.pk])
    client.post(url, {"stage": stages["输单"].pk, "value.loss_reason": "价格"})
    response = client.post(url, {"stage": stages["需求确认"].pk})
    assert response.status_code == 400
    assert "只能由主管重新打开" in response.content.decode()


def test_outsider_gets_404_on_move(client, people, live_deal, stages):
    _login(client, people.outsider)
    url = reverse("pipeline:move", args=[live_deal.pk])
    assert client.get(url, {"stage": stages["方案演示"].pk}).status_code == 404
    assert (
        client.post(url, {"stage": stages["输单"].pk, "value.loss_reason": "x"}).status_code == 404
    )
    assert not Event.objects.filter(verb="opportunity.stage_changed").exists()


def test_outsider_gets_404_on_follow_up_link(client, people, live_deal):
    response = _login(client, people.outsider).get(
        reverse("pipeline:follow_up", args=[live_deal.pk])
    )
    assert response.status_code == 404


def test_follow_up_link_leads_to_the_deal(client, people, live_deal):
    response = _login(client, people.rep).get(reverse("pipeline:follow_up", args=[live_deal.pk]))
    assert response.status_code == 302
    assert str(live_deal.pk) in response["Location"]


def test_detail_page_shows_the_next_gate(client, people, live_deal):
    page = _login(client, people.rep).get(live_deal.get_absolute_url())
    body = page.content.decode()
    assert 'data-testid="stage-panel"' in body
    assert "报价单已发送" in body and "复盘时间已约" in body


def test_anonymous_user_is_sent_to_login(client, live_deal):
    response = client.get(reverse("pipeline:board"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_moved_deal_is_in_its_new_column(client, people, live_deal, stages):
    _login(client, people.rep).post(
        reverse("pipeline:move", args=[live_deal.pk]),
        {"stage": stages["输单"].pk, "value.loss_reason": "价格"},
    )
    columns = {c.stage.name: c for c in client.get(reverse("pipeline:board")).context["columns"]}
    assert columns["输单"].count == 1 and columns["需求确认"].count == 0
    assert Opportunity.objects.get(pk=live_deal.pk).closed_at is not None


def test_dialog_marks_still_missing_parts_only_after_the_form_was_sent(
    client, people, live_deal, stages
):
    _login(client, people.rep)
    url = reverse("pipeline:move", args=[live_deal.pk])
    dropped = client.post(url, {"stage": stages["输单"].pk}, HTTP_HX_REQUEST="true")
    assert "还未补齐" not in dropped.content.decode()
    sent = client.post(url, {"stage": stages["输单"].pk, "answering": "1"}, HTTP_HX_REQUEST="true")
    assert "还未补齐" in sent.content.decode()


def test_amounts_are_grouped_in_thousands_on_the_board(client, people, live_deal):
    body = _login(client, people.rep).get(reverse("pipeline:board")).content.decode()
    assert "¥200,000" in body and "¥20,000" in body


def test_board_and_gate_speak_english(client, people, live_deal, stages, settings):
    _login(client, people.rep)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    board = client.get(reverse("pipeline:board"))
    assert "Deal board" in board.content.decode()
    gate = client.get(
        reverse("pipeline:move", args=[live_deal.pk]),
        {"stage": stages["输单"].pk},
    )
    assert "Complete and move" in gate.content.decode()


def _only_gate(stage, **fields):
    """Make `stage` the only gated stage, with one requirement."""
    GateRequirement.objects.update(active=False)
    return GateRequirement.objects.create(stage=stage, label="门槛", **fields)


def test_ui_activity_requirement_with_the_mini_follow_up(client, people, live_deal, stages):
    requirement = _only_gate(stages["方案演示"], kind="activity", activity_kind="visit")
    _login(client, people.rep).post(
        reverse("pipeline:move", args=[live_deal.pk]),
        {"stage": stages["方案演示"].pk, f"req.{requirement.pk}.summary": "上门演示了样机"},
    )
    live_deal.refresh_from_db()
    assert live_deal.stage.name == "方案演示"
    assert live_deal.activities.get().kind == "visit"


def test_ui_range_requirement_refuses_then_accepts(client, people, live_deal, stages):
    _only_gate(stages["方案演示"], kind="range", field_name="amount", min_value=300000)
    _login(client, people.rep)
    url = reverse("pipeline:move", args=[live_deal.pk])
    page = client.get(url, {"stage": stages["方案演示"].pk}).content.decode()
    assert "“金额”须不低于" in page and 'name="value.amount"' in page
    client.post(url, {"stage": stages["方案演示"].pk, "value.amount": "20万"})
    live_deal.refresh_from_db()
    assert live_deal.stage.name == "需求确认"
    client.post(url, {"stage": stages["方案演示"].pk, "value.amount": "35万"})
    live_deal.refresh_from_db()
    assert live_deal.stage.name == "方案演示" and live_deal.amount == 350000


def test_ui_condition_requirement_is_explained_with_a_link_to_edit(
    client, people, live_deal, stages
):
    _only_gate(stages["方案演示"], kind="condition", expression="has_contact")
    page = _login(client, people.rep).get(
        reverse("pipeline:move", args=[live_deal.pk]), {"stage": stages["方案演示"].pk}
    )
    body = page.content.decode()
    assert "需满足条件:has_contact" in body
    assert reverse("pipeline:opportunity_edit", args=[live_deal.pk]) in body


def test_move_page_for_the_current_stage_says_so(client, people, live_deal, stages):
    page = _login(client, people.rep).get(
        reverse("pipeline:move", args=[live_deal.pk]), {"stage": stages["需求确认"].pk}
    )
    assert page.status_code == 200
    assert "商机已经在“需求确认”阶段" in page.content.decode()
    assert 'data-testid="gate-submit"' not in page.content.decode()
