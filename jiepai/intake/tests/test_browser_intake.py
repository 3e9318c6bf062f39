"""A visitor scans a trade-show QR code and fills the hosted form on a phone; marketing completes
a lead from the incomplete pool and routes it."""

from __future__ import annotations

import pytest

from jiepai.conftest import browser_login
from jiepai.intake.models import Lead, LeadState
from jiepai.intake.pipeline import intake_lead

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_visitor_fills_the_hosted_form_on_a_phone(browser, live_server, expo):
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/f/{expo.slug}/?booth=A12")
    assert "展位 A12" in page.locator("[data-testid=booth]").inner_text()
    honeypot = page.locator("input[name=website]").bounding_box()
    assert honeypot is None or honeypot["x"] + honeypot["width"] <= 0  # off screen for people
    page.fill("input[name=name]", "王磊")
    page.fill("input[name=company]", "宁波恒锐智能装备有限公司")
    page.fill("input[name=title]", "采购经理")
    page.fill("input[name=mobile]", "138 0013 800")  # one digit short
    page.click("button[type=submit]")
    assert "不是有效的电话号码" in page.content()
    page.fill("input[name=mobile]", "138 0013 8000")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=thanks]")
    lead = Lead.objects.get()
    assert lead.mobile == "+8613800138000" and lead.source_detail["booth"] == "A12"
    context.close()


def test_marketing_completes_an_incomplete_lead_and_routes_it(page, people, web):
    answer = intake_lead(channel=web, payload={"姓名": "李娜", "电话": "13900001111"})
    browser_login(page, people.marketing)
    page.click("nav >> text=待补全池")
    row = page.locator("[data-testid=incomplete-row]")
    assert "李娜" in row.inner_text() and "公司" in row.inner_text()
    row.locator("text=补全").click()
    page.fill("input[name=company]", "苏州科达医疗器械有限公司")
    page.fill("input[name=title]", "设备科主任")
    page.click("[data-testid=complete-and-route]")
    page.wait_for_selector("[data-testid=lead-state]")
    lead = Lead.objects.get(pk=answer.lead_id)
    assert lead.state != LeadState.INCOMPLETE and lead.company == "苏州科达医疗器械有限公司"
