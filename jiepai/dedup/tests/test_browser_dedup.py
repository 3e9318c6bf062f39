"""In the browser: the door check while typing a new contact, then merging from the review page."""

from __future__ import annotations

import pytest

from jiepai.conftest import browser_login
from jiepai.customers.models import Contact
from jiepai.customers.services import create_account, create_contact
from jiepai.dedup.scan import save_clusters, scan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rep_typing_a_known_mobile_sees_the_existing_contact(page, people):
    ruijin = create_account(actor=people.rep, values={"name": "上海瑞金医院"})
    create_contact(
        actor=people.rep, values={"name": "张伟", "account": ruijin, "mobile": "13800138000"}
    )

    browser_login(page, people.rep)
    page.goto(f"{page.base_url}/customers/contacts/new/")
    page.fill("input[name=name]", "张主任")
    page.fill("input[name=mobile]", "138 0013 8000")
    box = page.locator("[data-testid=dedup-check]")
    box.wait_for()
    assert "已存在联系人:张伟" in box.inner_text()
    assert "同一手机号" in box.inner_text()


def test_outsider_asks_for_access_from_the_door(page, people):
    ruijin = create_account(actor=people.rep, values={"name": "上海瑞金医院"})
    create_contact(
        actor=people.rep, values={"name": "张伟", "account": ruijin, "mobile": "13800138000"}
    )

    browser_login(page, people.outsider)
    page.goto(f"{page.base_url}/customers/contacts/new/")
    page.fill("input[name=name]", "张伟")
    page.fill("input[name=mobile]", "13800138000")
    box = page.locator("[data-testid=dedup-check]")
    box.wait_for()
    assert "张伟" not in box.inner_text().replace("王磊", "")
    box.locator("text=申请查看").click()
    page.locator("[data-testid=access-requested]").wait_for()


def test_manager_merges_a_cluster_from_the_review_page(page, people):
    ruijin = create_account(actor=people.rep, values={"name": "上海瑞金医院"})
    first = create_contact(
        actor=people.rep, values={"name": "张伟", "account": ruijin, "mobile": "13800138000"}
    )
    create_contact(
        actor=people.teammate, values={"name": "张主任", "account": ruijin, "mobile": "13800138000"}
    )
    save_clusters("contact", scan("contact"))

    browser_login(page, people.manager)
    page.goto(f"{page.base_url}/dedup/review/contact/")
    page.locator("[data-testid=clusters] >> text=合并").first.click()
    page.locator("[data-testid=merge-table]").wait_for()
    page.click("[data-testid=merge-submit]")
    page.locator("[data-testid=merge-undo]").wait_for()
    assert Contact.objects.filter(merged_into=first).count() == 1
    page.click("[data-testid=merge-undo]")
    page.locator("[data-testid=merge-undone]").wait_for()
    assert Contact.objects.filter(merged_into__isnull=False).count() == 0
