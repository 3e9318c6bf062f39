"""A marketing user uploads a sheet, checks the mapping, tries ten rows, starts the import and
watches the progress bar turn into the results with the rejected rows to download."""

from __future__ import annotations

import pytest

from jiepai.conftest import browser_login
from jiepai.imports.models import ImportJob
from jiepai.imports.services import run_job
from jiepai.imports.tests.conftest import distinct_leads
from jiepai.intake.models import Lead

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_upload_map_try_run_and_download_rejected_rows(page, people, sheet, settings):
    # The full run goes to the task queue; the test plays the worker.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    rows = [["姓名", "公司", "手机号码", "邮箱", "预算"], *distinct_leads(12)]
    rows[5][4] = "面议"
    path = sheet(rows)

    browser_login(page, people.marketing)
    page.goto(f"{page.base_url}/imports/")
    page.select_option("select[name=entity]", "lead")
    page.set_input_files("input[name=file]", str(path))
    page.click("[data-testid=upload-form] button.primary")
    page.wait_for_selector("[data-testid=mapping-form]")
    assert page.input_value("[data-testid=column-2]") == "mobile"

    page.click("[data-testid=trial]")
    trial = page.locator("[data-testid=trial-results]")
    trial.wait_for()
    assert trial.locator("tbody tr").count() == 10
    assert "不是数字" in trial.inner_text()
    assert not Lead.objects.exists()

    page.click("[data-testid=start]")
    page.locator("[data-testid=progress]").wait_for()
    assert page.locator("[data-testid=status]").inner_text() == "排队中"
    run_job(ImportJob.objects.get())
    page.locator("[data-testid=report]").wait_for()  # the poll saw "done" and reloaded
    assert page.locator("[data-testid=created]").inner_text() == "11"
    assert page.locator("[data-testid=failed]").inner_text() == "1"
    with page.expect_download() as download:
        page.click("[data-testid=report]")
    assert download.value.suggested_filename.endswith("未导入的行.xlsx")
    assert Lead.objects.count() == 11
