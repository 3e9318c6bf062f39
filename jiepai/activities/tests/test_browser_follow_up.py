"""On a phone: a follow-up from one dictated sentence in a few taps, and a visit check-in with
the browser's geolocation (granted and refused)."""

from __future__ import annotations

import datetime
import time

import pytest
from django.utils import timezone

from jiepai.activities.models import Activity, Visit
from jiepai.conftest import browser_login

from .conftest import RUIJIN, SHANGHAI

# serialized_rollback: transactional tests flush tables; this brings back the configuration rows
# (default pipeline, follow-up requirements, action vocabulary) the data migrations wrote
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}
PHONE_UA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126 Mobile"


def phone_page(browser, live_server, **context_args):
    context = browser.new_context(
        locale="zh-CN",
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        user_agent=PHONE_UA,
        **context_args,
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.base_url = live_server.url  # type: ignore[attr-defined]
    return context, tab


def test_follow_up_from_one_sentence_in_a_few_taps(browser, live_server, people, customer) -> None:
    context, page = phone_page(browser, live_server)
    browser_login(page, people.rep)
    page.goto(f"{page.base_url}/activities/new/?account={customer.account.pk}")
    started = time.perf_counter()
    # what the rep does: tap 微信, dictate one sentence, tap 识别, check, tap 保存
    page.click('[data-testid="method-wechat"]')
    page.fill("textarea[name=text]", "李总说明天上午10点看样机, 交付周期太长")
    page.click('[data-testid="quick-fill"]')
    page.wait_for_selector('[data-testid="fill-confirm"]')
    assert page.input_value("input[name=next_action]") == "样机演示"
    assert page.input_value("input[name=next_action_time]") == "10:00"
    assert page.input_value("input[name=keywords]") == "交付周期太长"
    box = page.locator('[data-testid="save-follow-up"]').bounding_box()
    assert box is not None and box["height"] >= 44  # a thumb-sized target
    page.click('[data-testid="save-follow-up"]')
    page.wait_for_url(f"{page.base_url}{customer.account.get_absolute_url()}")
    machine_seconds = time.perf_counter() - started
    activity = Activity.objects.get()
    tomorrow = timezone.localtime(timezone.now(), SHANGHAI).date() + datetime.timedelta(days=1)
    task = activity.tasks.get()
    assert (activity.kind, activity.contact, task.kind) == (
        "wechat",
        customer.contact,
        "sample_demo",
    )
    assert timezone.localtime(task.due_at, SHANGHAI) == datetime.datetime.combine(
        tomorrow, datetime.time(10), SHANGHAI
    )
    # 4 taps and one dictated sentence; the page's own share of the 15 s budget is small
    assert machine_seconds < 5
    context.close()


def test_picking_the_customer_by_search(browser, live_server, people, customer) -> None:
    context, page = phone_page(browser, live_server)
    browser_login(page, people.rep)
    page.goto(f"{page.base_url}/activities/new/")
    page.fill('[data-testid="customer-search"]', "瑞金")
    page.click('[data-testid="customer-results"] button')
    page.wait_for_selector('[data-testid="picked-customer"]')
    assert "上海瑞金医院" in page.inner_text('[data-testid="picked-customer"]')
    context.close()


def test_visit_check_in_sends_the_phone_position(browser, live_server, people, customer) -> None:
    context, page = phone_page(
        browser,
        live_server,
        geolocation={"latitude": RUIJIN[0], "longitude": RUIJIN[1], "accuracy": 20},
        permissions=["geolocation"],
    )
    browser_login(page, people.rep)
    page.goto(f"{page.base_url}/activities/visits/?account={customer.account.pk}")
    page.click('[data-testid="visit-start"]')
    page.wait_for_selector('[data-testid="visit-end-form"]')
    visit = Visit.objects.get()
    assert visit.start_geo_status == "ok"
    assert abs(visit.start_latitude - RUIJIN[0]) < 1e-6
    assert visit.client_started_at is not None and visit.user_agent == PHONE_UA
    assert not visit.flags.exists()
    page.fill("textarea[name=core_need]", "缩短交付周期")
    page.fill("textarea[name=objection]", "价格偏高")
    page.fill("input[name=next_action]", "下周二看样机")
    page.click('[data-testid="visit-end"]')
    page.wait_for_selector('[data-testid="visit-start-form"]')
    visit.refresh_from_db()
    assert visit.ended_at is not None and visit.end_geo_status == "ok"
    context.close()


def test_visit_check_in_with_location_refused_is_recorded(
    browser, live_server, people, customer
) -> None:
    context, page = phone_page(browser, live_server)  # no geolocation permission
    browser_login(page, people.rep)
    page.goto(f"{page.base_url}/activities/visits/?account={customer.account.pk}")
    page.click('[data-testid="visit-start"]')
    page.wait_for_selector('[data-testid="visit-end-form"]')
    assert "签到时没有定位" in page.content()
    visit = Visit.objects.get()
    assert visit.start_geo_status in ("denied", "unavailable", "timeout")
    assert visit.flags.get().kind == "no_geolocation"
    context.close()
