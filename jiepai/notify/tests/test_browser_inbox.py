"""A rep sees the unread badge, marks a notification read in place, and the badge follows."""

from __future__ import annotations

import pytest

from jiepai.conftest import browser_login
from jiepai.notify.services import notify

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rep_marks_a_notification_read_and_the_badge_updates(page, people):
    for title in ("线索待认领:华东机械", "线索待认领:北方重工"):
        notify(recipients=[people.rep], kind="routing.offer", title=title, url="/inbox/")
    notify(recipients=[people.outsider], kind="routing.offer", title="别人的通知")

    browser_login(page, people.rep)
    assert page.locator("[data-testid=unread-count]").inner_text() == "2"
    page.click("[data-testid=inbox-badge]")
    notes = page.locator("[data-testid=notification]")
    assert notes.count() == 2
    assert "别人的通知" not in page.content()

    notes.first.locator("[data-testid=mark-read]").click()
    # htmx swaps the row in place and the inboxChanged event refreshes the badge
    page.wait_for_function(
        "document.querySelector('[data-testid=unread-count]').textContent.trim() === '1'"
    )
    assert page.locator("[data-unread]").count() == 1

    page.click("[data-testid=read-all]")
    page.wait_for_load_state()
    assert page.locator("[data-testid=unread-count]").count() == 0
