"""A rep drags a deal onto a gated stage on the kanban, completes what is missing in the dialog
and sees the deal move."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from jiepai.conftest import browser_login
from jiepai.customers.services import create_account
from jiepai.pipeline.models import GateRequirement, Opportunity
from jiepai.pipeline.services import create_opportunity

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("default_configuration"),
]


def test_drag_to_gated_stage_complete_inline_and_move(page, people, tmp_path):
    account = create_account(actor=people.rep, values={"name": "上海瑞金医院"})
    deal = create_opportunity(
        actor=people.rep,
        values={"name": "超声设备采购", "account": account, "amount": Decimal("500000")},
    )
    quote = GateRequirement.objects.get(stage__name="方案演示", kind="attachment")
    review = GateRequirement.objects.get(stage__name="方案演示", kind="next_action")
    quote_file = tmp_path / "报价单.pdf"
    quote_file.write_bytes(b"%PDF-1.4 quote")

    browser_login(page, people.rep)
    page.goto(f"{page.base_url}/deals/board/")
    card = page.locator(f"[data-testid=deal-{deal.pk}]")
    expect(page.locator("[data-testid='column-需求确认']").locator(card)).to_be_visible()

    card.drag_to(page.locator("[data-testid='column-方案演示']"))

    dialog = page.locator("[data-testid=move-dialog]")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-testid=missing-label]")).to_have_text(
        ["报价单已发送", "复盘时间已约"]
    )
    dialog.locator(f"[data-testid=input-{quote.pk}]").set_input_files(str(quote_file))
    dialog.locator(f"[data-testid=input-{review.pk}-title]").fill("方案复盘会")
    dialog.locator(f"[data-testid=input-{review.pk}]").fill("2030-06-01T15:00")
    dialog.locator("[data-testid=gate-submit]").click()

    moved = page.locator("[data-testid='column-方案演示']").locator(f"[data-testid=deal-{deal.pk}]")
    expect(moved).to_be_visible()
    assert Opportunity.objects.get(pk=deal.pk).stage.name == "方案演示"


def test_drop_on_lost_asks_for_the_reason_until_it_is_given(page, people):
    account = create_account(actor=people.rep, values={"name": "华山医院"})
    deal = create_opportunity(actor=people.rep, values={"name": "内镜", "account": account})

    browser_login(page, people.rep)
    page.goto(f"{page.base_url}/deals/board/")
    page.locator(f"[data-testid=deal-{deal.pk}]").drag_to(
        page.locator("[data-testid='column-输单']")
    )
    dialog = page.locator("[data-testid=move-dialog]")
    expect(dialog.locator("[data-testid=missing-label]")).to_have_text(["输单原因"])
    dialog.locator("[data-testid=gate-submit]").click()  # nothing filled in: still missing
    expect(dialog.locator("[data-testid=still-missing]")).to_have_count(1)
    expect(dialog.locator("[data-testid=missing-label]")).to_have_text(["输单原因"])
    dialog.locator("input[name='value.loss_reason']").fill("预算取消")
    dialog.locator("[data-testid=gate-submit]").click()
    expect(
        page.locator("[data-testid='column-输单']").locator(f"[data-testid=deal-{deal.pk}]")
    ).to_be_visible()
    assert Opportunity.objects.get(pk=deal.pk).loss_reason == "预算取消"
