"""A rep claims a lead offered to them, marks it contacted in one tap, the countdown goes."""

from __future__ import annotations

import pytest
from django.utils import timezone

from jiepai.conftest import browser_login
from jiepai.org.services import set_online_status
from jiepai.routing.models import PolicyKind, RoutingPolicy, RoutingRule
from jiepai.routing.services import route_lead
from jiepai.routing.tests.conftest import channel, lead, policy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rep_claims_an_offer_and_marks_it_contacted(page, people):
    now = timezone.now()
    for user in (people.rep, people.teammate):
        set_online_status(user=user, status="online", now=now)
    RoutingRule.objects.all().delete()
    RoutingPolicy.objects.update(is_default=False)
    policy("weighted_pool", PolicyKind.WEIGHTED_POOL, departments=[people.east], is_default=True)
    offered = lead(
        name="钱经理",
        company="苏州精密机械",
        channel=channel(policy_key="weighted_pool", window=15),
    )
    decision = route_lead(lead=offered, now=now)
    assert decision.outcome == "offered", decision

    browser_login(page, people.rep)
    page.goto(f"{page.base_url}/routing/my/")
    offers = page.locator("[data-testid=offers]")
    assert "钱经理" in offers.inner_text()
    page.click(f"[data-testid=claim-{offered.pk}]")
    page.wait_for_url(f"{page.base_url}/routing/my/")
    assert "抢单成功" in page.content()

    row = page.locator(f"[data-testid=lead-{offered.pk}]")
    countdown = row.locator("[data-testid=countdown]")
    # jiepai.js ticks the countdown: 15-minute window, so it reads 14:xx
    page.wait_for_function(
        "el => /^1[45]:\\d\\d$/.test(el.textContent.trim())", arg=countdown.element_handle()
    )

    row.locator("[data-testid=contacted-phone]").click()
    row.locator("[data-testid=contacted-badge]").wait_for()
    assert row.locator("[data-countdown]").count() == 0
    offered.refresh_from_db()
    assert offered.state == "contacted" and offered.owner == people.rep
