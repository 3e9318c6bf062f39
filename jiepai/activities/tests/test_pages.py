"""The follow-up, task, visit, review and quality pages: flows, bad input, permissions."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse

from jiepai.activities.models import Activity, FlagKind, Task, Visit, VisitFlag
from jiepai.activities.services import log_follow_up
from jiepai.conftest import PASSWORD
from jiepai.customers.services import create_account

from .conftest import SHANGHAI, audio_upload

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
NEW = reverse("activities:follow_up_create")


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_follow_up_page_shows_three_fields_and_folds_the_rest(client, people, customer) -> None:
    page = login(client, people.rep).get(NEW, {"account": customer.account.pk})
    html = page.content.decode()
    assert page.status_code == 200
    assert "上海瑞金医院" in html
    assert 'data-testid="method-call"' in html and 'name="next_action"' in html
    assert '<details class="fu-more">' in html  # folded, closed


def test_quick_fill_reads_the_sentence_into_the_fields_for_confirmation(
    client, people, customer
) -> None:
    page = login(client, people.rep).post(
        NEW,
        {
            "account": customer.account.pk,
            "method": "call",
            "action": "fill",
            "text": "客户李总约周三下午三点看厂, 交付周期太长",
        },
        HTTP_HX_REQUEST="true",
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert html.lstrip().startswith('<div id="follow-up-fields"')  # only the fields partial
    assert 'value="工厂参观"' in html
    assert 'value="2026-03-04"' in html and 'value="15:00"' in html
    assert 'value="交付周期太长"' in html
    assert f'<option value="{customer.contact.pk}" selected>' in html  # 李总 is on file
    assert not Activity.objects.exists()  # nothing saved before confirmation


def test_quick_fill_of_a_past_date_says_so_and_keeps_the_rest(client, people, customer) -> None:
    page = login(client, people.rep).post(
        NEW,
        {
            "account": customer.account.pk,
            "method": "call",
            "action": "fill",
            "text": "王主任说2月17日下午看样机",
        },
        HTTP_HX_REQUEST="true",
    )
    html = page.content.decode()
    assert "已经过去" in html
    assert 'value="样机演示"' in html


def test_saving_the_confirmed_fields_creates_follow_up_task_and_tag(
    client, people, customer
) -> None:
    page = login(client, people.rep).post(
        NEW,
        {
            "account": customer.account.pk,
            "method": "wechat",
            "text": "客户李总约周三下午三点看厂",
            "next_action": "工厂参观",
            "next_action_kind": "factory_visit",
            "next_action_date": "2026-03-04",
            "next_action_time": "15:00",
            "keywords": "交付周期太长",
            "contact": customer.contact.pk,
            "action": "save",
        },
    )
    assert page.status_code == 302 and page["Location"] == customer.account.get_absolute_url()
    activity = Activity.objects.get()
    assert (activity.kind, activity.source, activity.contact) == (
        "wechat",
        "quick",
        customer.contact,
    )
    assert activity.parsed["action"] == {"kind": "factory_visit", "label": "工厂参观"}
    task = Task.objects.get()
    assert task.due_at == datetime.datetime(2026, 3, 4, 15, tzinfo=SHANGHAI)


def test_saving_without_next_action_names_the_field(client, people, customer) -> None:
    page = login(client, people.rep).post(
        NEW, {"account": customer.account.pk, "method": "call", "text": "已沟通", "action": "save"}
    )
    html = page.content.decode()
    assert page.status_code == 400
    assert "请填写下一步做什么" in html and 'id="field-next_action"' in html
    assert "已沟通" in html  # what was typed is kept
    assert not Activity.objects.exists()


def test_saving_without_customer_names_the_customer(client, people) -> None:
    page = login(client, people.rep).post(
        NEW, {"method": "call", "next_action": "回访", "next_action_date": "2026-03-05"}
    )
    assert page.status_code == 400
    assert "请选择客户或线索" in page.content.decode()


def test_garbage_date_is_a_field_error_not_a_500(client, people, customer) -> None:
    page = login(client, people.rep).post(
        NEW,
        {
            "account": customer.account.pk,
            "method": "call",
            "next_action": "回访",
            "next_action_date": "2026-02-30",
            "next_action_time": "25:00",
        },
    )
    assert page.status_code == 400
    assert 'id="field-next_action_date"' in page.content.decode()


def test_meeting_without_role_and_conclusion_opens_the_folded_part(
    client, people, customer
) -> None:
    page = login(client, people.rep).post(
        NEW,
        {
            "account": customer.account.pk,
            "method": "meeting",
            "next_action": "回访",
            "next_action_date": "2026-03-05",
        },
    )
    html = page.content.decode()
    assert page.status_code == 400
    assert '<details class="fu-more" open>' in html
    assert "请选择关键结论" in html and "请选择联系人的角色" in html


def test_voice_memo_upload_is_saved_with_the_follow_up(client, people, customer) -> None:
    page = login(client, people.rep).post(
        NEW,
        {
            "account": customer.account.pk,
            "method": "call",
            "next_action": "回访",
            "next_action_date": "2026-03-05",
            "audio": audio_upload(),
        },
    )
    assert page.status_code == 302
    assert Activity.objects.get().audio.kind == "audio"


def test_picking_a_customer_rerenders_the_form_with_it(client, people, customer) -> None:
    page = login(client, people.rep).post(
        NEW,
        {"pick": f"account:{customer.account.pk}", "method": "visit", "text": "下周二看样机"},
        HTTP_HX_REQUEST="true",
    )
    html = page.content.decode()
    assert 'data-testid="picked-customer"' in html and "上海瑞金医院" in html
    assert "下周二看样机" in html


def test_customer_search_lists_only_visible_customers(client, people, customer) -> None:
    create_account(actor=people.outsider, values={"name": "北京协和医院"}, now=NOW)
    login(client, people.rep)
    html = client.get(
        reverse("activities:customer_search"), {"customer_q": "医院"}
    ).content.decode()
    assert "上海瑞金医院" in html and "北京协和医院" not in html


def test_outsider_gets_404_for_the_reps_account_follow_up_page(client, people, customer) -> None:
    login(client, people.outsider)
    assert client.get(NEW, {"account": customer.account.pk}).status_code == 404
    assert client.post(NEW, {"account": customer.account.pk, "method": "call"}).status_code == 404
    assert not Activity.objects.exists()


def test_outsider_gets_404_for_a_follow_up_and_a_task(client, people, customer) -> None:
    activity = log_follow_up(
        actor=people.rep,
        account=customer.account,
        method="call",
        next_action="回访",
        next_action_due=datetime.date(2026, 3, 5),
        now=NOW,
    )
    task = activity.tasks.get()
    login(client, people.outsider)
    assert client.get(reverse("activities:follow_up_detail", args=[activity.pk])).status_code == 404
    assert client.post(reverse("activities:task_done", args=[task.pk])).status_code == 404
    task.refresh_from_db()
    assert task.done_at is None


def test_manager_sees_the_reps_follow_up(client, people, customer) -> None:
    activity = log_follow_up(
        actor=people.rep,
        account=customer.account,
        method="call",
        next_action="回访",
        next_action_due=datetime.date(2026, 3, 5),
        now=NOW,
    )
    page = login(client, people.manager).get(
        reverse("activities:follow_up_detail", args=[activity.pk])
    )
    assert page.status_code == 200


def test_task_list_and_done(client, people, customer) -> None:
    activity = log_follow_up(
        actor=people.rep,
        account=customer.account,
        method="call",
        next_action="发报价",
        next_action_due=datetime.date(2026, 3, 5),
        now=NOW,
    )
    task = activity.tasks.get()
    login(client, people.rep)
    assert "发报价" in client.get(reverse("activities:task_list")).content.decode()
    page = client.post(reverse("activities:task_done", args=[task.pk]), HTTP_HX_REQUEST="true")
    assert page.status_code == 200 and "已完成" in page.content.decode()
    task.refresh_from_db()
    assert task.done_at == NOW


def test_stall_alert_link_opens_a_follow_up_on_the_deal(client, people, customer) -> None:
    login(client, people.rep)
    page = client.get(reverse("pipeline:follow_up", args=[customer.opportunity.pk]), follow=True)
    assert page.status_code == 200
    assert "影像设备采购" in page.content.decode()


def test_visit_check_in_with_denied_location_is_recorded_with_a_clear_message(
    client, people, customer
) -> None:
    login(client, people.rep)
    page = client.post(
        reverse("activities:visit_start"),
        {
            "account": customer.account.pk,
            "geo_status": "denied",
            "client_time": "2026-03-02T02:00:00.000Z",
        },
        HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14)",
        follow=True,
    )
    html = page.content.decode()
    assert "签到时没有定位" in html and "拜访已记录" in html
    visit = Visit.objects.get()
    assert visit.user_agent == "Mozilla/5.0 (Linux; Android 14)"
    assert visit.client_started_at == NOW


def test_visit_check_out_form_names_missing_fields(client, people, customer) -> None:
    login(client, people.rep)
    client.post(
        reverse("activities:visit_start"),
        {
            "account": customer.account.pk,
            "geo_status": "ok",
            "latitude": "31.212",
            "longitude": "121.467",
            "client_time": "2026-03-02T02:00:00Z",
        },
    )
    visit = Visit.objects.get()
    page = client.post(reverse("activities:visit_end", args=[visit.pk]), {"core_need": "缩短交期"})
    html = page.content.decode()
    assert page.status_code == 400
    assert 'id="field-objection"' in html and 'id="field-next_action"' in html
    page = client.post(
        reverse("activities:visit_end", args=[visit.pk]),
        {
            "core_need": "缩短交期",
            "objection": "无",
            "next_action": "周五前发方案",
            "geo_status": "ok",
            "latitude": "31.212",
            "longitude": "121.467",
        },
    )
    assert page.status_code == 302
    visit.refresh_from_db()
    assert visit.ended_at == NOW and visit.activity.next_action == "周五前发方案"


def test_outsider_cannot_end_the_reps_visit_or_see_the_day(client, people, customer) -> None:
    login(client, people.rep)
    client.post(
        reverse("activities:visit_start"), {"account": customer.account.pk, "geo_status": "denied"}
    )
    visit = Visit.objects.get()
    client.logout()
    login(client, people.outsider)
    assert (
        client.post(
            reverse("activities:visit_end", args=[visit.pk]),
            {"core_need": "x", "objection": "x", "next_action": "x"},
        ).status_code
        == 404
    )
    assert client.get(reverse("activities:visit_day"), {"rep": people.rep.pk}).status_code == 404
    html = client.get(reverse("activities:review_queue")).content.decode()
    assert "签到时没有定位" not in html


def test_manager_sees_trajectory_and_reviews_the_flag(client, people, customer) -> None:
    login(client, people.rep)
    client.post(
        reverse("activities:visit_start"),
        {
            "account": customer.account.pk,
            "geo_status": "ok",
            "latitude": "30.2741",
            "longitude": "120.1551",
        },
    )
    client.logout()
    login(client, people.manager)
    day = client.get(reverse("activities:visit_day"), {"rep": people.rep.pk, "date": "2026-03-02"})
    assert day.status_code == 200 and 'id="trajectory-data"' in day.content.decode()
    flag = VisitFlag.objects.get(kind=FlagKind.FAR_FROM_ACCOUNT)
    queue = client.get(reverse("activities:review_queue")).content.decode()
    assert f'data-testid="dismiss-{flag.pk}"' in queue
    client.post(
        reverse("activities:flag_review", args=[flag.pk]), {"status": "dismissed", "note": "分院"}
    )
    flag.refresh_from_db()
    assert flag.status == "dismissed"


def test_quality_page_shows_the_reps_failed_closure_check_to_the_manager_only(
    client, people, customer
) -> None:
    from jiepai.deadlines.sweeper import sweep_once

    log_follow_up(
        actor=people.rep,
        opportunity=customer.opportunity,
        method="call",
        next_action="签约",
        next_action_kind="signing",
        next_action_due=datetime.date(2026, 3, 2),
        now=NOW,
    )
    sweep_once(now=NOW + datetime.timedelta(days=1))
    quality = reverse("activities:quality")
    with time_machine.travel(NOW + datetime.timedelta(days=2), tick=False):
        html = login(client, people.manager).get(quality, {"days": "abc"}).content.decode()
        assert "王磊" in html and "签约" in html
        client.logout()
        html = login(client, people.outsider).get(quality).content.decode()
        assert "王磊" not in html


def test_detail_pages_offer_add_follow_up_with_the_record_preselected(
    client, people, customer
) -> None:
    log_follow_up(
        actor=people.rep,
        opportunity=customer.opportunity,
        method="call",
        next_action="发报价",
        next_action_due=datetime.date(2026, 3, 5),
        now=NOW,
    )
    login(client, people.rep)
    account_page = client.get(customer.account.get_absolute_url()).content.decode()
    assert (
        "/activities/new/?next=" in account_page
        and f"account={customer.account.pk}" in account_page
    )
    assert "发报价" in account_page
    deal_page = client.get(customer.opportunity.get_absolute_url()).content.decode()
    assert f"opportunity={customer.opportunity.pk}" in deal_page
    contact_page = client.get(customer.contact.get_absolute_url()).content.decode()
    assert f"contact={customer.contact.pk}" in contact_page
    form = client.get(f"{NEW}?opportunity={customer.opportunity.pk}").content.decode()
    assert "影像设备采购" in form and "上海瑞金医院" in form


def test_audio_clear_flag_and_junk_fields_are_harmless(client, people, customer) -> None:
    page = login(client, people.rep).post(
        NEW,
        {
            "account": customer.account.pk,
            "method": "call",
            "next_action": "回访",
            "next_action_date": "2026-03-05",
            "audio-clear": "on",
            "contact": "999999",
            "opportunity": "abc",
            "keywords": "、,交期太长,,",
        },
    )
    assert page.status_code in (302, 400)
