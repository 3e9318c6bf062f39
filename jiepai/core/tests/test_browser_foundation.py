"""A rep logs in, sees only their own leads, opens one and sees its timeline, switches language."""

from __future__ import annotations

import pytest

from jiepai.conftest import browser_login
from jiepai.intake.services import create_lead, update_lead

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rep_sees_own_leads_timeline_and_switches_language(page, people):
    mine = create_lead(actor=people.rep, values={"name": "李总", "company": "华东机械"})
    update_lead(actor=people.rep, lead=mine, values={"title": "采购总监"})
    create_lead(actor=people.outsider, values={"name": "别人的线索", "company": "北方重工"})

    browser_login(page, people.rep)
    page.click("nav >> text=线索")
    rows = page.locator("table.list tbody tr")
    assert rows.count() == 1
    assert "华东机械" in rows.first.inner_text()
    assert "北方重工" not in page.content()

    page.click("text=李总")
    timeline = page.locator("[data-testid=timeline]")
    assert "创建了线索" in timeline.inner_text()
    assert "采购总监" in timeline.inner_text()

    with page.expect_navigation():
        page.select_option("[data-testid=language-switch]", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Leads" in page.locator("nav").inner_text()
